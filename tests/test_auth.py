"""Account flows end to end: through the test client, the worker, and the SMTP server."""

import re

import pytest

from exchange.auth.models import User
from exchange.authorities.models import Authority, AuthorityStatus, JoinRequest, JoinRequestStatus
from exchange.extensions import db
from tests.conftest import csrf_token
from tests.factories import PASSWORD, log_in, make_authority, make_coordinator, make_member

LINK = re.compile(r"http://exchange\.test/\S+")


def link_in(message) -> str:
    match = LINK.search(message.text)
    assert match, message.text
    return match.group(0).replace("http://exchange.test", "")


def register(client, **fields):
    data = {
        "name": "Lucía Quispe",
        "email": "lucia@tacna.gob.pe",
        "password": "agua y desierto en tacna",
        "language": "es",
        "mode": "new",
        "authority_name": "Gobierno Regional de Tacna",
        "kind": "region",
        "country_code": "PE",
        "subdivision_code": "PE-TAC",
        "website": "https://www.regiontacna.gob.pe",
        "csrf_token": csrf_token(client, "/register"),
        **fields,
    }
    return client.post("/register", data=data)


def test_register_a_new_authority_then_confirm_the_address(client, worker, mailbox):
    response = register(client)
    assert response.status_code == 302
    assert response.location == "/account"

    user = db.session.scalar(db.select(User).where(User.email == "lucia@tacna.gob.pe"))
    assert user.language == "es"
    assert not user.email_confirmed
    authority = user.authority
    assert authority.name == "Gobierno Regional de Tacna"
    assert authority.status == AuthorityStatus.PENDING
    assert authority.side == "LAC"
    assert authority.subdivision_code == "PE-TAC"

    (message,) = mailbox.wait_for(1)
    assert message.to == "lucia@tacna.gob.pe"
    assert message.message["Content-Language"] == "es"
    assert message.subject == "Confirme su dirección de correo electrónico en Exchange"
    confirm = link_in(message)
    assert confirm.startswith("/confirm/")

    response = client.get(confirm)
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(User, user.id).email_confirmed

    # The link works once.
    client.get(confirm)
    page = client.get("/account").get_data(as_text=True)
    assert "Este enlace ya se ha utilizado." in page


def test_registration_errors_keep_what_was_typed_and_save_nothing(client):
    response = register(client, authority_name="", country_code="", email="not-an-address")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'value="Lucía Quispe"' in page
    assert 'value="https://www.regiontacna.gob.pe"' in page
    assert 'aria-invalid="true"' in page
    assert db.session.scalar(db.select(db.func.count()).select_from(User)) == 0
    assert db.session.scalar(db.select(db.func.count()).select_from(Authority)) == 0


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short", "Use at least 8 characters."),
        ("password1", "This password is too common and easy to guess. Choose another."),
        ("lucia@tacna.gob.pe", "This password is too common and easy to guess. Choose another."),
    ],
)
def test_weak_passwords_are_refused(client, password, message):
    response = register(client, password=password, language="en")
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count()).select_from(User)) == 0


def test_a_password_without_composition_rules_is_accepted(client):
    # No digits, no capitals, no symbols: long enough and not common.
    assert register(client, password="tacna arica frontera").status_code == 302


def test_subdivision_must_belong_to_the_country(client):
    response = register(client, subdivision_code="CL-AP", language="en")
    assert response.status_code == 422
    assert "Choose a region of the country you chose." in response.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count()).select_from(User)) == 0


def test_an_address_can_only_register_once(client):
    member = make_member(email="taken@example.org")
    response = register(client, email="TAKEN@example.org", language="en")
    assert response.status_code == 422
    assert "An account with this address already exists." in response.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count()).select_from(User)) == 1
    assert member.email == "taken@example.org"


def test_join_request_is_announced_once_confirmed_and_approved_by_a_member(
    client, app, worker, mailbox
):
    authority = make_authority(name="Municipalidad de Tacna")
    member = make_member(authority, email="alcaldia@tacna.example", language="es")

    response = register(
        client,
        email="nuevo@tacna.example",
        mode="join",
        join_authority=str(authority.id),
        join_message="Trabajo en la oficina de cooperación.",
    )
    assert response.status_code == 302
    (confirmation,) = mailbox.wait_for(1)
    assert confirmation.to == "nuevo@tacna.example"
    # Nobody hears of the request before the address is confirmed.
    client.get(link_in(confirmation))
    messages = mailbox.wait_for(2)
    request_mail = messages[1]
    assert request_mail.to == "alcaldia@tacna.example"
    assert "Trabajo en la oficina de cooperación." in request_mail.text

    join_request = db.session.scalar(db.select(JoinRequest))
    member_client = app.test_client()
    log_in(member_client, member)
    response = member_client.post(
        f"/authorities/join-requests/{join_request.id}/approve",
        data={"csrf_token": csrf_token(member_client), "reason": "Bienvenido"},
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(JoinRequest, join_request.id).status == JoinRequestStatus.APPROVED
    newcomer = db.session.scalar(db.select(User).where(User.email == "nuevo@tacna.example"))
    assert newcomer.authority_id == authority.id
    answer = mailbox.wait_for(3)[2]
    assert answer.to == "nuevo@tacna.example"
    assert "Municipalidad de Tacna" in answer.subject


def test_login_and_logout_invalidate_a_copied_cookie(app, client):
    member = make_member()
    log_in(client, member)
    assert client.get("/account").status_code == 200

    copy = app.test_client()
    copy.set_cookie("session", client.get_cookie("session").value, domain="localhost")
    assert copy.get("/account").status_code == 200

    client.post("/logout", data={"csrf_token": csrf_token(client)})
    assert client.get("/account").status_code == 302
    assert copy.get("/account").status_code == 302


def test_password_change_signs_out_other_copies_but_not_this_browser(app, client):
    member = make_member()
    log_in(client, member)
    copy = app.test_client()
    copy.set_cookie("session", client.get_cookie("session").value, domain="localhost")

    response = client.post(
        "/account/password",
        data={
            "password-current_password": PASSWORD,
            "password-new_password": "a brand new passphrase",
            "csrf_token": csrf_token(client),
        },
    )
    assert response.status_code == 302
    assert client.get("/account").status_code == 200
    assert copy.get("/account").status_code == 302

    fresh = app.test_client()
    log_in(fresh, member, password="a brand new passphrase")


def test_password_change_needs_the_current_password(client):
    member = make_member()
    log_in(client, member)
    response = client.post(
        "/account/password",
        data={
            "password-current_password": "wrong",
            "password-new_password": "a brand new passphrase",
            "csrf_token": csrf_token(client),
        },
    )
    assert response.status_code == 422
    assert "Your current password is not correct." in response.get_data(as_text=True)
    db.session.expire_all()
    fresh = client.application.test_client()
    log_in(fresh, member)  # the old password still works


def test_wrong_password_and_unknown_address_get_the_same_answer(client):
    make_member(email="known@example.org")
    answers = []
    for email in ("known@example.org", "unknown@example.org"):
        response = client.post(
            "/login",
            data={"email": email, "password": "not the password", "csrf_token": csrf_token(client)},
        )
        assert response.status_code == 422
        answers.append(response.get_data(as_text=True).count("do not match an account"))
    assert answers == [1, 1]


def test_failed_logins_are_limited_per_account(client, app):
    member = make_member()
    limit = int(app.config["LOGIN_LIMIT_PER_ACCOUNT"].split()[0])
    for _ in range(limit):
        client.post(
            "/login",
            data={"email": member.email, "password": "nope", "csrf_token": csrf_token(client)},
        )
    # Even the right password is refused now, from any address.
    other = app.test_client()
    response = other.post(
        "/login",
        data={"email": member.email, "password": PASSWORD, "csrf_token": csrf_token(other)},
        environ_base={"REMOTE_ADDR": "10.1.2.3"},
    )
    assert response.status_code == 422
    assert "Too many failed attempts" in response.get_data(as_text=True)


def test_failed_logins_are_limited_per_address(client, app):
    limit = int(app.config["LOGIN_LIMIT_PER_ADDRESS"].split()[0])
    member = make_member()
    for number in range(limit):
        client.post(
            "/login",
            data={
                "email": f"guess{number}@example.org",
                "password": "nope",
                "csrf_token": csrf_token(client),
            },
        )
    response = client.post(
        "/login",
        data={"email": member.email, "password": PASSWORD, "csrf_token": csrf_token(client)},
    )
    assert "Too many failed attempts" in response.get_data(as_text=True)
    # Another address is not affected.
    other = app.test_client()
    response = other.post(
        "/login",
        data={"email": member.email, "password": PASSWORD, "csrf_token": csrf_token(other)},
        environ_base={"REMOTE_ADDR": "10.9.9.9"},
    )
    assert response.status_code == 302


def test_password_reset_flow(client, worker, mailbox):
    member = make_member(email="reset@example.org", language="pt")
    response = client.post(
        "/password/forgot",
        data={"email": "reset@example.org", "csrf_token": csrf_token(client, "/password/forgot")},
    )
    assert response.status_code == 302
    (message,) = mailbox.wait_for(1)
    assert message.message["Content-Language"] == "pt"
    reset = link_in(message)
    assert client.get(reset).status_code == 200
    response = client.post(
        reset, data={"password": "uma senha nova e longa", "csrf_token": csrf_token(client, reset)}
    )
    assert response.status_code == 302
    log_in(client.application.test_client(), member, password="uma senha nova e longa")
    # Used once, the link no longer works.
    response = client.get(reset)
    assert response.status_code == 302
    assert response.location == "/password/forgot"


def test_password_reset_answers_the_same_for_unknown_addresses(client, worker, mailbox):
    make_member(email="someone@example.org")
    answers = []
    for email in ("someone@example.org", "nobody@example.org"):
        response = client.post(
            "/password/forgot",
            data={"email": email, "csrf_token": csrf_token(client, "/password/forgot")},
            follow_redirects=True,
        )
        text = response.get_data(as_text=True).replace(email, "ADDRESS")
        answers.append(re.search(r"If ADDRESS has an account[^<]*", text).group(0))
    assert answers[0] == answers[1]
    messages = mailbox.wait_for(1)
    assert [m.to for m in messages] == ["someone@example.org"]


def test_change_email_needs_the_password_and_the_new_address_confirmed(client, worker, mailbox):
    member = make_member(email="old@example.org")
    log_in(client, member)
    response = client.post(
        "/account/email",
        data={
            "email-new_email": "new@example.org",
            "email-current_password": "wrong",
            "csrf_token": csrf_token(client),
        },
    )
    assert response.status_code == 422
    response = client.post(
        "/account/email",
        data={
            "email-new_email": "new@example.org",
            "email-current_password": PASSWORD,
            "csrf_token": csrf_token(client),
        },
    )
    assert response.status_code == 302
    (message,) = mailbox.wait_for(1)
    assert message.to == "new@example.org"
    db.session.expire_all()
    assert db.session.get(User, member.id).email == "old@example.org"
    client.get(link_in(message))
    db.session.expire_all()
    assert db.session.get(User, member.id).email == "new@example.org"
    # The link does not work a second time.
    client.get(link_in(message))
    assert "This link has already been used." in client.get("/account").get_data(as_text=True)


def test_language_choice_is_kept_for_the_person(client):
    member = make_member(language="en")
    log_in(client, member)
    client.post(
        "/language", data={"language": "pt", "next": "/account", "csrf_token": csrf_token(client)}
    )
    db.session.expire_all()
    assert db.session.get(User, member.id).language == "pt"
    assert 'lang="pt"' in client.get("/account").get_data(as_text=True)


def test_visitors_get_their_browser_language_then_their_cookie(client):
    page = client.get("/", headers={"Accept-Language": "es-MX,es;q=0.9,en;q=0.5"})
    assert '<html lang="es">' in page.get_data(as_text=True)
    client.post("/language", data={"language": "pt", "csrf_token": csrf_token(client)})
    page = client.get("/", headers={"Accept-Language": "es-MX,es;q=0.9"})
    assert '<html lang="pt">' in page.get_data(as_text=True)


def test_language_redirect_never_leaves_the_site(client):
    response = client.post(
        "/language",
        data={"language": "es", "next": "https://evil.example/", "csrf_token": csrf_token(client)},
    )
    assert response.location == "/"


def test_login_redirect_never_leaves_the_site(client):
    member = make_member()
    response = client.post(
        "/login?next=//evil.example/x",
        data={
            "email": member.email,
            "password": PASSWORD,
            "csrf_token": csrf_token(client, "/login"),
        },
    )
    assert response.location == "/account"


def test_a_suspended_account_is_signed_out(app, client):
    admin = make_coordinator()
    admin.role = "admin"
    db.session.commit()
    member = make_member()
    log_in(client, member)
    admin_client = app.test_client()
    log_in(admin_client, admin)
    admin_client.post(
        f"/admin/users/{member.id}/suspend", data={"csrf_token": csrf_token(admin_client)}
    )
    assert client.get("/account").status_code == 302
    response = client.post(
        "/login",
        data={
            "email": member.email,
            "password": PASSWORD,
            "csrf_token": csrf_token(client, "/login"),
        },
    )
    assert response.status_code == 422


def test_only_verified_authorities_can_be_joined_and_pending_ones_stay_private(client):
    verified = make_authority(name="Verified Municipality")
    pending = make_authority(name="Pending Municipality", verified=False)
    page = client.get("/register").get_data(as_text=True)
    assert "Verified Municipality" in page
    assert "Pending Municipality" not in page
    response = register(client, mode="join", join_authority=str(pending.id), language="en")
    assert response.status_code == 422
    assert "Choose an authority from the list." in response.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count()).select_from(User)) == 0
    assert register(client, mode="join", join_authority=str(verified.id)).status_code == 302
