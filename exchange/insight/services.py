"""The figures of the coordinators' dashboard: one function per chart, each returning plain rows
(named tuples of codes, labels and numbers) that the chart, its table and its CSV all show.

Every function takes the same `InsightFilters` and applies all three of its filters:
- the programme: what serves one of its objectives (an item), or takes part in it (an
  authority, as the brokerage counts it: declared, or through its public items' objectives);
- the side (EU or LAC) of the authority concerned (a pair of authorities: either of the two;
  an e-mail: the recipient's authority);
- the period, which selects what *started* in it: items created, items that entered the review
  queue, authorities verified, practices first published, pairs that entered the brokerage,
  e-mails written. A day is a UTC day; both ends are included.

Labels are translated when the function runs, in the reader's language. Nothing here changes
anything; the views check that the reader is a coordinator.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import NamedTuple

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, Select, exists, func, literal_column, or_, select

from exchange.auth.models import User
from exchange.authorities.models import Authority, AuthorityStatus
from exchange.database import utcnow
from exchange.extensions import db
from exchange.matching.console_services import days_since, takes_part
from exchange.matching.models import STAGE_LABELS, Match, Proposal, Stage
from exchange.matching.services import Funnel
from exchange.notifications.forms import STATUS_LABELS
from exchange.notifications.models import Notification, NotificationStatus
from exchange.notifications.preferences import kind_label
from exchange.reference.countries import Side, country_name, sort_key
from exchange.reference.models import Objective, Programme, Theme
from exchange.review.services import AGE_GROUPS
from exchange.submissions.models import Submission, revision_objective, revision_theme
from exchange.workflow import AWAITING_REVIEW, Kind, State

# Practices that are no longer (or never were) public, although they have a published revision.
NOT_PUBLIC = (State.ARCHIVED, State.CLOSED, State.REJECTED)


# The filters -------------------------------------------------------------------------------------


class Period(StrEnum):
    LAST_30_DAYS = "30d"
    LAST_90_DAYS = "90d"
    LAST_12_MONTHS = "12m"
    THIS_YEAR = "year"
    LAST_YEAR = "last-year"
    ALL = "all"
    CUSTOM = "custom"  # the from and to dates as given


PERIOD_LABELS = {
    Period.LAST_30_DAYS: _l("Last 30 days"),
    Period.LAST_90_DAYS: _l("Last 90 days"),
    Period.LAST_12_MONTHS: _l("Last 12 months"),
    Period.THIS_YEAR: _l("This year"),
    Period.LAST_YEAR: _l("Last year"),
    Period.ALL: _l("All time"),
    Period.CUSTOM: _l("From and to the dates below"),
}
DEFAULT_PERIOD = Period.LAST_12_MONTHS


def period_bounds(period: Period, today: date) -> tuple[date | None, date | None]:
    """The first and last day of a preset period (None: no limit on that side). The last 12
    months start on the first day of a month, so that each month of the chart is whole."""
    match period:
        case Period.LAST_30_DAYS:
            return today - timedelta(days=29), today
        case Period.LAST_90_DAYS:
            return today - timedelta(days=89), today
        case Period.LAST_12_MONTHS:
            month = today.year * 12 + today.month - 1 - 11
            return date(month // 12, month % 12 + 1, 1), today
        case Period.THIS_YEAR:
            return date(today.year, 1, 1), today
        case Period.LAST_YEAR:
            return date(today.year - 1, 1, 1), date(today.year - 1, 12, 31)
    return None, None


@dataclass(frozen=True)
class InsightFilters:
    """What every chart (and export) is narrowed to; None filters nothing."""

    programme_id: int | None = None
    side: Side | None = None
    date_from: date | None = None  # the first day included (UTC)
    date_to: date | None = None  # the last day included (UTC)

    @property
    def start(self) -> datetime | None:
        if self.date_from is None:
            return None
        return datetime.combine(self.date_from, time.min, tzinfo=UTC)

    @property
    def end(self) -> datetime | None:
        """The first moment after the period."""
        if self.date_to is None:
            return None
        return datetime.combine(self.date_to + timedelta(days=1), time.min, tzinfo=UTC)


def in_period(column, filters: InsightFilters) -> list[ColumnElement[bool]]:
    conditions = []
    if filters.start is not None:
        conditions.append(column >= filters.start)
    if filters.end is not None:
        conditions.append(column < filters.end)
    return conditions


def on_side(authority_id_column, filters: InsightFilters) -> list[ColumnElement[bool]]:
    if filters.side is None:
        return []
    return [authority_id_column.in_(select(Authority.id).where(Authority.side == filters.side))]


def serves_programme(revision_id_column, programme_id: int) -> ColumnElement[bool]:
    """The revision names an objective of the programme."""
    return (
        exists()
        .where(revision_objective.c.revision_id == revision_id_column)
        .where(revision_objective.c.objective_id == Objective.id)
        .where(Objective.programme_id == programme_id)
    )


def item_conditions(filters: InsightFilters, date_column) -> list[ColumnElement[bool]]:
    """Practices and ideas of the filters: the latest or the published text serves the
    programme, the owner is on the side, `date_column` is in the period."""
    conditions = [*in_period(date_column, filters), *on_side(Submission.authority_id, filters)]
    if filters.programme_id is not None:
        conditions.append(
            or_(
                serves_programme(Submission.working_revision_id, filters.programme_id),
                serves_programme(Submission.published_revision_id, filters.programme_id),
            )
        )
    return conditions


def pair_conditions(first_column, second_column, filters: InsightFilters) -> list:
    """A pair of authorities (a proposal or a match): either of the two takes part in the
    programme, either of the two is on the side."""
    conditions = []
    if filters.programme_id is not None:
        conditions.append(
            or_(
                takes_part(first_column, filters.programme_id),
                takes_part(second_column, filters.programme_id),
            )
        )
    if filters.side is not None:
        on_that_side = select(Authority.id).where(Authority.side == filters.side)
        conditions.append(or_(first_column.in_(on_that_side), second_column.in_(on_that_side)))
    return conditions


def _month(column):
    """The UTC month of a timestamp as "YYYY-MM". Literals, not parameters: PostgreSQL groups
    by the expression only if the GROUP BY repeats it exactly."""
    if db.session.get_bind().dialect.name == "postgresql":
        utc = func.timezone(literal_column("'UTC'"), column)
        return func.to_char(utc, literal_column("'YYYY-MM'"))
    return func.strftime(literal_column("'%Y-%m'"), column)


def _count(query: Select) -> int:
    return db.session.scalar(select(func.count()).select_from(query.subquery())) or 0


def ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


# Practices and ideas created per month, by type and state ----------------------------------------


class MonthCount(NamedTuple):
    month: str  # "2026-11"
    kind: Kind
    state: State
    count: int


def submissions_by_month(filters: InsightFilters) -> list[MonthCount]:
    """Practices and ideas created in the period, per month of creation, type and current
    state (only the combinations that have any), in month, type and workflow order."""
    month = _month(Submission.created_at)
    rows = db.session.execute(
        select(month, Submission.kind, Submission.state, func.count())
        .where(*item_conditions(filters, Submission.created_at))
        .group_by(month, Submission.kind, Submission.state)
    )
    kinds, states = list(Kind), list(State)
    found = [MonthCount(m, Kind(k), State(s), n) for m, k, s, n in rows]
    return sorted(found, key=lambda r: (r.month, kinds.index(r.kind), states.index(r.state)))


def month_range(filters: InsightFilters, rows: list[MonthCount], today: date) -> list[str]:
    """Every month of the period ("YYYY-MM"), the empty ones included: from the period's first
    month (or the first month with data) to its last (or the current month)."""
    months = sorted({row.month for row in rows})
    first = filters.date_from.strftime("%Y-%m") if filters.date_from else None
    last = (filters.date_to or today).strftime("%Y-%m")
    first = first or (months[0] if months else last)
    if months:
        last = max(last, months[-1])
    year, month = int(first[:4]), int(first[5:])
    found = []
    while f"{year:04d}-{month:02d}" <= last:
        found.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return found


# How long the review queue has been waiting ------------------------------------------------------


class AgeBucket(NamedTuple):
    label: str
    low: int | None  # at least this many days waiting (None: from zero)
    high: int | None  # fewer than this many (None: no limit)
    count: int


def queue_age(filters: InsightFilters, now: datetime | None = None) -> list[AgeBucket]:
    """Items waiting for review (submitted or in review) that entered the queue in the period,
    per group of days waiting (the review dashboard's groups)."""
    now = now or utcnow()
    waiting = select(Submission.id).where(
        Submission.state.in_(list(AWAITING_REVIEW)),
        *item_conditions(filters, Submission.submitted_at),
    )
    buckets = []
    for low, high, label in AGE_GROUPS:
        query = waiting
        if low is not None:
            query = query.where(Submission.submitted_at <= now - timedelta(days=low))
        if high is not None:
            query = query.where(Submission.submitted_at > now - timedelta(days=high))
        buckets.append(AgeBucket(str(label), low, high, _count(query)))
    return buckets


# Authorities by country and side -----------------------------------------------------------------


class CountryCount(NamedTuple):
    country_code: str  # ISO 3166-1 alpha-2
    country: str  # its name in the reader's language
    side: Side
    count: int


def authorities_by_country(filters: InsightFilters) -> list[CountryCount]:
    """Verified authorities (verified in the period) per country, most first."""
    conditions = [
        Authority.status == AuthorityStatus.VERIFIED,
        *in_period(Authority.verified_at, filters),
    ]
    if filters.side is not None:
        conditions.append(Authority.side == filters.side)
    if filters.programme_id is not None:
        conditions.append(takes_part(Authority.id, filters.programme_id))
    rows = db.session.execute(
        select(Authority.country_code, Authority.side, func.count())
        .where(*conditions)
        .group_by(Authority.country_code, Authority.side)
    )
    found = [CountryCount(code, country_name(code), Side(side), n) for code, side, n in rows]
    return sorted(found, key=lambda r: (-r.count, sort_key(r.country)))


# Practices by theme and by objective -------------------------------------------------------------


def _public_practices(filters: InsightFilters) -> Select:
    """The ids and published revisions of the public good practices first published in the
    period, of the filters' side; the programme is left to the caller."""
    return select(Submission.id, Submission.published_revision_id).where(
        Submission.kind == Kind.PRACTICE,
        Submission.published_revision_id.is_not(None),
        Submission.state.not_in(NOT_PUBLIC),
        *in_period(Submission.first_published_at, filters),
        *on_side(Submission.authority_id, filters),
    )


class ThemeCount(NamedTuple):
    code: str
    label: str
    count: int


def practices_by_theme(filters: InsightFilters) -> list[ThemeCount]:
    """Public good practices per theme of their published text (a practice counts once in each
    of its themes), every theme listed, most practices first."""
    practices = _public_practices(filters)
    if filters.programme_id is not None:
        practices = practices.where(
            serves_programme(Submission.published_revision_id, filters.programme_id)
        )
    practices = practices.subquery()
    counts = dict(
        db.session.execute(
            select(revision_theme.c.theme_id, func.count())
            .join(practices, practices.c.published_revision_id == revision_theme.c.revision_id)
            .group_by(revision_theme.c.theme_id)
        ).all()
    )
    themes = db.session.scalars(select(Theme).order_by(Theme.position, Theme.id)).all()
    found = [ThemeCount(t.code, t.label, counts.get(t.id, 0)) for t in themes]
    return sorted(found, key=lambda r: (-r.count, sort_key(r.label)))


class ObjectiveCount(NamedTuple):
    programme: str  # the programme's code
    code: str
    text: str
    count: int


def practices_by_objective(filters: InsightFilters) -> list[ObjectiveCount]:
    """Public good practices per programme objective of their published text, every objective
    (of the filters' programme, or of all) listed in the programmes' order."""
    practices = _public_practices(filters).subquery()
    counts = dict(
        db.session.execute(
            select(revision_objective.c.objective_id, func.count())
            .join(practices, practices.c.published_revision_id == revision_objective.c.revision_id)
            .group_by(revision_objective.c.objective_id)
        ).all()
    )
    query = (
        select(Objective, Programme.code)
        .join(Programme, Programme.id == Objective.programme_id)
        .order_by(Programme.position, Programme.id, Objective.position, Objective.id)
    )
    if filters.programme_id is not None:
        query = query.where(Objective.programme_id == filters.programme_id)
    return [
        ObjectiveCount(programme, objective.code, objective.text, counts.get(objective.id, 0))
        for objective, programme in db.session.execute(query)
    ]


# The match funnel --------------------------------------------------------------------------------


class FunnelStep(NamedTuple):
    key: str
    label: str
    count: int
    from_previous: float | None  # the share of the previous step that reached this one
    from_start: float | None  # the share of the first step


FUNNEL_STEPS = (
    ("proposed", _l("Proposed")),
    ("approved", _l("Approved")),
    ("connected", _l("Connected")),
    ("met", STAGE_LABELS[Stage.MET]),
    ("agreement", STAGE_LABELS[Stage.AGREEMENT]),
    ("joint_project", STAGE_LABELS[Stage.JOINT_PROJECT]),
)


def match_funnel(filters: InsightFilters) -> list[FunnelStep]:
    """Pairs that entered the brokerage in the period, and how far they went: proposed (by the
    engine, whatever became of the proposal, or matched by hand), approved (a match was
    offered), connected (both sides accepted), then the stages the partners report (a pair
    counts in every stage up to the furthest it reached, as on the pipeline page). Each step
    is a part of the one before, so the conversion rates are at most 100 %.

    A pair enters when the engine proposed it, or when a coordinator matched it by hand."""
    proposals = select(Proposal.id).where(
        *in_period(Proposal.computed_at, filters),
        *pair_conditions(Proposal.authority_a_id, Proposal.authority_b_id, filters),
    )
    # A match keeps its proposal; one matched by hand (or whose proposal is gone) has none.
    entered = func.coalesce(Proposal.computed_at, Match.created_at)
    matches = (
        select(Match.stage, func.count())
        .outerjoin(Proposal, Proposal.id == Match.proposal_id)
        .where(
            *in_period(entered, filters),
            *pair_conditions(Match.authority_a_id, Match.authority_b_id, filters),
        )
        .group_by(Match.stage)
    )
    by_stage = dict(db.session.execute(matches).tuples().all())
    approved = sum(by_stage.values())
    by_hand = _count(
        select(Match.id)
        .outerjoin(Proposal, Proposal.id == Match.proposal_id)
        .where(
            Proposal.id.is_(None),
            *in_period(Match.created_at, filters),
            *pair_conditions(Match.authority_a_id, Match.authority_b_id, filters),
        )
    )
    stages = Funnel({Stage(s): n for s, n in by_stage.items() if s is not None})
    counts = {
        "proposed": _count(proposals) + by_hand,
        "approved": approved,
        "connected": stages.reached(Stage.INTRODUCED),
        "met": stages.reached(Stage.MET),
        "agreement": stages.reached(Stage.AGREEMENT),
        "joint_project": stages.reached(Stage.JOINT_PROJECT),
    }
    steps, previous, start = [], None, counts["proposed"]
    for key, label in FUNNEL_STEPS:
        count = counts[key]
        steps.append(
            FunnelStep(
                key,
                str(label),
                count,
                ratio(count, previous) if previous is not None else None,
                ratio(count, start),
            )
        )
        previous = count
    return steps


# E-mail delivery ---------------------------------------------------------------------------------

# The statuses in the order the chart stacks them.
DELIVERY_STATUSES = (
    NotificationStatus.SENT,
    NotificationStatus.FAILED,
    NotificationStatus.PENDING,
    NotificationStatus.SENDING,
    NotificationStatus.SKIPPED,
)
WAITING = (NotificationStatus.PENDING, NotificationStatus.SENDING)


class DeliveryRow(NamedTuple):
    kind: str  # the notification kind ("" for all of them together)
    label: str
    sent: int
    failed: int
    pending: int
    sending: int
    skipped: int
    total: int
    failure_rate: float | None  # failed / (sent + failed): of the e-mails whose fate is known
    oldest_waiting: datetime | None  # the oldest one still pending or being sent
    oldest_waiting_days: int | None

    def by_status(self, status: NotificationStatus) -> int:
        return getattr(self, status.value)


def _delivery_row(kind: str, label: str, counts: dict, oldest: datetime | None, now) -> DeliveryRow:
    sent, failed = counts.get(NotificationStatus.SENT, 0), counts.get(NotificationStatus.FAILED, 0)
    return DeliveryRow(
        kind=kind,
        label=label,
        sent=sent,
        failed=failed,
        pending=counts.get(NotificationStatus.PENDING, 0),
        sending=counts.get(NotificationStatus.SENDING, 0),
        skipped=counts.get(NotificationStatus.SKIPPED, 0),
        total=sum(counts.values()),
        failure_rate=ratio(failed, sent + failed),
        oldest_waiting=oldest,
        oldest_waiting_days=days_since(oldest, now),
    )


def email_delivery(filters: InsightFilters, now: datetime | None = None) -> list[DeliveryRow]:
    """Notifications written in the period, per kind: how many in each status, the failure
    rate, and the oldest still waiting to be sent; most messages first. The recipient's
    authority gives the side and the programme (people of no authority drop out then)."""
    now = now or utcnow()
    conditions = [*in_period(Notification.created_at, filters)]
    if filters.side is not None or filters.programme_id is not None:
        people = select(User.id).join(Authority, Authority.id == User.authority_id)
        if filters.side is not None:
            people = people.where(Authority.side == filters.side)
        if filters.programme_id is not None:
            people = people.where(takes_part(Authority.id, filters.programme_id))
        conditions.append(Notification.user_id.in_(people))
    rows = db.session.execute(
        select(
            Notification.kind,
            Notification.status,
            func.count(),
            func.min(Notification.created_at),
        )
        .where(*conditions)
        .group_by(Notification.kind, Notification.status)
    )
    counts: dict[str, dict] = {}
    oldest: dict[str, datetime] = {}
    for kind, status, number, first in rows:
        status = NotificationStatus(status)
        counts.setdefault(kind, {})[status] = number
        if status in WAITING and first is not None:
            first = first if first.tzinfo else first.replace(tzinfo=UTC)
            oldest[kind] = min(first, oldest.get(kind, first))
    found = [
        _delivery_row(kind, kind_label(kind), counts[kind], oldest.get(kind), now)
        for kind in counts
    ]
    return sorted(found, key=lambda r: (-r.total, sort_key(r.label)))


def delivery_totals(rows: list[DeliveryRow], now: datetime | None = None) -> DeliveryRow:
    """Every kind together: the overall failure rate and the oldest message waiting."""
    counts = {status: sum(row.by_status(status) for row in rows) for status in DELIVERY_STATUSES}
    waiting = [row.oldest_waiting for row in rows if row.oldest_waiting is not None]
    return _delivery_row(
        "", str(_l("All kinds")), counts, min(waiting) if waiting else None, now or utcnow()
    )


def status_label(status: NotificationStatus) -> str:
    return str(STATUS_LABELS[status])
