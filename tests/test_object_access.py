"""Object-level access: a member of authority B never reads or changes what belongs to authority A.

`tests/test_access.py` tries every route with every role; this file takes every route that names
an object by its id and aims it at one of A's objects (drafts, files, matches, interests,
notifications, stage reports, co-owner invitations, API tokens...) as a member of B, with a form
that would change that object if the request got through. The answer must be 403 or 404, the
page must not show the object, and the whole database (every row of every table) and the
attachment folder must be exactly as they were. Then the same request is made by someone who may
make it (A's member, or a coordinator for the coordinators' pages): it goes through and does change
something, so the refusal was about who asked, not about a broken form.

`CASES` is generated against the URL map: a new route that takes an id without a case here fails
`test_every_route_with_an_id_has_an_object_level_case`.
"""

import io
import itertools
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select, update

from exchange.api.services import create_token
from exchange.attachments.services import add_attachment
from exchange.authorities.services import request_to_join
from exchange.database import utcnow
from exchange.extensions import db
from exchange.matching.models import OPEN_STATUSES, Match, MatchStatus
from exchange.notifications.models import Notification, NotificationStatus
from exchange.notifications.services import queue_notification
from exchange.reference.models import BorderArea, Objective, Programme, Theme
from exchange.submissions import services as submissions
from exchange.submissions.models import Submission
from tests.conftest import csrf_token
from tests.factories import (
    log_in,
    make_admin,
    make_authority,
    make_coordinator,
    make_match,
    make_member,
    make_proposal,
    make_submission,
    make_user,
    practice_content,
)
from tests.test_attachments import pdf_bytes, post_multipart

_partners = itertools.count(1)

# A secret every object of A carries in its text, so that a page that leaks it is caught.
SECRET = "Secreto de Tacna"

# Columns that change without any request: a worker delivering e-mails (a test earlier in the run
# may have started one), and the "last used" mark a token gets when it reads the API.
CHANGED_BY_WORKERS = {
    "notification": {
        "status",
        "attempts",
        "last_error",
        "next_attempt_at",
        "claimed_at",
        "sent_at",
        "subject",
    },
    "api_token": {"last_used_at"},
}


def database_state(attachment_dir: str | os.PathLike | None = None) -> dict:
    """Every row of every table (less the columns above), and the files of the attachment
    folder: what "nothing changed" is compared with."""
    state = {}
    for table in db.metadata.sorted_tables:
        columns = [c for c in table.c if c.name not in CHANGED_BY_WORKERS.get(table.name, ())]
        rows = db.session.execute(select(*columns)).all()
        state[table.name] = sorted(repr(tuple(row)) for row in rows)
    if attachment_dir is not None:
        folder = Path(attachment_dir)
        state["files"] = sorted(p.name for p in folder.iterdir()) if folder.exists() else []
    db.session.rollback()  # end the read: the next one sees what the requests committed
    return state


def changed_tables(before: dict, after: dict) -> list[str]:
    return sorted(
        name for name in before.keys() | after.keys() if before.get(name) != after.get(name)
    )


# The world: A (Tacna), B (Arica), D (a third authority, A's partner), and who acts ------------


@dataclass
class World:
    app: object
    storage: Path
    a: object
    b: object
    d: object
    member_a: object
    member_b: object
    member_d: object
    coordinator: object
    admin: object
    clients: dict[str, FlaskClient] = field(default_factory=dict)
    api_secrets: dict[str, str] = field(default_factory=dict)

    def client(self, role: str) -> FlaskClient:
        """A signed-in client for `role` (made on first use)."""
        if role not in self.clients:
            client = self.app.test_client()
            if role != "anonymous":
                log_in(client, getattr(self, role))
            self.clients[role] = client
        return self.clients[role]

    def api_secret(self, role: str) -> str:
        """A personal API token of `role`'s (made on first use)."""
        if role not in self.api_secrets:
            _token, secret = create_token(getattr(self, role), f"{role}'s script")
            db.session.commit()
            self.api_secrets[role] = secret
        return self.api_secrets[role]

    # A's objects, each new for the case that asks for it.

    def item(self, kind="practice", state="draft", **fields):
        fields.setdefault("title", f"{SECRET}: {kind} {state}")
        return make_submission(
            self.member_a, kind=kind, state=state, reviewer=self.coordinator, **fields
        )

    def draft_attachment(self):
        draft = self.item()
        attachment = add_attachment(
            self.member_a, draft, io.BytesIO(pdf_bytes(SECRET)), "secreto.pdf"
        )
        db.session.commit()
        return attachment

    def unpublished_attachment(self):
        """A file added to a new version of a published practice: private until approved."""
        practice = self.item(state="published")
        submissions.save_content(
            self.member_a, practice, practice_content(title=f"{SECRET}: version 2")
        )
        attachment = add_attachment(
            self.member_a, practice, io.BytesIO(pdf_bytes(SECRET)), "version2.pdf"
        )
        db.session.commit()
        return attachment

    def interest_received(self):
        """D's interest in a published practice of A's."""
        practice = self.item(state="published")
        interest = submissions.express_interest(self.member_d, practice, f"{SECRET}: interés")
        db.session.commit()
        return interest

    def interest_sent(self):
        """A's interest in a published practice of D's."""
        practice = make_submission(self.member_d, state="published", reviewer=self.coordinator)
        interest = submissions.express_interest(self.member_a, practice, f"{SECRET}: nos interesa")
        db.session.commit()
        return interest

    def match(self, state="awaiting"):
        """A match between A and a new EU partner (a pair is matched only once)."""
        self.free_capacity()
        partner = make_authority(
            name=f"Partner {next(_partners)}", country="ES", subdivision="ES-V"
        )
        make_member(partner)
        return make_match(self.a, partner, coordinator=self.coordinator, state=state)

    def free_capacity(self) -> None:
        """Close the open matches, so that A and D always have room for the next one."""
        db.session.execute(
            update(Match)
            .where(Match.status.in_(OPEN_STATUSES))
            .values(status=MatchStatus.CLOSED, closed_at=utcnow())
        )
        db.session.commit()

    def proposal(self):
        return make_proposal(self.a, self.d)

    def notification(self, status=NotificationStatus.PENDING):
        if status == NotificationStatus.PENDING:
            notification = queue_notification(self.member_a, "auth.confirm_email")
        else:
            # Written failed, so that no worker claims it meanwhile.
            notification = Notification(
                user=self.member_a,
                kind="auth.confirm_email",
                to_address=self.member_a.email,
                payload={},
                status=status,
                attempts=3,
                last_error="550 mailbox unavailable",
            )
            db.session.add(notification)
        db.session.commit()
        return notification

    def invitation(self):
        """A's draft idea, with D invited to co-own it (B is not)."""
        idea = self.item(kind="idea")
        co_owner = submissions.invite_co_owner(self.member_a, idea, self.d.id, SECRET)
        db.session.commit()
        return co_owner

    def join_request(self):
        join_request = request_to_join(make_user(), self.a.id, f"{SECRET}: let me in")
        db.session.commit()
        return join_request

    def pending_authority(self):
        return make_authority(name=f"{SECRET} pendiente", verified=False)

    def api_token(self):
        token, _secret = create_token(self.member_a, f"{SECRET} script")
        db.session.commit()
        return token


@pytest.fixture
def storage(app, tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "attachments"
    monkeypatch.setitem(app.config, "ATTACHMENT_DIR", str(folder))
    return folder


@pytest.fixture
def world(app, reference, storage) -> World:
    return build_world(app, storage)


def build_world(app, storage: Path) -> World:
    """A, B and D with a member each, a coordinator and an admin (needs the reference data)."""
    a = make_authority(name="Gobierno Regional de Tacna")
    b = make_authority(name="Gobierno Regional de Arica", country="CL", subdivision=None)
    d = make_authority(name="Generalitat Valenciana", country="ES", subdivision="ES-V")
    return World(
        app=app,
        storage=storage,
        a=a,
        b=b,
        d=d,
        member_a=make_member(a),
        member_b=make_member(b),
        member_d=make_member(d),
        coordinator=make_coordinator(),
        admin=make_admin(),
    )


# The cases ---------------------------------------------------------------------------------------


@dataclass
class Request:
    """One request: a page or a form post, or an API call with a role's personal token."""

    method: str
    path: str
    data: dict | None = None
    token_of: str | None = None  # an API call with this role's personal token
    multipart: bool = False


@dataclass
class Case:
    name: str
    endpoint: str
    build: Callable[[World], Request]
    refused: int  # what B gets: 403 (may know it exists) or 404 (may not)
    # Someone who may make the same request, and what they get; `changes`: whether their
    # request changes the database (a form) or not (a page).
    allowed: tuple[str, int, bool] | None = None
    attacker: str = "member_b"


def _practice_form(title: str) -> dict:
    return {"language": "es", "title": title, "summary": "Tomado por otra autoridad."}


def _profile_form(name: str) -> dict:
    return {
        "name": name,
        "kind": "region",
        "country_code": "PE",
        "subdivision_code": "PE-TAC",
        "website": "",
        "description": "Taken over",
        "description_language": "es",
        "languages": "es",
        "match_capacity": "3",
    }


def _first(model):
    return db.session.scalar(select(model).order_by(model.id))


def _programme_form(programme) -> dict:
    return {
        "code": programme.code,
        "name_en": "Renamed by someone else",
        "name_es": "Renombrado",
        "name_pt": "Renomeado",
        "position": "1",
    }


def _get(path):
    return Request("GET", path)


def _post(path, **data):
    return Request("POST", path, data=data)


CASES = [
    # Drafts and items ---------------------------------------------------------------------------
    Case(
        "a draft practice's page",
        "practices.show",
        lambda w: _get(f"/practices/{w.item().id}"),
        404,
        ("member_a", 200, False),
    ),
    Case(
        "a draft idea's page",
        "ideas.show",
        lambda w: _get(f"/ideas/{w.item('idea').id}"),
        404,
        ("member_a", 200, False),
    ),
    Case(
        "editing a draft practice",
        "practices.edit",
        lambda w: _get(f"/practices/{w.item().id}/edit"),
        404,
        ("member_a", 200, False),
    ),
    Case(
        "saving a draft practice",
        "practices.edit",
        lambda w: _post(f"/practices/{w.item().id}/edit", **_practice_form("Taken over")),
        404,
        ("member_a", 302, True),
    ),
    Case(
        "saving a new version of a published practice",
        "practices.edit",
        lambda w: _post(
            f"/practices/{w.item(state='published').id}/edit", **_practice_form("Taken over")
        ),
        403,
        ("member_a", 302, True),
    ),
    Case(
        "editing a draft idea",
        "ideas.edit",
        lambda w: _get(f"/ideas/{w.item('idea').id}/edit"),
        404,
        ("member_a", 200, False),
    ),
    Case(
        "saving a draft idea",
        "ideas.edit",
        lambda w: _post(f"/ideas/{w.item('idea').id}/edit", **_practice_form("Taken over")),
        404,
        ("member_a", 302, True),
    ),
    Case(
        "submitting a draft",
        "submissions.change_state",
        lambda w: _post(f"/items/{w.item().id}/submit"),
        404,
        ("member_a", 302, True),
    ),
    Case(
        "archiving a published practice",
        "submissions.change_state",
        lambda w: _post(f"/items/{w.item(state='published').id}/archive"),
        403,
        ("member_a", 302, True),
    ),
    Case(
        "closing a published idea",
        "submissions.change_state",
        lambda w: _post(f"/items/{w.item('idea', 'published').id}/close"),
        403,
        ("member_a", 302, True),
    ),
    Case(
        "showing interest in a draft",
        "interests.express",
        lambda w: _post(f"/interests/express/{w.item().id}", message="Nos interesa"),
        404,
    ),
    Case(
        "the interest form of a draft",
        "interests.express",
        lambda w: _get(f"/interests/express/{w.item().id}"),
        404,
    ),
    # Review: coordinators only.
    Case(
        "the review page of a submitted practice",
        "review.show",
        lambda w: _get(f"/review/{w.item(state='submitted').id}"),
        403,
        ("coordinator", 200, False),
    ),
    Case(
        "publishing a submitted practice",
        "review.decide",
        lambda w: _post(f"/review/{w.item(state='submitted').id}/publish", comment="", note=""),
        403,
        ("coordinator", 302, True),
    ),
    Case(
        "previewing a decision e-mail",
        "review.preview_email",
        lambda w: _post(f"/review/{w.item(state='submitted').id}/preview/publish", comment=""),
        403,
        ("coordinator", 200, False),
    ),
    Case(
        "previewing a decision e-mail's HTML",
        "review.preview_email_html",
        lambda w: _post(f"/review/{w.item(state='submitted').id}/preview/publish/0", comment=""),
        403,
        ("coordinator", 200, False),
    ),
    # The API: B's own token reads B's items and matches, not A's; the public API has no drafts.
    Case(
        "a draft through the public API",
        "api.get_practice",
        lambda w: Request("GET", f"/api/v1/practices/{w.item().id}", token_of="member_b"),
        404,
    ),
    Case(
        "a draft idea through the public API",
        "api.get_idea",
        lambda w: Request("GET", f"/api/v1/ideas/{w.item('idea').id}", token_of="member_b"),
        404,
    ),
    Case(
        "another authority's item with one's token",
        "api.get_own_item",
        lambda w: Request("GET", f"/api/v1/me/items/{w.item().id}", token_of="member_b"),
        404,
        ("member_a", 200, False),
    ),
    Case(
        "another authority's match with one's token",
        "api.get_own_match",
        lambda w: Request("GET", f"/api/v1/me/matches/{w.match().id}", token_of="member_b"),
        404,
        ("member_a", 200, False),
    ),
    # Attachments ---------------------------------------------------------------------------------
    Case(
        "a draft's file",
        "attachments.download",
        lambda w: _get(f"/attachments/{w.draft_attachment().id}"),
        404,
        ("member_a", 200, False),
    ),
    Case(
        "a file of an unpublished new version",
        "attachments.download",
        lambda w: _get(f"/attachments/{w.unpublished_attachment().id}"),
        404,
        ("member_a", 200, False),
    ),
    Case(
        "the upload page of a draft",
        "attachments.upload",
        lambda w: _get(f"/attachments/upload/{w.item().id}"),
        404,
        ("member_a", 200, False),
    ),
    Case(
        "uploading to a draft",
        "attachments.upload",
        lambda w: Request(
            "POST",
            f"/attachments/upload/{w.item().id}",
            data={"file": (pdf_bytes("Not theirs"), "mine.pdf")},
            multipart=True,
        ),
        404,
        ("member_a", 302, True),
    ),
    Case(
        "removing a draft's file",
        "attachments.remove",
        lambda w: _post(f"/attachments/{w.draft_attachment().id}/remove"),
        404,
        ("member_a", 302, True),
    ),
    # Interests -----------------------------------------------------------------------------------
    Case(
        "an interest A received",
        "interests.show",
        lambda w: _get(f"/interests/{w.interest_received().id}"),
        404,
        ("member_a", 200, False),
    ),
    Case(
        "answering an interest A received",
        "interests.answer",
        lambda w: _post(f"/interests/{w.interest_received().id}/answer", answer="Hola", back=""),
        404,
        ("member_a", 302, True),
    ),
    Case(
        "an interest A sent",
        "interests.show",
        lambda w: _get(f"/interests/{w.interest_sent().id}"),
        404,
        ("member_a", 200, False),
    ),
    Case(
        "answering an interest A sent",
        "interests.answer",
        lambda w: _post(f"/interests/{w.interest_sent().id}/answer", answer="Hola", back=""),
        404,
        ("member_d", 302, True),
    ),
    # Matches and stage reports -------------------------------------------------------------------
    Case(
        "a match of A's",
        "matches.show",
        lambda w: _get(f"/matches/{w.match().id}"),
        404,
        ("member_a", 200, False),
    ),
    Case(
        "accepting A's match",
        "matches.answer",
        lambda w: _post(f"/matches/{w.match().id}/answer", answer="accept", reason=""),
        404,
        ("member_a", 302, True),
    ),
    Case(
        "declining A's match",
        "matches.answer",
        lambda w: _post(f"/matches/{w.match().id}/answer", answer="decline", reason="No."),
        404,
        ("member_a", 302, True),
    ),
    Case(
        "reporting a stage of A's connected match",
        "matches.report_stage",
        lambda w: _post(
            f"/matches/{w.match('connected').id}/stage", stage="contacted", note="Hablamos."
        ),
        404,
        ("member_a", 302, True),
    ),
    Case(
        "closing A's connected match",
        "matches.close",
        lambda w: _post(f"/matches/{w.match('connected').id}/close", reason="Ended."),
        404,
        ("member_a", 302, True),
    ),
    # The brokerage console: coordinators only.
    Case(
        "a proposal about A",
        "brokerage.proposal",
        lambda w: _get(f"/brokerage/proposals/{w.proposal().id}"),
        403,
        ("coordinator", 200, False),
    ),
    Case(
        "approving a proposal about A",
        "brokerage.approve",
        lambda w: _post(f"/brokerage/proposals/{w.proposal().id}/approve", note="", filters=""),
        403,
        ("coordinator", 302, True),
    ),
    Case(
        "dismissing a proposal about A",
        "brokerage.dismiss",
        lambda w: _post(f"/brokerage/proposals/{w.proposal().id}/dismiss", filters=""),
        403,
        ("coordinator", 302, True),
    ),
    Case(
        "previewing the approval e-mail",
        "brokerage.preview_approval",
        lambda w: _post(f"/brokerage/proposals/{w.proposal().id}/preview", note=""),
        403,
        ("coordinator", 200, False),
    ),
    Case(
        "previewing the approval e-mail's HTML",
        "brokerage.preview_approval_html",
        lambda w: _post(f"/brokerage/proposals/{w.proposal().id}/preview/0", note=""),
        403,
        ("coordinator", 200, False),
    ),
    # Notifications -------------------------------------------------------------------------------
    Case(
        "marking A's notification read",
        "notifications.mark_read",
        lambda w: _post(f"/notifications/{w.notification().id}/read"),
        404,
        ("member_a", 302, True),
    ),
    Case(
        "sending A's failed e-mail again",
        "notifications.resend",
        lambda w: _post(
            f"/notifications/log/{w.notification(NotificationStatus.FAILED).id}/resend"
        ),
        403,
        ("coordinator", 302, True),
    ),
    # Co-owner invitations ------------------------------------------------------------------------
    Case(
        "accepting an invitation sent to another authority",
        "ideas.answer_invitation",
        lambda w: _post(f"/ideas/{w.invitation().submission_id}/invitation/accept"),
        404,
        ("member_d", 302, True),
    ),
    Case(
        "declining an invitation sent to another authority",
        "ideas.answer_invitation",
        lambda w: _post(f"/ideas/{w.invitation().submission_id}/invitation/decline"),
        404,
        ("member_d", 302, True),
    ),
    Case(
        "inviting oneself to co-own A's draft idea",
        "ideas.invite_co_owner",
        lambda w: _post(
            f"/ideas/{w.item('idea').id}/co-owners", authority=str(w.b.id), message="Us too"
        ),
        404,
        ("member_a", 302, True),
    ),
    # API tokens ---------------------------------------------------------------------------------
    Case(
        "revoking A's API token",
        "developers.revoke_token",
        lambda w: _post(f"/account/api-tokens/{w.api_token().id}/revoke"),
        404,
        ("member_a", 302, True),
    ),
    # A's profile, members and join requests ------------------------------------------------------
    Case(
        "A's profile form",
        "authorities.edit",
        lambda w: _get(f"/authorities/{w.a.id}/edit"),
        403,
        ("member_a", 200, False),
    ),
    Case(
        "saving A's profile",
        "authorities.edit",
        lambda w: _post(f"/authorities/{w.a.id}/edit", **_profile_form("Taken over")),
        403,
        ("member_a", 302, True),
    ),
    Case(
        "A's members",
        "authorities.members",
        lambda w: _get(f"/authorities/{w.a.id}/members"),
        403,
        ("member_a", 200, False),
    ),
    Case(
        "approving a request to join A",
        "authorities.answer_join_request",
        lambda w: _post(f"/authorities/join-requests/{w.join_request().id}/approve", reason=""),
        403,
        ("member_a", 302, True),
    ),
    Case(
        "rejecting a request to join A",
        "authorities.answer_join_request",
        lambda w: _post(f"/authorities/join-requests/{w.join_request().id}/reject", reason=""),
        403,
        ("member_a", 302, True),
    ),
    Case(
        "a pending authority's page",
        "authorities.show",
        lambda w: _get(f"/authorities/{w.pending_authority().id}"),
        404,
        ("coordinator", 200, False),
    ),
    Case(
        "a pending authority through the API",
        "api.get_authority",
        lambda w: Request(
            "GET", f"/api/v1/authorities/{w.pending_authority().id}", token_of="member_b"
        ),
        404,
    ),
    Case(
        "verifying an authority",
        "authorities.verify",
        lambda w: _post(f"/authorities/{w.pending_authority().id}/verify"),
        403,
        ("coordinator", 302, True),
    ),
    Case(
        "rejecting an authority",
        "authorities.reject",
        lambda w: _post(f"/authorities/{w.pending_authority().id}/reject", reason="No."),
        403,
        ("coordinator", 302, True),
    ),
    # People and reference data: admins only ------------------------------------------------------
    Case(
        "making A's member a coordinator",
        "admin.set_role",
        lambda w: _post(f"/admin/users/{w.member_a.id}/role", role="coordinator"),
        403,
        ("admin", 302, True),
    ),
    Case(
        "suspending A's member",
        "admin.set_active",
        lambda w: _post(f"/admin/users/{w.member_a.id}/suspend"),
        403,
        ("admin", 302, True),
    ),
    Case(
        "editing a programme",
        "admin.edit_programme",
        lambda w: _post(
            f"/admin/programmes/{_first(Programme).id}", **_programme_form(_first(Programme))
        ),
        403,
        ("admin", 302, True),
    ),
    Case(
        "adding an objective to a programme",
        "admin.new_objective",
        lambda w: _post(
            f"/admin/programmes/{_first(Programme).id}/objectives/new",
            code="NEW-1",
            text_en="x",
            text_es="x",
            text_pt="x",
            position="9",
        ),
        403,
        ("admin", 302, True),
    ),
    Case(
        "editing an objective",
        "admin.edit_objective",
        lambda w: _get(f"/admin/objectives/{_first(Objective).id}"),
        403,
        ("admin", 200, False),
    ),
    Case(
        "editing a theme",
        "admin.edit_theme",
        lambda w: _get(f"/admin/themes/{_first(Theme).id}"),
        403,
        ("admin", 200, False),
    ),
    Case(
        "editing a border area",
        "admin.edit_border_area",
        lambda w: _get(f"/admin/border-areas/{_first(BorderArea).id}"),
        403,
        ("admin", 200, False),
    ),
]

# Routes that take an id of something public by design: a programme, objective or theme (the
# reference data every visitor reads) and verified authorities. Pending authorities are tried
# above (`authorities.show`, `api.get_authority`).
PUBLIC_BY_DESIGN = {"api.get_programme", "api.get_objective", "api.get_theme"}


def _send(world: World, role: str, request: Request):
    if request.token_of is not None:
        secret = world.api_secret(role)
        return world.app.test_client().open(
            request.path, method=request.method, headers={"Authorization": f"Bearer {secret}"}
        )
    client = world.client(role)
    if request.method == "GET":
        return client.get(request.path)
    token = csrf_token(client)
    if request.multipart:
        data = {
            "csrf_token": token,
            **{
                name: (io.BytesIO(content), filename)
                for name, (content, filename) in request.data.items()
            },
        }
        return post_multipart(client, request.path, data)
    return client.post(request.path, data={"csrf_token": token, **(request.data or {})})


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_another_authority_can_neither_read_nor_change_it(app, world, case):
    request = case.build(world)
    # The path is the route the case says it tries.
    endpoint, _args = app.url_map.bind("localhost").match(request.path, method=request.method)
    assert endpoint == case.endpoint

    # Signed in (and holding a CSRF token, or an API token) before the state is taken.
    world.client(case.attacker)
    if request.token_of is not None:
        world.api_secret(case.attacker)
    before = database_state(world.storage)

    response = _send(world, case.attacker, request)
    body = response.get_data(as_text=True)
    response.close()
    assert response.status_code == case.refused, body[:500]
    assert SECRET not in body
    after = database_state(world.storage)
    assert after == before, f"changed: {changed_tables(before, after)}"

    if case.allowed is None:
        return
    role, status, changes = case.allowed
    world.client(role)
    if request.token_of is not None:
        world.api_secret(role)
    before = database_state(world.storage)
    response = _send(world, role, request)
    response.close()
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    after = database_state(world.storage)
    if changes:
        assert after != before, "the request of someone allowed changed nothing: a broken form?"
    else:
        assert after == before, f"a page changed: {changed_tables(before, after)}"


def test_every_route_with_an_id_has_an_object_level_case(app):
    with_ids = {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if any(name.endswith("_id") for name in rule.arguments)
    }
    covered = {case.endpoint for case in CASES}
    missing = sorted(with_ids - covered - PUBLIC_BY_DESIGN)
    assert not missing, f"routes that take an id without an object-level case: {missing}"
    assert not covered - {rule.endpoint for rule in app.url_map.iter_rules()}
    # Every kind of object the issue names is tried.
    for endpoint in (
        "practices.edit",
        "attachments.download",
        "attachments.remove",
        "matches.answer",
        "matches.report_stage",
        "interests.answer",
        "notifications.mark_read",
        "ideas.answer_invitation",
        "developers.revoke_token",
    ):
        assert endpoint in covered, endpoint


# Lists: what B's own pages show ----------------------------------------------------------------


def test_bs_lists_show_nothing_of_as(world):
    draft = world.item()
    world.item("idea")
    world.interest_received()
    world.interest_sent()
    world.match()
    world.invitation()
    notification = world.notification()
    own = make_submission(world.member_b, title="Borrador de Arica")

    client = world.client("member_b")
    # (A's published items are public: the catalogue lists them, so it is not tried here.)
    for path in ("/workspace/", "/notifications/", "/notifications/?show=unread"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert SECRET not in response.get_data(as_text=True), path
    # Not vacuous: B's workspace lists B's own draft, and A's lists A's.
    assert "Borrador de Arica" in client.get("/workspace/").get_data(as_text=True)
    assert SECRET in world.client("member_a").get("/workspace/").get_data(as_text=True)
    assert own.id != draft.id

    # "Mark all read" marks B's own only.
    response = client.post("/notifications/read", data={"csrf_token": csrf_token(client)})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Notification, notification.id).read_at is None


def test_bs_token_lists_none_of_as_items_or_matches(world):
    world.item()
    world.item(state="published")
    world.match()
    headers = {"Authorization": f"Bearer {world.api_secret('member_b')}"}
    api = world.app.test_client()
    for path in ("/api/v1/me/items", "/api/v1/me/matches"):
        response = api.get(path, headers=headers)
        assert response.status_code == 200, path
        assert response.get_json()["items"] == [], path
    # A's own token lists them (the lists above are empty because of who asks).
    headers = {"Authorization": f"Bearer {world.api_secret('member_a')}"}
    assert len(api.get("/api/v1/me/items", headers=headers).get_json()["items"]) == 2
    assert len(api.get("/api/v1/me/matches", headers=headers).get_json()["items"]) == 1


def test_an_id_that_names_nothing_is_a_404_for_everyone(world):
    missing = 2_000_000_000
    client = world.client("member_b")
    token = csrf_token(client)
    for method, path in (
        ("GET", f"/practices/{missing}"),
        ("GET", f"/ideas/{missing}/edit"),
        ("GET", f"/attachments/{missing}"),
        ("GET", f"/interests/{missing}"),
        ("GET", f"/matches/{missing}"),
        ("POST", f"/matches/{missing}/answer"),
        ("POST", f"/notifications/{missing}/read"),
        ("POST", f"/attachments/{missing}/remove"),
        ("POST", f"/account/api-tokens/{missing}/revoke"),
        ("POST", f"/items/{missing}/submit"),
    ):
        response = client.open(path, method=method, data={"csrf_token": token})
        assert response.status_code == 404, (method, path)


def test_a_submission_id_of_the_wrong_kind_is_a_404(world):
    """An idea's id in a practice's address (and the other way round) is not found, even for its
    owners: the two kinds never share a page."""
    idea = world.item("idea", "published")
    practice = world.item(state="published")
    client = world.client("member_a")
    assert client.get(f"/practices/{idea.id}").status_code == 404
    assert client.get(f"/ideas/{practice.id}").status_code == 404
    assert client.get(f"/practices/{idea.id}/edit").status_code == 404
    assert db.session.get(Submission, idea.id) is not None
