"""The `flask exchange …` commands, run through Flask's CLI runner against the test database."""

from datetime import timedelta

import pytest
from sqlalchemy import func, insert, select

from exchange.auth.models import Role, User, find_user_by_email
from exchange.authorities.models import Authority, AuthorityStatus
from exchange.database import utcnow
from exchange.demo import AUTHORITIES, STAFF
from exchange.extensions import db
from exchange.notifications.models import Notification, NotificationStatus
from exchange.reference.models import BorderArea, Objective, Programme, Theme, ThemeGroup
from exchange.reference.services import save_reference_item
from exchange.submissions import search
from tests.factories import log_in, make_admin, make_authority, make_member

STRONG = "a long and unusual passphrase"
REFERENCE = (Programme, Objective, ThemeGroup, Theme, BorderArea)


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def counts(models) -> dict:
    db.session.expire_all()
    return {model.__name__: count(model) for model in models}


def user(email: str) -> User | None:
    db.session.expire_all()
    return find_user_by_email(email)


# create-user -----------------------------------------------------------------------------------


def test_create_user_with_every_option(app, runner):
    result = runner.invoke(
        args=[
            "exchange",
            "create-user",
            "Boss@Example.org",
            "--name",
            "María Fernández",
            "--role",
            "coordinator",
            "--language",
            "es",
            "--password",
            STRONG,
        ]
    )
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "Created boss@example.org (coordinator)."
    created = user("boss@example.org")
    assert created.name == "María Fernández"
    assert created.role == Role.COORDINATOR
    assert created.language == "es"
    assert created.email_confirmed
    assert created.authority_id is None
    # The password works on the login page.
    log_in(app.test_client(), created, password=STRONG)


def test_create_user_asks_for_what_is_missing(app, runner):
    result = runner.invoke(
        args=["exchange", "create-user", "admin@example.org", "--role", "admin"],
        input=f"Ada Admin\n{STRONG}\n{STRONG}\n",
    )
    assert result.exit_code == 0, result.output
    assert "Name:" in result.output
    assert "Password:" in result.output
    assert "Repeat for confirmation:" in result.output
    assert STRONG not in result.output  # the password is not echoed
    created = user("admin@example.org")
    assert (created.name, created.role) == ("Ada Admin", Role.ADMIN)
    assert created.email_confirmed
    log_in(app.test_client(), created, password=STRONG)


def test_create_user_defaults_to_an_english_member(runner):
    authority = make_authority(name="Municipalidad de Tacna")
    result = runner.invoke(
        args=[
            "exchange",
            "create-user",
            "member@tacna.example",
            "--name",
            "Lucía",
            "--authority-id",
            str(authority.id),
            "--password",
            STRONG,
        ]
    )
    assert result.exit_code == 0, result.output
    created = user("member@tacna.example")
    assert (created.role, created.language, created.authority_id) == (
        Role.MEMBER,
        "en",
        authority.id,
    )


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short", "Use at least 8 characters."),
        ("password1", "This password is too common and easy to guess. Choose another."),
    ],
)
def test_create_user_refuses_a_weak_password(runner, password, message):
    result = runner.invoke(
        args=["exchange", "create-user", "weak@example.org", "--name", "W", "--password", password]
    )
    assert result.exit_code != 0
    assert message in result.output
    assert user("weak@example.org") is None


def test_create_user_refuses_an_address_already_used(runner):
    make_member(email="taken@example.org")
    result = runner.invoke(
        args=["exchange", "create-user", "TAKEN@example.org", "--name", "T", "--password", STRONG]
    )
    assert result.exit_code != 0
    assert "An account with this address already exists." in result.output
    assert count(User) == 1


def test_create_user_refuses_an_unknown_authority_or_role(runner):
    result = runner.invoke(
        args=[
            "exchange",
            "create-user",
            "x@example.org",
            "--name",
            "X",
            "--authority-id",
            "4242",
            "--password",
            STRONG,
        ]
    )
    assert result.exit_code == 2
    assert "no authority with id 4242" in result.output
    result = runner.invoke(
        args=[
            "exchange",
            "create-user",
            "x@example.org",
            "--name",
            "X",
            "--role",
            "emperor",
            "--password",
            STRONG,
        ]
    )
    assert result.exit_code == 2
    assert count(User) == 0


# load-reference --------------------------------------------------------------------------------


def test_load_reference_creates_once_then_nothing(runner):
    result = runner.invoke(args=["exchange", "load-reference"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == (
        "Reference data loaded: created 4 programmes, 10 objectives, 6 theme groups, "
        "29 themes, 7 border areas."
    )
    loaded = counts(REFERENCE)
    assert loaded == {
        "Programme": 4,
        "Objective": 10,
        "ThemeGroup": 6,
        "Theme": 29,
        "BorderArea": 7,
    }

    result = runner.invoke(args=["exchange", "load-reference"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "Reference data loaded: created nothing."
    assert counts(REFERENCE) == loaded


def test_an_admin_edit_survives_a_second_load_until_update(runner):
    runner.invoke(args=["exchange", "load-reference"])
    admin = make_admin()
    programme = db.session.scalar(select(Programme).where(Programme.code == "IURC"))
    theme = db.session.scalar(select(Theme).where(Theme.code == "tourism"))
    save_reference_item(admin, programme, {"name_en": "IURC, as the admin calls it"})
    save_reference_item(admin, theme, {"keywords": {"en": ["trekking"], "es": [], "pt": []}})
    db.session.commit()

    result = runner.invoke(args=["exchange", "load-reference"])
    assert "created nothing" in result.output
    db.session.expire_all()
    assert db.session.get(Programme, programme.id).name_en == "IURC, as the admin calls it"
    assert db.session.get(Theme, theme.id).keywords["en"] == ["trekking"]

    result = runner.invoke(args=["exchange", "load-reference", "--update"])
    assert result.exit_code == 0, result.output
    assert "Reference data loaded: created nothing." in result.output
    assert (
        "Updated 4 programmes, 10 objectives, 6 theme groups, 29 themes, 7 border areas."
        in result.output
    )
    db.session.expire_all()
    assert db.session.get(Programme, programme.id).name_en == (
        "International Urban and Regional Cooperation (IURC)"
    )
    assert "trekking" not in db.session.get(Theme, theme.id).keywords["en"]
    assert counts(REFERENCE)["Programme"] == 4


# seed-demo -------------------------------------------------------------------------------------


def test_seed_demo_is_idempotent_and_prints_the_logins(app, runner):
    result = runner.invoke(args=["exchange", "seed-demo"])
    assert result.exit_code == 0, result.output
    password = app.config["DEMO_PASSWORD"]
    assert f"Demo logins (password: {password}):" in result.output
    for email, *_ in STAFF:
        assert email in result.output
    for demo in AUTHORITIES:
        assert demo.member_email in result.output
        assert demo.name in result.output

    first = counts((User, Authority, *REFERENCE))
    assert first["User"] == len(STAFF) + len(AUTHORITIES)
    assert first["Authority"] == len(AUTHORITIES)
    assert first["Programme"] == 4

    result = runner.invoke(args=["exchange", "seed-demo"])
    assert result.exit_code == 0, result.output
    assert f"Demo logins (password: {password}):" in result.output
    assert counts((User, Authority, *REFERENCE)) == first

    # What it made is usable: profiles filled in, logins that work.
    tacna = db.session.scalar(select(Authority).where(Authority.name.like("%Tacna%")))
    assert tacna.status == AuthorityStatus.VERIFIED
    assert {t.code for t in tacna.themes} == {
        "water-management",
        "agri-food",
        "cross-border-cooperation",
    }
    assert [area.code for area in tacna.border_areas] == ["PE-CL"]
    loja = db.session.scalar(select(Authority).where(Authority.name.like("%Loja%")))
    assert loja.status == AuthorityStatus.PENDING
    admin = user("admin@demo.exchange.example")
    assert admin.role == Role.ADMIN
    assert admin.email_confirmed
    log_in(app.test_client(), user("tacna@demo.exchange.example"), password=password)


# sweep-notifications ---------------------------------------------------------------------------


def test_sweep_notifications_with_nothing_lost(runner):
    result = runner.invoke(args=["exchange", "sweep-notifications"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "Dispatched 0 notification(s)."


def test_sweep_notifications_dispatches_a_lost_row_once(runner, worker, mailbox):
    member = make_member(email="lost@example.org")
    long_ago = utcnow() - timedelta(minutes=10)
    # Written without the after-commit dispatch, as when the broker was down.
    db.session.execute(
        insert(Notification).values(
            user_id=member.id,
            kind="auth.confirm_email",
            to_address=member.email,
            payload={},
            status=NotificationStatus.PENDING,
            attempts=0,
            created_at=long_ago,
            next_attempt_at=long_ago,
        )
    )
    db.session.commit()

    result = runner.invoke(args=["exchange", "sweep-notifications"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "Dispatched 1 notification(s)."
    (message,) = mailbox.wait_for(1)
    assert message.to == "lost@example.org"
    # Just dispatched: a second sweep does not send it again.
    result = runner.invoke(args=["exchange", "sweep-notifications"])
    assert result.output.strip() == "Dispatched 0 notification(s)."


def test_reindex_search_rebuilds_the_index_of_published_items(app, reference):
    from exchange.submissions.models import Submission
    from exchange.submissions.search import search_condition
    from tests.factories import make_authority, make_member, make_submission

    author = make_member(make_authority())
    published = make_submission(author, state="published")
    make_submission(author, title="Borrador sin publicar")
    search.unindex_submission(published)
    db.session.commit()

    def found(query):
        condition = search_condition(query).condition
        return db.session.scalars(db.select(Submission.id).where(condition)).all()

    assert found("riego") == []
    result = app.test_cli_runner().invoke(args=["exchange", "reindex-search"])
    assert result.exit_code == 0, result.output
    assert "Indexed 1 published item(s)." in result.output
    assert found("riego") == [published.id]
