"""Failed log-ins, counted per account and per client address in the limiter's shared storage.

Only failures count, so a person who signs in correctly is never slowed down; the storage is Redis
in production, so that every web process sees the same counts.
"""

from flask import current_app
from limits import parse

from exchange.extensions import limiter


def _limits():
    config = current_app.config
    return (
        (parse(config["LOGIN_LIMIT_PER_ACCOUNT"]), "login-account"),
        (parse(config["LOGIN_LIMIT_PER_ADDRESS"]), "login-address"),
    )


def _keys(email: str, address: str | None) -> tuple[str, str]:
    return email.strip().lower(), address or "unknown"


def login_allowed(email: str, address: str | None) -> bool:
    strategy = limiter.limiter
    account, client = _keys(email, address)
    (account_limit, account_scope), (address_limit, address_scope) = _limits()
    return strategy.test(account_limit, account_scope, account) and strategy.test(
        address_limit, address_scope, client
    )


def record_failed_login(email: str, address: str | None) -> None:
    strategy = limiter.limiter
    account, client = _keys(email, address)
    (account_limit, account_scope), (address_limit, address_scope) = _limits()
    strategy.hit(account_limit, account_scope, account)
    strategy.hit(address_limit, address_scope, client)
