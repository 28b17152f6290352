"""The reasons of a suggestion in words, in the reader's language.

`describe(reasons)` takes what the engine returned (`Reason` objects) or what a proposal or a
match stores (the same as dicts) and gives one sentence per signal that counted, strongest
first: theme codes become theme labels, objective codes their texts, language codes language
names, border areas and countries their names, and so on (the detail codes are documented in
exchange/matching/engine.py). Used by the match pages, the e-mails, the CLI and the
coordinators' console.

Stored reasons are seen from the pair's first authority (`authority_a`); give the names of the
two authorities (`authority`, `counterpart`, in that order) to say whose project idea asks for
what.
"""

from flask_babel import gettext as _
from sqlalchemy import select

from exchange.authorities.models import KIND_LABELS, SIDE_LABELS, AuthorityKind
from exchange.extensions import db
from exchange.reference.countries import Side, country_name
from exchange.reference.languages import language_name
from exchange.reference.models import BorderArea, Objective, Programme, Theme, ThemeGroup

# Objectives are sentences: a reason quotes the beginning of each.
OBJECTIVE_LENGTH = 90
# Codes that say what a detail is about, rather than naming something.
BORDER_KINDS = ("same_area", "shared_country", "both_cross_border")
WANTED_OWNERS = ("authority_wants", "counterpart_wants")


def _as_dict(reason) -> dict:
    if isinstance(reason, dict):
        return reason
    return {
        "signal": reason.signal,
        "score": reason.score,
        "weight": reason.weight,
        "details": list(reason.details),
    }


def _labels(model, attribute: str, codes: set[str]) -> dict[str, str]:
    if not codes:
        return {}
    rows = db.session.scalars(select(model).where(model.code.in_(sorted(codes))))
    return {row.code: getattr(row, attribute) for row in rows}


def _shorten(text: str, length: int = OBJECTIVE_LENGTH) -> str:
    text = " ".join(text.split())
    if len(text) <= length:
        return text
    return text[: length - 1].rsplit(" ", 1)[0].rstrip(",;:") + "…"


def _join(values) -> str:
    return ", ".join(dict.fromkeys(str(v) for v in values))


def _kind(code: str) -> str:
    try:
        return str(KIND_LABELS[AuthorityKind(code)])
    except ValueError:
        return code


def _side(code: str) -> str:
    try:
        return str(SIDE_LABELS[Side(code)])
    except ValueError:
        return code


def _prefixed(details, prefix: str) -> list[str]:
    return [d[len(prefix) :] for d in details if d.startswith(prefix)]


def _plain(details) -> list[str]:
    return [d for d in details if ":" not in d and "~" not in d]


class _Names:
    """The labels of every code the reasons mention, read in a few queries."""

    def __init__(self, reasons: list[dict]):
        themes, groups, objectives, programmes, areas = set(), set(), set(), set(), set()
        for reason in reasons:
            details = list(reason.get("details") or ())
            signal = reason.get("signal")
            if signal in ("themes", "text"):
                themes.update(_plain(details))
                groups.update(_prefixed(details, "group:"))
            elif signal == "objectives":
                objectives.update(_plain(details))
                programmes.update(_prefixed(details, "programme:"))
            elif signal == "border_area":
                areas.update(d for d in details if d not in BORDER_KINDS)
            elif signal == "wanted_partner":
                themes.update(_prefixed(details, "theme:"))
        self.themes = _labels(Theme, "label", themes)
        self.groups = _labels(ThemeGroup, "label", groups)
        self.objectives = _labels(Objective, "text", objectives)
        self.programmes = _labels(Programme, "name", programmes)
        self.areas = _labels(BorderArea, "name", areas)

    def theme(self, code: str) -> str:
        return self.themes.get(code, code)


def _themes(details, names: _Names) -> str:
    shared = [names.theme(c) for c in _plain(details)]
    groups = [names.groups.get(c, c) for c in _prefixed(details, "group:")]
    if shared and groups:
        return _(
            "Themes in common: %(themes)s; both also work in %(groups)s.",
            themes=_join(shared),
            groups=_join(groups),
        )
    if shared:
        return _("Themes in common: %(themes)s.", themes=_join(shared))
    if groups:
        return _("Related themes: both work in %(groups)s.", groups=_join(groups))
    return _("Related themes.")


def _text(details, names: _Names) -> str:
    if details:
        return _(
            "Their profiles, practices and ideas speak of the same things: %(themes)s.",
            themes=_join(names.theme(c) for c in details),
        )
    return _("Their profiles, practices and ideas are written about similar things.")


def _objectives(details, names: _Names) -> str:
    objectives = [
        f"{code} ({_shorten(names.objectives[code])})" if code in names.objectives else code
        for code in _plain(details)
    ]
    programmes = [names.programmes.get(c, c) for c in _prefixed(details, "programme:")]
    if objectives and programmes:
        return _(
            "The same programme objectives: %(objectives)s; both take part in %(programmes)s.",
            objectives=_join(objectives),
            programmes=_join(programmes),
        )
    if objectives:
        return _("The same programme objectives: %(objectives)s.", objectives=_join(objectives))
    if programmes:
        return _("Both take part in %(programmes)s.", programmes=_join(programmes))
    return _("Aligned programme objectives.")


def _border_area(details, names: _Names) -> str:
    kind = details[0] if details and details[0] in BORDER_KINDS else None
    codes = [d for d in details if d not in BORDER_KINDS]
    if kind == "same_area":
        return _(
            "The same border area: %(areas)s.", areas=_join(names.areas.get(c, c) for c in codes)
        )
    if kind == "shared_country":
        return _(
            "Border areas along the borders of the same country: %(countries)s.",
            countries=_join(country_name(c) for c in codes),
        )
    if kind == "both_cross_border":
        return _(
            "Both work across a border: %(areas)s.",
            areas=_join(names.areas.get(c, c) for c in codes),
        )
    return _("Comparable border areas.")


def _wanted(details, names: _Names, authority: str | None, counterpart: str | None) -> str:
    blocks: list[tuple[str, list[str]]] = []
    for detail in details:
        if detail in WANTED_OWNERS:
            blocks.append((detail, []))
        elif blocks:
            blocks[-1][1].append(detail)
    if not blocks:
        return _("Fits the partner a project idea is looking for.")
    sentences = []
    for owner, asked in blocks:
        what = []
        for detail in asked:
            prefix, _sep, code = detail.partition(":")
            if prefix == "kind":
                what.append(_kind(code))
            elif prefix == "side":
                what.append(_side(code))
            elif prefix == "theme":
                what.append(names.theme(code))
            else:
                what.append(detail)
        name = authority if owner == "authority_wants" else counterpart
        if name and what:
            sentences.append(
                _(
                    "A project idea of %(name)s looks for such a partner: %(what)s.",
                    name=name,
                    what=_join(what),
                )
            )
        elif name:
            sentences.append(_("A project idea of %(name)s looks for such a partner.", name=name))
        elif what:
            sentences.append(
                _("Fits the partner a project idea is looking for: %(what)s.", what=_join(what))
            )
        else:
            sentences.append(_("Fits the partner a project idea is looking for."))
    return " ".join(dict.fromkeys(sentences))


def _language(details) -> str:
    near = [d for d in details if "~" in d]
    common = [d for d in details if "~" not in d]
    if common:
        return _(
            "A language in common: %(languages)s.",
            languages=_join(language_name(c) for c in common),
        )
    if near:
        first, _sep, second = near[0].partition("~")
        return _(
            "%(first)s and %(second)s: close enough to understand each other.",
            first=language_name(first),
            second=language_name(second),
        )
    return _("A language in common.")


def _kinds(details) -> str:
    kinds = [_kind(c) for c in details]
    if len(set(kinds)) == 1:
        return _("Both are of the same kind: %(kind)s.", kind=kinds[0])
    if len(kinds) == 2:
        return _(
            "Kinds of authority that work well together: %(first)s with %(second)s.",
            first=kinds[0],
            second=kinds[1],
        )
    return _("Comparable kinds of authority.")


def describe(reasons, authority: str | None = None, counterpart: str | None = None) -> list[str]:
    """One sentence per reason that counted (score above zero), strongest first."""
    reasons = [_as_dict(r) for r in reasons or ()]
    reasons = [r for r in reasons if (r.get("score") or 0) > 0]
    reasons.sort(key=lambda r: -(r.get("score") or 0) * (r.get("weight") or 1))
    names = _Names(reasons)
    sentences = []
    for reason in reasons:
        details = list(reason.get("details") or ())
        signal = reason.get("signal")
        if signal == "themes":
            sentences.append(_themes(details, names))
        elif signal == "text":
            sentences.append(_text(details, names))
        elif signal == "objectives":
            sentences.append(_objectives(details, names))
        elif signal == "border_area":
            sentences.append(_border_area(details, names))
        elif signal == "wanted_partner":
            sentences.append(_wanted(details, names, authority, counterpart))
        elif signal == "language":
            sentences.append(_language(details))
        elif signal == "kind":
            sentences.append(_kinds(details))
        else:
            sentences.append(_join([str(signal), *details]))
    return sentences
