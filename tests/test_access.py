"""Who may open what: every route of the app, tried by every kind of person.

`EXPECTED` is the access policy in one table, one row per endpoint. A route added without a row
fails `test_every_route_has_an_expected_answer`, so nobody can add a page and forget to decide who
may see it. GET routes are tried with a GET; POST-only routes with a POST that carries a valid CSRF
token and an empty form, so that it reaches the view and its access check.
"""

import io
import itertools
import re
from dataclasses import dataclass, field
from itertools import product

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select, update

from exchange.activity.models import ActivityEntry
from exchange.api.models import ApiToken
from exchange.api.services import create_token
from exchange.attachments.services import add_attachment
from exchange.auth.models import User
from exchange.authorities.models import Authority, AuthorityStatus, JoinRequest, JoinRequestStatus
from exchange.authorities.services import request_to_join
from exchange.database import utcnow
from exchange.extensions import db
from exchange.matching.models import OPEN_STATUSES, Match, MatchStatus, Proposal
from exchange.notifications.models import Notification
from exchange.notifications.services import queue_notification
from exchange.reference.models import BorderArea, Objective, Programme, Theme
from exchange.submissions.models import Attachment, Interest, Submission
from exchange.submissions.services import express_interest
from tests.conftest import csrf_token
from tests.factories import (
    PASSWORD,
    log_in,
    make_admin,
    make_authority,
    make_coordinator,
    make_match,
    make_member,
    make_proposal,
    make_submission,
    make_user,
)
from tests.test_attachments import pdf_bytes

ROLES = ("anonymous", "member_a", "member_b", "coordinator", "admin")
_partners = itertools.count(1)

# A redirect to the login page, as Flask-Login sends someone who is not signed in.
LOGIN = "login"
# Any other redirect (302) is expected as the number 302: it must NOT be a login redirect.

# Not a token any purpose could have signed: the app must answer gracefully (a redirect).
INVALID_TOKEN = "not-a-valid-token"


def expect(anonymous, member_a, member_b, coordinator, admin) -> dict:
    return dict(zip(ROLES, (anonymous, member_a, member_b, coordinator, admin), strict=True))


EVERYONE = expect(200, 200, 200, 200, 200)
SIGNED_IN = expect(LOGIN, 200, 200, 200, 200)
COORDINATORS = expect(LOGIN, 403, 403, 200, 200)
# The API's own data: only with a personal token (a session cookie does not count), else 401 JSON.
TOKEN_ONLY = expect(401, 401, 401, 401, 401)
NOBODY = expect(404, 404, 404, 404, 404)
ADMINS = expect(LOGIN, 403, 403, 403, 200)

# The decisions answer according to the decision: a comment is required to request changes or
# to reject (422 without one); starting the review and publishing go through (302).
DECISIONS = {"start_review": 302, "publish": 302, "request_changes": 422, "reject": 422}
PREVIEWS = {"publish": 200, "request_changes": 422, "reject": 422}
PREVIEWS_HTML = {"publish": 200, "request_changes": 302, "reject": 302}

# member_a works for authority A (verified), member_b for authority B (verified); the
# coordinator and the admin work for no authority. Ids in the URLs are A's, a pending request to
# join A, a bystander's account, the first programme/objective/theme/border area, and a token
# nobody signed.
EXPECTED = {
    # Public pages.
    "main.index": EVERYONE,
    "main.healthz": EVERYONE,
    "main.choose_language": expect(302, 302, 302, 302, 302),
    "authorities.index": EVERYONE,
    "authorities.show": EVERYONE,  # A is verified: public
    "authorities.subdivisions": EVERYONE,
    # Signing in and out; a signed-in person is sent on from the login and registration pages.
    "auth.login": expect(200, 302, 302, 302, 302),
    "auth.register": expect(200, 302, 302, 302, 302),
    "auth.logout": expect(LOGIN, 302, 302, 302, 302),
    "auth.forgot_password": EVERYONE,
    # Links from e-mails, with a bad token: a message and a redirect, for anyone.
    "auth.confirm_email": expect(302, 302, 302, 302, 302),
    "auth.reset_password": expect(302, 302, 302, 302, 302),
    "auth.confirm_email_change": expect(302, 302, 302, 302, 302),
    # One's own account; the empty form is refused (422) once past the access check.
    "auth.account": SIGNED_IN,
    "auth.update_account": expect(LOGIN, 422, 422, 422, 422),
    "auth.change_password": expect(LOGIN, 422, 422, 422, 422),
    "auth.change_email": expect(LOGIN, 422, 422, 422, 422),
    "auth.resend_confirmation": expect(LOGIN, 302, 302, 302, 302),
    # One's own authority: its members and the coordinators, nobody else.
    "authorities.mine": expect(LOGIN, 302, 302, 302, 302),
    "authorities.edit": expect(LOGIN, 200, 403, 200, 200),
    "authorities.members": expect(LOGIN, 200, 403, 200, 200),
    "authorities.answer_join_request": expect(LOGIN, 302, 403, 302, 302),
    # Verification: coordinators (and admins). Verifying A, already verified, is refused with a
    # message; rejecting without a reason is refused by the form (422).
    "authorities.verification_queue": COORDINATORS,
    "authorities.verify": expect(LOGIN, 403, 403, 302, 302),
    "authorities.reject": expect(LOGIN, 403, 403, 422, 422),
    # People and reference data: admins only.
    "admin.index": expect(LOGIN, 403, 403, 403, 302),
    "admin.users": ADMINS,
    "admin.set_role": expect(LOGIN, 403, 403, 403, 302),
    "admin.set_active": expect(LOGIN, 403, 403, 403, 302),
    "admin.reference": ADMINS,
    "admin.edit_programme": ADMINS,
    "admin.new_objective": ADMINS,
    "admin.edit_objective": ADMINS,
    "admin.edit_theme": ADMINS,
    "admin.edit_border_area": ADMINS,
    # Practices and ideas. Each request gets an item of A of its own (see ITEMS): the page of a
    # published item is public; writing is for members of an authority (coordinators write none).
    "practices.new": expect(LOGIN, 200, 200, 403, 403),
    "ideas.new": expect(LOGIN, 200, 200, 403, 403),
    "practices.show": EVERYONE,
    "ideas.show": EVERYONE,
    # Editing A's published item (a new revision): its owners only.
    "practices.edit": expect(LOGIN, 200, 403, 403, 403),
    "ideas.edit": expect(LOGIN, 200, 403, 403, 403),
    # Owners' steps on A's published practice: archiving is allowed to its owners and to the
    # coordinators; submitting or closing it is refused with a message (a redirect), except that
    # coordinators never submit for an authority.
    "submissions.change_state": expect(
        LOGIN,
        302,
        403,
        {"submit": 403, "archive": 302, "close": 302},
        {"submit": 403, "archive": 302, "close": 302},
    ),
    # Co-ownership of A's draft idea: the empty invitation is refused by the form; nobody has
    # been invited, so nobody can answer.
    "ideas.invite_co_owner": expect(LOGIN, 422, 404, 403, 403),
    "ideas.answer_invitation": expect(LOGIN, 403, 404, 403, 403),
    # Attachments of A's draft practice (the file is A's, and not public yet).
    "attachments.upload": expect(LOGIN, 200, 404, 403, 403),
    "attachments.remove": expect(LOGIN, 302, 404, 403, 403),
    "attachments.download": expect(404, 200, 404, 200, 200),
    # B's interest in A's published practice: A's members answer it, B's read it; nobody else.
    "interests.express": expect(LOGIN, 200, 200, 200, 200),
    "interests.show": expect(LOGIN, 200, 200, 404, 404),
    "interests.answer": expect(LOGIN, 422, 403, 404, 404),
    # Review: coordinators. The decisions are tried on a submitted practice of A; an empty bulk
    # form is refused by the form.
    "review.queue": COORDINATORS,
    "review.dashboard": COORDINATORS,
    "review.show": COORDINATORS,
    "review.decide": expect(LOGIN, 403, 403, DECISIONS, DECISIONS),
    "review.bulk": expect(LOGIN, 403, 403, 422, 422),
    # The public catalogue, and one's workspace.
    "catalogue.index": EVERYONE,
    # Programme pages (the first programme, by its code) and the Atom feed: public.
    "programmes.index": EVERYONE,
    "programmes.show": EVERYONE,
    "feeds.latest": EVERYONE,
    "workspace.index": SIGNED_IN,
    # Decision e-mails previewed before they are sent: coordinators.
    # Without a comment only approval can be previewed; the others ask for one (422), and
    # their HTML version sends the coordinator back to the review page.
    "review.preview_email": expect(LOGIN, 403, 403, PREVIEWS, PREVIEWS),
    "review.preview_email_html": expect(LOGIN, 403, 403, PREVIEWS_HTML, PREVIEWS_HTML),
    # Matching, for coordinators. Each request gets a proposal (or a match) between A and a new
    # EU authority of its own. Empty forms are refused by the form (422).
    "brokerage.proposals": COORDINATORS,
    "brokerage.proposal": COORDINATORS,
    "brokerage.approve": expect(LOGIN, 403, 403, 302, 302),
    "brokerage.dismiss": expect(LOGIN, 403, 403, 302, 302),
    "brokerage.preview_approval": expect(LOGIN, 403, 403, 200, 200),
    "brokerage.preview_approval_html": expect(LOGIN, 403, 403, 200, 200),
    "brokerage.bulk": expect(LOGIN, 403, 403, 422, 422),
    "brokerage.new_match": COORDINATORS,
    "brokerage.check_match": expect(LOGIN, 403, 403, 422, 422),
    "brokerage.create_match": expect(LOGIN, 403, 403, 422, 422),
    "brokerage.preview_match": expect(LOGIN, 403, 403, 422, 422),
    "brokerage.preview_match_html": expect(LOGIN, 403, 403, 302, 302),
    "brokerage.pipeline": COORDINATORS,
    "brokerage.pairing": COORDINATORS,
    # Without a programme: back to the pairing page, with a message.
    "brokerage.pairing_confirm": expect(LOGIN, 403, 403, 302, 302),
    "brokerage.run_matching": expect(LOGIN, 403, 403, 302, 302),
    # Theme suggestions while writing: anyone signed in.
    "brokerage.theme_suggestions": SIGNED_IN,
    # A match between A and another authority: A's members answer it (an empty answer is
    # refused by the form); B's members may not know it exists; coordinators see it but do not
    # answer for an authority.
    "matches.show": expect(LOGIN, 200, 404, 200, 200),
    "matches.answer": expect(LOGIN, 422, 404, 403, 403),
    "matches.report_stage": expect(LOGIN, 403, 404, 403, 403),
    "matches.close": expect(LOGIN, 403, 404, 422, 422),
    # One's own notifications (the one in the URL is member_a's); the log is the coordinators'.
    "notifications.index": SIGNED_IN,
    "notifications.mark_read": expect(LOGIN, 302, 404, 404, 404),
    "notifications.mark_all_read": expect(LOGIN, 302, 302, 302, 302),
    "notifications.edit_preferences": SIGNED_IN,
    "notifications.update_preferences": expect(LOGIN, 422, 422, 422, 422),
    # One-click unsubscribe needs no login; a token nobody signed is refused.
    "notifications.unsubscribe": expect(400, 400, 400, 400, 400),
    "notifications.show_log": COORDINATORS,
    "notifications.resend": expect(LOGIN, 403, 403, 302, 302),
    "notifications.bulk_resend": expect(LOGIN, 403, 403, 422, 422),
    # The public API: JSON for everyone (A's published items, the first programme, objective,
    # theme), and its documents; one's own items and matches need a token. Token pages: one's own
    # (the token in the URL is member_a's: for anyone else it does not exist).
    "api.index": EVERYONE,
    "api.list_practices": EVERYONE,
    "api.get_practice": EVERYONE,
    "api.list_ideas": EVERYONE,
    "api.get_idea": EVERYONE,
    "api.list_authorities": EVERYONE,
    "api.get_authority": EVERYONE,
    "api.list_programmes": EVERYONE,
    "api.get_programme": EVERYONE,
    "api.list_objectives": EVERYONE,
    "api.get_objective": EVERYONE,
    "api.list_themes": EVERYONE,
    "api.get_theme": EVERYONE,
    "api.get_me": TOKEN_ONLY,
    "api.list_own_items": TOKEN_ONLY,
    "api.get_own_item": TOKEN_ONLY,
    "api.list_own_matches": TOKEN_ONLY,
    "api.get_own_match": TOKEN_ONLY,
    "api-docs.openapi_json": EVERYONE,
    "developers.api_docs": EVERYONE,
    "developers.tokens": SIGNED_IN,
    "developers.create_token": expect(LOGIN, 422, 422, 422, 422),
    "developers.revoke_token": expect(LOGIN, 302, 404, 404, 404),
    # The charts and the exports: coordinators (every chart, every dataset in every format).
    "insight.dashboard": COORDINATORS,
    "insight.chart_svg": COORDINATORS,
    "insight.chart_csv": COORDINATORS,
    "insight.export": COORDINATORS,
}

# The item each endpoint is tried on: (kind, state) of a new item of authority A.
ITEMS = {
    "practices.show": ("practice", "published"),
    "practices.edit": ("practice", "published"),
    "ideas.show": ("idea", "published"),
    "ideas.edit": ("idea", "published"),
    "submissions.change_state": ("practice", "published"),
    "ideas.invite_co_owner": ("idea", "draft"),
    "ideas.answer_invitation": ("idea", "draft"),
    "attachments.upload": ("practice", "draft"),
    "interests.express": ("practice", "published"),
    "review.show": ("practice", "submitted"),
    "review.decide": ("practice", "submitted"),
    "review.preview_email": ("practice", "submitted"),
    "review.preview_email_html": ("practice", "submitted"),
    "api.get_practice": ("practice", "published"),
    "api.get_idea": ("idea", "published"),
    "api.get_own_item": ("practice", "published"),
}


# The same pages of a DRAFT of A: its owners and the coordinators see it; for anybody else it
# does not exist.
EXPECTED_ON_DRAFT = {
    "practices.show": expect(404, 200, 404, 200, 200),
    "ideas.show": expect(404, 200, 404, 200, 200),
    "practices.edit": expect(LOGIN, 200, 404, 403, 403),
    "ideas.edit": expect(LOGIN, 200, 404, 403, 403),
    "attachments.upload": expect(LOGIN, 200, 404, 403, 403),
    # Those who can see the draft get the page (which says interest waits for publication).
    "interests.express": expect(LOGIN, 200, 404, 200, 200),
    # The public API shows no draft to anyone, its owners included; their token would.
    "api.get_practice": NOBODY,
    "api.get_idea": NOBODY,
    "api.get_own_item": TOKEN_ONLY,
}

# The GET endpoints that take an authority, tried again on authority C, which is pending: it is
# known only to coordinators (and its own members); everyone else is told it does not exist.
EXPECTED_ON_PENDING = {
    "authorities.show": expect(404, 404, 404, 200, 200),
    "authorities.edit": expect(LOGIN, 404, 404, 200, 200),
    "authorities.members": expect(LOGIN, 404, 404, 200, 200),
    # The API lists verified authorities only, whoever asks.
    "api.get_authority": NOBODY,
}

# Routes that need a query string to mean anything.
QUERY = {
    "authorities.subdivisions": "?country=PE",
    "brokerage.theme_suggestions": "?text=gesti%C3%B3n+del+agua&language=es",
}

# What each POST in the CSRF test carries besides the (missing) token: forms that would change
# something if the request got through, so that "nothing changed" means something.
CHANGING_FORMS = {
    "auth.login": {"email": "{admin_email}", "password": PASSWORD},
    "auth.forgot_password": {"email": "{admin_email}"},
    "auth.update_account": {"name": "Someone Else", "language": "es"},
    "auth.logout": {},
    "main.choose_language": {"language": "es"},
    "authorities.edit": {
        "name": "Renamed without a token",
        "kind": "region",
        "country_code": "PE",
        "subdivision_code": "PE-TAC",
        "description_language": "es",
        "languages": "es",
        "match_capacity": "3",
    },
    "authorities.reject": {"reason": "No token, no decision."},
    "developers.create_token": {"name": "Made without a CSRF token"},
    "admin.set_role": {"role": "coordinator"},
    "admin.edit_programme": {
        "code": "NO-TOKEN",
        "name_en": "x",
        "name_es": "x",
        "name_pt": "x",
        "position": "9",
    },
}

ANY_PART = re.compile(r"<any\(([^)]*)\):(\w+)>")


@dataclass
class World:
    authority_a: Authority
    authority_b: Authority
    authority_c: Authority
    users: dict[str, User | None]
    bystander: User
    programme: Programme
    objective: Objective
    theme: Theme
    border_area: BorderArea
    clients: dict[str, FlaskClient] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)

    def new_join_request(self) -> JoinRequest:
        """A pending request to join A from a new person: a POST may answer it only once."""
        join_request = request_to_join(make_user(), self.authority_a.id, "Let me in")
        db.session.commit()
        return join_request

    def new_item(self, kind: str, state: str) -> Submission:
        """A practice or an idea of A's in `state`: a POST may change it only once."""
        return make_submission(
            self.users["member_a"], kind=kind, state=state, reviewer=self.users["coordinator"]
        )

    def new_attachment(self) -> Attachment:
        """A file attached to a draft of A (not public)."""
        draft = self.new_item("practice", "draft")
        attachment = add_attachment(
            self.users["member_a"], draft, io.BytesIO(pdf_bytes()), "informe.pdf"
        )
        db.session.commit()
        return attachment

    def new_partner(self) -> Authority:
        """An EU authority that A can be matched with."""
        return make_authority(name=f"Partner {next(_partners)}", country="ES", subdivision="ES-V")

    def _free_capacity(self) -> None:
        """Close A's open matches, so that A always has room for the next one."""
        db.session.execute(
            update(Match)
            .where(Match.status.in_(OPEN_STATUSES))
            .values(status=MatchStatus.CLOSED, closed_at=utcnow())
        )
        db.session.commit()

    def new_proposal(self) -> Proposal:
        self._free_capacity()
        return make_proposal(self.authority_a, self.new_partner())

    def new_match(self) -> Match:
        self._free_capacity()
        partner = self.new_partner()
        make_member(partner)
        return make_match(self.authority_a, partner, coordinator=self.users["coordinator"])

    def new_api_token(self) -> ApiToken:
        """A personal API token of member_a's."""
        token, _secret = create_token(self.users["member_a"], "Script")
        db.session.commit()
        return token

    def new_notification(self) -> Notification:
        notification = queue_notification(self.users["member_a"], "auth.confirm_email")
        db.session.commit()
        return notification

    def new_interest(self) -> Interest:
        """B's interest in a published practice of A's."""
        practice = self.new_item("practice", "published")
        interest = express_interest(self.users["member_b"], practice, "Nos interesa mucho.")
        db.session.commit()
        return interest


def _first(model):
    row = db.session.scalar(select(model).order_by(model.id))
    assert row is not None, f"the reference data has no {model.__name__}"
    return row


@pytest.fixture
def world(app, reference) -> World:
    authority_a = make_authority(name="Gobierno Regional de Tacna")
    authority_b = make_authority(name="Gobierno Regional de Arica", country="CL", subdivision=None)
    authority_c = make_authority(name="Municipalidad pendiente", verified=False)
    users = {
        "anonymous": None,
        "member_a": make_member(authority_a),
        "member_b": make_member(authority_b),
        "coordinator": make_coordinator(),
        "admin": make_admin(),
    }
    world = World(
        authority_a=authority_a,
        authority_b=authority_b,
        authority_c=authority_c,
        users=users,
        bystander=make_user(),
        programme=_first(Programme),
        objective=_first(Objective),
        theme=_first(Theme),
        border_area=_first(BorderArea),
    )
    for role, user in users.items():
        client = app.test_client()
        if user is not None:
            log_in(client, user)
        world.clients[role] = client
        world.tokens[role] = csrf_token(client)
    return world


# Building the requests -------------------------------------------------------------------------


def _argument(name: str, world: World, authority: Authority, endpoint: str, draft: bool):
    match name:
        case "submission_id":
            kind, state = ITEMS[endpoint]
            return world.new_item(kind, "draft" if draft else state).id
        case "attachment_id":
            return world.new_attachment().id
        case "interest_id":
            return world.new_interest().id
        case "proposal_id":
            return world.new_proposal().id
        case "match_id":
            return world.new_match().id
        case "notification_id":
            return world.new_notification().id
        case "index":
            return 0
        case "authority_id":
            return authority.id
        case "join_request_id":
            return world.new_join_request().id
        case "api_token_id":
            return world.new_api_token().id
        case "user_id":
            return world.bystander.id
        case "programme_id":
            return world.programme.id
        case "programme_code":
            return world.programme.code
        case "objective_id":
            return world.objective.id
        case "theme_id":
            return world.theme.id
        case "border_area_id":
            return world.border_area.id
        case "token":
            return INVALID_TOKEN
    raise AssertionError(f"no value for the URL part <{name}>: add one to _argument")


def _paths(rule, world: World, authority: Authority, draft: bool = False):
    """The rule's paths with real ids filled in, one per option of each `<any(...)>` part, and
    the options chosen."""
    options = {
        name: sorted(o.strip() for o in items.split(","))
        for items, name in ANY_PART.findall(rule.rule)
    }
    names = sorted(rule.arguments - set(rule.defaults or {}) - set(options))
    for combination in product(*options.values()):
        values = dict(zip(options, combination, strict=True))
        # Filled per path: a join request a POST has answered cannot be answered again.
        values.update(
            {name: _argument(name, world, authority, rule.endpoint, draft) for name in names}
        )
        _, path = rule.build(values, append_unknown=False)
        yield path + QUERY.get(rule.endpoint, ""), values


def _rules(app):
    return [rule for rule in app.url_map.iter_rules() if rule.endpoint != "static"]


def _method(rule) -> str:
    return "GET" if "GET" in rule.methods else "POST"


def _describe(response) -> str:
    if response.status_code in (301, 302, 303, 307, 308):
        return f"{response.status_code} → {response.location}"
    return str(response.status_code)


def _matches(expected, response) -> bool:
    is_login = response.status_code == 302 and (response.location or "").startswith("/login?")
    if expected == LOGIN:
        return is_login
    if expected == 302:
        return response.status_code == 302 and not is_login
    return response.status_code == expected


def _run(
    world: World, rules, table: dict, authority: Authority, draft: bool = False
) -> tuple[list[str], int]:
    """Make every request of `table` as every role; the mismatches and the number of checks."""
    mismatches = []
    checks = 0
    # Logging out ends the session the later requests need: it goes last.
    for rule in sorted(rules, key=lambda r: (r.endpoint == "auth.logout", r.endpoint, r.rule)):
        if rule.endpoint not in table:
            continue
        method = _method(rule)
        for role in ROLES:
            client = world.clients[role]
            for path, values in _paths(rule, world, authority, draft):
                expected = table[rule.endpoint][role]
                if isinstance(expected, dict):  # depends on the <any(...)> option in the URL
                    (option,) = ANY_PART.findall(rule.rule)
                    expected = expected[values[option[1]]]
                if method == "GET":
                    response = client.get(path)
                else:
                    response = client.post(path, data={"csrf_token": world.tokens[role]})
                checks += 1
                response.close()  # a download holds its file open until then
                if not _matches(expected, response):
                    mismatches.append(
                        f"{rule.endpoint} {role} ({method} {path}): "
                        f"expected {expected} got {_describe(response)}"
                    )
    return mismatches, checks


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


# The table and the URL map agree ---------------------------------------------------------------


def test_every_route_has_an_expected_answer(app):
    endpoints = {rule.endpoint for rule in _rules(app)}
    # The caught-mail pages exist on development machines only.
    assert "mailbox" not in app.blueprints
    assert not {e for e in endpoints if e.startswith("mailbox.")}
    assert not {e for e in EXPECTED if e.startswith("mailbox.")}

    missing = sorted(endpoints - EXPECTED.keys())
    assert not missing, f"routes without an entry in EXPECTED: {missing}"
    gone = sorted(EXPECTED.keys() - endpoints)
    assert not gone, f"EXPECTED names endpoints that no longer exist: {gone}"

    # Not vacuous: the features we know of are all in the map and in the table.
    for prefix in ("main.", "auth.", "authorities.", "admin."):
        assert any(e.startswith(prefix) for e in endpoints), prefix
    assert len(EXPECTED) >= 35  # the endpoints of the app when this test was written
    for endpoint, row in EXPECTED.items():
        assert tuple(row) == ROLES, endpoint
        assert all(value == LOGIN or isinstance(value, int | dict) for value in row.values()), (
            endpoint
        )

    # The pending-authority table covers exactly the GET pages of one authority.
    by_authority = {
        rule.endpoint
        for rule in _rules(app)
        if "authority_id" in rule.arguments and _method(rule) == "GET"
    }
    assert set(EXPECTED_ON_PENDING) == by_authority
    # Every route that takes an item says which item; the GET pages of an item are also tried
    # on a draft.
    by_item = {rule.endpoint for rule in _rules(app) if "submission_id" in rule.arguments}
    assert set(ITEMS) == by_item
    assert set(EXPECTED_ON_DRAFT) == {
        endpoint
        for endpoint in by_item
        if _method(app.url_map._rules_by_endpoint[endpoint][0]) == "GET"
    } - {"review.show"}
    assert set(CHANGING_FORMS) <= endpoints


def test_every_route_answers_each_role_as_expected(app, world):
    mismatches, checks = _run(world, _rules(app), EXPECTED, world.authority_a)
    assert not mismatches, "\n".join(["", *mismatches])
    # Every rule (and every option of an <any(...)> part) was tried by every role.
    assert checks >= len(EXPECTED) * len(ROLES)


def test_another_authoritys_draft_does_not_exist_for_outsiders(app, world):
    mismatches, checks = _run(world, _rules(app), EXPECTED_ON_DRAFT, world.authority_a, draft=True)
    assert not mismatches, "\n".join(["", *mismatches])
    assert checks == len(EXPECTED_ON_DRAFT) * len(ROLES)


def test_a_pending_authority_is_known_only_to_coordinators(app, world):
    mismatches, checks = _run(world, _rules(app), EXPECTED_ON_PENDING, world.authority_c)
    assert not mismatches, "\n".join(["", *mismatches])
    assert checks == len(EXPECTED_ON_PENDING) * len(ROLES)
    db.session.expire_all()
    assert db.session.get(Authority, world.authority_c.id).status == AuthorityStatus.PENDING


# Changing an id in the URL gets nobody into another authority ----------------------------------


def _profile_form(token: str, **changes) -> dict:
    return {**CHANGING_FORMS["authorities.edit"], "csrf_token": token, **changes}


def test_a_member_cannot_read_or_change_another_authority(world):
    a = world.authority_a
    outsider = world.clients["member_b"]
    token = world.tokens["member_b"]

    assert outsider.get(f"/authorities/{a.id}/edit").status_code == 403
    assert outsider.get(f"/authorities/{a.id}/members").status_code == 403

    response = outsider.post(
        f"/authorities/{a.id}/edit",
        data=_profile_form(token, name="Taken over", description="Not theirs"),
    )
    assert response.status_code == 403
    db.session.expire_all()
    unchanged = db.session.get(Authority, a.id)
    assert unchanged.name == "Gobierno Regional de Tacna"
    assert unchanged.description == ""

    join_request = world.new_join_request()
    for decision in ("approve", "reject"):
        response = outsider.post(
            f"/authorities/join-requests/{join_request.id}/{decision}",
            data={"csrf_token": token},
        )
        assert response.status_code == 403, decision
    db.session.expire_all()
    still = db.session.get(JoinRequest, join_request.id)
    assert still.status == JoinRequestStatus.PENDING
    assert db.session.get(User, still.user_id).authority_id is None

    assert outsider.get(f"/authorities/{world.authority_c.id}").status_code == 404
    assert world.authority_c.name not in outsider.get("/authorities/").get_data(as_text=True)

    # The same requests by A's own member go through: the refusals above are about who asks.
    insider = world.clients["member_a"]
    response = insider.post(
        f"/authorities/{a.id}/edit",
        data=_profile_form(world.tokens["member_a"], description="Agua y desierto"),
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    response = insider.post(
        f"/authorities/join-requests/{join_request.id}/approve",
        data={"csrf_token": world.tokens["member_a"]},
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Authority, a.id).description == "Agua y desierto"
    assert db.session.get(JoinRequest, join_request.id).status == JoinRequestStatus.APPROVED


def test_a_suspended_member_is_treated_as_anonymous(app, world):
    c = world.authority_c
    member = make_member(c)
    client = app.test_client()
    log_in(client, member)
    # Signed in, C's member sees C and may edit it.
    assert client.get(f"/authorities/{c.id}").status_code == 200
    assert client.get(f"/authorities/{c.id}/edit").status_code == 200

    admin = world.clients["admin"]
    response = admin.post(
        f"/admin/users/{member.id}/suspend", data={"csrf_token": world.tokens["admin"]}
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert not db.session.get(User, member.id).active

    assert client.get(f"/authorities/{c.id}").status_code == 404
    for path in ("/account", f"/authorities/{c.id}/edit", f"/authorities/{c.id}/members"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response.location.startswith("/login?"), path
    response = client.post(
        "/login",
        data={
            "email": member.email,
            "password": PASSWORD,
            "csrf_token": csrf_token(client, "/login"),
        },
    )
    assert response.status_code == 422


# CSRF ------------------------------------------------------------------------------------------


def test_every_post_without_a_csrf_token_is_refused_and_changes_nothing(app, world):
    admin_user = world.users["admin"]
    admin = world.clients["admin"]
    posts = [rule for rule in _rules(app) if "POST" in rule.methods]
    # Authority C (pending) and pending join requests to A: a POST that got through would
    # verify, reject, edit or answer them. (Built first: making a join request writes rows.)
    requests = [
        (rule, path) for rule in posts for path, _ in _paths(rule, world, world.authority_c)
    ]
    activity, notifications = _count(ActivityEntry), _count(Notification)

    refused = []
    for rule, path in requests:
        form = {
            key: value.format(admin_email=admin_user.email)
            for key, value in CHANGING_FORMS.get(rule.endpoint, {}).items()
        }
        response = admin.post(path, data=form)
        if response.status_code != 400:
            refused.append(f"{rule.endpoint} (POST {path}): got {_describe(response)}")
    assert not refused, "\n".join(["POSTs without a CSRF token that were not refused:", *refused])

    # Not vacuous: every feature's forms were tried, the GET+POST pages included.
    endpoints = {rule.endpoint for rule in posts}
    assert {
        "auth.logout",
        "authorities.edit",
        "authorities.verify",
        "admin.set_active",
    } <= endpoints
    assert len(posts) >= 20

    db.session.expire_all()
    assert _count(ActivityEntry) == activity
    assert _count(Notification) == notifications
    assert db.session.get(Authority, world.authority_c.id).status == AuthorityStatus.PENDING
    assert db.session.get(Authority, world.authority_c.id).name == "Municipalidad pendiente"
    join_requests = db.session.scalars(select(JoinRequest)).all()
    assert len(join_requests) == 2  # one for "approve", one for "reject"
    assert all(jr.status == JoinRequestStatus.PENDING for jr in join_requests)
    assert db.session.get(User, world.bystander.id).active
    assert db.session.get(User, world.bystander.id).role == "member"
    assert db.session.get(User, admin_user.id).language == "en"
    assert db.session.scalar(select(Programme).where(Programme.code == "NO-TOKEN")) is None
    # Still signed in: the logout without a token did not happen.
    assert admin.get("/admin/users").status_code == 200

    # With the token, the same requests do change the rows these counts watch.
    token = world.tokens["admin"]
    response = admin.post(f"/authorities/{world.authority_c.id}/verify", data={"csrf_token": token})
    assert response.status_code == 302
    response = admin.post("/password/forgot", data={"email": admin_user.email, "csrf_token": token})
    assert response.status_code == 302
    db.session.expire_all()
    assert _count(ActivityEntry) > activity
    assert _count(Notification) > notifications
