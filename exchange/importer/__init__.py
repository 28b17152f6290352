"""Importing the participants a programme already has: authorities, their members, good
practices and project ideas, from JSON or CSV files (`flask --app wsgi exchange import`).

Three steps, each in its own module:

1. `reading`: the files become records — a type, a row number and the raw values.
2. `checking`: every record is checked against the schema, the reference data (themes,
   objectives, programmes and border areas by code; countries and subdivisions by ISO 3166
   code) and what is already on the platform; every problem is reported with its row and field.
3. `services`: only if no record has a problem, everything is written through the real services
   (the same checks, activity log and notifications as in the browser), for the caller to commit
   once: all or nothing.

The schema is documented in the README ("Importing participants").
"""

from exchange.importer.checking import check_records
from exchange.importer.reading import RECORD_TYPES, Problem, Record, read_files
from exchange.importer.services import ImportReport, import_plan

__all__ = [
    "RECORD_TYPES",
    "ImportReport",
    "Problem",
    "Record",
    "check_records",
    "import_plan",
    "read_files",
]
