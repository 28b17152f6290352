"""Cross-border project ideas: writing, co-owners, closing, and the page of each idea."""

from flask import Blueprint, abort, flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from exchange.access import is_signed_in, require
from exchange.actions import perform
from exchange.authorities.models import Authority, AuthorityStatus
from exchange.extensions import db
from exchange.forms import EmptyForm, choices
from exchange.ideas.forms import IdeaForm, InviteCoOwnerForm
from exchange.reference.countries import country_name
from exchange.reference.services import all_border_areas
from exchange.submissions import services
from exchange.submissions.models import Submission
from exchange.submissions.urls import item_url
from exchange.submissions.views import (
    can_see,
    edit_item,
    is_authority_member,
    item_page,
    item_to_edit,
    item_to_view,
    new_item,
)
from exchange.workflow import Kind, State

bp = Blueprint("ideas", __name__)


@bp.route("/new", methods=["GET", "POST"])
@require(is_authority_member)
def new():
    return new_item(Kind.IDEA, IdeaForm(), "ideas/edit.html", border_areas=all_border_areas())


@bp.get("/<int:submission_id>")
def show(submission_id: int):
    submission = item_to_view(Kind.IDEA, submission_id)
    return _idea_page(submission, InviteCoOwnerForm(formdata=None))


@bp.route("/<int:submission_id>/edit", methods=["GET", "POST"])
@require(is_authority_member)
def edit(submission_id: int):
    submission = item_to_edit(Kind.IDEA, submission_id)
    return edit_item(submission, IdeaForm(), "ideas/edit.html", border_areas=all_border_areas())


# Co-owners -------------------------------------------------------------------------------------


def can_invite_co_owners(submission: Submission, user) -> bool:
    """The authority that wrote the idea invites, while the idea is a draft."""
    return (
        is_signed_in(user)
        and user.authority_id == submission.authority_id
        and submission.state in (State.DRAFT, State.CHANGES_REQUESTED)
    )


def _fill_invite_choices(form: InviteCoOwnerForm, submission: Submission) -> None:
    """Every verified authority that is not an owner or invited already."""
    taken = {submission.authority_id, *(c.authority_id for c in submission.co_owners)}
    authorities = db.session.scalars(
        select(Authority)
        .where(Authority.status == AuthorityStatus.VERIFIED, Authority.id.not_in(taken))
        .order_by(Authority.name, Authority.id)
    )
    form.authority.choices = choices(
        [
            ("", _("Choose an authority")),
            *((str(a.id), f"{a.name} ({country_name(a.country_code)})") for a in authorities),
        ]
    )


def _idea_page(submission: Submission, invite_form: InviteCoOwnerForm, code: int = 200):
    may_invite = can_invite_co_owners(submission, current_user)
    if may_invite:
        _fill_invite_choices(invite_form, submission)
    return item_page(
        submission,
        "ideas/show.html",
        code=code,
        invite_form=invite_form if may_invite else None,
    )


@bp.post("/<int:submission_id>/co-owners")
@require(is_signed_in)
def invite_co_owner(submission_id: int):
    submission = item_to_view(Kind.IDEA, submission_id)
    if not can_invite_co_owners(submission, current_user):
        abort(403)
    form = InviteCoOwnerForm()
    _fill_invite_choices(form, submission)
    if form.validate_on_submit():
        done, co_owner = perform(
            services.invite_co_owner,
            current_user,
            submission,
            int(form.authority.data),
            form.message.data or "",
            form=form,
        )
        if done:
            flash(
                _(
                    "%(name)s is invited; its members are e-mailed. The idea can go to review "
                    "once they have answered.",
                    name=co_owner.authority.name,
                ),
                "success",
            )
            return redirect(item_url(submission))
    return _idea_page(submission, form, code=422)


@bp.post("/<int:submission_id>/invitation/<any(accept, decline):answer>")
@require(is_signed_in)
def answer_invitation(submission_id: int, answer: str):
    """A member of the invited authority accepts or declines to co-own the idea."""
    submission = item_to_view(Kind.IDEA, submission_id)
    invitation = next(
        (c for c in submission.co_owners if c.authority_id == current_user.authority_id), None
    )
    if invitation is None or not current_user.email_confirmed:
        abort(403)
    if EmptyForm().validate_on_submit():
        done, _result = perform(
            services.answer_co_owner_invitation, current_user, invitation, accept=answer == "accept"
        )
        if done:
            if answer == "accept":
                flash(_("Your authority now co-owns this idea; you can edit it."), "success")
            else:
                flash(_("The invitation is declined; the idea's authors are told."), "info")
    if can_see(submission, current_user):
        return redirect(item_url(submission))
    return redirect(url_for("workspace.index"))
