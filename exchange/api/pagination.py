"""Cursor pagination over a sort key that ends with the id (keyset pagination).

A page is asked for with `limit` and the `cursor` of the previous page. The cursor is the sort
key of the last item of that page, signed (so that it cannot be forged or reused on another
list) and opaque to clients. The next page holds the items strictly after that key: walking the
pages gives every item once, and items added meanwhile before the position reached do not push
the later pages along (an offset would show one item twice for each item added).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import ColumnElement, and_, or_
from sqlalchemy.types import TypeDecorator

DEFAULT_LIMIT = 20
MAX_LIMIT = 100


class CursorError(ValueError):
    """The cursor was not made by this list."""


@dataclass(frozen=True)
class Order:
    """How a list is sorted: its columns (the last one unique, e.g. the id), all ascending or
    all descending. `name` tells the lists apart in the cursor's signature."""

    name: str
    columns: tuple[Any, ...]
    descending: bool = False

    def clauses(self) -> list:
        return [column.desc() if self.descending else column.asc() for column in self.columns]

    def after(self, values: Sequence) -> ColumnElement[bool]:
        """The rows strictly after the key `values`, in this order."""

        def beyond(column, value):
            return column < value if self.descending else column > value

        def reached(column, value):
            return column <= value if self.descending else column >= value

        branches = []
        for position, column in enumerate(self.columns):
            equal = [self.columns[i] == values[i] for i in range(position)]
            branches.append(and_(*equal, beyond(column, values[position])))
        # The first column alone bounds the range, so that an index on it is used.
        return and_(reached(self.columns[0], values[0]), or_(*branches))

    def _serializer(self) -> URLSafeSerializer:
        return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=f"exchange.api.{self.name}")

    def encode(self, values: Sequence) -> str:
        return self._serializer().dumps([_plain(value) for value in values])

    def decode(self, cursor: str) -> list:
        try:
            raw = self._serializer().loads(cursor)
        except (BadSignature, UnicodeError, ValueError) as error:
            raise CursorError(cursor) from error
        if not isinstance(raw, list) or len(raw) != len(self.columns):
            raise CursorError(cursor)
        try:
            return [_typed(value, column) for value, column in zip(raw, self.columns, strict=True)]
        except (TypeError, ValueError) as error:
            raise CursorError(cursor) from error


def _plain(value):
    if isinstance(value, datetime | date):
        return value.isoformat()
    if hasattr(value, "value"):  # an enum
        return value.value
    return value


def _typed(value, column):
    sql_type = column.type
    if isinstance(sql_type, TypeDecorator):  # e.g. UTCDateTime: its implementation says
        sql_type = sql_type.impl_instance
    python_type = sql_type.python_type
    if python_type is datetime:
        return datetime.fromisoformat(value)
    if python_type is date:
        return date.fromisoformat(value)
    if python_type is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(value)
        return value
    if not isinstance(value, str):
        raise TypeError(value)
    return value


@dataclass
class Page:
    items: list
    next_cursor: str | None
    limit: int


def keyset_page(query, order: Order, key, cursor: str | None, limit: int, *, session) -> Page:
    """One page of `query` (a select of whole rows or objects) in `order`: `limit` rows after
    `cursor`, and the cursor of the next page when there is one. `key(row)` gives a row's sort
    key (the values of `order.columns`)."""
    if cursor:
        query = query.where(order.after(order.decode(cursor)))
    rows = list(session.scalars(query.order_by(*order.clauses()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(
        items=rows,
        next_cursor=order.encode(key(rows[-1])) if more and rows else None,
        limit=limit,
    )
