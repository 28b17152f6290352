"""What protects the people using the site: response headers, cookies, no inline script,
request limits, trusted hosts, CSRF, escaping, and the health check."""

import re
from collections import deque
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select
from werkzeug.test import encode_multipart

from exchange.auth.models import User
from exchange.authorities.models import Authority, AuthorityStatus
from exchange.authorities.services import ProfileChanges, request_to_join, update_profile
from exchange.extensions import db
from exchange.reference.models import BorderArea, Programme, Theme
from tests.conftest import csrf_token
from tests.factories import (
    PASSWORD,
    log_in,
    make_admin,
    make_authority,
    make_coordinator,
    make_member,
    make_user,
)
from tests.test_config import extra_app

INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
INLINE_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.IGNORECASE)
INLINE_STYLE = re.compile(r"<style\b|<[^>]+\sstyle\s*=", re.IGNORECASE)
HREF = re.compile(r'href="([^"]+)"')


def policy(response) -> dict[str, str]:
    header = response.headers["Content-Security-Policy"]
    directives = (part.strip().split(None, 1) for part in header.split(";") if part.strip())
    return {name: (value[0] if value else "") for name, *value in directives}


def signed_in(app, user):
    client = app.test_client()
    log_in(client, user)
    return client


def session_cookie(response) -> str:
    (cookie,) = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")]
    return cookie


def cookie_flags(cookie: str) -> set[str]:
    return {part.strip().split("=")[0].lower() for part in cookie.split(";")[1:]}


# Headers ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/login", "/authorities/", "/no-such-page"])
def test_pages_carry_the_security_headers(client, path):
    response = client.get(path)
    csp = policy(response)
    assert csp["default-src"] == "'self'"
    assert csp["script-src"] == "'self'"
    assert "unsafe-inline" not in csp["script-src"]
    assert "unsafe-eval" not in csp["script-src"]
    assert "unsafe-inline" not in csp["default-src"]
    assert csp["object-src"] == "'none'"
    assert csp.get("frame-ancestors") == "'none'" or response.headers["X-Frame-Options"] == "DENY"
    assert response.headers.get("X-Frame-Options", "DENY") == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] in {
        "no-referrer",
        "same-origin",
        "strict-origin",
        "strict-origin-when-cross-origin",
    }


def test_a_missing_page_is_the_sites_own_404(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert "Go to the home page" in response.get_data(as_text=True)


def test_no_hsts_over_plain_http(client):
    response = client.get("/")
    assert response.status_code == 200
    assert "Strict-Transport-Security" not in response.headers


def test_over_https_the_site_sends_hsts_and_secure_cookies(settings):
    member = make_member(email="secure@example.org")
    with extra_app({**settings, "HTTPS": True}) as app:
        client = app.test_client()
        https = "https://exchange.test"

        # Plain HTTP is sent to HTTPS.
        response = client.get("/login", base_url="http://exchange.test")
        assert response.status_code in (301, 302)
        assert response.location.startswith("https://exchange.test/login")

        response = client.get("/login", base_url=https)
        assert response.status_code == 200
        hsts = response.headers["Strict-Transport-Security"]
        assert re.fullmatch(r"max-age=(\d+); includeSubDomains", hsts)
        assert int(hsts.split("=")[1].split(";")[0]) >= 180 * 24 * 3600

        token = re.search(r'name="csrf_token" value="([^"]+)"', response.get_data(True)).group(1)
        form = {"email": member.email, "password": PASSWORD, "csrf_token": token}
        # Over HTTPS a form must also come from a page of this site.
        response = client.post("/login", data=form, base_url=https)
        assert response.status_code == 400
        response = client.post(
            "/login",
            data=form,
            base_url=https,
            headers={"Referer": "https://evil.example/login"},
        )
        assert response.status_code == 400
        response = client.post(
            "/login", data=form, base_url=https, headers={"Referer": f"{https}/login"}
        )
        assert response.status_code == 302
        flags = cookie_flags(session_cookie(response))
        assert {"secure", "httponly"} <= flags
        assert "samesite=lax" in session_cookie(response).lower().replace(" ", "")


def test_the_session_cookie_is_httponly_and_samesite_lax(client):
    member = make_member()
    response = client.post(
        "/login",
        data={
            "email": member.email,
            "password": PASSWORD,
            "csrf_token": csrf_token(client, "/login"),
        },
    )
    assert response.status_code == 302
    cookie = session_cookie(response)
    flags = cookie_flags(cookie)
    assert "httponly" in flags
    assert "SameSite=Lax" in cookie
    assert "secure" not in flags  # plain HTTP in tests: a Secure cookie would never come back


def test_the_language_cookie_is_httponly_too(client):
    response = client.post("/language", data={"language": "es", "csrf_token": csrf_token(client)})
    (cookie,) = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("lang=")]
    assert {"httponly"} <= cookie_flags(cookie)
    assert "SameSite=Lax" in cookie


# No inline script on any page ------------------------------------------------------------------


def ids(model, *codes) -> list[int]:
    return list(db.session.scalars(select(model.id).where(model.code.in_(codes))))


@pytest.fixture
def populated(app, reference):
    """Something on every kind of page: verified, pending and rejected authorities, a join
    request, a described profile."""
    verified = make_authority(name="Municipalidad de Tacna")
    update_profile(
        make_admin(email="setup@example.org"),
        verified,
        ProfileChanges(
            name=verified.name,
            kind="municipality",
            country_code="PE",
            subdivision_code="PE-TAC",
            website="https://tacna.example",
            description="Agua y turismo.",
            description_language="es",
            languages=["es"],
            programme_ids=ids(Programme, "IURC"),
            theme_ids=ids(Theme, "tourism", "water-management"),
            border_area_ids=ids(BorderArea, "PE-CL"),
            match_capacity=3,
        ),
    )
    pending = make_authority(name="Pending Region", verified=False)
    make_member(pending, confirmed=False)
    db.session.commit()
    return {
        "member": make_member(verified, email="member@tacna.example"),
        "coordinator": make_coordinator(email="coordinator@example.org"),
        "admin": make_admin(email="admin@example.org"),
        "verified": verified,
        "pending": pending,
    }


def crawl(client, start: list[str], limit: int = 250) -> dict[str, str]:
    """Every page reachable by following the site's own links with GET; path → HTML.

    The start pages may be error pages; every page reached through a link must open.
    """
    seen: dict[str, str] = {}
    queue = deque(start)
    while queue and len(seen) < limit:
        path = queue.popleft()
        if path in seen:
            continue
        response = client.get(path)
        if response.status_code in (301, 302, 303):
            seen[path] = ""
            target = urlsplit(response.location)
            if not target.netloc:
                queue.append(target.path + (f"?{target.query}" if target.query else ""))
            continue
        if path in start:
            assert response.status_code < 500, (path, response.status_code)
        else:
            assert response.status_code == 200, (path, response.status_code)
        if response.mimetype != "text/html":
            seen[path] = ""
            response.close()  # a download (an export's temporary file) is not read: close it
            continue
        html = response.get_data(as_text=True)
        seen[path] = html
        for href in HREF.findall(html):
            href = href.replace("&amp;", "&")
            parts = urlsplit(href)
            if parts.scheme or parts.netloc or not href.startswith("/"):
                continue
            if href.startswith("/static/") or "#" in href:
                continue
            queue.append(href)
    return seen


def test_no_page_carries_inline_script_or_style(app, client, populated, worker, mailbox):
    request_to_join(make_user(email="joiner@example.org"), populated["verified"].id, "Hola")
    db.session.commit()
    mailbox.wait_for(1)  # the member hears of the request
    start = ["/", "/login", "/register", "/password/forgot", "/no-such-page"]
    pages = crawl(client, start)
    for role in ("member", "coordinator", "admin"):
        signed = crawl(signed_in(app, populated[role]), ["/", "/account", "/admin/users", *start])
        pages.update({f"{role} {path}": html for path, html in signed.items()})

    # The crawl really went everywhere that matters.
    verified = populated["verified"].id
    for path in (
        "/register",
        "/authorities/",
        f"/authorities/{verified}",
        f"member /authorities/{verified}/edit",
        f"member /authorities/{verified}/members",
        "member /admin/users",  # the 403 page
        "coordinator /authorities/verification",
        f"coordinator /authorities/{populated['pending'].id}",
        "admin /admin/users",
        "admin /admin/reference",
        "admin /admin/programmes/new",
    ):
        assert pages.get(path), path
    assert any(path.startswith("admin /admin/border-areas/") for path in pages)
    assert len([html for html in pages.values() if html]) > 40

    for path, html in pages.items():
        assert not INLINE_SCRIPT.search(html), path
        assert not INLINE_HANDLER.search(html), path
        assert not INLINE_STYLE.search(html), path
        assert "javascript:" not in html.lower(), path


# Request limits and hosts ----------------------------------------------------------------------


def test_a_request_larger_than_the_limit_is_refused(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 4096)
    token = csrf_token(client, "/register")
    response = client.post(
        "/register",
        data={"name": "Big", "email": "big@example.org", "csrf_token": token, "x": "a" * 5000},
    )
    assert response.status_code == 413
    assert "The file or form is too large" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(User)) == 0


def test_a_form_field_larger_than_the_form_memory_limit_is_refused(app, client):
    limit = app.config["MAX_FORM_MEMORY_SIZE"]
    assert limit < app.config["MAX_CONTENT_LENGTH"]
    # The body is built here: the test client would spool a large one to a file it never closes.
    boundary, body = encode_multipart(
        {
            "csrf_token": csrf_token(client, "/register"),
            "email": "big@example.org",
            "authority_name": "x" * (limit + 1),
        }
    )
    response = client.post(
        "/register", data=body, content_type=f"multipart/form-data; boundary={boundary}"
    )
    assert response.status_code == 413
    assert db.session.scalar(select(func.count()).select_from(User)) == 0


def test_the_default_limit_is_sixteen_mebibytes(app):
    assert app.config["MAX_CONTENT_LENGTH"] == 16 * 1024 * 1024


def test_only_trusted_hosts_are_served(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "TRUSTED_HOSTS", ["exchange.example.org"])
    response = client.get("/", headers={"Host": "evil.example"})
    assert response.status_code == 400
    assert "Bad Request" in response.get_data(as_text=True)
    assert client.get("/").status_code == 400  # "localhost" is not trusted either
    assert client.post("/login", headers={"Host": "evil.example"}).status_code == 400
    response = client.get("/", base_url="http://exchange.example.org")
    assert response.status_code == 200


def test_any_host_is_served_without_trusted_hosts(client):
    assert client.get("/", headers={"Host": "anything.example"}).status_code == 200


# CSRF ------------------------------------------------------------------------------------------


def test_changes_without_the_csrf_token_are_refused(app):
    authority = make_authority(name="Waiting", verified=False)
    client = signed_in(app, make_coordinator())
    response = client.post(f"/authorities/{authority.id}/verify", data={})
    assert response.status_code == 400
    response = client.post(f"/authorities/{authority.id}/verify", data={"csrf_token": "forged"})
    assert response.status_code == 400
    db.session.expire_all()
    assert db.session.get(Authority, authority.id).status == AuthorityStatus.PENDING


def test_the_csrf_token_of_one_session_does_not_work_in_another(app, client):
    member = make_member()
    stolen = csrf_token(client, "/login")
    other = app.test_client()
    response = other.post(
        "/login", data={"email": member.email, "password": PASSWORD, "csrf_token": stolen}
    )
    assert response.status_code == 400


# The health check ------------------------------------------------------------------------------


def test_healthz_reports_the_database_and_the_broker(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok", "broker": "ok"}


def test_healthz_says_so_when_the_broker_is_down(settings):
    broken = {**settings, "CELERY": {**settings["CELERY"], "broker_url": "redis://127.0.0.1:1/0"}}
    with extra_app(broken) as app:
        response = app.test_client().get("/healthz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "error"
    assert body["database"] == "ok"
    assert body["broker"].startswith("error")


# Caching ---------------------------------------------------------------------------------------


def test_pages_for_signed_in_people_are_not_stored(app, client):
    authority = make_authority()
    path = f"/authorities/{authority.id}"
    assert "no-store" not in client.get(path).headers.get("Cache-Control", "")
    member = signed_in(app, make_member(authority))
    for page in ("/", "/account", path, "/authorities/"):
        response = member.get(page)
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == "no-store", page
        assert "Cookie" in response.headers["Vary"]


def test_static_files_stay_cacheable_for_signed_in_people(app):
    client = signed_in(app, make_member())
    response = client.get("/static/js/app.js")
    response.close()
    assert response.status_code == 200
    assert "no-store" not in response.headers.get("Cache-Control", "")


# Escaping --------------------------------------------------------------------------------------


def test_text_people_type_is_escaped(app, client, reference, worker, mailbox):
    attack = "<script>alert(1)</script>"
    authority = make_authority(name=f"Evil {attack} Town")
    member = make_member(authority)
    editor = signed_in(app, member)
    response = editor.post(
        f"/authorities/{authority.id}/edit",
        data={
            "name": authority.name,
            "kind": "municipality",
            "country_code": "PE",
            "subdivision_code": "PE-TAC",
            "website": "",
            "description": f'Hello {attack} <img src=x onerror="alert(2)">',
            "description_language": "en",
            "languages": ["es"],
            "match_capacity": "3",
            "csrf_token": csrf_token(editor),
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:1000]
    request_to_join(make_user(name=f"Mallory {attack}"), authority.id, f"Let me in {attack}")
    db.session.commit()
    mailbox.wait_for(1)

    pages = [
        client.get(f"/authorities/{authority.id}"),
        client.get("/authorities/"),
        editor.get(f"/authorities/{authority.id}/members"),
        signed_in(app, make_admin()).get("/admin/users"),
    ]
    for response in pages:
        html = response.get_data(as_text=True)
        assert response.status_code == 200
        assert attack not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        assert 'onerror="alert(2)"' not in html
    assert "Hello &lt;script&gt;alert(1)&lt;/script&gt; &lt;img" in pages[0].get_data(True)

    # The e-mail's HTML part escapes it as well.
    (message,) = mailbox.messages
    assert attack not in message.html
    assert "&lt;script&gt;" in message.html
