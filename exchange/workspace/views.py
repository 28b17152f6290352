from flask import Blueprint, render_template
from flask_login import current_user

from exchange.access import is_signed_in, require
from exchange.workspace.services import workspace_for

bp = Blueprint("workspace", __name__)


@bp.get("/")
@require(is_signed_in)
def index():
    """A member's desk: their authority's items at every stage, the interests received and
    sent, and the invitations to co-own ideas. Coordinators find their dashboard from here."""
    return render_template("workspace/index.html", workspace=workspace_for(current_user))
