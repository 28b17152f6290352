"""What the security review (SECURITY.md) added or relies on beyond the other test files: logs
without secrets, the demo logins kept out of production, and a SECURITY.md whose every
reference to a test or a file is real."""

import ast
import io
import logging
import re
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from exchange.auth.models import User
from exchange.auth.services import password_reset_token
from exchange.extensions import db
from tests.conftest import csrf_token
from tests.factories import PASSWORD, make_member

ROOT = Path(__file__).resolve().parent.parent


class Records(logging.Handler):
    def __init__(self):
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record):
        self.records.append(record)


@pytest.fixture
def app_log(monkeypatch):
    """What the app logs during the test. (The migrations' logging set-up, run by the `app`
    fixture, disables the loggers that existed then: they are switched back on here.)"""
    handler = Records()
    logger = logging.getLogger("exchange")
    for name in ("exchange", "exchange.access"):
        monkeypatch.setattr(logging.getLogger(name), "disabled", False)
    logger.addHandler(handler)
    yield handler.records
    logger.removeHandler(handler)


@pytest.fixture
def access_log(app_log):
    return app_log


def _logged(records) -> str:
    """Everything the records would write: the message and every extra field."""
    return "\n".join(f"{record.getMessage()} {vars(record)}" for record in records)


def test_the_tokens_of_e_mailed_links_are_not_logged(client, access_log):
    member = make_member(email="ana.quispe@example.org")
    token = password_reset_token(member)
    db.session.rollback()
    for path in (
        f"/password/reset/{token}",
        f"/confirm/{token}",
        f"/account/email/{token}",
        f"/notifications/unsubscribe/{token}",
    ):
        client.get(path).close()
    paths = [record.path for record in access_log]
    assert "/password/reset/<token>" in paths
    assert "/notifications/unsubscribe/<token>" in paths
    assert token not in _logged(access_log)
    # Other paths are logged as they are (ids help operators).
    client.get("/authorities/12345").close()
    assert access_log[-1].path == "/authorities/12345"
    assert access_log[-1].status == 404


def test_no_address_or_password_is_logged_when_signing_in(client, access_log):
    member = make_member(email="ana.quispe@example.org")
    token = csrf_token(client, "/login")
    client.post("/login", data={"email": member.email, "password": "wrong", "csrf_token": token})
    client.post("/login", data={"email": member.email, "password": PASSWORD, "csrf_token": token})
    logged = _logged(access_log)
    assert access_log  # the requests were logged
    assert "ana.quispe" not in logged
    assert PASSWORD not in logged
    assert "remote_addr" not in logged
    assert "127.0.0.1" not in logged


def test_a_request_id_is_taken_from_the_header_only_if_it_looks_like_one(client):
    response = client.get("/healthz", headers={"X-Request-Id": "abc-123.proxy_7"})
    assert response.headers["X-Request-Id"] == "abc-123.proxy_7"
    response = client.get("/healthz", headers={"X-Request-Id": "x" * 65})
    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["X-Request-Id"])
    response = client.get("/healthz", headers={"X-Request-Id": '"}, "admin": true, {"'})
    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["X-Request-Id"])


def test_the_demo_logins_are_never_seeded_in_production(app, monkeypatch):
    monkeypatch.setitem(app.config, "EXCHANGE_ENV", "production")
    result = app.test_cli_runner().invoke(args=["exchange", "seed-demo"])
    assert result.exit_code == 1
    assert "does not run in production" in result.output
    assert db.session.scalar(select(func.count()).select_from(User)) == 0


def test_browser_features_are_switched_off_and_only_the_api_is_shared_with_other_sites(client):
    page = client.get("/")
    policy = page.headers["Permissions-Policy"]
    for feature in ("geolocation=()", "camera=()", "microphone=()"):
        assert feature in policy
    assert "Access-Control-Allow-Origin" not in page.headers
    api = client.get("/api/v1/programmes")
    assert api.headers["Access-Control-Allow-Origin"] == "*"
    # Nothing that a cookie opens is shared: no credentials, and the API ignores cookies.
    assert "Access-Control-Allow-Credentials" not in api.headers


def test_an_e_mailed_link_expires(app, client, monkeypatch):
    member = make_member()
    token = password_reset_token(member)
    db.session.rollback()
    assert client.get(f"/password/reset/{token}").status_code == 200
    monkeypatch.setitem(app.config, "PASSWORD_RESET_MAX_AGE", -1)  # any age is too old
    response = client.get(f"/password/reset/{token}", follow_redirects=True)
    assert response.request.path == "/password/forgot"
    assert "This link has expired" in response.get_data(as_text=True)


def test_sign_up_and_password_reset_requests_are_limited_per_address(client):
    token = csrf_token(client, "/register")
    for _ in range(20):
        response = client.post("/register", data={"csrf_token": token, "name": "x"})
        assert response.status_code == 422
    assert client.post("/register", data={"csrf_token": token}).status_code == 429
    for _ in range(10):
        response = client.post("/password/forgot", data={"csrf_token": token, "email": "a@b.c"})
        assert response.status_code == 302
    response = client.post("/password/forgot", data={"csrf_token": token, "email": "a@b.c"})
    assert response.status_code == 429
    assert db.session.scalar(select(func.count()).select_from(User)) == 0


def test_a_session_ends_after_its_lifetime(app, client, monkeypatch):
    member = make_member()
    token = csrf_token(client, "/login")
    client.post("/login", data={"email": member.email, "password": PASSWORD, "csrf_token": token})
    assert client.get("/account").status_code == 200
    monkeypatch.setitem(app.config, "PERMANENT_SESSION_LIFETIME", timedelta(seconds=1))
    time.sleep(2.1)
    response = client.get("/account")
    assert response.status_code == 302
    assert response.location.startswith("/login?")


def test_an_unexpected_error_shows_the_sites_page_and_is_logged_without_details(
    app, client, monkeypatch, app_log
):
    from exchange.catalogue import services as catalogue

    def broken(*args, **kwargs):
        raise RuntimeError("internal detail: ana.quispe@example.org")

    monkeypatch.setattr(catalogue, "search_catalogue", broken)
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)
    response = client.get("/catalogue/")
    page = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Something went wrong on our side" in page
    assert "internal detail" not in page
    assert "Traceback" not in page
    assert any(record.levelno >= logging.ERROR and record.exc_info for record in app_log)


def test_an_item_has_a_bounded_number_of_files(app, reference, tmp_path, monkeypatch):
    from exchange.attachments import services as attachments
    from tests.factories import make_submission
    from tests.test_attachments import pdf_bytes, post_multipart

    monkeypatch.setitem(app.config, "ATTACHMENT_DIR", str(tmp_path))
    monkeypatch.setattr(attachments, "MAX_FILES_PER_REVISION", 2)
    member = make_member()
    draft = make_submission(member)
    client = app.test_client()
    token = csrf_token(client, "/login")
    client.post("/login", data={"email": member.email, "password": PASSWORD, "csrf_token": token})
    token = csrf_token(client)
    answers = [
        post_multipart(
            client,
            f"/attachments/upload/{draft.id}",
            {"csrf_token": token, "file": (io.BytesIO(pdf_bytes()), f"{n}.pdf")},
        )
        for n in range(3)
    ]
    assert [answer.status_code for answer in answers] == [302, 302, 422]
    assert "An item can have 2 files at most." in answers[2].get_data(as_text=True)
    assert len(list(tmp_path.iterdir())) == 2


# SECURITY.md says where each rule is enforced and which test proves it: all of it must exist ----


def _test_names() -> set[str]:
    names = set()
    for path in (ROOT / "tests").rglob("test_*.py"):
        tree = ast.parse(path.read_text())
        relative = path.relative_to(ROOT).as_posix()
        names |= {
            f"{relative}::{node.name}"
            for node in tree.body
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
            and node.name.startswith("test_")
        }
    return names


def test_every_test_and_file_security_md_names_exists():
    text = (ROOT / "SECURITY.md").read_text()
    tests = set(re.findall(r"(tests/[\w/]+\.py::\w+)", text))
    assert len(tests) >= 40  # the table names its proofs
    missing = sorted(tests - _test_names())
    assert not missing, f"SECURITY.md names tests that do not exist: {missing}"

    files = set(
        re.findall(r"`((?:exchange|bin|templates)/[\w/.-]+\.(?:py|html|toml)|bin/\w+)", text)
    )
    assert len(files) >= 20
    gone = sorted(f for f in files if not (ROOT / f).exists())
    assert not gone, f"SECURITY.md names files that do not exist: {gone}"
    # Every function or class it names in a file exists in that file.
    for path, name in re.findall(r"`((?:exchange)/[\w/]+\.py)[:`]\s*`?(\w+)`", text):
        source = (ROOT / path).read_text()
        assert re.search(rf"\b(def|class)\s+{name}\b|^{name}\s*=", source, re.M), (path, name)
