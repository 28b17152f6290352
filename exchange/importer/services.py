"""Writing a checked import plan through the real services.

Authorities are created, given their profile and verified by the coordinator who imports, as a
coordinator would in the browser. Practices and ideas are created on behalf of their authority;
those to publish are submitted by the platform and approved by the coordinator, so that they go
through the workflow's checks, the activity log, the search index and the owners' notifications.
Members come last, so that a new person gets one e-mail (a link to choose a password), not one per
item of their authority: their account has a random password nobody knows and an unconfirmed
address, which the link confirms.

Nothing here commits: the command commits once, or rolls everything back.
"""

import secrets
from collections import Counter
from dataclasses import dataclass, field

from exchange.auth.models import User
from exchange.auth.services import create_user, request_password_reset
from exchange.authorities.models import Authority, AuthorityStatus
from exchange.authorities.services import (
    ProfileChanges,
    create_authority,
    update_profile,
    verify_authority,
)
from exchange.errors import ActionError, NotAllowed
from exchange.extensions import db
from exchange.importer.checking import AuthorityPlan, AuthorityRef, ImportPlan, ItemPlan
from exchange.importer.reading import Problem, Record
from exchange.submissions import services as submissions
from exchange.workflow import Kind


class ImportFailed(Exception):
    """A service refused a record while writing (the caller rolls back everything)."""

    def __init__(self, problem: Problem):
        super().__init__(str(problem))
        self.problem = problem


@dataclass
class ImportReport:
    created: Counter = field(default_factory=Counter)
    reused: Counter = field(default_factory=Counter)
    published: Counter = field(default_factory=Counter)
    # What was reused, one line per record, to show the person importing.
    notes: list[str] = field(default_factory=list)

    def note(self, record: Record, message: str) -> None:
        self.notes.append(f"{record.source}: {record.type} row {record.row}: {message}")


def import_plan(actor: User, plan: ImportPlan, progress=None) -> ImportReport:
    """Write the plan (checked by `check_records`, without problems) as `actor`, a coordinator.

    Flushes, never commits. Raises ImportFailed, with the record's place, if a service refuses a
    record; the caller must then roll back.
    """
    if not (actor and actor.active and actor.is_coordinator):
        raise NotAllowed("Only coordinators and admins can import.")
    report = ImportReport()
    authority_ids: dict[int, int] = {}

    def step(record: Record, write) -> None:
        try:
            write()
        except ActionError as error:
            raise ImportFailed(
                Problem(record.source, str(error.message), record.type, record.row, error.field)
            ) from error
        if progress is not None:
            progress.update(1)

    for authority_plan in plan.authorities:
        step(
            authority_plan.record,
            lambda a=authority_plan: _write_authority(actor, a, authority_ids, report),
        )
    for item in (*plan.practices, *plan.ideas):
        step(item.record, lambda i=item: _write_item(actor, i, authority_ids, report))
    for member in plan.members:
        step(member.record, lambda m=member: _write_member(m, authority_ids, report))
    return report


def _authority_id(ref: AuthorityRef, authority_ids: dict[int, int]) -> int:
    return ref.existing_id if ref.existing_id is not None else authority_ids[id(ref.plan)]


def _write_authority(
    actor: User, plan: AuthorityPlan, authority_ids: dict[int, int], report: ImportReport
) -> None:
    if plan.existing is not None:
        authority_ids[id(plan)] = plan.existing.id
        report.reused["authorities"] += 1
        report.note(
            plan.record,
            f"{plan.existing.name!r} ({plan.existing.country_code}) is already on the platform "
            f"(id {plan.existing.id}): reused as it is",
        )
        return
    authority = create_authority(
        actor,
        name=plan.name,
        kind=plan.kind,
        country_code=plan.country,
        subdivision_code=plan.subdivision,
        website=plan.website,
        languages=plan.languages,
        status=AuthorityStatus.PENDING,
    )
    update_profile(
        actor,
        authority,
        ProfileChanges(
            name=plan.name,
            kind=plan.kind,
            country_code=plan.country,
            subdivision_code=plan.subdivision,
            website=plan.website,
            description=plan.description,
            description_language=plan.description_language,
            languages=plan.languages,
            programme_ids=plan.programme_ids,
            theme_ids=plan.theme_ids,
            border_area_ids=plan.border_area_ids,
            match_capacity=plan.match_capacity,
        ),
    )
    if plan.verified:
        verify_authority(actor, authority)
    authority_ids[id(plan)] = authority.id
    report.created["authorities"] += 1


def _write_item(
    actor: User, plan: ItemPlan, authority_ids: dict[int, int], report: ImportReport
) -> None:
    what = "practices" if plan.kind == Kind.PRACTICE else "ideas"
    if plan.existing_id is not None:
        report.reused[what] += 1
        report.note(
            plan.record,
            f"{plan.content.title!r} is already on the platform for {plan.authority.name!r} "
            f"(id {plan.existing_id}): left as it is",
        )
        return
    authority = db.session.get(Authority, _authority_id(plan.authority, authority_ids))
    submission = submissions.create_submission(actor, plan.kind, plan.content, authority=authority)
    if plan.publish:
        # The platform submits (members' confirmations do not apply to what a programme brings)
        # and the coordinator approves: both steps are checked and logged like any other.
        submissions.submit(None, submission)
        submissions.publish(actor, submission)
        report.published[what] += 1
    report.created[what] += 1


def _write_member(plan, authority_ids: dict[int, int], report: ImportReport) -> None:
    if plan.existing_id is not None:
        report.reused["members"] += 1
        report.note(
            plan.record,
            f"{plan.email} already works for {plan.authority.name!r}: left as it is",
        )
        return
    authority = db.session.get(Authority, _authority_id(plan.authority, authority_ids))
    create_user(
        email=plan.email,
        name=plan.name,
        # Nobody knows it: the person chooses a password through the reset link.
        password=secrets.token_urlsafe(32),
        language=plan.language,
        authority=authority,
        confirmed=False,
    )
    request_password_reset(plan.email)
    report.created["members"] += 1
