"""Interest: a member tells the owners of a published practice or idea that their authority wants
to know more, and the owners answer. An interest is seen only by the item's owners and by the
authority that sent it."""

from dataclasses import dataclass, field

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from exchange.access import get_or_404, is_signed_in, require
from exchange.actions import perform
from exchange.errors import ActionError, NotAllowed
from exchange.extensions import db
from exchange.forms import show_error
from exchange.interests.forms import MAX_ANSWER, MAX_MESSAGE, AnswerForm, InterestForm
from exchange.submissions import services
from exchange.submissions.models import Interest, InterestStatus, Submission
from exchange.submissions.urls import item_url

bp = Blueprint("interests", __name__)


# Who may do what -------------------------------------------------------------------------------


def can_see_interest(user, interest: Interest) -> bool:
    """The owners of the item, and the authority that showed the interest."""
    return interest.submission.is_owner(user) or bool(
        is_signed_in(user) and user.authority_id == interest.authority_id
    )


def can_answer_interest(user, interest: Interest) -> bool:
    return interest.submission.is_owner(user)


def may_express_interest(user, submission: Submission) -> bool:
    """A member of another authority, with a confirmed address, about a public item (whether
    their authority already did is for the service to say)."""
    return (
        is_signed_in(user)
        and user.authority_id is not None
        and user.email_confirmed
        and submission.is_public
        and not submission.is_owner(user)
    )


def interest_of(authority_id: int | None, submission: Submission) -> Interest | None:
    if authority_id is None:
        return None
    return db.session.scalar(
        select(Interest).where(
            Interest.submission_id == submission.id, Interest.authority_id == authority_id
        )
    )


def interests_received(submission: Submission) -> list[Interest]:
    """Open ones first, then the newest."""
    return list(
        db.session.scalars(
            select(Interest)
            .where(Interest.submission_id == submission.id)
            .order_by(
                (Interest.status == InterestStatus.ANSWERED).asc(),
                Interest.created_at.desc(),
                Interest.id.desc(),
            )
        )
    )


# The panel on the item's page ------------------------------------------------------------------


@dataclass
class Panel:
    """What the interest panel shows to the current person.

    mode: "owner" (the interests received), "visitor" (an invitation to log in), "form",
    "sent" (their authority's interest and its answer), "unconfirmed", "no_authority", or None
    (nothing to show).
    """

    mode: str | None
    interests: list[Interest] = field(default_factory=list)
    own: Interest | None = None
    form: InterestForm | None = None


def interest_panel(submission: Submission, form: InterestForm | None = None) -> Panel:
    user = current_user
    if submission.is_owner(user):
        return Panel("owner", interests=interests_received(submission))
    if not submission.is_public:
        own = interest_of(getattr(user, "authority_id", None), submission)
        return Panel("sent", own=own) if own else Panel(None)
    if not is_signed_in(user):
        return Panel("visitor")
    if user.authority_id is None:
        return Panel("no_authority")
    own = interest_of(user.authority_id, submission)
    if own is not None:
        return Panel("sent", own=own)
    if not user.email_confirmed:
        return Panel("unconfirmed")
    return Panel("form", form=form or InterestForm(formdata=None))


def answer_form(interest: Interest, back: str = "item") -> AnswerForm:
    return AnswerForm(formdata=None, data={"answer": interest.answer or "", "back": back})


@bp.app_context_processor
def _helpers():
    return {
        "interest_panel": interest_panel,
        "interest_answer_form": answer_form,
        "interest_max_message": MAX_MESSAGE,
        "interest_max_answer": MAX_ANSWER,
    }


# Expressing interest ---------------------------------------------------------------------------


def _public_submission(submission_id: int) -> Submission:
    submission = get_or_404(Submission, submission_id)
    if not submission.can_view(current_user):
        abort(404)
    return submission


def _render_express(submission: Submission, form: InterestForm, status: int = 200):
    return (
        render_template("interests/express.html", submission=submission, interest_form=form),
        status,
    )


@bp.route("/express/<int:submission_id>", methods=["GET", "POST"])
@require(is_signed_in)
def express(submission_id: int):
    """Show interest in a published item: the owners are e-mailed the message."""
    submission = _public_submission(submission_id)
    form = InterestForm()
    if not form.is_submitted():
        return _render_express(submission, form)
    if not may_express_interest(current_user, submission):
        abort(403)
    if not form.validate():
        return _render_express(submission, form, 422)
    try:
        services.express_interest(current_user, submission, form.message.data)
    except NotAllowed:
        db.session.rollback()
        abort(403)
    except ActionError as error:
        db.session.rollback()
        show_error(form, error)
        return _render_express(submission, form, 422)
    try:
        db.session.commit()
    except IntegrityError:
        # Someone else of the same authority sent theirs at the same moment.
        db.session.rollback()
        show_error(form, ActionError(_("Your authority has already shown interest in this item.")))
        return _render_express(submission, form, 422)
    flash(_("Your message is sent: the owners are e-mailed and will answer you."), "success")
    return redirect(item_url(submission, _anchor="interest"))


# Reading and answering -------------------------------------------------------------------------


def _visible_interest(interest_id: int) -> Interest:
    interest = get_or_404(Interest, interest_id)
    if not can_see_interest(current_user, interest):
        abort(404)
    return interest


def _render_show(interest: Interest, form: AnswerForm | None, status: int = 200):
    return (
        render_template(
            "interests/show.html",
            interest=interest,
            submission=interest.submission,
            answer_form=form,
        ),
        status,
    )


@bp.get("/<int:interest_id>")
@require(is_signed_in)
def show(interest_id: int):
    interest = _visible_interest(interest_id)
    form = answer_form(interest) if can_answer_interest(current_user, interest) else None
    return _render_show(interest, form)


@bp.post("/<int:interest_id>/answer")
@require(is_signed_in)
def answer(interest_id: int):
    """An owner answers; the person who showed interest is e-mailed the answer."""
    interest = _visible_interest(interest_id)
    if not can_answer_interest(current_user, interest):
        abort(403)
    form = AnswerForm()
    if not form.validate_on_submit():
        return _render_show(interest, form, 422)
    done, _result = perform(
        services.answer_interest, current_user, interest, form.answer.data, form=form
    )
    if not done:
        return _render_show(interest, form, 422)
    flash(_("Your answer is sent to %(authority)s.", authority=interest.authority.name), "success")
    if form.back.data == "workspace":
        return redirect(url_for("workspace.index", _anchor="interests-received"))
    return redirect(item_url(interest.submission, _anchor="interest"))
