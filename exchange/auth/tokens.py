"""Signed, expiring, single-use tokens for links sent by e-mail.

Each purpose has its own salt, so a token made for one purpose never works for another. Tokens are
single-use because they carry a fingerprint of the state they change: confirming an address, or
setting a password, changes that state and the token no longer matches.
"""

import hashlib

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

CONFIRM_EMAIL = "exchange.confirm-email"
RESET_PASSWORD = "exchange.reset-password"  # noqa: S105  # nosec B105  # a salt, not a password
CHANGE_EMAIL = "exchange.change-email"

_MAX_AGE_SETTING = {
    CONFIRM_EMAIL: "EMAIL_CONFIRM_MAX_AGE",
    RESET_PASSWORD: "PASSWORD_RESET_MAX_AGE",
    CHANGE_EMAIL: "EMAIL_CHANGE_MAX_AGE",
}


class TokenError(Exception):
    """The link is invalid, expired, or already used."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason  # "invalid", "expired" or "used"


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=purpose)


def fingerprint(*parts: str) -> str:
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:16]


def make_token(purpose: str, data: dict) -> str:
    return _serializer(purpose).dumps(data)


def read_token(purpose: str, token: str) -> dict:
    """The data signed into `token` for `purpose`; raises TokenError if it is not good."""
    max_age = current_app.config[_MAX_AGE_SETTING[purpose]]
    try:
        data = _serializer(purpose).loads(token, max_age=max_age)
    except SignatureExpired as exc:
        raise TokenError("expired") from exc
    except BadSignature as exc:
        raise TokenError("invalid") from exc
    if not isinstance(data, dict):
        raise TokenError("invalid")
    return data
