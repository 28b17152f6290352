"""Personal API tokens: what a member's scripts use to read their authority's drafts and matches.

Only a hash of the token is kept. The token itself is shown once, when it is created; a short
prefix of it stays visible so that its owner can tell their tokens apart. A leaked database
therefore gives nobody a usable token.
"""

import hashlib
from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from exchange.auth.models import User
from exchange.database import UTCDateTime, utcnow
from exchange.extensions import db

# Every token starts with this, so that secret scanners and people recognise one.
TOKEN_PREFIX = "exch_"  # noqa: S105  # nosec B105  # a prefix, not a secret
# How much of the token stays visible: the fixed prefix and a few random characters.
VISIBLE_LENGTH = len(TOKEN_PREFIX) + 8
MAX_NAME_LENGTH = 100


def hash_token(token: str) -> str:
    """The SHA-256 of a token, in hex: what the database keeps and looks tokens up by.

    A plain hash is enough: the token is 256 random bits, not a password that could be guessed,
    so no slow hash is needed to protect it."""
    return hashlib.sha256(token.encode()).hexdigest()


class ApiToken(db.Model):
    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(MAX_NAME_LENGTH))
    prefix: Mapped[str] = mapped_column(String(VISIBLE_LENGTH))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Updated at most once a minute (see exchange.api.services.authenticate).
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()

    __table_args__ = (db.CheckConstraint("length(token_hash) = 64", name="hash_length"),)

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def can_revoke(self, user) -> bool:
        """Its owner revokes it; nobody else sees it."""
        return bool(user and user.is_authenticated and user.id == self.user_id) and self.active

    def __repr__(self) -> str:
        return f"<ApiToken {self.id} {self.prefix}…>"
