"""Loading the reference data from the cooperation's own texts (the JSON files in `data/`)."""

import json
from dataclasses import dataclass, field
from importlib import resources

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from exchange.activity.services import record_activity
from exchange.errors import ActionError, NotAllowed
from exchange.extensions import db
from exchange.reference.models import BorderArea, Objective, Programme, Theme, ThemeGroup

LANGUAGES = ("en", "es", "pt")


def _read(name: str):
    return json.loads(
        resources.files("exchange.reference").joinpath("data", name).read_text("utf-8")
    )


def _translated(prefix: str, values: dict) -> dict:
    missing = [lang for lang in LANGUAGES if not values.get(lang)]
    if missing:
        raise ValueError(f"{prefix} lacks a text in {', '.join(missing)}")
    return {f"{prefix}_{lang}": values[lang] for lang in LANGUAGES}


@dataclass
class LoadReport:
    created: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)

    def count(self, kind: str, created: bool) -> None:
        target = self.created if created else self.updated
        target[kind] = target.get(kind, 0) + 1


def _upsert(model, code: str, values: dict, update: bool, report: LoadReport, kind: str):
    row = db.session.scalar(select(model).where(model.code == code))
    if row is None:
        row = model(code=code, **values)
        db.session.add(row)
        report.count(kind, created=True)
    elif update:
        for key, value in values.items():
            setattr(row, key, value)
        report.count(kind, created=False)
    return row


def load_reference(update: bool = False) -> LoadReport:
    """Create the programmes, objectives, themes and border areas that are missing.

    Rows that exist already are left as admins edited them, unless `update` is true, in which
    case they are reset to the texts in the files. Running it twice changes nothing.
    """
    report = LoadReport()
    for position, item in enumerate(_read("programmes.json")):
        programme = _upsert(
            Programme,
            item["code"],
            {
                **_translated("name", item["name"]),
                **_translated("description", item["description"]),
                "website": item.get("website"),
                "position": position,
            },
            update,
            report,
            "programmes",
        )
        db.session.flush()
        for objective_position, objective in enumerate(item["objectives"]):
            _upsert(
                Objective,
                objective["code"],
                {
                    **_translated("text", objective["text"]),
                    "programme_id": programme.id,
                    "position": objective_position,
                },
                update,
                report,
                "objectives",
            )

    themes = _read("themes.json")
    groups = {}
    for position, item in enumerate(themes["groups"]):
        groups[item["code"]] = _upsert(
            ThemeGroup,
            item["code"],
            {**_translated("label", item["label"]), "position": position},
            update,
            report,
            "theme groups",
        )
    db.session.flush()
    for position, item in enumerate(themes["themes"]):
        _upsert(
            Theme,
            item["code"],
            {
                **_translated("label", item["label"]),
                "group_id": groups[item["group"]].id,
                "keywords": {lang: item["keywords"].get(lang, []) for lang in LANGUAGES},
                "position": position,
            },
            update,
            report,
            "themes",
        )

    for position, item in enumerate(_read("border_areas.json")):
        for chain in item["value_chains"]:
            _translated("value chain", chain)
        _upsert(
            BorderArea,
            item["code"],
            {
                **_translated("name", item["name"]),
                "countries": item["countries"],
                "subdivisions": item["subdivisions"],
                "value_chains": item["value_chains"],
                "source_url": item.get("source_url"),
                "position": position,
            },
            update,
            report,
            "border areas",
        )
    db.session.flush()
    return report


def all_programmes() -> list[Programme]:
    return list(db.session.scalars(select(Programme).order_by(Programme.position, Programme.id)))


def all_theme_groups() -> list[ThemeGroup]:
    return list(db.session.scalars(select(ThemeGroup).order_by(ThemeGroup.position, ThemeGroup.id)))


def all_themes() -> list[Theme]:
    return list(db.session.scalars(select(Theme).order_by(Theme.position, Theme.id)))


def all_border_areas() -> list[BorderArea]:
    return list(db.session.scalars(select(BorderArea).order_by(BorderArea.position, BorderArea.id)))


def save_reference_item(actor, item, values: dict):
    """Create or change a programme, objective, theme group, theme or border area (admins only).

    `item` is a new, unsaved instance or an existing row; `values` are its new column values.
    """
    if not (actor and actor.is_authenticated and actor.is_admin):
        raise NotAllowed(_l("Only administrators can change reference data."))
    model = type(item)
    code = values.get("code", item.code)
    clash = db.session.scalar(select(model).where(model.code == code, model.id != item.id))
    if clash is not None:
        raise ActionError(_l("This code is already used; codes must be unique."), field="code")
    creating = item.id is None
    for key, value in values.items():
        setattr(item, key, value)
    db.session.add(item)
    db.session.flush()
    record_activity(
        actor,
        item,
        f"{item.__tablename__}.{'create' if creating else 'update'}",
        data={"code": code},
    )
    return item
