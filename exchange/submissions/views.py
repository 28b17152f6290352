"""The owners' side of practices and ideas alike: the state changes they make (blueprint
"submissions", at /items), and the writing, editing and item pages that the practices and ideas
blueprints share."""

from flask import Blueprint, abort, flash, redirect, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from exchange.access import get_or_404, is_coordinator, is_signed_in, require
from exchange.actions import perform
from exchange.activity.services import activity_for
from exchange.forms import EmptyForm
from exchange.submissions import services
from exchange.submissions.models import (
    BUDGET_LABELS,
    CoOwner,
    CoOwnerStatus,
    Decision,
    Submission,
)
from exchange.submissions.urls import item_url
from exchange.workflow import TRANSITIONS, Actor, Kind, State, is_allowed

bp = Blueprint("submissions", __name__)

# The transitions the owners make themselves, with their services. Coordinators' decisions are
# taken on the review pages.
OWNER_ACTIONS = {"submit": services.submit, "archive": services.archive, "close": services.close}

DONE_MESSAGES = {
    "submit": _l("It is sent for review. You will receive an e-mail when the coordinators decide."),
    "archive": _l("It is archived: it has left the catalogue, and its page stays."),
    "close": _l("The idea is closed to new partners."),
}

DECISION_LABELS = {
    Decision.CHANGES_REQUESTED: _l("Changes requested"),
    Decision.PUBLISHED: _l("Approved and published"),
    Decision.REJECTED: _l("Rejected"),
}

# Where each field that review needs is on the form (the links of the status panel).
FIELD_ANCHORS = {"theme_ids": "themes", "border_area_id": "border_area"}


def is_authority_member(user) -> bool:
    """Only people who work for an authority write practices and ideas."""
    return is_signed_in(user) and user.authority_id is not None


# Finding the item ------------------------------------------------------------------------------


def invitation_for(submission: Submission, user) -> CoOwner | None:
    """The invitation to co-own this idea that the user's authority has not answered yet."""
    if not is_signed_in(user) or user.authority_id is None:
        return None
    return next(
        (
            c
            for c in submission.co_owners
            if c.authority_id == user.authority_id and c.status == CoOwnerStatus.INVITED
        ),
        None,
    )


def can_see(submission: Submission, user) -> bool:
    """The model's rule, plus the members of an invited authority: they read the draft they are
    asked to co-own before answering."""
    return submission.can_view(user) or invitation_for(submission, user) is not None


def item_to_view(kind: Kind, submission_id: int) -> Submission:
    """The item, or 404 for people who may not know it exists (another authority's draft)."""
    submission = get_or_404(Submission, submission_id)
    if submission.kind != kind or not can_see(submission, current_user):
        abort(404)
    return submission


def item_to_edit(kind: Kind, submission_id: int) -> Submission:
    """The item if the current person may edit it now: 404 as above, 403 if they see it only."""
    submission = item_to_view(kind, submission_id)
    if not submission.can_edit(current_user):
        abort(403)
    return submission


# Writing and editing ---------------------------------------------------------------------------


def _form_page(template: str, form, submission: Submission | None, **context):
    status = 422 if (form.errors or form.form_errors) else 200
    return render_template(template, form=form, submission=submission, **context), status


def new_item(kind: Kind, form, template: str, **context):
    """The form for a new draft; a valid one is saved and its page shown."""
    if request.method == "GET" and current_user.language in services.LANGUAGES:
        form.language.data = current_user.language
    form.fill_choices()
    if form.validate_on_submit():
        done, submission = perform(
            services.create_submission, current_user, kind, form.content(), form=form
        )
        if done:
            flash(_("The draft is saved. Complete it and submit it for review."), "success")
            return redirect(item_url(submission))
    return _form_page(template, form, None, **context)


def edit_item(submission: Submission, form, template: str, **context):
    """The form for the working revision; saving a published item starts a new revision."""
    was_published = submission.state == State.PUBLISHED
    if request.method == "GET":
        form.load(submission.working_revision)
    form.fill_choices()
    if form.validate_on_submit():
        done, revision = perform(
            services.save_content, current_user, submission, form.content(), form=form
        )
        if done:
            if was_published:
                flash(
                    _(
                        "Your changes are saved as version %(number)d. The published version "
                        "stays visible until the new one is approved: submit it for review "
                        "when it is ready.",
                        number=revision.number,
                    ),
                    "success",
                )
            else:
                flash(_("The changes are saved."), "success")
            return redirect(item_url(submission))
    return _form_page(
        template, form, submission, latest_review=_latest_review(submission), **context
    )


# The item page ---------------------------------------------------------------------------------


def _latest_review(submission: Submission):
    return submission.reviews[-1] if submission.reviews else None


def _review_to_show(submission: Submission):
    """The comment the owners must read now: changes requested, or a rejection (also of a new
    version of a published item, which leaves the published one in place)."""
    review = _latest_review(submission)
    if review is None or review.decision == Decision.PUBLISHED:
        return None
    if submission.state in (State.CHANGES_REQUESTED, State.REJECTED):
        return review
    if submission.state == State.PUBLISHED and review.decision == Decision.REJECTED:
        return review
    return None


def _may_take(submission: Submission, user, name: str) -> bool:
    """Who the table lets make the transition (the services check again)."""
    actor = TRANSITIONS[name].actor
    if submission.is_owner(user):
        return actor in (Actor.OWNER, Actor.OWNER_OR_COORDINATOR)
    return actor == Actor.OWNER_OR_COORDINATOR and is_coordinator(user)


def _submit_blockers(submission: Submission, user) -> list[str]:
    """Why the owner cannot submit yet, besides empty fields (the service says the same)."""
    reasons = []
    if not submission.authority.is_verified:
        reasons.append(
            _("Your authority is not verified yet: you can prepare drafts, not submit them.")
        )
    if not user.email_confirmed:
        reasons.append(_("Confirm your e-mail address before submitting."))
    if any(c.status == CoOwnerStatus.INVITED for c in submission.co_owners):
        reasons.append(_("Every invited co-owner must answer before the idea goes to review."))
    return reasons


def _status(submission: Submission, user) -> dict:
    """What the status panel shows to owners and coordinators."""
    actions = [
        (name, TRANSITIONS[name].label)
        for name in OWNER_ACTIONS
        if is_allowed(submission.kind, submission.state, name) and _may_take(submission, user, name)
    ]
    missing, blockers = {}, []
    if any(name == "submit" for name, _label in actions):
        missing = services.missing_for_submission(submission)
        blockers = _submit_blockers(submission, user)
        if missing or blockers:
            actions = [(name, label) for name, label in actions if name != "submit"]
    return {
        "actions": actions,
        "missing": [(FIELD_ANCHORS.get(name, name), message) for name, message in missing.items()],
        "blockers": blockers,
        "review": _review_to_show(submission),
    }


def item_page(submission: Submission, template: str, code: int = 200, **context):
    """The page of a practice or an idea. The public sees the published revision; owners and
    coordinators see the working one (and can switch to the published one), with the status,
    the buttons they may press and the history."""
    user = current_user
    sees_working = submission.can_view_working(user)
    invitation = invitation_for(submission, user)
    published = submission.published_revision
    working = submission.working_revision
    wants_published = request.args.get("version") == "published"
    if (sees_working or invitation) and not (wants_published and published):
        revision = working
    else:
        revision = published
    history, reviews = [], []
    if sees_working:
        history = list(reversed(activity_for(submission)))
        reviews = list(reversed(submission.reviews))
    authority_names = {c.authority_id: c.authority.name for c in submission.co_owners}
    return (
        render_template(
            template,
            submission=submission,
            revision=revision,
            published=published,
            working=working,
            sees_working=sees_working,
            showing_published=revision is not None
            and revision.id == submission.published_revision_id,
            may_edit=submission.can_edit(user),
            # For the attachments: they are changed on the working revision only.
            can_edit=submission.can_edit(user) and revision is working,
            is_owner=submission.is_owner(user),
            status=_status(submission, user) if sees_working else None,
            invitation=invitation,
            history=history,
            reviews=reviews,
            authority_names=authority_names,
            decision_labels=DECISION_LABELS,
            budget_labels=BUDGET_LABELS,
            **context,
        ),
        code,
    )


# The owners' transitions -----------------------------------------------------------------------


@bp.post(f"/<int:submission_id>/<any({', '.join(OWNER_ACTIONS)}):name>")
@require(is_signed_in)
def change_state(submission_id: int, name: str):
    """Submit, archive or close: refusals show the service's message and change nothing."""
    submission = get_or_404(Submission, submission_id)
    if not submission.can_view(current_user):
        abort(404)
    if not _may_take(submission, current_user, name):
        abort(403)
    if EmptyForm().validate_on_submit():
        done, _result = perform(OWNER_ACTIONS[name], current_user, submission)
        if done:
            flash(str(DONE_MESSAGES[name]), "success")
    return redirect(item_url(submission))
