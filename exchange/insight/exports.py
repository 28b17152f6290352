"""Exports for coordinators: practices, ideas, authorities, matches with their stages, and the
activity log, as CSV and XLSX, with the dashboard's filters (and a few of each dataset's own).

Nothing is held whole in memory, so that 100,000 rows export as easily as 100:
- the rows are read in batches of BATCH_SIZE (`yield_per`: a server-side cursor on
  PostgreSQL), and what a batch needs besides (themes, objectives, stages…) is looked up for
  that batch only;
- a CSV is written batch by batch into the response as it is read (`csv_chunks`);
- an XLSX is written row by row by XlsxWriter in constant-memory mode into a temporary file,
  which is then sent (`write_xlsx`).

Text that a spreadsheet would take for a formula (starting with = + - @, a tab or a carriage
return) is prefixed with an apostrophe in the CSV; the XLSX stores every text as text.
Column headers, states and labels are in the reader's language; codes stay codes.
"""

import csv
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import xlsxwriter
from flask import url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, func, select
from sqlalchemy.orm import aliased

from exchange.activity.models import ActivityEntry, action_label
from exchange.auth.models import User
from exchange.authorities.models import (
    KIND_LABELS as AUTHORITY_KIND_LABELS,
)
from exchange.authorities.models import (
    SIDE_LABELS,
    Authority,
    AuthorityStatus,
    authority_border_area,
    authority_programme,
    authority_theme,
)
from exchange.errors import NotAllowed
from exchange.extensions import db
from exchange.insight.services import (
    InsightFilters,
    in_period,
    item_conditions,
    pair_conditions,
    takes_part,
)
from exchange.matching.models import (
    MATCH_STATUS_LABELS,
    STAGE_LABELS,
    Answer,
    Match,
    MatchStatus,
    Stage,
    StageReport,
)
from exchange.reference.countries import Side, country_name
from exchange.reference.models import BorderArea, Objective, Programme, Theme
from exchange.submissions.models import (
    BUDGET_LABELS,
    BudgetRange,
    Revision,
    Submission,
    revision_objective,
    revision_theme,
)
from exchange.workflow import STATE_LABELS, Kind, State

BATCH_SIZE = 1000
# The CSV is sent in pieces of about this many characters (a few hundred rows).
CHUNK_SIZE = 64 * 1024
FORMATS = ("csv", "xlsx")
# Cells that a spreadsheet reads as a formula (OWASP's list).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
LIST_SEPARATOR = "; "
AUTHORITY_STATUS_LABELS = {
    AuthorityStatus.PENDING: _l("Waiting for verification"),
    AuthorityStatus.VERIFIED: _l("Verified"),
    AuthorityStatus.REJECTED: _l("Not accepted"),
}


@dataclass(frozen=True)
class ExportColumn:
    label: Any  # lazily translated
    type: str = "text"  # text, number, date, datetime, percent
    width: int = 14  # in characters, for the XLSX


@dataclass(frozen=True)
class Dataset:
    name: str
    title: Any
    columns: tuple[ExportColumn, ...]
    rows: Callable[[InsightFilters, dict], Iterator[list]]
    note: Any = None  # which filters apply, when not all of them


# Writing -----------------------------------------------------------------------------------------


def neutralise(text: str) -> str:
    """A text that no spreadsheet will run as a formula."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _csv_value(value) -> Any:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int | float):
        return value
    return neutralise(str(value))


class _Echo:
    """A file for the csv writer that hands back each row it writes, rather than keep it."""

    def write(self, text: str) -> str:
        return text


def csv_chunks(columns: Iterable, rows: Iterable[list], size: int = CHUNK_SIZE) -> Iterator[str]:
    """A CSV (UTF-8 with a byte-order mark, so that spreadsheets read the accents) in pieces of
    about `size` characters: the header, then the rows as they come."""
    writer = csv.writer(_Echo())
    waiting = ["\ufeff", writer.writerow([neutralise(str(column.label)) for column in columns])]
    length = 0
    for row in rows:
        line = writer.writerow([_csv_value(value) for value in row])
        waiting.append(line)
        length += len(line)
        if length >= size:
            yield "".join(waiting)
            waiting, length = [], 0
    yield "".join(waiting)


def _sheet_name(title: str) -> str:
    for character in "[]:*?/\\":
        title = title.replace(character, " ")
    return title[:31] or "Export"


def write_xlsx(title: str, columns: tuple[ExportColumn, ...], rows: Iterable[list], target) -> int:
    """Write the rows into an XLSX workbook at `target` (a path or a binary file), one row at a
    time (constant memory); returns the number of rows."""
    workbook = xlsxwriter.Workbook(
        target,
        {
            "constant_memory": True,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
            "remove_timezone": True,
        },
    )
    formats = {
        "header": workbook.add_format({"bold": True, "bg_color": "#E9ECEF", "bottom": 1}),
        "datetime": workbook.add_format({"num_format": "yyyy-mm-dd hh:mm"}),
        "date": workbook.add_format({"num_format": "yyyy-mm-dd"}),
        "percent": workbook.add_format({"num_format": "0.0%"}),
    }
    sheet = workbook.add_worksheet(_sheet_name(title))
    for index, column in enumerate(columns):
        sheet.set_column(index, index, column.width)
        sheet.write_string(0, index, str(column.label), formats["header"])
    sheet.freeze_panes(1, 0)
    count = 0
    for count, row in enumerate(rows, start=1):
        for index, value in enumerate(row):
            if value is None or value == "":
                continue
            kind = columns[index].type
            if kind == "datetime" and isinstance(value, datetime):
                sheet.write_datetime(count, index, value.astimezone(UTC), formats["datetime"])
            elif kind == "date" and isinstance(value, date):
                sheet.write_datetime(count, index, value, formats["date"])
            elif kind in ("number", "percent") and isinstance(value, int | float):
                sheet.write_number(count, index, value, formats.get(kind))
            else:
                sheet.write_string(count, index, str(value))
    sheet.autofilter(0, 0, max(count, 1), max(len(columns) - 1, 0))
    workbook.close()
    return count


class TemporaryDownload:
    """A temporary file sent in blocks, then closed, which deletes it: the server closes the
    response once sent; a response dropped unsent closes it when it is collected."""

    def __init__(self, file, block: int = CHUNK_SIZE):
        self.file = file
        self.block = block

    def __iter__(self) -> Iterator[bytes]:
        while block := self.file.read(self.block):
            yield block

    def close(self) -> None:
        self.file.close()

    def __del__(self):
        self.file.close()


# Reading in batches ------------------------------------------------------------------------------


def batches(statement: Select) -> Iterator[list]:
    """The statement's rows, BATCH_SIZE at a time, from a server-side cursor where the database
    has them (PostgreSQL)."""
    result = db.session.execute(statement.execution_options(yield_per=BATCH_SIZE))
    yield from result.partitions()


def _pairs(statement: Select) -> dict[int, list]:
    """{id: [values]} from rows of (id, value), in the statement's order."""
    found: dict[int, list] = {}
    for key, value in db.session.execute(statement):
        found.setdefault(key, []).append(value)
    return found


def _joined(values) -> str:
    return LIST_SEPARATOR.join(str(v) for v in values or ())


class _Names:
    """Country names and translated labels, looked up once each."""

    def __init__(self):
        self.countries: dict[str, str] = {}

    def country(self, code: str | None) -> str:
        if not code:
            return ""
        if code not in self.countries:
            self.countries[code] = country_name(code)
        return self.countries[code]


def _labels(mapping) -> dict:
    """An enum's labels, translated once for the whole export."""
    return {getattr(key, "value", key): str(label) for key, label in mapping.items()}


def _page_address(endpoint: str, name: str) -> Callable[[int], str]:
    """The absolute address of each row's page, without a url_for per row."""
    marker = 987654321
    pattern = url_for(endpoint, **{name: marker}, _external=True)
    before, _, after = pattern.partition(str(marker))
    return lambda value: f"{before}{value}{after}"


def _theme_labels() -> dict[int, str]:
    return {theme.id: theme.label for theme in db.session.scalars(select(Theme))}


# Practices and ideas -----------------------------------------------------------------------------

ITEM_COLUMNS = (
    ExportColumn(_l("ID"), "number", 8),
    ExportColumn(_l("Title"), width=50),
    ExportColumn(_l("Summary"), width=60),
    ExportColumn(_l("State"), width=18),
    ExportColumn(_l("Language"), width=9),
    ExportColumn(_l("Authority"), width=40),
    ExportColumn(_l("Country"), width=18),
    ExportColumn(_l("Country code"), width=8),
    ExportColumn(_l("Side"), width=28),
    ExportColumn(_l("Themes"), width=40),
    ExportColumn(_l("Objectives"), width=24),
    ExportColumn(_l("Created"), "datetime", 17),
    ExportColumn(_l("Submitted"), "datetime", 17),
    ExportColumn(_l("First published"), "datetime", 17),
    ExportColumn(_l("Published"), "datetime", 17),
)
IDEA_COLUMNS = (
    ExportColumn(_l("Border area"), width=12),
    ExportColumn(_l("Cluster or value chain"), width=30),
    ExportColumn(_l("Budget"), width=24),
    ExportColumn(_l("Open until"), "date", 12),
)
ADDRESS_COLUMN = ExportColumn(_l("Address"), width=40)


def _item_rows(kind: Kind, filters: InsightFilters, extra: dict) -> Iterator[list]:
    """Every practice (or idea) of the filters, in any state, with its latest text (the one
    being written or reviewed, or the published one)."""
    text = aliased(Revision)
    columns = [
        Submission.id,
        text.title,
        text.summary,
        Submission.state,
        text.language,
        Authority.name,
        Authority.country_code,
        Authority.side,
        Submission.working_revision_id,
        Submission.created_at,
        Submission.submitted_at,
        Submission.first_published_at,
        Submission.published_at,
    ]
    if kind == Kind.IDEA:
        columns += [BorderArea.code, text.value_chain, text.budget_range, text.open_until]
    statement = (
        select(*columns)
        .join(Authority, Authority.id == Submission.authority_id)
        .outerjoin(text, text.id == Submission.working_revision_id)
        .where(Submission.kind == kind, *item_conditions(filters, Submission.created_at))
        .order_by(Submission.id)
    )
    if kind == Kind.IDEA:
        statement = statement.outerjoin(BorderArea, BorderArea.id == text.border_area_id)
    if extra.get("state"):
        statement = statement.where(Submission.state == State(extra["state"]))
    if extra.get("country"):
        statement = statement.where(Authority.country_code == extra["country"])
    themes = _theme_labels()
    objectives = dict(db.session.execute(select(Objective.id, Objective.code)).all())
    states, sides = _labels(STATE_LABELS), _labels(SIDE_LABELS)
    budgets = _labels(BUDGET_LABELS)
    names = _Names()
    address = _page_address(
        "practices.show" if kind == Kind.PRACTICE else "ideas.show", "submission_id"
    )
    for batch in batches(statement):
        revisions = [row.working_revision_id for row in batch if row.working_revision_id]
        theme_ids = _pairs(
            select(revision_theme.c.revision_id, revision_theme.c.theme_id)
            .where(revision_theme.c.revision_id.in_(revisions))
            .order_by(revision_theme.c.revision_id, revision_theme.c.theme_id)
        )
        objective_ids = _pairs(
            select(revision_objective.c.revision_id, revision_objective.c.objective_id)
            .where(revision_objective.c.revision_id.in_(revisions))
            .order_by(revision_objective.c.revision_id, revision_objective.c.objective_id)
        )
        for row in batch:
            values = [
                row.id,
                row.title,
                row.summary,
                states[State(row.state)],
                row.language,
                row.name,
                names.country(row.country_code),
                row.country_code,
                sides[Side(row.side)],
                _joined(themes[i] for i in theme_ids.get(row.working_revision_id, ())),
                _joined(objectives[i] for i in objective_ids.get(row.working_revision_id, ())),
                row.created_at,
                row.submitted_at,
                row.first_published_at,
                row.published_at,
            ]
            if kind == Kind.IDEA:
                budget = row.budget_range
                values += [
                    row.code,
                    row.value_chain,
                    budgets[BudgetRange(budget)] if budget else None,
                    row.open_until,
                ]
            values.append(address(row.id))
            yield values


# Authorities -------------------------------------------------------------------------------------

AUTHORITY_COLUMNS = (
    ExportColumn(_l("ID"), "number", 8),
    ExportColumn(_l("Name"), width=40),
    ExportColumn(_l("Kind"), width=22),
    ExportColumn(_l("Country"), width=18),
    ExportColumn(_l("Country code"), width=8),
    ExportColumn(_l("Subdivision code"), width=10),
    ExportColumn(_l("Side"), width=28),
    ExportColumn(_l("Status"), width=20),
    ExportColumn(_l("Languages"), width=10),
    ExportColumn(_l("Programmes"), width=20),
    ExportColumn(_l("Themes"), width=40),
    ExportColumn(_l("Border areas"), width=14),
    ExportColumn(_l("Match capacity"), "number", 8),
    ExportColumn(_l("Members"), "number", 8),
    ExportColumn(_l("Registered"), "datetime", 17),
    ExportColumn(_l("Verified"), "datetime", 17),
    ExportColumn(_l("Website"), width=30),
    ExportColumn(_l("Address"), width=40),
)


def _authority_rows(filters: InsightFilters, extra: dict) -> Iterator[list]:
    """Every authority of the filters (registered in the period), whatever its status."""
    statement = (
        select(
            Authority.id,
            Authority.name,
            Authority.kind,
            Authority.country_code,
            Authority.subdivision_code,
            Authority.side,
            Authority.status,
            Authority.languages,
            Authority.match_capacity,
            Authority.created_at,
            Authority.verified_at,
            Authority.website,
        )
        .where(*in_period(Authority.created_at, filters))
        .order_by(Authority.id)
    )
    if filters.side is not None:
        statement = statement.where(Authority.side == filters.side)
    if filters.programme_id is not None:
        statement = statement.where(takes_part(Authority.id, filters.programme_id))
    if extra.get("status"):
        statement = statement.where(Authority.status == AuthorityStatus(extra["status"]))
    if extra.get("country"):
        statement = statement.where(Authority.country_code == extra["country"])
    themes = _theme_labels()
    kinds, sides = _labels(AUTHORITY_KIND_LABELS), _labels(SIDE_LABELS)
    statuses = _labels(AUTHORITY_STATUS_LABELS)
    names = _Names()
    address = _page_address("authorities.show", "authority_id")
    for batch in batches(statement):
        ids = [row.id for row in batch]
        programmes = _pairs(
            select(authority_programme.c.authority_id, Programme.code)
            .join(Programme, Programme.id == authority_programme.c.programme_id)
            .where(authority_programme.c.authority_id.in_(ids))
            .order_by(authority_programme.c.authority_id, Programme.position, Programme.id)
        )
        theme_ids = _pairs(
            select(authority_theme.c.authority_id, authority_theme.c.theme_id)
            .where(authority_theme.c.authority_id.in_(ids))
            .order_by(authority_theme.c.authority_id, authority_theme.c.theme_id)
        )
        areas = _pairs(
            select(authority_border_area.c.authority_id, BorderArea.code)
            .join(BorderArea, BorderArea.id == authority_border_area.c.border_area_id)
            .where(authority_border_area.c.authority_id.in_(ids))
            .order_by(authority_border_area.c.authority_id, BorderArea.position)
        )
        members = dict(
            db.session.execute(
                select(User.authority_id, func.count())
                .where(User.authority_id.in_(ids))
                .group_by(User.authority_id)
            ).all()
        )
        for row in batch:
            yield [
                row.id,
                row.name,
                kinds[row.kind],
                names.country(row.country_code),
                row.country_code,
                row.subdivision_code,
                sides[Side(row.side)],
                statuses[AuthorityStatus(row.status)],
                _joined(row.languages),
                _joined(programmes.get(row.id)),
                _joined(themes[i] for i in theme_ids.get(row.id, ())),
                _joined(areas.get(row.id)),
                row.match_capacity,
                members.get(row.id, 0),
                row.created_at,
                row.verified_at,
                row.website,
                address(row.id),
            ]


# Matches with their stages -----------------------------------------------------------------------

# The stages partners report after the introduction, each with the day it was first reported.
REPORTED_STAGES = (Stage.CONTACTED, Stage.MET, Stage.AGREEMENT, Stage.JOINT_PROJECT)
MATCH_COLUMNS = (
    ExportColumn(_l("ID"), "number", 8),
    ExportColumn(_l("First authority"), width=36),
    ExportColumn(_l("First country"), width=8),
    ExportColumn(_l("First side"), width=6),
    ExportColumn(_l("Second authority"), width=36),
    ExportColumn(_l("Second country"), width=8),
    ExportColumn(_l("Second side"), width=6),
    ExportColumn(_l("Status"), width=20),
    ExportColumn(_l("First authority's answer"), width=10),
    ExportColumn(_l("Second authority's answer"), width=10),
    ExportColumn(_l("Score"), "number", 8),
    ExportColumn(_l("Stage reached"), width=18),
    ExportColumn(_l("About the item"), width=40),
    ExportColumn(_l("Offered"), "datetime", 17),
    ExportColumn(_l("Introduced"), "datetime", 17),
    *(
        ExportColumn(_l("%(stage)s (first reported)", stage=STAGE_LABELS[stage]), "datetime", 17)
        for stage in REPORTED_STAGES
    ),
    ExportColumn(_l("Closed"), "datetime", 17),
    ExportColumn(_l("Expires"), "datetime", 17),
    ExportColumn(_l("Reason for declining"), width=40),
    ExportColumn(_l("Address"), width=40),
)


def _match_rows(filters: InsightFilters, extra: dict) -> Iterator[list]:
    """Every match of the filters (offered in the period), with the day each stage was first
    reported."""
    first, second = aliased(Authority), aliased(Authority)
    published, working = aliased(Revision), aliased(Revision)
    statement = (
        select(
            Match.id,
            first.name.label("first_name"),
            first.country_code.label("first_country"),
            first.side.label("first_side"),
            second.name.label("second_name"),
            second.country_code.label("second_country"),
            second.side.label("second_side"),
            Match.status,
            Match.answer_a,
            Match.answer_b,
            Match.score,
            Match.stage,
            func.coalesce(published.title, working.title).label("item_title"),
            Match.created_at,
            Match.connected_at,
            Match.closed_at,
            Match.expires_at,
            Match.decline_reason,
        )
        .join(first, first.id == Match.authority_a_id)
        .join(second, second.id == Match.authority_b_id)
        .outerjoin(Submission, Submission.id == Match.submission_id)
        .outerjoin(published, published.id == Submission.published_revision_id)
        .outerjoin(working, working.id == Submission.working_revision_id)
        .where(
            *in_period(Match.created_at, filters),
            *pair_conditions(Match.authority_a_id, Match.authority_b_id, filters),
        )
        .order_by(Match.id)
    )
    if extra.get("status"):
        statement = statement.where(Match.status == MatchStatus(extra["status"]))
    statuses, stages = _labels(MATCH_STATUS_LABELS), _labels(STAGE_LABELS)
    answers = _labels(
        {
            Answer.PENDING: _l("Not yet"),
            Answer.ACCEPTED: _l("Accepted"),
            Answer.DECLINED: _l("Declined"),
        }
    )
    address = _page_address("matches.show", "match_id")
    for batch in batches(statement):
        reported = {
            (match_id, Stage(stage)): moment
            for match_id, stage, moment in db.session.execute(
                select(StageReport.match_id, StageReport.stage, func.min(StageReport.created_at))
                .where(StageReport.match_id.in_([row.id for row in batch]))
                .group_by(StageReport.match_id, StageReport.stage)
            )
        }
        for row in batch:
            yield [
                row.id,
                row.first_name,
                row.first_country,
                Side(row.first_side).value,
                row.second_name,
                row.second_country,
                Side(row.second_side).value,
                statuses[MatchStatus(row.status)],
                answers[Answer(row.answer_a)],
                answers[Answer(row.answer_b)],
                round(row.score, 4) if row.score is not None else None,
                stages[Stage(row.stage)] if row.stage else None,
                row.item_title,
                row.created_at,
                row.connected_at,
                *(_utc(reported.get((row.id, stage))) for stage in REPORTED_STAGES),
                row.closed_at,
                row.expires_at,
                row.decline_reason,
                address(row.id),
            ]


def _utc(moment: datetime | None) -> datetime | None:
    """min() over a timestamp comes back without its zone from SQLite."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


# The activity log --------------------------------------------------------------------------------

ACTIVITY_COLUMNS = (
    ExportColumn(_l("ID"), "number", 8),
    ExportColumn(_l("When"), "datetime", 17),
    ExportColumn(_l("Who"), width=28),
    ExportColumn(_l("E-mail address"), width=30),
    ExportColumn(_l("Action"), width=28),
    ExportColumn(_l("What"), width=40),
    ExportColumn(_l("About"), width=14),
    ExportColumn(_l("About (ID)"), "number", 8),
    ExportColumn(_l("From"), width=16),
    ExportColumn(_l("To"), width=16),
    ExportColumn(_l("Comment"), width=50),
)


def _activity_rows(filters: InsightFilters, extra: dict) -> Iterator[list]:
    """The activity log of the period, oldest first (`subject`: one kind of subject;
    `action`: one action, or every action of a subject when it has no dot)."""
    statement = (
        select(
            ActivityEntry.id,
            ActivityEntry.created_at,
            User.name,
            User.email,
            ActivityEntry.action,
            ActivityEntry.subject_type,
            ActivityEntry.subject_id,
            ActivityEntry.from_state,
            ActivityEntry.to_state,
            ActivityEntry.comment,
        )
        .outerjoin(User, User.id == ActivityEntry.actor_id)
        .where(*in_period(ActivityEntry.created_at, filters))
        .order_by(ActivityEntry.id)
    )
    if extra.get("subject"):
        statement = statement.where(ActivityEntry.subject_type == extra["subject"])
    action = extra.get("action")
    if action and "." in action:
        statement = statement.where(ActivityEntry.action == action)
    elif action:
        statement = statement.where(ActivityEntry.action.startswith(f"{action}.", autoescape=True))
    labels: dict[str, str] = {}
    for batch in batches(statement):
        for row in batch:
            if row.action not in labels:
                labels[row.action] = action_label(row.action)
            yield [
                row.id,
                row.created_at,
                row.name,
                row.email,
                row.action,
                labels[row.action],
                row.subject_type,
                row.subject_id,
                row.from_state,
                row.to_state,
                row.comment,
            ]


# The datasets ------------------------------------------------------------------------------------

DATASETS: dict[str, Dataset] = {
    dataset.name: dataset
    for dataset in (
        Dataset(
            "practices",
            _l("Good practices"),
            (*ITEM_COLUMNS, ADDRESS_COLUMN),
            lambda filters, extra: _item_rows(Kind.PRACTICE, filters, extra),
        ),
        Dataset(
            "ideas",
            _l("Project ideas"),
            (*ITEM_COLUMNS, *IDEA_COLUMNS, ADDRESS_COLUMN),
            lambda filters, extra: _item_rows(Kind.IDEA, filters, extra),
        ),
        Dataset("authorities", _l("Authorities"), AUTHORITY_COLUMNS, _authority_rows),
        Dataset("matches", _l("Matches"), MATCH_COLUMNS, _match_rows),
        Dataset(
            "activity",
            _l("Activity log"),
            ACTIVITY_COLUMNS,
            _activity_rows,
            note=_l("The activity log is filtered by the period only."),
        ),
    )
}


def export_rows(actor, name: str, filters: InsightFilters, extra: dict | None = None):
    """The dataset and its rows (a generator: nothing is read until it is iterated), for a
    coordinator only."""
    if not (actor and actor.is_authenticated and actor.is_coordinator):
        raise NotAllowed(_l("Only coordinators export the platform's data."))
    dataset = DATASETS[name]
    return dataset, dataset.rows(filters, extra or {})


def file_name(name: str, extension: str, today: date) -> str:
    return f"exchange-{name}-{today.isoformat()}.{extension}"
