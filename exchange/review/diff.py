"""What changed between two revisions of a practice or an idea, for the reviewer.

Texts are compared word by word (difflib) and the result is built with markupsafe: user text is
always escaped, only the <ins>/<del> marks around it are markup.
"""

import difflib
import re
from dataclasses import dataclass, field

from flask_babel import format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape

from exchange.authorities.models import KIND_LABELS, SIDE_LABELS
from exchange.reference.languages import language_name
from exchange.submissions.models import BUDGET_LABELS, Revision
from exchange.workflow import Kind

# Words, runs of blanks, and runs of punctuation: a changed comma does not mark its word changed.
_TOKENS = re.compile(r"\w+|\s+|[^\w\s]+")

_DELETED = Markup('<del class="bg-danger-subtle"><span class="visually-hidden">{}</span>{}</del>')
_INSERTED = Markup('<ins class="bg-success-subtle"><span class="visually-hidden">{}</span>{}</ins>')

FIELD_LABELS = {
    "title": _l("Title"),
    "summary": _l("Summary"),
    "problem": _l("The problem it addresses"),
    "actions": _l("What was done"),
    "results": _l("Results and evidence"),
    "resources": _l("Resources and cost"),
    "transferability": _l("What makes it transferable"),
    "lessons": _l("Lessons learned"),
    "description": _l("Description"),
    "value_chain": _l("Cluster or value chain"),
    "expected_results": _l("Expected results"),
}


def word_diff(old: str, new: str) -> Markup:
    """`new` with the words removed from `old` in <del> and the words added in <ins>."""
    before, after = _TOKENS.findall(old or ""), _TOKENS.findall(new or "")
    matcher = difflib.SequenceMatcher(None, before, after, autojunk=False)
    parts = []
    for operation, i1, i2, j1, j2 in matcher.get_opcodes():
        if operation == "equal":
            parts.append(escape("".join(after[j1:j2])))
            continue
        if operation in ("delete", "replace"):
            parts.append(_DELETED.format(_("Removed:"), "".join(before[i1:i2])))
        if operation in ("insert", "replace"):
            parts.append(_INSERTED.format(_("Added:"), "".join(after[j1:j2])))
    return Markup("").join(parts)


@dataclass(frozen=True)
class FieldChange:
    name: str
    label: str
    diff: Markup


@dataclass(frozen=True)
class ListChange:
    """Items of a list (themes, objectives…) added and removed, as labels."""

    label: str
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ValueChange:
    """A single value (language, dates, border area…) before and after, as text."""

    label: str
    before: str
    after: str


@dataclass(frozen=True)
class Changes:
    base: Revision
    revision: Revision
    fields: list[FieldChange]
    lists: list[ListChange]
    values: list[ValueChange]

    @property
    def nothing_changed(self) -> bool:
        return not (self.fields or self.lists or self.values)


def _list_change(label, before, after) -> ListChange | None:
    """`before` and `after` map a stable key (an id) to a label."""
    added = [after[key] for key in after if key not in before]
    removed = [before[key] for key in before if key not in after]
    return ListChange(label, added, removed) if added or removed else None


def compare_revisions(base: Revision, revision: Revision) -> Changes:
    """What changed from `base` to `revision`: texts word by word, lists as added/removed,
    other values as before/after."""
    fields = [
        FieldChange(
            name, FIELD_LABELS[name], word_diff(getattr(base, name), getattr(revision, name))
        )
        for name in revision.text_fields()
        if (getattr(base, name) or "") != (getattr(revision, name) or "")
    ]
    lists = [
        change
        for change in (
            _list_change(
                _l("Themes"),
                {t.id: t.label for t in base.themes},
                {t.id: t.label for t in revision.themes},
            ),
            _list_change(
                _l("Programme objectives"),
                {o.id: f"{o.code} · {o.text}" for o in base.objectives},
                {o.id: f"{o.code} · {o.text}" for o in revision.objectives},
            ),
            _list_change(
                _l("Themes wanted from partners"),
                {t.id: t.label for t in base.partner_themes},
                {t.id: t.label for t in revision.partner_themes},
            ),
            _list_change(
                _l("Attachments"),
                _attachments(base),
                _attachments(revision),
            ),
        )
        if change is not None
    ]
    before, after = revision_details(base), revision_details(revision)
    values = [
        ValueChange(label, before.get(label, ""), after.get(label, ""))
        for label in after
        if before.get(label, "") != after.get(label, "")
    ]
    return Changes(base, revision, fields, lists, values)


def _attachments(revision: Revision) -> dict[int, str]:
    return {
        a.id: a.filename for a in revision.submission.attachments if a.in_revision(revision.number)
    }


def _date(value) -> str:
    return format_date(value) if value else ""


def revision_details(revision: Revision) -> dict[str, str]:
    """The values that are neither free text nor lists, by label, as people read them."""
    values = {_("Language"): language_name(revision.language)}
    if revision.submission.kind == Kind.PRACTICE:
        values[_("Period")] = " – ".join(
            filter(None, (_date(revision.period_start), _date(revision.period_end)))
        )
        return values
    values[_("Border area")] = revision.border_area.name if revision.border_area else ""
    values[_("Budget")] = str(BUDGET_LABELS[revision.budget_range]) if revision.budget_range else ""
    values[_("Open to partners until")] = _date(revision.open_until)
    values[_("Kinds of partner wanted")] = ", ".join(
        str(KIND_LABELS[kind]) for kind in revision.partner_kinds if kind in KIND_LABELS
    )
    values[_("Partners wanted from")] = ", ".join(
        str(SIDE_LABELS[side]) for side in revision.partner_sides if side in SIDE_LABELS
    )
    return values
