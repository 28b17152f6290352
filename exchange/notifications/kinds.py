"""The kinds of notification, each with its e-mail templates and how to fill them.

Features register their kinds when the app is created (see `exchange.create_app`), so that this
package, which every feature uses, imports none of them.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class NotificationKind:
    name: str
    # Template path without extension: `<template>.txt` and `<template>.html` both exist and both
    # define a `subject` block.
    template: str
    # Called in the worker, inside a request context in the recipient's language, with the
    # notification; returns the templates' variables (links are built here, with url_for).
    context: Callable[[Any], dict]
    # Security messages (confirmation, password reset) that a person can never switch off.
    mandatory: bool = False
    # Called in a request, with the notification: the page it is about, for the notification
    # centre (None: no page). Without it, the centre takes the page from the context's links.
    link: Callable[[Any], str | None] | None = None


_kinds: dict[str, NotificationKind] = {}


def register_kinds(*kinds: NotificationKind) -> None:
    for kind in kinds:
        known = _kinds.get(kind.name)
        if known is not None and known != kind:
            raise ValueError(f"notification kind {kind.name!r} is registered twice")
        _kinds[kind.name] = kind


def get_kind(name: str) -> NotificationKind:
    try:
        return _kinds[name]
    except KeyError:
        raise LookupError(f"unknown notification kind {name!r}") from None


def all_kinds() -> list[NotificationKind]:
    return sorted(_kinds.values(), key=lambda kind: kind.name)
