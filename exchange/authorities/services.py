"""Authority actions: profiles, joining, verification. Each takes the acting person, checks the
model's predicate, changes the rows, logs, queues notifications and flushes."""

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from exchange.activity.services import record_activity
from exchange.auth.models import Role, User
from exchange.authorities.models import (
    MAX_MATCH_CAPACITY,
    Authority,
    AuthorityKind,
    AuthorityStatus,
    JoinRequest,
    JoinRequestStatus,
)
from exchange.database import utcnow
from exchange.errors import ActionError, NotAllowed
from exchange.extensions import db
from exchange.matching.services import note_change
from exchange.notifications.services import queue_notification
from exchange.reference.countries import is_subdivision_of, side_of
from exchange.reference.models import BorderArea, Programme, Theme


def _check_place(country_code: str, subdivision_code: str | None) -> None:
    if side_of(country_code) is None:
        raise ActionError(
            _l("Choose a member state of the EU or a country of Latin America and the Caribbean."),
            field="country_code",
        )
    if subdivision_code and not is_subdivision_of(subdivision_code, country_code):
        raise ActionError(_l("Choose a region of the country you chose."), field="subdivision_code")


def create_authority(
    actor: User,
    *,
    name: str,
    kind: str,
    country_code: str,
    subdivision_code: str | None = None,
    website: str | None = None,
    languages: list[str] | None = None,
    status: AuthorityStatus = AuthorityStatus.PENDING,
) -> Authority:
    """A new authority, pending verification by a coordinator."""
    _check_place(country_code, subdivision_code)
    authority = Authority(
        name=name.strip(),
        kind=AuthorityKind(kind),
        country_code=country_code,
        subdivision_code=subdivision_code or None,
        side=side_of(country_code),
        website=website or None,
        languages=languages or [],
        status=status,
        verified_at=utcnow() if status == AuthorityStatus.VERIFIED else None,
    )
    db.session.add(authority)
    db.session.flush()
    record_activity(actor, authority, "authority.create", to_state=authority.status)
    return authority


@dataclass(frozen=True)
class ProfileChanges:
    name: str
    kind: str
    country_code: str
    subdivision_code: str | None
    website: str | None
    description: str
    description_language: str | None
    languages: list[str]
    programme_ids: list[int]
    theme_ids: list[int]
    border_area_ids: list[int]
    match_capacity: int


def _load_all(model, ids: list[int], field: str) -> list:
    ids = sorted(set(ids))
    rows = db.session.scalars(select(model).where(model.id.in_(ids))).all() if ids else []
    if len(rows) != len(ids):
        raise ActionError(_l("Choose from the list."), field=field)
    return list(rows)


def update_profile(actor: User, authority: Authority, changes: ProfileChanges) -> None:
    """Save the profile; the side follows the country."""
    if not authority.can_edit(actor):
        raise NotAllowed(_l("You cannot edit this authority."))
    _check_place(changes.country_code, changes.subdivision_code)
    if not 0 <= changes.match_capacity <= MAX_MATCH_CAPACITY:
        raise ActionError(
            _l("Choose a number from 0 to %(max)d.", max=MAX_MATCH_CAPACITY), field="match_capacity"
        )
    authority.name = changes.name.strip()
    authority.kind = AuthorityKind(changes.kind)
    authority.country_code = changes.country_code
    authority.subdivision_code = changes.subdivision_code or None
    authority.side = side_of(changes.country_code)
    authority.website = changes.website or None
    authority.description = changes.description.strip()
    authority.description_language = changes.description_language or None
    authority.languages = sorted(set(changes.languages))
    authority.programmes = _load_all(Programme, changes.programme_ids, "programmes")
    authority.themes = _load_all(Theme, changes.theme_ids, "themes")
    authority.border_areas = _load_all(BorderArea, changes.border_area_ids, "border_areas")
    authority.match_capacity = changes.match_capacity
    record_activity(actor, authority, "authority.update_profile")
    note_change(authority.id)
    if authority.status == AuthorityStatus.REJECTED and authority.is_member(actor):
        # A corrected profile goes back to the coordinators.
        authority.status = AuthorityStatus.PENDING
        record_activity(
            actor,
            authority,
            "authority.resubmit",
            from_state=AuthorityStatus.REJECTED,
            to_state=AuthorityStatus.PENDING,
        )
    db.session.flush()


def _notify_members(authority: Authority, kind: str, **payload) -> None:
    for member in authority.members:
        if member.active:
            queue_notification(member, kind, authority_id=authority.id, **payload)


def verify_authority(actor: User, authority: Authority) -> None:
    """A coordinator confirms the authority is what it says; its members may then submit."""
    if not authority.can_verify(actor):
        raise NotAllowed(_l("This authority cannot be verified now."))
    previous = authority.status
    authority.status = AuthorityStatus.VERIFIED
    authority.status_reason = None
    authority.verified_at = utcnow()
    authority.verified_by_id = actor.id
    record_activity(
        actor, authority, "authority.verify", from_state=previous, to_state=authority.status
    )
    _notify_members(authority, "authorities.verified")
    note_change(authority.id)
    db.session.flush()


def reject_authority(actor: User, authority: Authority, reason: str) -> None:
    """A coordinator refuses the registration, saying why; the members are told."""
    if not authority.can_reject(actor):
        raise NotAllowed(_l("This authority cannot be rejected now."))
    reason = reason.strip()
    if not reason:
        raise ActionError(_l("Say why, so that the authority can put it right."), field="reason")
    previous = authority.status
    authority.status = AuthorityStatus.REJECTED
    authority.status_reason = reason
    record_activity(
        actor,
        authority,
        "authority.reject",
        from_state=previous,
        to_state=authority.status,
        comment=reason,
    )
    _notify_members(authority, "authorities.rejected", reason=reason)
    db.session.flush()


def verification_queue() -> list[Authority]:
    """Authorities waiting for verification, oldest first."""
    return list(
        db.session.scalars(
            select(Authority)
            .where(Authority.status == AuthorityStatus.PENDING)
            .order_by(Authority.created_at, Authority.id)
        )
    )


# Joining ---------------------------------------------------------------------------------------


def joinable_authorities() -> list[Authority]:
    """Verified authorities: those waiting for verification are not shown to visitors."""
    return list(
        db.session.scalars(
            select(Authority)
            .where(Authority.status == AuthorityStatus.VERIFIED)
            .order_by(Authority.country_code, Authority.name)
        )
    )


def request_to_join(user: User, authority_id: int, message: str = "") -> JoinRequest:
    """Ask to work for an existing authority; its members (or a coordinator) answer."""
    authority = db.session.get(Authority, authority_id)
    if authority is None or not authority.is_verified:
        raise ActionError(_l("Choose an authority from the list."), field="join_authority")
    if user.authority_id is not None:
        raise ActionError(_l("You already work for an authority on the platform."))
    pending = db.session.scalar(
        select(JoinRequest).where(
            JoinRequest.user_id == user.id, JoinRequest.status == JoinRequestStatus.PENDING
        )
    )
    if pending is not None:
        raise ActionError(_l("You already asked to join an authority; wait for the answer."))
    join_request = JoinRequest(user=user, authority=authority, message=message.strip())
    db.session.add(join_request)
    db.session.flush()
    record_activity(user, join_request, "join_request.create", to_state=join_request.status)
    if user.email_confirmed:
        announce_pending_join_request(user)
    return join_request


def pending_join_request(user: User) -> JoinRequest | None:
    return db.session.scalar(
        select(JoinRequest).where(
            JoinRequest.user_id == user.id, JoinRequest.status == JoinRequestStatus.PENDING
        )
    )


def _join_request_deciders(authority: Authority, requester: User) -> list[User]:
    members = [
        m for m in authority.members if m.active and m.email_confirmed and m.id != requester.id
    ]
    if members:
        return members
    # Nobody at the authority can answer yet: the coordinators do.
    return list(
        db.session.scalars(
            select(User).where(
                User.role.in_([Role.COORDINATOR, Role.ADMIN]),
                User.active.is_(True),
                User.email_confirmed_at.is_not(None),
            )
        )
    )


def announce_pending_join_request(user: User) -> None:
    """Tell the people who can answer about the user's pending request (once the address is
    confirmed, so that nobody is disturbed by a request from an address nobody owns)."""
    join_request = pending_join_request(user)
    if join_request is None:
        return
    for decider in _join_request_deciders(join_request.authority, user):
        queue_notification(decider, "authorities.join_request", join_request_id=join_request.id)


def join_requests_for(authority: Authority) -> list[JoinRequest]:
    return list(
        db.session.scalars(
            select(JoinRequest)
            .where(
                JoinRequest.authority_id == authority.id,
                JoinRequest.status == JoinRequestStatus.PENDING,
            )
            .order_by(JoinRequest.created_at)
        )
    )


def decide_join_request(
    actor: User, join_request: JoinRequest, approve: bool, reason: str = ""
) -> None:
    """Approve (the person becomes a member) or decline (with an optional reason)."""
    if not join_request.can_decide(actor):
        raise NotAllowed(_l("You cannot answer this request."))
    requester = join_request.user
    if approve and requester.authority_id is not None:
        raise ActionError(_l("This person already works for an authority on the platform."))
    previous = join_request.status
    join_request.status = JoinRequestStatus.APPROVED if approve else JoinRequestStatus.REJECTED
    join_request.reason = reason.strip() or None
    join_request.decided_by_id = actor.id
    join_request.decided_at = utcnow()
    if approve:
        requester.authority_id = join_request.authority_id
    record_activity(
        actor,
        join_request,
        "join_request.approve" if approve else "join_request.reject",
        from_state=previous,
        to_state=join_request.status,
        comment=join_request.reason,
    )
    queue_notification(
        requester,
        "authorities.join_approved" if approve else "authorities.join_rejected",
        join_request_id=join_request.id,
    )
    db.session.flush()
