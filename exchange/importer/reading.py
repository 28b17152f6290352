"""Reading import files into records: a type, a row number and the raw values.

JSON: either {"authorities": [...], "members": [...], "practices": [...], "ideas": [...]}, or a
list of records each with a "type". A record's row is its position in its list, from 1.

CSV: one record a line under a header of field names. The type of each row is its "type" column,
or else the --type given, or else the file's name (authorities.csv, practices.csv, …). A row's
number is its line in the file (the header is line 1). UTF-8, with or without a byte-order mark;
comma-separated, or semicolon-separated when the header has semicolons and no comma (as
spreadsheets in Spanish and Portuguese save them).
"""

import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

RECORD_TYPES = ("authorities", "members", "practices", "ideas")

# The names a type may be given by ("type" values, --type, JSON keys, file names).
TYPE_NAMES = {
    "authority": "authorities",
    "authorities": "authorities",
    "member": "members",
    "members": "members",
    "practice": "practices",
    "practices": "practices",
    "good_practice": "practices",
    "idea": "ideas",
    "ideas": "ideas",
    "project_idea": "ideas",
}

FIELDS: dict[str, tuple[str, ...]] = {
    "authorities": (
        "key", "name", "kind", "country", "subdivision", "website", "languages", "description",
        "description_language", "programmes", "themes", "border_areas", "match_capacity", "status",
    ),
    "members": ("email", "name", "language", "authority"),
    "practices": (
        "authority", "state", "language", "title", "summary", "problem", "actions", "results",
        "resources", "transferability", "lessons", "period_start", "period_end", "themes",
        "objectives",
    ),
    "ideas": (
        "authority", "state", "language", "title", "summary", "description", "value_chain",
        "expected_results", "border_area", "budget_range", "open_until", "partner_kinds",
        "partner_sides", "partner_themes", "themes", "objectives",
    ),
}  # fmt: skip

ALL_FIELDS = frozenset(name for names in FIELDS.values() for name in names)


@dataclass(frozen=True)
class Record:
    type: str
    row: int
    source: str
    values: dict[str, Any]


@dataclass(frozen=True)
class Problem:
    """Something wrong in a file, said where: file, record type and row, field."""

    source: str
    message: str
    record_type: str | None = None
    row: int | None = None
    field: str | None = None

    def __str__(self) -> str:
        place = []
        if self.row is not None:
            place.append(
                f"{self.record_type} row {self.row}" if self.record_type else f"row {self.row}"
            )
        if self.field:
            place.append(f"field {self.field}")
        where = f"{', '.join(place)}: " if place else ""
        return f"{self.source}: {where}{self.message}"


def type_name(value: Any) -> str | None:
    """The canonical record type for a name given in a file or on the command line."""
    if not isinstance(value, str):
        return None
    return TYPE_NAMES.get(value.strip().lower().replace("-", "_").replace(" ", "_"))


def read_files(
    paths: list[Path], default_type: str | None = None
) -> tuple[list[Record], list[Problem]]:
    """Every record of every file, and the problems found while reading them."""
    records: list[Record] = []
    problems: list[Problem] = []
    for path in paths:
        source = path.name
        try:
            text = path.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError as error:
            problems.append(
                Problem(source, f"is not UTF-8 text (byte {error.start}); save it as UTF-8")
            )
            continue
        suffix = path.suffix.lower()
        if suffix == ".json":
            found, trouble = _read_json(text, source, default_type)
        elif suffix == ".csv":
            found, trouble = _read_csv(text, source, default_type or type_name(path.stem))
        else:
            found, trouble = [], [Problem(source, "give a .json or a .csv file")]
        records.extend(found)
        problems.extend(trouble)
    return records, problems


def _unknown_fields(record_type: str, names) -> list[str]:
    return sorted(name for name in names if name not in FIELDS[record_type] and name != "type")


def _read_json(text: str, source: str, default_type: str | None):
    records, problems = [], []
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        return [], [
            Problem(
                source,
                f"is not valid JSON: {error.msg} (line {error.lineno}, column {error.colno})",
            )
        ]
    if isinstance(data, dict):
        sections = []
        for key, items in data.items():
            record_type = type_name(key)
            if record_type is None:
                problems.append(
                    Problem(source, f"unknown section {key!r}; use {', '.join(RECORD_TYPES)}")
                )
            elif not isinstance(items, list):
                problems.append(Problem(source, f"{key!r} must be a list of records"))
            else:
                sections.append((record_type, items))
    elif isinstance(data, list):
        sections = [(None, data)]
    else:
        return [], [Problem(source, 'must hold {"authorities": [...], …} or a list of records')]

    for section_type, items in sections:
        for row, item in enumerate(items, 1):
            if not isinstance(item, dict):
                problems.append(
                    Problem(source, "must be an object {…}", section_type or "records", row)
                )
                continue
            values = {str(key).strip().lower(): value for key, value in item.items()}
            given = type_name(values.get("type")) if values.get("type") is not None else None
            if values.get("type") is not None and given is None:
                problems.append(
                    Problem(
                        source,
                        f"unknown type {values['type']!r}; use {', '.join(RECORD_TYPES)}",
                        section_type or "records",
                        row,
                        "type",
                    )
                )
                continue
            if section_type and given and given != section_type:
                message = f"a {given} record in the {section_type} list"
                problems.append(Problem(source, message, section_type, row, "type"))
                continue
            record_type = section_type or given or default_type
            if record_type is None:
                problems.append(
                    Problem(
                        source,
                        f'say what this record is with "type": {", ".join(RECORD_TYPES)}',
                        "records",
                        row,
                        "type",
                    )
                )
                continue
            for name in _unknown_fields(record_type, values):
                problems.append(
                    Problem(source, f"not a field of {record_type}", record_type, row, name)
                )
            values = {k: v for k, v in values.items() if k in FIELDS[record_type]}
            records.append(Record(record_type, row, source, values))
    return records, problems


def _read_csv(text: str, source: str, default_type: str | None):
    records, problems = [], []
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if ";" in first_line and "," not in first_line else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        header = next(reader, None)
        if header is None:
            return [], [Problem(source, "is empty; the first line names the fields")]
        names = [name.strip().lower() for name in header]
        seen = set()
        for name in names:
            if name in seen:
                problems.append(Problem(source, f"column {name!r} appears twice", row=1))
            seen.add(name)
        for name in names:
            if name and name not in ALL_FIELDS and name != "type":
                problems.append(Problem(source, f"unknown column {name!r}", row=1))
        if problems:
            return [], problems

        line = reader.line_num + 1
        for cells in reader:
            row, line = line, reader.line_num + 1
            if not any(cell.strip() for cell in cells):
                continue
            if len(cells) > len(names):
                problems.append(
                    Problem(
                        source,
                        f"has {len(cells)} values but the header names {len(names)} columns "
                        "(a value with the separator in it must be in double quotes)",
                        row=row,
                    )
                )
                continue
            values = {name: cell for name, cell in zip(names, cells, strict=False) if cell.strip()}
            given = values.pop("type", None)
            record_type = type_name(given) if given else default_type
            if record_type is None:
                message = (
                    f"unknown type {given!r}; use {', '.join(RECORD_TYPES)}"
                    if given
                    else "say what the rows are: a 'type' column, --type, or a file named "
                    "authorities.csv, members.csv, practices.csv or ideas.csv"
                )
                problems.append(Problem(source, message, row=row, field="type"))
                continue
            for name in _unknown_fields(record_type, values):
                problems.append(
                    Problem(source, f"not a field of {record_type}", record_type, row, name)
                )
                values.pop(name)
            records.append(Record(record_type, row, source, values))
    except csv.Error as error:
        problems.append(Problem(source, f"cannot be read as CSV: {error}", row=reader.line_num))
    return records, problems
