"""Checking every record before anything is written, and turning the records into a plan.

Every problem of every row is reported (not only the first), each with its record type, row and
field. Codes are checked against the reference data, countries and subdivisions against ISO 3166
(pycountry), references to authorities against the file's keys and the platform's authorities.
What is already on the platform is found here too, so that the plan reuses it instead of making
a second copy: an authority with the same name and country, an account with the same address at
the same authority, a practice or idea with the same title at the same authority.
"""

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any, NamedTuple

import pycountry
from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select

from exchange.auth.models import User
from exchange.authorities.models import MAX_MATCH_CAPACITY, Authority, AuthorityKind
from exchange.extensions import db
from exchange.importer.reading import Problem, Record
from exchange.reference.countries import Side, side_of
from exchange.reference.languages import WORKING_LANGUAGES
from exchange.reference.models import BorderArea, Objective, Programme, Theme
from exchange.submissions.models import BudgetRange, Revision, Submission
from exchange.submissions.services import LANGUAGES, REQUIRED_TO_SUBMIT, Content
from exchange.workflow import Kind

STATES = ("draft", "published")
AUTHORITY_STATUSES = ("verified", "pending")
AUTHORITY_KINDS = tuple(kind.value for kind in AuthorityKind)
BUDGET_RANGES = tuple(budget.value for budget in BudgetRange)
SIDES = tuple(side.value for side in Side)
# Lengths of the columns the values go to.
NAME_LENGTH = 200
TITLE_LENGTH = 200
WEBSITE_LENGTH = 500
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# The fields that publishing needs, as the file names them.
FILE_FIELD = {"theme_ids": "themes", "border_area_id": "border_area"}


class ExistingAuthority(NamedTuple):
    id: int
    name: str
    country_code: str
    verified: bool


@dataclass
class AuthorityPlan:
    record: Record
    key: str | None
    name: str
    kind: str
    country: str
    subdivision: str | None
    website: str | None
    languages: list[str]
    description: str
    description_language: str | None
    programme_ids: list[int]
    theme_ids: list[int]
    border_area_ids: list[int]
    match_capacity: int
    verified: bool
    # The same authority (name and country) is already on the platform: it is reused as it is.
    existing: ExistingAuthority | None = None


@dataclass(frozen=True)
class AuthorityRef:
    """The authority a member, practice or idea belongs to: one of the file, or one already on
    the platform."""

    plan: AuthorityPlan | None = None
    existing: ExistingAuthority | None = None

    @property
    def existing_id(self) -> int | None:
        found = self.existing or (self.plan.existing if self.plan else None)
        return found.id if found else None

    @property
    def verified(self) -> bool:
        found = self.existing or (self.plan.existing if self.plan else None)
        return found.verified if found else bool(self.plan and self.plan.verified)

    @property
    def name(self) -> str:
        return self.existing.name if self.existing else self.plan.name


@dataclass
class MemberPlan:
    record: Record
    email: str
    name: str
    language: str
    authority: AuthorityRef
    # An account with this address already works for this authority: it is reused.
    existing_id: int | None = None


@dataclass
class ItemPlan:
    record: Record
    kind: Kind
    authority: AuthorityRef
    publish: bool
    content: Content
    # The authority already has a practice (or idea) with this title: it is left as it is.
    existing_id: int | None = None


@dataclass
class ImportPlan:
    authorities: list[AuthorityPlan] = field(default_factory=list)
    members: list[MemberPlan] = field(default_factory=list)
    practices: list[ItemPlan] = field(default_factory=list)
    ideas: list[ItemPlan] = field(default_factory=list)

    @property
    def size(self) -> int:
        return len(self.authorities) + len(self.members) + len(self.practices) + len(self.ideas)

    def counts(self) -> dict[str, int]:
        return {
            "authorities": len(self.authorities),
            "members": len(self.members),
            "practices": len(self.practices),
            "ideas": len(self.ideas),
        }


def fold_name(name: str) -> str:
    """Names compare without regard to case or repeated blanks."""
    return " ".join(name.split()).casefold()


class _Row:
    """Reading the values of one record, noting each problem with the record's place."""

    def __init__(self, record: Record, problems: list[Problem]):
        self.record = record
        self.problems = problems
        self.fields_with_problems: set[str | None] = set()

    def problem(self, field_name: str | None, message: str) -> None:
        self.fields_with_problems.add(field_name)
        self.problems.append(
            Problem(self.record.source, message, self.record.type, self.record.row, field_name)
        )

    def raw(self, name: str) -> Any:
        value = self.record.values.get(name)
        return None if value == "" else value

    def text(self, name: str, *, required: bool = False, max_length: int | None = None) -> str:
        value = self.raw(name)
        if value is None:
            value = ""
        elif isinstance(value, int | float) and not isinstance(value, bool):
            value = str(value)
        elif not isinstance(value, str):
            self.problem(name, "must be text")
            return ""
        value = value.strip()
        if required and not value:
            self.problem(name, "required, but missing")
        if max_length is not None and len(value) > max_length:
            self.problem(name, f"too long: {len(value)} characters, at most {max_length}")
        return value

    def items(self, name: str) -> list[str]:
        """A multi-valued field: a JSON list of texts, or texts separated by ";"."""
        value = self.raw(name)
        if value is None:
            return []
        if isinstance(value, str):
            parts = value.split(";")
        elif isinstance(value, list) and all(isinstance(part, str) for part in value):
            parts = value
        else:
            self.problem(name, 'must be a list of texts, or texts separated by ";"')
            return []
        return list(dict.fromkeys(part.strip() for part in parts if part.strip()))

    def codes(self, name: str, known: dict[str, int], what: str) -> list[int]:
        ids = []
        for code in self.items(name):
            found = known.get(code.casefold())
            if found is None:
                self.problem(name, f"unknown {what} code {code!r}")
            else:
                ids.append(found)
        return list(dict.fromkeys(ids))

    def choice(self, name: str, allowed, *, default: str | None = None, required=False):
        value = self.text(name)
        if not value:
            if required:
                self.problem(name, f"required, but missing; use one of: {', '.join(allowed)}")
            return default
        for option in allowed:
            if option.casefold() == value.casefold():
                return option
        self.problem(name, f"{value!r} is not one of: {', '.join(allowed)}")
        return default

    def choices(self, name: str, allowed) -> list[str]:
        chosen = []
        for value in self.items(name):
            match = next((o for o in allowed if o.casefold() == value.casefold()), None)
            if match is None:
                self.problem(name, f"{value!r} is not one of: {', '.join(allowed)}")
            else:
                chosen.append(match)
        return list(dict.fromkeys(chosen))

    def date(self, name: str) -> date | None:
        value = self.raw(name)
        if value is None:
            return None
        if isinstance(value, str) and ISO_DATE.fullmatch(value.strip()):
            try:
                return date.fromisoformat(value.strip())
            except ValueError:
                pass
        self.problem(name, f"{value!r} is not a date; write it as YYYY-MM-DD")
        return None

    def integer(self, name: str, low: int, high: int, default: int) -> int:
        value = self.raw(name)
        if value is None:
            return default
        if isinstance(value, str) and value.strip().isdigit():
            value = int(value.strip())
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            self.problem(name, f"{value!r} is not a whole number from {low} to {high}")
            return default
        return value


class _Checker:
    def __init__(self, problems: list[Problem]):
        self.problems = problems
        self.themes = self._codes(Theme)
        self.objectives = self._codes(Objective)
        self.programmes = self._codes(Programme)
        self.border_areas = self._codes(BorderArea)
        self.platform_authorities: dict[str, list[ExistingAuthority]] = defaultdict(list)
        for row in db.session.execute(
            select(Authority.id, Authority.name, Authority.country_code, Authority.status)
        ):
            self.platform_authorities[fold_name(row.name)].append(
                ExistingAuthority(row.id, row.name, row.country_code, row.status == "verified")
            )
        self.keys: dict[str, AuthorityPlan] = {}
        self.file_authorities: dict[str, list[AuthorityPlan]] = defaultdict(list)
        self.places: dict[tuple[str, str], Record] = {}
        self.titles_cache: dict[int, dict[tuple[Kind, str], int]] = {}

    @staticmethod
    def _codes(model) -> dict[str, int]:
        return {
            code.casefold(): id_ for id_, code in db.session.execute(select(model.id, model.code))
        }

    # Authorities -----------------------------------------------------------------------------

    def authority(self, record: Record) -> AuthorityPlan:
        row = _Row(record, self.problems)
        key = row.text("key") or None
        if key is not None and key in self.keys:
            row.problem(
                "key", f"duplicate key {key!r}: authorities row {self.keys[key].record.row} has it"
            )
        name = row.text("name", required=True, max_length=NAME_LENGTH)
        kind = row.choice("kind", AUTHORITY_KINDS, required=True)
        country = self.country(row)
        subdivision = self.subdivision(row, country)
        plan = AuthorityPlan(
            record=record,
            key=key,
            name=" ".join(name.split()),
            kind=kind or "",
            country=country or "",
            subdivision=subdivision,
            website=self.website(row),
            languages=row.choices("languages", WORKING_LANGUAGES),
            description=row.text("description"),
            description_language=row.choice("description_language", LANGUAGES),
            programme_ids=row.codes("programmes", self.programmes, "programme"),
            theme_ids=row.codes("themes", self.themes, "theme"),
            border_area_ids=row.codes("border_areas", self.border_areas, "border area"),
            match_capacity=row.integer("match_capacity", 0, MAX_MATCH_CAPACITY, 3),
            verified=row.choice("status", AUTHORITY_STATUSES, default="verified") == "verified",
        )
        if key is not None:
            # Registered even if the row has problems, so that the rows that refer to it are not
            # reported as well.
            self.keys.setdefault(key, plan)
        if name:
            self.file_authorities[fold_name(name)].append(plan)
        if name and country:
            place = (fold_name(name), country)
            if place in self.places:
                row.problem(
                    "name",
                    f"the same authority (name and country) as authorities row "
                    f"{self.places[place].row}",
                )
            self.places.setdefault(place, record)
            plan.existing = next(
                (
                    a
                    for a in self.platform_authorities[fold_name(name)]
                    if a.country_code == country
                ),
                None,
            )
        return plan

    def country(self, row: _Row) -> str | None:
        code = row.text("country", required=True).upper()
        if not code:
            return None
        country = pycountry.countries.get(alpha_2=code) if len(code) == 2 else None
        if country is None:
            row.problem(
                "country", f"unknown country code {code!r}; use ISO 3166-1 alpha-2 (PE, ES…)"
            )
            return None
        if side_of(code) is None:
            row.problem(
                "country",
                f"{code} ({country.name}) is neither an EU member state nor a country of Latin "
                "America and the Caribbean",
            )
            return None
        return code

    def subdivision(self, row: _Row, country: str | None) -> str | None:
        code = row.text("subdivision").upper()
        if not code:
            return None
        subdivision = pycountry.subdivisions.get(code=code)
        if subdivision is None:
            row.problem(
                "subdivision", f"unknown subdivision code {code!r}; use ISO 3166-2 (PE-TAC…)"
            )
            return None
        if country and subdivision.country_code != country:
            row.problem(
                "subdivision",
                f"{code} ({subdivision.name}) is in {subdivision.country_code}, not in {country}",
            )
            return None
        return code

    def website(self, row: _Row) -> str | None:
        url = row.text("website", max_length=WEBSITE_LENGTH)
        if url and not re.fullmatch(r"https?://[^\s/.]+(\.[^\s/.]+)+(/\S*)?", url):
            row.problem("website", f"{url!r} is not a web address starting with https://")
        return url or None

    def authority_ref(self, row: _Row) -> AuthorityRef | None:
        """The authority a row refers to: a key of the file, else the name of an authority of
        the file, else the exact name of an authority on the platform."""
        given = row.text("authority", required=True)
        if not given:
            return None
        if given in self.keys:
            return AuthorityRef(plan=self.keys[given])
        in_file = self.file_authorities.get(fold_name(given), [])
        if len(in_file) == 1:
            return AuthorityRef(plan=in_file[0])
        if len(in_file) > 1:
            row.problem(
                "authority",
                f"several authorities of the file are called {given!r}; refer to one by its key",
            )
            return None
        on_platform = self.platform_authorities.get(fold_name(given), [])
        if len(on_platform) == 1:
            return AuthorityRef(existing=on_platform[0])
        if len(on_platform) > 1:
            countries = ", ".join(sorted(a.country_code for a in on_platform))
            row.problem(
                "authority",
                f"{len(on_platform)} authorities on the platform are called {given!r} "
                f"({countries}); add the one you mean to the file, with its country and a key",
            )
            return None
        row.problem(
            "authority",
            f"unknown authority {given!r}: neither a key of the file nor the name of an "
            "authority on the platform",
        )
        return None

    # Members ---------------------------------------------------------------------------------

    def members(self, records: list[Record]) -> list[MemberPlan]:
        plans, seen = [], {}
        checked = []
        for record in records:
            row = _Row(record, self.problems)
            email = self.email(row)
            if email and email in seen:
                row.problem("email", f"the same address as members row {seen[email]}")
            elif email:
                seen[email] = record.row
            checked.append((row, email))
        accounts = self._accounts([email for _, email in checked if email])
        for row, email in checked:
            name = row.text("name", required=True, max_length=NAME_LENGTH)
            language = row.choice("language", LANGUAGES)
            authority = self.authority_ref(row)
            if not (email and authority):
                continue
            if language is None:
                language = self._language_of(authority)
            existing_id = None
            if email in accounts:
                account_id, authority_id = accounts[email]
                if authority_id is not None and authority_id == authority.existing_id:
                    existing_id = account_id
                else:
                    row.problem(
                        "email",
                        "an account with this address already exists, not for this authority",
                    )
                    continue
            plans.append(MemberPlan(row.record, email, name, language, authority, existing_id))
        return plans

    @staticmethod
    def _language_of(authority: AuthorityRef) -> str:
        """A new member's language when the file gives none: the authority's first working
        language that the interface speaks, else English."""
        if authority.plan is not None and authority.plan.existing is None:
            languages = authority.plan.languages
        else:
            languages = db.session.get(Authority, authority.existing_id).languages
        return next((language for language in languages if language in LANGUAGES), "en")

    def email(self, row: _Row) -> str | None:
        value = row.text("email", required=True, max_length=254)
        if not value:
            return None
        try:
            return validate_email(value, check_deliverability=False).normalized.lower()
        except EmailNotValidError as error:
            row.problem("email", f"{value!r} is not an e-mail address ({error})")
            return None

    @staticmethod
    def _accounts(emails: list[str]) -> dict[str, tuple[int, int | None]]:
        found = {}
        for start in range(0, len(emails), 500):
            chunk = emails[start : start + 500]
            for user_id, email, authority_id in db.session.execute(
                select(User.id, User.email, User.authority_id).where(User.email.in_(chunk))
            ):
                found[email] = (user_id, authority_id)
        return found

    # Practices and ideas ---------------------------------------------------------------------

    def item(self, record: Record, kind: Kind, seen: dict) -> ItemPlan | None:
        row = _Row(record, self.problems)
        authority = self.authority_ref(row)
        state = row.choice("state", STATES, default="draft")
        language = row.choice("language", LANGUAGES, required=True)
        title = row.text("title", required=True, max_length=TITLE_LENGTH)
        values = {
            "language": language or "",
            "title": title,
            "summary": row.text("summary"),
            "theme_ids": row.codes("themes", self.themes, "theme"),
            "objective_ids": row.codes("objectives", self.objectives, "objective"),
        }
        if kind == Kind.PRACTICE:
            values.update(
                {
                    name: row.text(name)
                    for name in (
                        "problem",
                        "actions",
                        "results",
                        "resources",
                        "transferability",
                        "lessons",
                    )
                },
                period_start=row.date("period_start"),
                period_end=row.date("period_end"),
            )
            if (
                values["period_start"]
                and values["period_end"]
                and values["period_start"] > values["period_end"]
            ):
                row.problem(
                    "period_end",
                    f"the period ends ({values['period_end']}) before it starts "
                    f"({values['period_start']})",
                )
        else:
            border_areas = row.codes("border_area", self.border_areas, "border area")
            if len(border_areas) > 1:
                row.problem("border_area", "give one border area")
            values.update(
                description=row.text("description"),
                value_chain=row.text("value_chain", max_length=200),
                expected_results=row.text("expected_results"),
                border_area_id=border_areas[0] if border_areas else None,
                budget_range=row.choice("budget_range", BUDGET_RANGES),
                open_until=row.date("open_until"),
                partner_kinds=row.choices("partner_kinds", AUTHORITY_KINDS),
                partner_sides=row.choices("partner_sides", SIDES),
                partner_theme_ids=row.codes("partner_themes", self.themes, "theme"),
            )
        content = Content(**values)
        publish = state == "published"
        if publish:
            self._check_publishable(row, kind, content, authority)
        if authority is None or not title:
            return None
        owner = (
            ("platform", authority.existing_id)
            if authority.existing_id is not None
            else ("file", id(authority.plan))
        )
        identity = (owner, fold_name(title))
        if identity in seen:
            row.problem(
                "title",
                f"the same title, for the same authority, as {kind.value}s row {seen[identity]}",
            )
        seen.setdefault(identity, record.row)
        existing_id = None
        if authority.existing_id is not None:
            existing_id = self._titles(authority.existing_id).get((kind, fold_name(title)))
        return ItemPlan(record, kind, authority, publish, content, existing_id)

    def _check_publishable(self, row: _Row, kind: Kind, content: Content, authority) -> None:
        what = "practice" if kind == Kind.PRACTICE else "idea"
        if authority is not None and not authority.verified:
            row.problem(
                "state",
                f"{authority.name!r} is not verified: only drafts can be imported for it",
            )
        for name in REQUIRED_TO_SUBMIT[kind]:
            file_field = FILE_FIELD.get(name, name)
            if file_field in row.fields_with_problems or name == "title":
                continue  # already reported (the title is required for drafts too)
            if not getattr(content, name):
                row.problem(file_field, f"required for a published {what}, but missing")
        if kind == Kind.IDEA and content.open_until and content.open_until <= date.today():
            row.problem(
                "open_until",
                f"{content.open_until} has passed; a published idea needs a date in the future",
            )

    def _titles(self, authority_id: int) -> dict[tuple[Kind, str], int]:
        """The titles (of any revision) of the authority's practices and ideas."""
        if authority_id not in self.titles_cache:
            rows = db.session.execute(
                select(Submission.id, Submission.kind, Revision.title)
                .join(Revision, Revision.submission_id == Submission.id)
                .where(Submission.authority_id == authority_id)
            )
            self.titles_cache[authority_id] = {
                (kind, fold_name(title)): submission_id for submission_id, kind, title in rows
            }
        return self.titles_cache[authority_id]


def check_records(records: list[Record]) -> tuple[ImportPlan, list[Problem]]:
    """The plan of what to write, and every problem found; write only if there is none."""
    problems: list[Problem] = []
    checker = _Checker(problems)
    by_type = defaultdict(list)
    for record in records:
        by_type[record.type].append(record)
    plan = ImportPlan()
    plan.authorities = [checker.authority(record) for record in by_type["authorities"]]
    plan.members = checker.members(by_type["members"])
    for kind, name in ((Kind.PRACTICE, "practices"), (Kind.IDEA, "ideas")):
        seen: dict = {}
        items = (checker.item(record, kind, seen) for record in by_type[name])
        setattr(plan, name, [item for item in items if item is not None])
    return plan, problems
