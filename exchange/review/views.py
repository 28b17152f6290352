"""The coordinators' review of practices and ideas: queue, review page, decisions."""

from urllib.parse import parse_qsl, urlencode

from flask import (
    Blueprint,
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from exchange.access import get_or_404, is_coordinator, require
from exchange.actions import perform
from exchange.errors import ActionError, NotAllowed
from exchange.extensions import db, talisman
from exchange.forms import choices, show_error
from exchange.reference.countries import country_choices
from exchange.reference.services import all_programmes
from exchange.review import services
from exchange.review.diff import FIELD_LABELS, compare_revisions, revision_details
from exchange.review.forms import BulkDecisionForm, DecisionForm, QueueFilterForm
from exchange.submissions.models import Decision, Submission
from exchange.workflow import Kind, State, is_allowed, transition

bp = Blueprint("review", __name__)

DECISION_LABELS = {
    Decision.CHANGES_REQUESTED: _l("Changes requested"),
    Decision.PUBLISHED: _l("Approved and published"),
    Decision.REJECTED: _l("Not accepted"),
}
FILTER_NAMES = ("programme", "kind", "age", "country", "state")


@bp.context_processor
def _labels():
    return {
        "decision_labels": DECISION_LABELS,
        "age_in_days": services.age_in_days,
        "field_labels": FIELD_LABELS,
    }


# The queue -------------------------------------------------------------------------------------


def _filter_form(args) -> QueueFilterForm:
    form = QueueFilterForm(args)
    form.programme.choices = choices(
        [("", _("All programmes")), *((str(p.id), p.name) for p in all_programmes())]
    )
    form.country.choices = choices([("", _("All countries")), *country_choices()])
    return form


def _filters(form: QueueFilterForm) -> tuple[services.QueueFilters, dict]:
    """The filters to apply (those with a valid value), and them as URL parameters."""
    valid = {
        name: getattr(form, name).data
        for name in FILTER_NAMES
        if getattr(form, name).data and not getattr(form, name).errors
    }
    filters = services.QueueFilters(
        programme_id=int(valid["programme"]) if "programme" in valid else None,
        kind=Kind(valid["kind"]) if "kind" in valid else None,
        min_age_days=int(valid["age"]) if "age" in valid else None,
        country_code=valid.get("country"),
        state=State(valid["state"]) if "state" in valid else None,
    )
    return filters, valid


def _render_queue(args, bulk_form: BulkDecisionForm, status: int = 200):
    form = _filter_form(args)
    valid = form.validate()
    filters, filter_args = _filters(form)
    queue = services.review_queue(filters, page=args.get("page", 1, type=int))
    if not bulk_form.filters.data:
        bulk_form.filters.data = urlencode(filter_args)
    return (
        render_template(
            "review/queue.html",
            form=form,
            queue=queue,
            filter_args=filter_args,
            bulk_form=bulk_form,
            chosen=set(bulk_form.submission_ids.data or []),
        ),
        status if valid else 422,
    )


@bp.get("/")
@require(is_coordinator)
def queue():
    """Items waiting for a coordinator, oldest first, with filters and bulk decisions."""
    return _render_queue(request.args, BulkDecisionForm(formdata=None))


def _query_args(query_string: str | None) -> MultiDict:
    return MultiDict(parse_qsl(query_string or ""))


def _queue_url(filters: str | None) -> str:
    """Back to the queue with the filters it had; only known filter names are kept."""
    args = _query_args(filters)
    return url_for("review.queue", **{name: args[name] for name in FILTER_NAMES if args.get(name)})


@bp.post("/bulk")
@require(is_coordinator)
def bulk():
    """First POST: the confirmation page, listing what will be touched and what skipped.
    Second POST, with `confirm`: each listed item through the same service as one decision."""
    form = BulkDecisionForm()
    queue_args = _query_args(form.filters.data)
    if not form.validate_on_submit():
        return _render_queue(queue_args, form, 422)
    if form.confirm.data != "yes":
        try:
            plan = services.plan_bulk_decision(
                form.action.data, form.submission_ids.data, form.comment.data or ""
            )
        except ActionError as error:
            show_error(form, error)
            return _render_queue(queue_args, form, 422)
        return render_template(
            "review/confirm.html",
            plan=plan,
            form=form,
            action_label=transition(plan.action).label,
            queue_url=_queue_url(form.filters.data),
        )
    try:
        plan = services.run_bulk_decision(
            current_user, form.action.data, form.submission_ids.data, form.comment.data or ""
        )
    except NotAllowed:
        db.session.rollback()
        abort(403)
    except ActionError as error:
        db.session.rollback()
        flash(_("Nothing was changed: %(reason)s", reason=error.message), "danger")
        return redirect(_queue_url(form.filters.data))
    db.session.commit()
    flash(_bulk_summary(plan), "success" if plan.allowed else "warning")
    return redirect(_queue_url(form.filters.data))


def _bulk_summary(plan: services.BulkPlan) -> str:
    done = len(plan.allowed)
    message = {
        "start_review": ngettext(
            "You took %(num)d item for review.", "You took %(num)d items for review.", done
        ),
        "publish": ngettext(
            "%(num)d item is published; its authors are told.",
            "%(num)d items are published; their authors are told.",
            done,
        ),
        "request_changes": ngettext(
            "Changes are requested on %(num)d item; its authors are told.",
            "Changes are requested on %(num)d items; their authors are told.",
            done,
        ),
        "reject": ngettext(
            "%(num)d item is not accepted; its authors are told why.",
            "%(num)d items are not accepted; their authors are told why.",
            done,
        ),
    }[plan.action]
    if plan.skipped:
        message += " " + ngettext(
            "%(num)d item was skipped: its state no longer allows it.",
            "%(num)d items were skipped: their state no longer allows it.",
            len(plan.skipped),
        )
    return message


# The review page -------------------------------------------------------------------------------


def _render_review(
    submission: Submission,
    form: DecisionForm,
    status: int = 200,
    preview: list[services.EmailPreview] | None = None,
    preview_decision: str | None = None,
):
    revision = submission.working_revision
    base = services.last_reviewed_revision(submission)
    changes = compare_revisions(base, revision) if base is not None and base != revision else None
    return (
        render_template(
            "review/show.html",
            submission=submission,
            revision=revision,
            base=base,
            changes=changes,
            details=revision_details(revision),
            form=form,
            can_review=submission.can_review(current_user),
            can_start=is_allowed(submission.kind, submission.state, "start_review"),
            preview=preview,
            preview_decision=preview_decision,
            preview_labels=PREVIEW_LABELS,
        ),
        status,
    )


@bp.get("/<int:submission_id>")
@require(is_coordinator)
def show(submission_id: int):
    """The working revision in full, what changed since the last review, earlier reviews."""
    submission = get_or_404(Submission, submission_id)
    return _render_review(submission, DecisionForm(formdata=None))


def _decision_message(decision: str, title: str) -> str:
    return {
        "start_review": _("You are reviewing “%(title)s”.", title=title),
        "publish": _("“%(title)s” is published; its authors are told.", title=title),
        "request_changes": _(
            "Changes are requested on “%(title)s”; its authors are told.", title=title
        ),
        "reject": _("“%(title)s” is not accepted; its authors are told why.", title=title),
    }[decision]


@bp.post("/<int:submission_id>/<any(start_review, request_changes, publish, reject):decision>")
@require(is_coordinator)
def decide(submission_id: int, decision: str):
    """Take the item, or decide on it; the service checks the state and the comment."""
    submission = get_or_404(Submission, submission_id)
    form = DecisionForm()
    if form.validate_on_submit():
        done, _result = perform(
            services.decide,
            current_user,
            submission,
            decision,
            form.comment.data or "",
            note=form.note.data or "",
            form=form,
        )
        if done:
            flash(_decision_message(decision, submission.title), "success")
            if decision == "start_review":
                return redirect(url_for("review.show", submission_id=submission.id))
            return redirect(url_for("review.queue"))
    return _render_review(submission, form, 422)


PREVIEW_LABELS = {
    "publish": _l("Approve and publish"),
    "request_changes": _l("Request changes"),
    "reject": _l("Reject"),
}


def _preview(submission: Submission, decision: str):
    """The e-mails of the decision posted in the form: (form, previews), or (form, None) with
    the refusal beside its field."""
    form = DecisionForm()
    if not form.validate_on_submit():
        return form, None
    try:
        return form, services.preview_decision(
            current_user, submission, decision, form.comment.data or "", form.note.data or ""
        )
    except NotAllowed:
        db.session.rollback()
        abort(403)
    except ActionError as error:
        db.session.rollback()
        show_error(form, error)
        return form, None


@bp.post("/<int:submission_id>/preview/<any(request_changes, publish, reject):decision>")
@require(is_coordinator)
def preview_email(submission_id: int, decision: str):
    """The exact e-mails (subject, text, HTML) the authors would receive for this decision, with
    the comment and the note as typed. Nothing is saved and nothing is sent; the form keeps what
    was typed, to send the decision or change it."""
    submission = get_or_404(Submission, submission_id)
    form, previews = _preview(submission, decision)
    if previews is None:
        return _render_review(submission, form, 422)
    return _render_review(submission, form, preview=previews, preview_decision=decision)


@bp.post(
    "/<int:submission_id>/preview/<any(request_changes, publish, reject):decision>/<int:index>"
)
@require(is_coordinator)
# The e-mail's own markup, shown alone as a mail client would: no script at all, its inline
# styles allowed.
@talisman(
    content_security_policy={
        "default-src": "'none'",
        "style-src": "'unsafe-inline'",
        "img-src": "data:",
        "form-action": "'none'",
        "frame-ancestors": "'none'",
    }
)
def preview_email_html(submission_id: int, decision: str, index: int):
    """The HTML part of one previewed e-mail (the `index`-th recipient's), as it will be sent.
    Nothing is saved or sent."""
    submission = get_or_404(Submission, submission_id)
    form, previews = _preview(submission, decision)
    if previews is None:
        # Opened in a tab of its own, whose policy is the e-mail's: say why on the review page.
        errors = [*form.form_errors, *(error for field in form for error in field.errors)]
        flash(" ".join(str(error) for error in errors), "danger")
        return redirect(url_for("review.show", submission_id=submission.id))
    if index >= len(previews):
        abort(404)
    return make_response(previews[index].html)


# The dashboard ---------------------------------------------------------------------------------


@bp.get("/dashboard")
@require(is_coordinator)
def dashboard():
    """Counts per state, the queue's ages, the oldest items, and who reviews how many."""
    return render_template("review/dashboard.html", dashboard=services.coordinator_dashboard())
