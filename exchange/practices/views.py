"""Good practices: writing, editing and the page of each practice."""

from flask import Blueprint

from exchange.access import require
from exchange.practices.forms import PracticeForm
from exchange.submissions.views import (
    edit_item,
    is_authority_member,
    item_page,
    item_to_edit,
    item_to_view,
    new_item,
)
from exchange.workflow import Kind

bp = Blueprint("practices", __name__)


@bp.route("/new", methods=["GET", "POST"])
@require(is_authority_member)
def new():
    return new_item(Kind.PRACTICE, PracticeForm(), "practices/edit.html")


@bp.get("/<int:submission_id>")
def show(submission_id: int):
    return item_page(item_to_view(Kind.PRACTICE, submission_id), "practices/show.html")


@bp.route("/<int:submission_id>/edit", methods=["GET", "POST"])
@require(is_authority_member)
def edit(submission_id: int):
    submission = item_to_edit(Kind.PRACTICE, submission_id)
    return edit_item(submission, PracticeForm(), "practices/edit.html")
