"""Everything the API says, and everything it accepts: the one place where rows become JSON.

A public schema names each field it shows; nothing is dumped wholesale, so that a column added
to a model never reaches the API by accident. Texts of practices and ideas are those of the
published revision, never of the one being drafted. Reference data carries its three
translations. The query schemas describe the filters (and the OpenAPI document shows them).
"""

import marshmallow as ma
from flask import url_for
from marshmallow import fields, validate

from exchange.api.pagination import DEFAULT_LIMIT, MAX_LIMIT
from exchange.authorities.models import AuthorityKind
from exchange.matching.models import Answer, MatchStatus, Stage
from exchange.reference.countries import EU_MEMBER_STATES, LATIN_AMERICA_AND_CARIBBEAN, Side
from exchange.submissions.models import BudgetRange, CoOwnerStatus, Decision
from exchange.submissions.urls import item_url
from exchange.text import LANGUAGES
from exchange.workflow import Kind, State

COUNTRIES = sorted(EU_MEMBER_STATES | LATIN_AMERICA_AND_CARIBBEAN)
MAX_QUERY_LENGTH = 200
MAX_VALUES = 20  # values of one filter


def _external(endpoint: str, **values) -> str:
    return url_for(endpoint, _external=True, **values)


class Link(fields.String):
    """An absolute URL made from the object by `make(obj)`."""

    def __init__(self, make, **kwargs):
        super().__init__(dump_only=True, required=True, **kwargs)
        self.make = make

    def get_value(self, obj, attr, accessor=None, default=ma.missing):
        return self.make(obj)


class TranslationsSchema(ma.Schema):
    en = fields.String(required=True)
    es = fields.String(required=True)
    pt = fields.String(required=True)


class Translated(fields.Nested):
    """A translated column of reference data (`name_en`, `name_es`, `name_pt`), in all three
    languages (English where a translation is empty)."""

    def __init__(self, column: str, **kwargs):
        super().__init__(TranslationsSchema, dump_only=True, required=True, **kwargs)
        self.column = column

    def get_value(self, obj, attr, accessor=None, default=ma.missing):
        english = getattr(obj, f"{self.column}_en") or ""
        return {
            language: getattr(obj, f"{self.column}_{language}") or english for language in LANGUAGES
        }


def _required(field_class, *args, **kwargs):
    return field_class(*args, required=True, **kwargs)


def _nullable(field_class, *args, **kwargs):
    return field_class(*args, required=True, allow_none=True, **kwargs)


# Reference data -------------------------------------------------------------------------------


class ThemeGroupRefSchema(ma.Schema):
    code = _required(fields.String)
    label = Translated("label")


class ThemeRefSchema(ma.Schema):
    id = _required(fields.Integer)
    code = _required(fields.String)
    label = Translated("label")


class ThemeSchema(ThemeRefSchema):
    group = fields.Nested(ThemeGroupRefSchema, required=True)
    api_url = Link(lambda theme: _external("api.get_theme", theme_id=theme.id))


class ProgrammeRefSchema(ma.Schema):
    id = _required(fields.Integer)
    code = _required(fields.String)
    name = Translated("name")


class ObjectiveRefSchema(ma.Schema):
    id = _required(fields.Integer)
    code = _required(fields.String)
    text = Translated("text")


class ObjectiveSchema(ObjectiveRefSchema):
    programme = fields.Nested(ProgrammeRefSchema, required=True)
    api_url = Link(lambda objective: _external("api.get_objective", objective_id=objective.id))


class ProgrammeCodeSchema(ma.Schema):
    id = _required(fields.Integer)
    code = _required(fields.String)


class ItemObjectiveSchema(ObjectiveRefSchema):
    programme = fields.Nested(ProgrammeCodeSchema, required=True)


class ProgrammeSchema(ProgrammeRefSchema):
    description = Translated("description")
    website = _nullable(fields.String)
    objectives = fields.List(fields.Nested(ObjectiveRefSchema), required=True)
    api_url = Link(lambda programme: _external("api.get_programme", programme_id=programme.id))


class BorderAreaRefSchema(ma.Schema):
    id = _required(fields.Integer)
    code = _required(fields.String)
    name = Translated("name")


# Authorities ----------------------------------------------------------------------------------


class AuthorityRefSchema(ma.Schema):
    """An authority as items and matches name it."""

    id = _required(fields.Integer)
    name = _required(fields.String)
    kind = _required(fields.Enum, AuthorityKind, by_value=True)
    country = _required(fields.String, attribute="country_code")
    side = _required(fields.Enum, Side, by_value=True)


class AuthoritySchema(AuthorityRefSchema):
    """A verified authority's public profile: what its page shows to anyone."""

    subdivision = _nullable(fields.String, attribute="subdivision_code")
    languages = fields.List(fields.String(), required=True)
    website = _nullable(fields.String)
    description = _required(fields.String)
    description_language = _nullable(fields.String)
    programmes = fields.List(fields.Nested(ProgrammeRefSchema), required=True)
    themes = fields.List(fields.Nested(ThemeRefSchema), required=True)
    border_areas = fields.List(fields.Nested(BorderAreaRefSchema), required=True)
    url = Link(lambda authority: _external("authorities.show", authority_id=authority.id))
    api_url = Link(lambda authority: _external("api.get_authority", authority_id=authority.id))
    practices_url = Link(lambda authority: _external("api.list_practices", authority=authority.id))
    ideas_url = Link(lambda authority: _external("api.list_ideas", authority=authority.id))


# Public practices and ideas -------------------------------------------------------------------


def _published(name: str) -> str:
    return f"published_revision.{name}"


def _co_owners(item) -> list:
    if item.kind != Kind.IDEA:
        return []  # only ideas have co-owners (and practices' are not loaded)
    return [co.authority for co in item.co_owners if co.status == CoOwnerStatus.ACCEPTED]


class _CoOwners(fields.List):
    def get_value(self, obj, attr, accessor=None, default=ma.missing):
        return _co_owners(obj)


class ItemSummarySchema(ma.Schema):
    """What lists show of a public practice or idea (from its published revision)."""

    id = _required(fields.Integer)
    kind = _required(fields.Enum, Kind, by_value=True)
    title = _required(fields.String, attribute=_published("title"))
    summary = _required(fields.String, attribute=_published("summary"))
    language = _required(fields.String, attribute=_published("language"))
    published_at = _required(fields.AwareDateTime)
    authority = fields.Nested(AuthorityRefSchema, required=True)
    co_owners = _CoOwners(fields.Nested(AuthorityRefSchema), required=True)
    themes = fields.List(
        fields.Nested(ThemeRefSchema), required=True, attribute=_published("themes")
    )
    objectives = fields.List(
        fields.Nested(ItemObjectiveSchema), required=True, attribute=_published("objectives")
    )
    url = Link(lambda item: item_url(item, _external=True))


class ItemRefSchema(ma.Schema):
    """A public item as a match names it."""

    id = _required(fields.Integer)
    kind = _required(fields.Enum, Kind, by_value=True)
    title = _required(fields.String, attribute=_published("title"))
    url = Link(lambda item: item_url(item, _external=True))


class PracticeSummarySchema(ItemSummarySchema):
    api_url = Link(lambda item: _external("api.get_practice", submission_id=item.id))


class PracticeSchema(PracticeSummarySchema):
    first_published_at = _nullable(fields.AwareDateTime)
    problem = _required(fields.String, attribute=_published("problem"))
    actions = _required(fields.String, attribute=_published("actions"))
    results = _required(fields.String, attribute=_published("results"))
    resources = _required(fields.String, attribute=_published("resources"))
    transferability = _required(fields.String, attribute=_published("transferability"))
    lessons = _required(fields.String, attribute=_published("lessons"))
    period_start = _nullable(fields.Date, attribute=_published("period_start"))
    period_end = _nullable(fields.Date, attribute=_published("period_end"))


class IdeaSummarySchema(ItemSummarySchema):
    border_area = fields.Nested(
        BorderAreaRefSchema, required=True, allow_none=True, attribute=_published("border_area")
    )
    open_until = _nullable(fields.Date, attribute=_published("open_until"))
    api_url = Link(lambda item: _external("api.get_idea", submission_id=item.id))


class IdeaSchema(IdeaSummarySchema):
    first_published_at = _nullable(fields.AwareDateTime)
    description = _required(fields.String, attribute=_published("description"))
    value_chain = _required(fields.String, attribute=_published("value_chain"))
    expected_results = _required(fields.String, attribute=_published("expected_results"))
    budget_range = _nullable(
        fields.Enum, BudgetRange, by_value=True, attribute=_published("budget_range")
    )
    partner_kinds = fields.List(
        fields.String(), required=True, attribute=_published("partner_kinds")
    )
    partner_sides = fields.List(
        fields.String(), required=True, attribute=_published("partner_sides")
    )
    partner_themes = fields.List(
        fields.Nested(ThemeRefSchema), required=True, attribute=_published("partner_themes")
    )


# Pages ------------------------------------------------------------------------------------------


def page_schema(item_schema, name: str) -> type[ma.Schema]:
    """The envelope of one page of a list: its items and how to get the next page."""
    return ma.Schema.from_dict(
        {
            "items": fields.List(fields.Nested(item_schema), required=True),
            "limit": _required(fields.Integer),
            "next_cursor": _nullable(fields.String),
            "next": _nullable(fields.String),
        },
        name=name,
    )


PracticePageSchema = page_schema(PracticeSummarySchema, "PracticePage")
IdeaPageSchema = page_schema(IdeaSummarySchema, "IdeaPage")
AuthorityPageSchema = page_schema(AuthoritySchema, "AuthorityPage")
ProgrammePageSchema = page_schema(ProgrammeSchema, "ProgrammePage")
ObjectivePageSchema = page_schema(ObjectiveSchema, "ObjectivePage")
ThemePageSchema = page_schema(ThemeSchema, "ThemePage")


# A member's own (token) ---------------------------------------------------------------------------


class RevisionSchema(ma.Schema):
    """Every field of one revision of the member's own item (a practice leaves the idea's fields
    empty, and the other way round)."""

    number = _required(fields.Integer)
    language = _required(fields.String)
    title = _required(fields.String)
    summary = _required(fields.String)
    problem = _required(fields.String)
    actions = _required(fields.String)
    results = _required(fields.String)
    resources = _required(fields.String)
    transferability = _required(fields.String)
    lessons = _required(fields.String)
    period_start = _nullable(fields.Date)
    period_end = _nullable(fields.Date)
    description = _required(fields.String)
    value_chain = _required(fields.String)
    expected_results = _required(fields.String)
    budget_range = _nullable(fields.Enum, BudgetRange, by_value=True)
    open_until = _nullable(fields.Date)
    border_area = fields.Nested(BorderAreaRefSchema, required=True, allow_none=True)
    partner_kinds = fields.List(fields.String(), required=True)
    partner_sides = fields.List(fields.String(), required=True)
    partner_themes = fields.List(fields.Nested(ThemeRefSchema), required=True)
    themes = fields.List(fields.Nested(ThemeRefSchema), required=True)
    objectives = fields.List(fields.Nested(ItemObjectiveSchema), required=True)
    updated_at = _required(fields.AwareDateTime)


class ReviewSchema(ma.Schema):
    decision = _required(fields.Enum, Decision, by_value=True)
    comment = _required(fields.String)
    created_at = _required(fields.AwareDateTime)


class CoOwnershipSchema(ma.Schema):
    authority = fields.Nested(AuthorityRefSchema, required=True)
    status = _required(fields.String)


class OwnItemSchema(ma.Schema):
    """A practice or an idea of the member's authority, in any state: the revision being
    written or reviewed (`working`) and the one the public sees (`published`, if any)."""

    id = _required(fields.Integer)
    kind = _required(fields.Enum, Kind, by_value=True)
    state = _required(fields.Enum, State, by_value=True)
    title = _required(fields.String, attribute="working_revision.title")
    authority = fields.Nested(AuthorityRefSchema, required=True)
    co_owners = fields.List(fields.Nested(CoOwnershipSchema), required=True)
    created_at = _required(fields.AwareDateTime)
    updated_at = _required(fields.AwareDateTime)
    submitted_at = _nullable(fields.AwareDateTime)
    published_at = _nullable(fields.AwareDateTime)
    working = fields.Nested(
        RevisionSchema, required=True, allow_none=True, attribute="working_revision"
    )
    published = fields.Nested(
        RevisionSchema, required=True, allow_none=True, attribute="published_revision"
    )
    reviews = fields.List(fields.Nested(ReviewSchema), required=True)
    url = Link(lambda item: item_url(item, _external=True))
    api_url = Link(lambda item: _external("api.get_own_item", submission_id=item.id))


OwnItemPageSchema = page_schema(OwnItemSchema, "OwnItemPage")


class ContactSchema(ma.Schema):
    name = _required(fields.String)
    email = _required(fields.String)


class MatchSchema(ma.Schema):
    """One of the authority's matches, as its members see it (see `exchange.api.views.MatchView`):
    the other side's contacts only once both sides have accepted."""

    id = _required(fields.Integer)
    status = _required(fields.Enum, MatchStatus, by_value=True)
    created_at = _required(fields.AwareDateTime)
    expires_at = _nullable(fields.AwareDateTime)
    connected_at = _nullable(fields.AwareDateTime)
    closed_at = _nullable(fields.AwareDateTime)
    stage = _nullable(fields.Enum, Stage, by_value=True)
    score = _nullable(fields.Float)
    note = _required(fields.String)
    your_answer = _required(fields.Enum, Answer, by_value=True)
    their_answer = _required(fields.Enum, Answer, by_value=True)
    counterpart = fields.Nested(AuthorityRefSchema, required=True)
    about = fields.Nested(ItemRefSchema, required=True, allow_none=True)
    contacts_visible = _required(fields.Boolean)
    contacts = fields.List(fields.Nested(ContactSchema), required=True, allow_none=True)
    url = Link(lambda view: _external("matches.show", match_id=view.id))


MatchPageSchema = page_schema(MatchSchema, "MatchPage")


class TokenInfoSchema(ma.Schema):
    name = _required(fields.String)
    prefix = _required(fields.String)
    created_at = _required(fields.AwareDateTime)
    last_used_at = _nullable(fields.AwareDateTime)


class MeSchema(ma.Schema):
    """Who the token speaks for: its authority (if any) and the token itself."""

    authority = fields.Nested(AuthorityRefSchema, required=True, allow_none=True)
    token = fields.Nested(TokenInfoSchema, required=True)


# Errors and the index -----------------------------------------------------------------------------


class ErrorSchema(ma.Schema):
    """Every failure: the HTTP status, its name, a sentence, and (400) what is wrong with which
    parameter."""

    code = _required(fields.Integer)
    status = _required(fields.String)
    message = _required(fields.String)
    errors = fields.Dict(keys=fields.String())


class IndexSchema(ma.Schema):
    name = _required(fields.String)
    version = _required(fields.String)
    openapi = _required(fields.String)
    docs = _required(fields.String)
    resources = fields.Dict(keys=fields.String(), values=fields.String(), required=True)


# Query parameters ---------------------------------------------------------------------------------


def _many(*validators, **kwargs):
    return fields.List(
        fields.String(validate=list(validators) or None),
        validate=validate.Length(max=MAX_VALUES),
        load_default=list,
        **kwargs,
    )


# Codes of reference data, as the administration pages let them be written.
CODE = validate.Regexp(r"^[A-Za-z0-9][A-Za-z0-9-]*$", error="Not a code: letters, digits, hyphens.")


def _codes(description: str):
    return _many(
        validate.Length(min=1, max=60),
        CODE,
        metadata={"description": description + " Repeat the parameter for any of several."},
    )


class PageArgs(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    limit = fields.Integer(
        load_default=DEFAULT_LIMIT,
        validate=validate.Range(min=1, max=MAX_LIMIT),
        metadata={"description": f"Items per page, 1 to {MAX_LIMIT} (default {DEFAULT_LIMIT})."},
    )
    cursor = fields.String(
        load_default=None,
        validate=validate.Length(min=1, max=500),
        metadata={"description": "The `next_cursor` of the previous page."},
    )


class ItemArgs(PageArgs):
    q = fields.String(
        load_default="",
        validate=validate.Length(max=MAX_QUERY_LENGTH),
        metadata={
            "description": "Words to search for, in any of the three languages (full text: "
            "every word must match, in any of its forms)."
        },
    )
    theme = _codes("Theme code, e.g. `water-management`.")
    programme = _codes("Programme code, e.g. `INNOVACT`.")
    objective = _codes("Programme objective code, e.g. `INNOVACT-1`.")
    country = _many(
        validate.OneOf(COUNTRIES),
        metadata={"description": "ISO 3166-1 country code of the authority owning the item."},
    )
    side = _many(
        validate.OneOf([side.value for side in Side]),
        metadata={"description": "Side of the owning authority: `EU` or `LAC`."},
    )
    language = _many(
        validate.OneOf(LANGUAGES),
        metadata={"description": "Language the item is written in."},
    )
    authority = fields.List(
        fields.Integer(validate=validate.Range(min=1, max=2**31 - 1)),
        validate=validate.Length(max=MAX_VALUES),
        load_default=list,
        metadata={"description": "Id of the authority owning (or co-owning) the item."},
    )


class IdeaArgs(ItemArgs):
    border_area = _codes("Border area code, e.g. `PE-CL`: ideas set in it.")


class AuthorityArgs(PageArgs):
    theme = _codes("Theme code the authority works on.")
    programme = _codes("Programme code the authority takes part in.")
    border_area = _codes("Border area code the authority belongs to.")
    country = _many(validate.OneOf(COUNTRIES), metadata={"description": "ISO 3166-1 code."})
    side = _many(
        validate.OneOf([side.value for side in Side]),
        metadata={"description": "`EU` or `LAC`."},
    )
    kind = _many(
        validate.OneOf([kind.value for kind in AuthorityKind]),
        metadata={"description": "Kind of authority."},
    )


class ObjectiveArgs(PageArgs):
    programme = _codes("Programme code.")


class ThemeArgs(PageArgs):
    group = _codes("Theme group code.")


class OwnItemArgs(PageArgs):
    kind = _many(validate.OneOf([kind.value for kind in Kind]))
    state = _many(validate.OneOf([state.value for state in State]))


class MatchArgs(PageArgs):
    status = _many(validate.OneOf([status.value for status in MatchStatus]))
