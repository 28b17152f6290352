"""What comes in from outside, made safe before any view reads it.

- Text: the characters nobody types are taken out of every form field and query parameter: NUL
  and the other C0 control characters except tab, line feed and carriage return, and the
  non-characters U+FFFE and U+FFFF. PostgreSQL refuses NUL in text (the request would fail with a
  500), and XML (the Atom feed, the e-mails' HTML) and spreadsheets (the exports) cannot carry the
  others. Uploaded files are not touched; their names are cleaned by the attachments feature.
- Ids in addresses: the `int` URL converter accepts at most 2**31 - 1, the largest id an INTEGER
  column holds, so that /practices/99999999999999999999 is a 404 and not an overflow in the
  database driver.
"""

import re

from flask import Flask, Request
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.routing import IntegerConverter

# The largest value of an SQL INTEGER column (PostgreSQL's and the ids SQLite hands out here).
MAX_ID = 2**31 - 1

_UNTYPED = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def clean_text(value):
    """`value` without the characters above (anything that is not text is returned as is)."""
    return _UNTYPED.sub("", value) if isinstance(value, str) else value


class CleanParameters(ImmutableMultiDict):
    """The query parameters and form fields of a request, cleaned as they are parsed."""

    def __init__(self, mapping=None):
        if isinstance(mapping, list):  # how Werkzeug builds `args` and `form`: (name, value) pairs
            mapping = [(clean_text(name), clean_text(value)) for name, value in mapping]
        super().__init__(mapping)


class CleanRequest(Request):
    parameter_storage_class = CleanParameters


class IdConverter(IntegerConverter):
    """`<int:...>`: a non-negative number that fits an INTEGER column, or no match (404)."""

    def __init__(self, map, fixed_digits=0, min=None, max=MAX_ID, signed=False):
        super().__init__(map, fixed_digits, min, MAX_ID if max is None else max, signed)


def init_inputs(app: Flask) -> None:
    """Install both; call before any blueprint adds its routes."""
    app.request_class = CleanRequest
    app.url_map.converters["int"] = IdConverter
