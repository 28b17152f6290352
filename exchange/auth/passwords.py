"""Password hashing (argon2id) and the few rules a password must meet.

Following NIST SP 800-63B: at least 8 characters, no composition rules, and never one of the
passwords that people pick most often (zxcvbn's list of 30,000).
"""

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from zxcvbn.frequency_lists import FREQUENCY_LISTS

MIN_LENGTH = 8
MAX_LENGTH = 256


@cache
def _hasher_for(time_cost: int | None, memory_cost: int | None) -> PasswordHasher:
    # argon2id; the library's recommended parameters unless the settings say otherwise (the
    # test suite uses cheap ones so that it can create hundreds of accounts quickly).
    options = {}
    if time_cost:
        options["time_cost"] = time_cost
    if memory_cost:
        options["memory_cost"] = memory_cost
    return PasswordHasher(**options)


def _hasher() -> PasswordHasher:
    config = current_app.config
    return _hasher_for(config.get("ARGON2_TIME_COST"), config.get("ARGON2_MEMORY_COST"))


@cache
def _common_passwords() -> frozenset[str]:
    return frozenset(FREQUENCY_LISTS["passwords"])


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher().check_needs_rehash(password_hash)


def is_common(password: str) -> bool:
    return password.lower() in _common_passwords()


def dummy_hash() -> str:
    """A real hash to verify against when the account does not exist, so that the time taken
    does not tell whether an address has an account."""
    return _dummy_hash_for(_hasher())


@cache
def _dummy_hash_for(hasher: PasswordHasher) -> str:
    return hasher.hash("not a real password; only spends the same time")
