"""Running a service for a request: commit what it did, or roll back and say why not."""

from flask import abort, flash

from exchange.errors import ActionError, NotAllowed
from exchange.extensions import db
from exchange.forms import show_error


def perform(service, *args, form=None, **kwargs) -> tuple[bool, object]:
    """Call `service(*args, **kwargs)` and commit; returns (True, what the service returned).

    A refusal rolls back everything the service did: `NotAllowed` answers 403; any other
    `ActionError` is shown beside its field on `form`, or flashed when there is no form, and
    (False, None) is returned so that the view can show the form again.
    """
    try:
        result = service(*args, **kwargs)
    except NotAllowed:
        db.session.rollback()
        abort(403)
    except ActionError as error:
        db.session.rollback()
        if form is not None:
            show_error(form, error)
        else:
            flash(str(error.message), "danger")
        return False, None
    db.session.commit()
    return True, result
