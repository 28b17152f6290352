"""Demo data for a development machine: believable authorities from both sides, their practices
and project ideas in English, Spanish and Portuguese in every state of the workflow, co-owned
ideas, interests with and without answers, and the people who log in to try it all.

Everything is made through the real services (checks, activity log, notifications), by the
people who would do it: members write, submit, invite and answer; the demo coordinator reviews.
Running it twice adds nothing: what exists (an authority by its name, a person by their address,
an item by its authority and first title, an interest by its item and authority) is left alone.
"""

from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta

from flask import current_app
from sqlalchemy import select

from exchange.auth.models import Role, User, find_user_by_email
from exchange.auth.services import create_user
from exchange.authorities.models import Authority, AuthorityStatus
from exchange.authorities.services import ProfileChanges, create_authority, update_profile
from exchange.demo.authorities import AUTHORITIES, STAFF, STAFF_HINTS, DemoAuthority
from exchange.demo.content import INTERESTS, ITEMS, DemoInterest, DemoItem
from exchange.extensions import db
from exchange.reference.models import BorderArea, Objective, Programme, Theme
from exchange.submissions import services
from exchange.submissions.models import Interest, Revision, Submission
from exchange.workflow import Kind

__all__ = ["AUTHORITIES", "INTERESTS", "ITEMS", "STAFF", "DemoLogin", "demo_size", "seed_demo"]

# The steps that take an item from a new draft to its demo state.
PATHS = {
    "draft": (),
    "submitted": ("submit",),
    "in_review": ("submit", "start_review"),
    "changes_requested": ("submit", "start_review", "request_changes"),
    "resubmitted": ("submit", "start_review", "request_changes", "revise", "submit"),
    "published": ("submit", "start_review", "publish"),
    "revised": ("submit", "start_review", "publish", "revise", "submit"),
    "rejected": ("submit", "start_review", "reject"),
    "archived": ("submit", "publish", "archive"),
    "closed": ("submit", "publish", "close"),
}


@dataclass(frozen=True)
class DemoLogin:
    email: str
    what: str  # the role, or the authority the person works for
    try_this: str


def demo_size() -> int:
    """How many steps `seed_demo` reports to its progress bar."""
    return len(AUTHORITIES) + len(ITEMS) + len(INTERESTS)


def seed_demo(password: str, progress=None) -> list[DemoLogin]:
    """Create what is missing of the demo; returns every demo login. Flushes; the caller
    commits."""
    with _quick_password_hashing():
        return _seed_demo(password, progress)


@contextmanager
def _quick_password_hashing():
    """The demo password is printed for everyone to read: hashing it at full cost for each of
    the 25 accounts would only slow `make run` by seconds. The accounts get a cheap argon2 hash,
    which the first log-in replaces with a full one (`authenticate` rehashes)."""
    config = current_app.config
    saved = {name: config.get(name) for name in ("ARGON2_TIME_COST", "ARGON2_MEMORY_COST")}
    config.update(ARGON2_TIME_COST=1, ARGON2_MEMORY_COST=8192)
    try:
        yield
    finally:
        config.update(saved)


def _seed_demo(password: str, progress) -> list[DemoLogin]:
    logins = []
    staff = {}
    for email, name, role, language in STAFF:
        staff[role] = find_user_by_email(email) or create_user(
            email=email, name=name, password=password, language=language, role=role, confirmed=True
        )
        logins.append(DemoLogin(email, role.value, STAFF_HINTS[email]))
    admin, coordinator = staff[Role.ADMIN], staff[Role.COORDINATOR]

    members: dict[str, User] = {}
    for demo in AUTHORITIES:
        members[demo.slug] = _seed_authority(admin, demo, password)
        logins.append(DemoLogin(demo.member_email, demo.name, demo.try_this))
        _advance(progress)
    db.session.flush()

    for item in ITEMS:
        if _find_item(members[item.owner].authority_id, item) is None:
            _seed_item(item, members, coordinator)
        _advance(progress)
    for interest in INTERESTS:
        _seed_interest(interest, members)
        _advance(progress)
    db.session.flush()
    return logins


def _advance(progress) -> None:
    if progress is not None:
        progress.update(1)


def _by_codes(model, codes) -> list:
    return list(db.session.scalars(select(model).where(model.code.in_(codes))))


def _ids(model, codes) -> list[int]:
    found = {row.code: row.id for row in _by_codes(model, codes)}
    missing = set(codes) - set(found)
    if missing:  # the demo texts and the reference data disagree: a bug, say so loudly
        raise LookupError(f"demo data refers to unknown {model.__name__} codes {sorted(missing)}")
    return [found[code] for code in codes]


# Authorities and their members -------------------------------------------------------------------


def _seed_authority(admin: User, demo: DemoAuthority, password: str) -> User:
    authority = db.session.scalar(select(Authority).where(Authority.name == demo.name))
    if authority is None:
        authority = create_authority(
            admin,
            name=demo.name,
            kind=demo.kind,
            country_code=demo.country,
            subdivision_code=demo.subdivision,
            languages=[demo.language],
            status=AuthorityStatus.VERIFIED if demo.verified else AuthorityStatus.PENDING,
        )
        update_profile(
            admin,
            authority,
            ProfileChanges(
                name=demo.name,
                kind=demo.kind,
                country_code=demo.country,
                subdivision_code=demo.subdivision,
                website=None,
                description=demo.description,
                description_language=demo.language,
                languages=[demo.language],
                programme_ids=_ids(Programme, demo.programmes),
                theme_ids=_ids(Theme, demo.themes),
                border_area_ids=_ids(BorderArea, demo.border_areas),
                match_capacity=3,
            ),
        )
    member = find_user_by_email(demo.member_email)
    if member is None:
        member = create_user(
            email=demo.member_email,
            name=demo.member_name,
            password=password,
            language=demo.language,
            authority=authority,
            confirmed=True,
        )
    return member


# Practices and ideas -----------------------------------------------------------------------------


def _find_item(authority_id: int, item: DemoItem) -> Submission | None:
    return db.session.scalar(
        select(Submission)
        .join(Revision, Revision.submission_id == Submission.id)
        .where(
            Submission.authority_id == authority_id,
            Submission.kind == Kind(item.kind),
            Revision.number == 1,
            Revision.title == item.title,
        )
    )


def _content(item: DemoItem, **changes) -> services.Content:
    values = {
        "language": item.language,
        "title": item.title,
        "summary": item.summary,
        "theme_ids": _ids(Theme, item.themes),
        "objective_ids": _ids(Objective, item.objectives),
        **item.text,
    }
    if item.kind == "practice":
        if item.period:
            values["period_start"], values["period_end"] = map(date.fromisoformat, item.period)
    else:
        values.update(
            border_area_id=_ids(BorderArea, [item.border_area])[0] if item.border_area else None,
            budget_range=item.budget_range,
            open_until=date.today() + timedelta(days=item.open_for_days)
            if item.open_for_days
            else None,
            partner_kinds=list(item.partner_kinds),
            partner_sides=list(item.partner_sides),
            partner_theme_ids=_ids(Theme, item.partner_themes),
        )
    values.update(changes)
    return services.Content(**values)


def _seed_item(item: DemoItem, members: dict[str, User], coordinator: User) -> Submission:
    author = members[item.owner]
    submission = services.create_submission(author, Kind(item.kind), _content(item))
    for slug, answer in item.co_owners:
        invited = members[slug]
        co_owner = services.invite_co_owner(
            author, submission, invited.authority_id, item.invitation
        )
        if answer != "invited":
            services.answer_co_owner_invitation(invited, co_owner, accept=answer == "accepted")
    steps = {
        "submit": lambda: services.submit(author, submission),
        "start_review": lambda: services.start_review(coordinator, submission),
        "request_changes": lambda: services.request_changes(coordinator, submission, item.comment),
        "publish": lambda: services.publish(coordinator, submission),
        "reject": lambda: services.reject(coordinator, submission, item.comment),
        "revise": lambda: services.save_content(
            author, submission, _content(item, **item.revision)
        ),
        "archive": lambda: services.archive(author, submission),
        "close": lambda: services.close(author, submission),
    }
    for step in PATHS[item.state]:
        steps[step]()
    return submission


def _seed_interest(demo: DemoInterest, members: dict[str, User]) -> None:
    item = next(i for i in ITEMS if i.title == demo.item)
    owner = members[item.owner]
    submission = _find_item(owner.authority_id, item)
    interested = members[demo.by]
    exists = db.session.scalar(
        select(Interest).where(
            Interest.submission_id == submission.id,
            Interest.authority_id == interested.authority_id,
        )
    )
    if exists is not None:
        return
    interest = services.express_interest(interested, submission, demo.message)
    if demo.answer:
        services.answer_interest(owner, interest, demo.answer)
