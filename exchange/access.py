"""Named access predicates for views; the services check the same rules again."""

from collections.abc import Callable
from functools import wraps

from flask import abort
from flask_login import current_user

from exchange.extensions import db, login_manager


def is_signed_in(user) -> bool:
    return bool(user and user.is_authenticated)


def is_coordinator(user) -> bool:
    return is_signed_in(user) and user.is_coordinator


def is_admin(user) -> bool:
    return is_signed_in(user) and user.is_admin


def require(predicate: Callable[[object], bool]):
    """Let the view run only for people the predicate accepts: others sign in or get 403."""

    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if not predicate(current_user):
                abort(403)
            return view(*args, **kwargs)

        wrapper.access_predicate = predicate
        return wrapper

    return decorator


def get_or_404(model, object_id: int):
    obj = db.session.get(model, object_id)
    if obj is None:
        abort(404)
    return obj
