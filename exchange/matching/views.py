"""The partners' side of a match: its page (what the other authority offers, why, the answers,
the stages, the history), and the forms to answer, record a stage and close.

A match is seen by its two authorities and by the coordinators; anyone else gets 404, as if it
did not exist. The other side's contacts appear only once both have accepted.
"""

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from exchange.access import get_or_404, is_signed_in, require
from exchange.actions import perform
from exchange.activity.services import activity_for
from exchange.extensions import db
from exchange.matching import services
from exchange.matching.forms import ACCEPT, AnswerForm, CloseForm, StageForm
from exchange.matching.models import (
    MATCH_STATUS_LABELS,
    STAGE_LABELS,
    STAGE_ORDER,
    Answer,
    Match,
    MatchStatus,
)
from exchange.matching.reasons import describe
from exchange.submissions.models import Submission

bp = Blueprint("matches", __name__)

# How each step reads in a match's history ("<who>: <what>").
HISTORY_LABELS = {
    "match.create": _l("proposed the match"),
    "match.accept": _l("accepted"),
    "match.decline": _l("declined"),
    "match.connect": _l("both accepted: introduced"),
    "match.remind": _l("reminded the authorities that have not answered"),
    "match.expire": _l("the match expired without both answers"),
    "match.report_stage": _l("recorded a stage"),
    "match.close": _l("closed the match"),
}

ANSWER_LABELS = {
    Answer.PENDING: _l("Not answered yet"),
    Answer.ACCEPTED: _l("Accepted"),
    Answer.DECLINED: _l("Declined"),
}


@bp.app_context_processor
def _labels():
    return {
        "match_status_labels": MATCH_STATUS_LABELS,
        "stage_labels": STAGE_LABELS,
        "match_answer_labels": ANSWER_LABELS,
    }


def _visible_match(match_id: int) -> Match:
    match = get_or_404(Match, match_id)
    if not match.can_view(current_user):
        abort(404)
    return match


def _who(entry, match: Match, side: str | None) -> str:
    """Who did a step, as the reader may know it: before the introduction, a member of the
    other side is only its authority's name."""
    actor = entry.actor
    if actor is None:
        return _("Exchange")
    if actor.is_coordinator and match.side_of(actor.authority_id) is None:
        return _("%(name)s (coordinator)", name=actor.name)
    actor_side = match.side_of(actor.authority_id)
    if (
        actor_side is not None
        and actor_side != side
        and not services.contacts_visible(current_user, match)
    ):
        authority = match.authority_a if actor_side == "a" else match.authority_b
        return authority.name
    return actor.name


def _history(match: Match, side: str | None) -> list[dict]:
    entries = []
    for entry in activity_for(match):
        label = HISTORY_LABELS.get(entry.action, entry.action)
        if entry.action == "match.report_stage" and entry.to_state:
            label = _("recorded a stage: %(stage)s", stage=STAGE_LABELS[entry.to_state])
        entries.append(
            {
                "when": entry.created_at,
                "who": _who(entry, match, side),
                "what": label,
                "comment": entry.comment,
            }
        )
    return entries


def _page(
    match: Match,
    *,
    answer_form: AnswerForm | None = None,
    stage_form: StageForm | None = None,
    close_form: CloseForm | None = None,
    status: int = 200,
):
    user = current_user
    side = match.side_of(user.authority_id) if match.is_party(user) else None
    if side is None:
        # A coordinator sees both authorities as they are.
        shown = [match.authority_a, match.authority_b]
    else:
        shown = [match.authority_b if side == "a" else match.authority_a]
    contacts_visible = services.contacts_visible(user, match)
    profiles = [
        {
            "authority": authority,
            "items": services.public_items(authority.id),
            "contacts": services.contacts(authority) if contacts_visible else None,
        }
        for authority in shown
    ]
    if match.can_answer(user) and answer_form is None:
        answer_form = AnswerForm(formdata=None)
    stages = services.next_stages(match)
    if match.can_report_stage(user) and stages:
        stage_form = stage_form or StageForm(formdata=None)
        stage_form.set_stages(stages)
    else:
        stage_form = None
    if not services.can_close(user, match):
        close_form = None
    elif close_form is None:
        close_form = CloseForm(formdata=None)
    submission = db.session.get(Submission, match.submission_id) if match.submission_id else None
    return (
        render_template(
            "matches/show.html",
            match=match,
            side=side,
            own=(match.authority_a if side == "a" else match.authority_b) if side else None,
            profiles=profiles,
            contacts_visible=contacts_visible,
            reasons=describe(match.reasons, match.authority_a.name, match.authority_b.name),
            answer_form=answer_form,
            stage_form=stage_form,
            close_form=close_form,
            stage_order=STAGE_ORDER,
            submission=submission if submission and submission.is_public else None,
            history=_history(match, side),
            closing_reason=services.closing_reason(match)
            if match.status == MatchStatus.CLOSED
            else None,
        ),
        status,
    )


@bp.get("/<int:match_id>")
@require(is_signed_in)
def show(match_id: int):
    """A match, for its two authorities and the coordinators."""
    return _page(_visible_match(match_id))


def _back(match: Match, anchor: str | None = None):
    return redirect(url_for("matches.show", match_id=match.id, _anchor=anchor))


@bp.post("/<int:match_id>/answer")
@require(is_signed_in)
def answer(match_id: int):
    """A member of one side accepts, or declines with a reason."""
    match = _visible_match(match_id)
    if not match.is_party(current_user):
        abort(403)
    form = AnswerForm()
    if not match.can_answer(current_user):
        if not current_user.email_confirmed:
            abort(403)
        flash(_("Your authority has already answered, or the match is no longer waiting."), "info")
        return _back(match)
    if not form.validate_on_submit():
        return _page(match, answer_form=form, status=422)
    accept = form.answer.data == ACCEPT
    done, _result = perform(
        services.answer_match, current_user, match, accept, form.reason.data or "", form=form
    )
    if not done:
        return _page(match, answer_form=form, status=422)
    other = (
        match.authority_b if match.side_of(current_user.authority_id) == "a" else match.authority_a
    )
    if not accept:
        flash(
            _("You declined the match. %(other)s and the coordinator are told.", other=other.name),
            "info",
        )
    elif match.status == MatchStatus.CONNECTED:
        flash(
            _("Both authorities have accepted: the contact details are below and in your e-mail."),
            "success",
        )
    else:
        flash(_("You accepted. %(other)s is asked to answer too.", other=other.name), "success")
    return _back(match)


@bp.post("/<int:match_id>/stage")
@require(is_signed_in)
def report_stage(match_id: int):
    """Either side of a connected match records the stage the cooperation has reached."""
    match = _visible_match(match_id)
    if not match.can_report_stage(current_user):
        abort(403)
    form = StageForm()
    form.set_stages(services.next_stages(match))
    if not form.validate_on_submit():
        return _page(match, stage_form=form, status=422)
    done, _result = perform(
        services.report_stage, current_user, match, form.stage.data, form.note.data or "", form=form
    )
    if not done:
        return _page(match, stage_form=form, status=422)
    flash(_("Stage recorded: %(stage)s.", stage=STAGE_LABELS[match.stage]), "success")
    return _back(match, "stage")


@bp.post("/<int:match_id>/close")
@require(is_signed_in)
def close(match_id: int):
    """A side ends a connected match, or a coordinator withdraws an open one."""
    match = _visible_match(match_id)
    if not services.can_close(current_user, match):
        abort(403)
    form = CloseForm()
    if not form.validate_on_submit():
        return _page(match, close_form=form, status=422)
    done, _result = perform(services.close_match, current_user, match, form.reason.data, form=form)
    if not done:
        return _page(match, close_form=form, status=422)
    flash(_("The match is closed."), "info")
    return _back(match)
