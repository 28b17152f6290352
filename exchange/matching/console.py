"""The coordinators' brokerage console: the engine's proposals (filters, approve with a personal
note or dismiss, one by one or in bulk behind a confirmation page), a match made by hand with the
engine's explanation first, previews of the offer e-mails, the pipeline board with the outcome
funnel, and a programme's pairing round. Also the theme suggestions that the profile, practice
and idea forms ask for while their authors write (any signed-in person).

Every change goes through the brokerage services; nothing is changed by a GET or by the first
POST of a bulk action or a round, which only shows what the second one will do.
"""

import logging
from urllib.parse import parse_qsl, urlencode

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import format_decimal, format_percent, ngettext
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.datastructures import MultiDict
from wtforms.fields.choices import SelectChoice

from exchange.access import get_or_404, is_coordinator, is_signed_in, require
from exchange.actions import perform
from exchange.authorities.models import Authority
from exchange.database import utcnow
from exchange.errors import ActionError, NotAllowed
from exchange.extensions import db, limiter, talisman
from exchange.forms import EmptyForm, as_id, choices, show_error
from exchange.matching import console_services as console
from exchange.matching import services
from exchange.matching.forms import (
    ApproveForm,
    BulkProposalForm,
    DismissForm,
    MatchByHandForm,
    PairingConfirmForm,
    PairingForm,
    ProposalFilterForm,
)
from exchange.matching.models import Match, Proposal, ProposalStatus
from exchange.matching.reasons import describe
from exchange.matching.tasks import score_chunk
from exchange.reference.countries import country_choices
from exchange.reference.models import Programme
from exchange.reference.services import all_programmes, all_theme_groups
from exchange.submissions.models import Submission
from exchange.workflow import KIND_LABELS as ITEM_KIND_LABELS

log = logging.getLogger(__name__)

bp = Blueprint("brokerage", __name__)

FILTER_NAMES = ("programme", "country", "sides", "min_score", "theme", "sort")
# Long enough for a profile or a practice's summary and problem; the form fields are longer,
# but the first words say what a text is about.
SUGGESTION_TEXT_MAX = 20_000
# The e-mail's own markup, shown alone as a mail client would: no script at all, its inline
# styles allowed.
EMAIL_CSP = {
    "default-src": "'none'",
    "style-src": "'unsafe-inline'",
    "img-src": "data:",
    "form-action": "'none'",
    "frame-ancestors": "'none'",
}


def score_text(value) -> str:
    return format_decimal(value or 0, format="0.00")


@bp.context_processor
def _helpers():
    return {
        "score_text": score_text,
        "format_percent": format_percent,
        "format_decimal": format_decimal,
        "waiting_for": console.waiting_for,
        "days_since": console.days_since,
    }


def _query_args(query_string: str | None) -> MultiDict:
    return MultiDict(parse_qsl(query_string or ""))


def _list_url(filters: str | None, **extra) -> str:
    """Back to the proposals with the filters they had; only known filter names are kept."""
    args = _query_args(filters)
    kept = {name: args[name] for name in (*FILTER_NAMES, "page") if args.get(name)}
    return url_for("brokerage.proposals", **kept, **extra)


# The proposals -----------------------------------------------------------------------------------


def _filter_form(args) -> ProposalFilterForm:
    form = ProposalFilterForm(args)
    form.programme.choices = choices(
        [("", _("All programmes")), *((str(p.id), p.name) for p in all_programmes())]
    )
    form.country.choices = choices([("", _("All countries")), *country_choices()])
    form.theme.choices = [
        SelectChoice("", _("All themes")),
        *(
            SelectChoice(str(theme.id), theme.label, optgroup=group.label)
            for group in all_theme_groups()
            for theme in group.themes
        ),
    ]
    return form


def _filters(form: ProposalFilterForm) -> tuple[console.ProposalFilters, dict]:
    """The filters to apply (those with a valid value), and them as URL parameters."""
    valid = {}
    for name in FILTER_NAMES:
        field = getattr(form, name)
        if field.data not in (None, "") and not field.errors:
            valid[name] = str(field.data)
    if valid.get("sort") == "score":
        del valid["sort"]  # the default
    filters = console.ProposalFilters(
        programme_id=int(valid["programme"]) if "programme" in valid else None,
        country_code=valid.get("country"),
        pair_sides=valid.get("sides"),
        min_score=float(valid["min_score"]) if "min_score" in valid else None,
        theme_id=int(valid["theme"]) if "theme" in valid else None,
        sort=valid.get("sort", "score"),
    )
    return filters, valid


def _render_proposals(args, bulk_form: BulkProposalForm, status: int = 200):
    form = _filter_form(args)
    valid = form.validate()
    filters, filter_args = _filters(form)
    page = console.proposal_list(filters, page=args.get("page", 1, type=int))
    if not bulk_form.filters.data:
        query = dict(filter_args)
        if page.page > 1:
            query["page"] = page.page
        bulk_form.filters.data = urlencode(query)
    run = console.last_run()
    return (
        render_template(
            "brokerage/proposals.html",
            form=form,
            page=page,
            filter_args=filter_args,
            bulk_form=bulk_form,
            chosen=set(bulk_form.proposal_ids.data or []),
            run=run,
            run_by=console.run_starter(run),
            running=services.run_in_progress(),
            run_form=EmptyForm(formdata=None),
        ),
        status if valid else 422,
    )


@bp.get("/")
@require(is_coordinator)
def proposals():
    """The engine's proposals waiting for a coordinator, with filters, single and bulk
    decisions, and the last matching run."""
    return _render_proposals(request.args, BulkProposalForm(formdata=None))


def _render_proposal(
    proposal: Proposal,
    form: ApproveForm,
    status: int = 200,
    previews: list[console.EmailPreview] | None = None,
):
    match = (
        db.session.scalar(db.select(Match).where(Match.proposal_id == proposal.id))
        if proposal.status == ProposalStatus.APPROVED
        else None
    )
    profiles = [
        {"authority": authority, "items": services.public_items(authority.id), "contacts": None}
        for authority in (proposal.authority_a, proposal.authority_b)
    ]
    return (
        render_template(
            "brokerage/proposal.html",
            proposal=proposal,
            reasons=describe(
                proposal.reasons, proposal.authority_a.name, proposal.authority_b.name
            ),
            profiles=profiles,
            form=form,
            dismiss_form=DismissForm(formdata=None, filters=form.filters.data),
            match=match,
            previews=previews,
            preview_urls=[
                url_for("brokerage.preview_approval_html", proposal_id=proposal.id, index=i)
                for i in range(len(previews or ()))
            ],
        ),
        status,
    )


@bp.get("/proposals/<int:proposal_id>")
@require(is_coordinator)
def proposal(proposal_id: int):
    """One proposal: both authorities as the public sees them, why, and the decision."""
    found = get_or_404(Proposal, proposal_id)
    form = ApproveForm(formdata=None, filters=request.args.get("filters", ""))
    return _render_proposal(found, form)


@bp.post("/proposals/<int:proposal_id>/approve")
@require(is_coordinator)
def approve(proposal_id: int):
    """Turn the proposal into a match: both sides are e-mailed, with the note."""
    found = get_or_404(Proposal, proposal_id)
    form = ApproveForm()
    if form.validate_on_submit():
        first, second = found.authority_a.name, found.authority_b.name
        done, _match = perform(
            services.approve_proposal, current_user, found, form.note.data or "", form=form
        )
        if done:
            flash(
                _(
                    "Match offered to %(first)s and %(second)s: each is e-mailed in its "
                    "language and asked to accept.",
                    first=first,
                    second=second,
                ),
                "success",
            )
            return redirect(_list_url(form.filters.data))
    return _render_proposal(found, form, 422)


@bp.post("/proposals/<int:proposal_id>/dismiss")
@require(is_coordinator)
def dismiss(proposal_id: int):
    """The pair is not proposed again."""
    found = get_or_404(Proposal, proposal_id)
    form = DismissForm()
    if not form.validate_on_submit():
        abort(400)
    first, second = found.authority_a.name, found.authority_b.name
    done, _result = perform(services.dismiss_proposal, current_user, found)
    if done:
        flash(
            _(
                "Proposal dismissed: %(first)s and %(second)s will not be proposed again.",
                first=first,
                second=second,
            ),
            "info",
        )
    return redirect(_list_url(form.filters.data))


def _preview_approval(found: Proposal):
    """(form, previews) of the approval posted, or (form, None) with the refusal beside its
    field."""
    form = ApproveForm()
    if not form.validate_on_submit():
        return form, None
    try:
        return form, console.preview_approval(current_user, found, form.note.data or "")
    except NotAllowed:
        abort(403)
    except ActionError as error:
        show_error(form, error)
        return form, None


@bp.post("/proposals/<int:proposal_id>/preview")
@require(is_coordinator)
def preview_approval(proposal_id: int):
    """The exact offer e-mails each side would receive, in its language, with the note as
    typed. Nothing is saved and nothing is sent; the note stays in the form."""
    found = get_or_404(Proposal, proposal_id)
    form, previews = _preview_approval(found)
    if previews is None:
        return _render_proposal(found, form, 422)
    return _render_proposal(found, form, previews=previews)


@bp.post("/proposals/<int:proposal_id>/preview/<int:index>")
@require(is_coordinator)
@talisman(content_security_policy=EMAIL_CSP)
def preview_approval_html(proposal_id: int, index: int):
    """The HTML part of one previewed offer (the `index`-th recipient's). Nothing is saved or
    sent."""
    found = get_or_404(Proposal, proposal_id)
    form, previews = _preview_approval(found)
    if previews is None:
        _flash_form_errors(form)
        return redirect(url_for("brokerage.proposal", proposal_id=found.id))
    if index >= len(previews):
        abort(404)
    return make_response(previews[index].html)


def _flash_form_errors(form) -> None:
    """Opened in a tab of its own, whose policy is the e-mail's: say why on the page."""
    errors = [*form.form_errors, *(error for field in form for error in field.errors)]
    flash(" ".join(str(error) for error in errors), "danger")


@bp.post("/bulk")
@require(is_coordinator)
def bulk():
    """First POST: the confirmation page, listing what will be touched and what skipped, and
    why. Second POST, with `confirm`: each listed proposal through the single-decision
    service."""
    form = BulkProposalForm()
    list_args = _query_args(form.filters.data)
    if not form.validate_on_submit():
        return _render_proposals(list_args, form, 422)
    note = form.bulk_note.data or ""
    if form.confirm.data != "yes":
        try:
            plan = console.plan_proposal_decisions(form.action.data, form.proposal_ids.data, note)
        except ActionError as error:
            show_error(form, error)
            return _render_proposals(list_args, form, 422)
        return render_template(
            "brokerage/confirm.html", plan=plan, form=form, list_url=_list_url(form.filters.data)
        )
    try:
        plan = console.decide_proposals(
            current_user, form.action.data, form.proposal_ids.data, note
        )
    except NotAllowed:
        db.session.rollback()
        abort(403)
    except ActionError as error:
        db.session.rollback()
        flash(_("Nothing was changed: %(reason)s", reason=error.message), "danger")
        return redirect(_list_url(form.filters.data))
    db.session.commit()
    flash(_bulk_summary(plan), "success" if plan.allowed else "warning")
    return redirect(_list_url(form.filters.data))


def _bulk_summary(plan: console.Plan) -> str:
    done = len(plan.allowed)
    if plan.action == "approve":
        message = ngettext(
            "%(num)d proposal approved: both sides of its match are e-mailed.",
            "%(num)d proposals approved: both sides of each match are e-mailed.",
            done,
        )
    else:
        message = ngettext(
            "%(num)d proposal dismissed: the pair will not be proposed again.",
            "%(num)d proposals dismissed: the pairs will not be proposed again.",
            done,
        )
    if plan.skipped:
        message += " " + ngettext(
            "%(num)d was skipped (see why on the confirmation page).",
            "%(num)d were skipped (see why on the confirmation page).",
            len(plan.skipped),
        )
    return message


@bp.post("/run")
@require(is_coordinator)
def run_matching():
    """Start a full matching run in the workers, unless one is in progress."""
    form = EmptyForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        run = console.start_matching_run(current_user)
    except NotAllowed:
        db.session.rollback()
        abort(403)
    except ActionError as error:
        db.session.rollback()
        flash(error.message, "info")
        return redirect(url_for("brokerage.proposals"))
    db.session.commit()  # other requests and workers see the run in progress
    policy = current_app.config["CELERY_PUBLISH_RETRY_POLICY"]
    try:
        for index in range(run.chunks_total):
            score_chunk.apply_async((run.id, index), retry=True, retry_policy=policy)
    except Exception:
        log.warning("could not hand a matching run to the workers", exc_info=True)
        # Recorded as finished with parts missing (it failed), so that it holds nothing up.
        run.finished_at = utcnow()
        db.session.commit()
        flash(
            _("The workers could not be reached: nothing was computed. Try again in a moment."),
            "danger",
        )
        return redirect(url_for("brokerage.proposals"))
    flash(
        ngettext(
            "Matching started (run %(run)d, %(num)d part for the workers): the proposals are "
            "refreshed when it finishes. Reload this page to see them.",
            "Matching started (run %(run)d, %(num)d parts for the workers): the proposals are "
            "refreshed when it finishes. Reload this page to see them.",
            run.chunks_total,
            run=run.id,
        ),
        "success",
    )
    return redirect(url_for("brokerage.proposals"))


# Matching by hand --------------------------------------------------------------------------------


def _match_form(**kwargs) -> MatchByHandForm:
    form = MatchByHandForm(**kwargs)
    authorities = [SelectChoice("", _("Choose…"))] + [
        SelectChoice(authority_id, label) for authority_id, label in console.authority_choices()
    ]
    form.authority_a.choices = authorities
    form.authority_b.choices = list(authorities)
    form.submission.choices = [SelectChoice("", _("None: about the two authorities"))] + [
        SelectChoice(
            item.id,
            f"{item.published_revision.title} ({ITEM_KIND_LABELS[item.kind]})",
            optgroup=item.authority.name,
        )
        for item in console.public_items_of_verified()
    ]
    return form


def _chosen(form: MatchByHandForm):
    """The authorities and the item the form names, with an error beside a field whose id
    names nothing."""
    found = {}
    for name, model in (
        ("authority_a", Authority),
        ("authority_b", Authority),
        ("submission", Submission),
    ):
        field = getattr(form, name)
        found[name] = db.session.get(model, field.data) if field.data is not None else None
        if field.data is not None and found[name] is None:
            field.errors = [*field.errors, _("Choose from the list.")]
    return found["authority_a"], found["authority_b"], found["submission"]


def _pair_key(first, second) -> str:
    return f"{first.id}-{second.id}" if first and second else ""


def _render_match_form(
    form: MatchByHandForm,
    status: int = 200,
    *,
    first=None,
    second=None,
    explanation=None,
    checked: bool = False,
    previews=None,
):
    proposal = console.pending_proposal(first, second) if first and second else None
    dismissed = console.dismissed_proposal(first, second) if first and second else None
    return (
        render_template(
            "brokerage/new_match.html",
            form=form,
            first=first,
            second=second,
            explanation=explanation,
            checked=checked,
            pending=proposal,
            dismissed=dismissed,
            previews=previews,
            preview_urls=[
                url_for("brokerage.preview_match_html", index=i) for i in range(len(previews or ()))
            ],
        ),
        status,
    )


def _checked_form(*, render_previews: bool):
    """Validate the posted pair, explain it, and run the service without keeping anything:
    (form, first, second, explanation, previews or None, ok)."""
    form = _match_form()
    if not form.validate_on_submit():
        first, second, _item = _chosen(form)
        return form, first, second, None, None, False
    first, second, submission = _chosen(form)
    if form.errors:
        return form, first, second, None, None, False
    explanation = console.explain_pair(first, second)
    try:
        previews = console.preview_new_match(
            current_user,
            first,
            second,
            note=form.note.data or "",
            submission=submission,
            same_side=form.same_side.data,
            render=render_previews,
        )
    except NotAllowed:
        abort(403)
    except ActionError as error:
        show_error(form, error)
        return form, first, second, explanation, None, False
    form.checked.data = _pair_key(first, second)
    return form, first, second, explanation, previews, True


@bp.get("/match")
@require(is_coordinator)
def new_match():
    """Choose two verified authorities to match by hand (?a=…&b=… fills them in)."""
    form = _match_form(formdata=None)
    form.authority_a.data = request.args.get("a", type=as_id)
    form.authority_b.data = request.args.get("b", type=as_id)
    return _render_match_form(form)


@bp.post("/match")
@require(is_coordinator)
def check_match():
    """The engine's score and reasons for the chosen pair, and whether it can be matched
    (refusals beside their fields); nothing is saved."""
    form, first, second, explanation, _previews, ok = _checked_form(render_previews=False)
    return _render_match_form(
        form, 200 if ok else 422, first=first, second=second, explanation=explanation, checked=ok
    )


@bp.post("/match/preview")
@require(is_coordinator)
def preview_match():
    """The exact offer e-mails each side would receive. Nothing is saved or sent."""
    form, first, second, explanation, previews, ok = _checked_form(render_previews=True)
    return _render_match_form(
        form,
        200 if ok else 422,
        first=first,
        second=second,
        explanation=explanation,
        checked=ok,
        previews=previews if ok else None,
    )


@bp.post("/match/preview/<int:index>")
@require(is_coordinator)
@talisman(content_security_policy=EMAIL_CSP)
def preview_match_html(index: int):
    """The HTML part of one previewed offer (the `index`-th recipient's)."""
    form, _first, _second, _explanation, previews, ok = _checked_form(render_previews=True)
    if not ok:
        _flash_form_errors(form)
        return redirect(url_for("brokerage.new_match"))
    if index >= len(previews):
        abort(404)
    return make_response(previews[index].html)


@bp.post("/match/create")
@require(is_coordinator)
def create_match():
    """Create the match that was explained: both sides are e-mailed. A pair other than the one
    explained is explained first."""
    form = _match_form()
    if not form.validate_on_submit():
        first, second, _item = _chosen(form)
        return _render_match_form(form, 422, first=first, second=second)
    first, second, submission = _chosen(form)
    if form.errors:
        return _render_match_form(form, 422, first=first, second=second)
    if form.checked.data != _pair_key(first, second):
        form, first, second, explanation, _previews, ok = _checked_form(render_previews=False)
        if ok:
            flash(_("Here is what the engine says of this pair: create the match if it suits."))
        return _render_match_form(
            form,
            200 if ok else 422,
            first=first,
            second=second,
            explanation=explanation,
            checked=ok,
        )
    done, match = perform(
        services.create_match,
        current_user,
        first,
        second,
        note=form.note.data or "",
        submission=submission,
        same_side=form.same_side.data,
        form=form,
    )
    if not done:
        explanation = console.explain_pair(first, second)
        return _render_match_form(form, 422, first=first, second=second, explanation=explanation)
    flash(
        _(
            "Match offered to %(first)s and %(second)s: each is e-mailed in its language and "
            "asked to accept.",
            first=match.authority_a.name,
            second=match.authority_b.name,
        ),
        "success",
    )
    return redirect(url_for("matches.show", match_id=match.id))


# The pipeline board ------------------------------------------------------------------------------


@bp.get("/pipeline")
@require(is_coordinator)
def pipeline():
    """Counts and ages per column of the brokerage, the oldest items of each, and the outcome
    funnel after the introduction."""
    return render_template(
        "brokerage/pipeline.html", columns=console.pipeline(), funnel=console.funnel()
    )


# The pairing round -------------------------------------------------------------------------------


def _pairing_form(args) -> PairingForm:
    form = PairingForm(args)
    form.programme.choices = [SelectChoice("", _("Choose…"))] + [
        SelectChoice(p.id, p.name) for p in all_programmes()
    ]
    return form


def _render_round(form: PairingForm, confirm_form: PairingConfirmForm, status: int = 200):
    round_ = None
    if form.programme.data is not None and not form.programme.errors:
        programme = db.session.get(Programme, form.programme.data)
        round_ = console.pairing_round(programme)
        confirm_form.programme.data = str(programme.id)
    return render_template(
        "brokerage/pairing.html", form=form, round=round_, confirm_form=confirm_form
    ), status


@bp.get("/pairing")
@require(is_coordinator)
def pairing():
    """A programme's pairing round: each participating authority gets partners within its
    remaining capacity, the total score as high as possible; shown beside the greedy total.
    Nothing is created here."""
    form = _pairing_form(request.args)
    status = 200
    if "programme" in request.args and not form.validate():
        status = 422
    return _render_round(form, PairingConfirmForm(formdata=None), status)


@bp.post("/pairing")
@require(is_coordinator)
def pairing_confirm():
    """First POST: the confirmation page, listing the matches the round will create and the
    pairs skipped, and why. Second POST, with `confirm`: the matches are created."""
    form = PairingConfirmForm()
    round_form = _pairing_form(MultiDict({"programme": form.programme.data or ""}))
    round_form.validate()
    programme = db.session.get(Programme, round_form.programme.data or 0)
    if programme is None:
        flash(_("Choose a programme first."), "danger")
        return redirect(url_for("brokerage.pairing"))
    if not form.validate_on_submit():
        return _render_round(round_form, form, 422)
    note = form.note.data or ""
    if form.confirm.data != "yes":
        try:
            plan = console.plan_round(form.pairs.data, note)
        except ActionError as error:
            show_error(form, error)
            return _render_round(round_form, form, 422)
        return render_template(
            "brokerage/pairing_confirm.html", plan=plan, form=form, programme=programme
        )
    try:
        plan, made = console.create_round_matches(current_user, form.pairs.data, note)
    except NotAllowed:
        db.session.rollback()
        abort(403)
    except ActionError as error:
        db.session.rollback()
        flash(_("Nothing was created: %(reason)s", reason=error.message), "danger")
        return redirect(url_for("brokerage.pairing", programme=programme.id))
    db.session.commit()
    message = ngettext(
        "The round created %(num)d match: both sides are e-mailed.",
        "The round created %(num)d matches: both sides of each are e-mailed.",
        len(made),
    )
    if plan.skipped:
        message += " " + ngettext(
            "%(num)d pair was skipped.", "%(num)d pairs were skipped.", len(plan.skipped)
        )
    flash(message, "success" if made else "warning")
    return redirect(url_for("brokerage.pipeline"))


# Theme suggestions (for every signed-in person) --------------------------------------------------


@bp.app_template_global("theme_hint")
def theme_hint(texts, language: str | None = None) -> list[str]:
    """The labels of the themes some texts are about (for a form shown again without any theme
    ticked: a hint that needs no script)."""
    text = "\n".join(t for t in texts if isinstance(t, str) and t.strip())[:SUGGESTION_TEXT_MAX]
    if language not in current_app.config["LANGUAGES"]:
        language = None
    return [item["label"] for item in console.theme_suggestions(text, language)]


@bp.get("/theme-suggestions")
@require(is_signed_in)
@limiter.limit("60 per minute")
def theme_suggestions():
    """The themes a text is about (?text=…&language=en|es|pt; without a language all three are
    tried), best first, as JSON: [{code, id, label, score}], labels in the reader's language."""
    text = request.args.get("text", "")
    language = request.args.get("language") or None
    if language is not None and language not in current_app.config["LANGUAGES"]:
        return jsonify(error=_("Choose English, Spanish or Portuguese.")), 400
    if len(text) > SUGGESTION_TEXT_MAX:
        return jsonify(
            error=_(
                "The text is too long: send at most %(max)d characters.", max=SUGGESTION_TEXT_MAX
            )
        ), 400
    return jsonify(console.theme_suggestions(text, language))
