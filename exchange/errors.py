"""Exceptions that services raise and views turn into a message for the person."""


class ActionError(Exception):
    """The action cannot be done; `message` (translated lazily) says why, `field` where."""

    def __init__(self, message, field: str | None = None):
        super().__init__(str(message))
        self.message = message
        self.field = field


class NotAllowed(ActionError):
    """The acting person may not do this (the view answers 403)."""
