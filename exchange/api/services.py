"""Personal API tokens: creating, revoking, and recognising them on a request.

Each service takes the acting person, checks, changes the rows, logs the change and flushes;
the view commits once.
"""

import secrets
from datetime import timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from exchange.activity.services import record_activity
from exchange.api.models import MAX_NAME_LENGTH, TOKEN_PREFIX, VISIBLE_LENGTH, ApiToken, hash_token
from exchange.database import utcnow
from exchange.errors import ActionError, NotAllowed
from exchange.extensions import db

# A person rarely needs more; a limit keeps a script gone wrong from filling the table.
MAX_ACTIVE_TOKENS = 20
# `last_used_at` is written at most this often per token: a busy script costs no write per call.
LAST_USED_PRECISION = timedelta(minutes=1)


def tokens_of(user) -> list[ApiToken]:
    """The person's tokens, the active ones first, newest first."""
    return list(
        db.session.scalars(
            select(ApiToken)
            .where(ApiToken.user_id == user.id)
            .order_by(ApiToken.revoked_at.is_not(None), ApiToken.created_at.desc(), ApiToken.id)
        )
    )


def create_token(actor, name: str) -> tuple[ApiToken, str]:
    """A new token for `actor`, named `name`; returns the row and the token itself, which is
    shown once and never stored (only its hash is)."""
    if not (actor and actor.is_authenticated and actor.active):
        raise NotAllowed(_l("Log in to create API tokens."))
    name = (name or "").strip()
    if not name:
        raise ActionError(_l("Give the token a name."), field="name")
    if len(name) > MAX_NAME_LENGTH:
        raise ActionError(
            _l("Use at most %(count)d characters.", count=MAX_NAME_LENGTH), field="name"
        )
    active = db.session.scalar(
        select(func.count())
        .select_from(ApiToken)
        .where(ApiToken.user_id == actor.id, ApiToken.revoked_at.is_(None))
    )
    if active >= MAX_ACTIVE_TOKENS:
        raise ActionError(
            _l(
                "You have %(count)d active tokens: revoke one you no longer use first.",
                count=MAX_ACTIVE_TOKENS,
            )
        )
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user_id=actor.id, name=name, prefix=secret[:VISIBLE_LENGTH], token_hash=hash_token(secret)
    )
    db.session.add(token)
    db.session.flush()
    record_activity(actor, token, "api_token.create", comment=name)
    return token, secret


def revoke_token(actor, token: ApiToken) -> None:
    """Revoke one of the actor's tokens: from now on it answers 401."""
    if not token.can_revoke(actor):
        raise NotAllowed(_l("This token cannot be revoked."))
    token.revoked_at = utcnow()
    record_activity(actor, token, "api_token.revoke", comment=token.name)
    db.session.flush()


def bearer_token(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, or None without one."""
    scheme, _, value = (authorization or "").strip().partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def find_token(token: str | None) -> ApiToken | None:
    """The active token whose hash this is, of an active account; None for anything else."""
    if not token or not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    found = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(token)))
    if found is None or not found.active or not found.user.active:
        return None
    return found


def authenticate(token: str | None) -> ApiToken | None:
    """`find_token`, and note when the token was used (at most once per LAST_USED_PRECISION);
    flushes, the caller commits."""
    found = find_token(token)
    if found is None:
        return None
    now = utcnow()
    if found.last_used_at is None or now - found.last_used_at >= LAST_USED_PRECISION:
        found.last_used_at = now
        db.session.flush()
    return found
