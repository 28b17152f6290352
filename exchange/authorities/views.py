from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from exchange.access import get_or_404, is_coordinator, is_signed_in, require
from exchange.actions import perform
from exchange.activity.services import activity_for
from exchange.authorities import services
from exchange.authorities.forms import JoinAnswerForm, ProfileForm, RejectionForm
from exchange.authorities.models import (
    KIND_LABELS,
    SIDE_LABELS,
    STATUS_LABELS,
    Authority,
    JoinRequest,
)
from exchange.directory.pages import directory_page
from exchange.directory.services import public_items
from exchange.errors import ActionError
from exchange.extensions import db
from exchange.forms import EmptyForm, choices, show_error
from exchange.reference.countries import country_choices, side_of, subdivision_choices
from exchange.reference.languages import language_choices
from exchange.reference.services import all_border_areas, all_programmes, all_theme_groups
from exchange.templating import LANGUAGE_NAMES

bp = Blueprint("authorities", __name__, url_prefix="/authorities")

PAGE_SIZE = 25


@bp.app_context_processor
def _labels():
    return {
        "kind_labels": KIND_LABELS,
        "status_labels": STATUS_LABELS,
        "side_labels": SIDE_LABELS,
    }


@bp.get("/")
def index():
    """The directory of verified authorities: search, filters, pages (exchange/directory)."""
    return directory_page(PAGE_SIZE)


@bp.get("/mine")
@require(is_signed_in)
def mine():
    if current_user.authority_id is None:
        return redirect(url_for("auth.account"))
    return redirect(url_for("authorities.show", authority_id=current_user.authority_id))


@bp.get("/<int:authority_id>")
def show(authority_id: int):
    authority = get_or_404(Authority, authority_id)
    if not authority.can_view(current_user):
        abort(404)  # an unverified authority is not known to outsiders
    return render_template(
        "authorities/show.html",
        authority=authority,
        can_edit=authority.can_edit(current_user),
        reject_form=RejectionForm(formdata=None),
        history=activity_for(authority) if authority.can_edit(current_user) else [],
        public_items=public_items(authority),
    )


def _authority_to_edit(authority_id: int) -> Authority:
    """The authority, if the current person may edit it: 404 when they may not even know it
    exists (an unverified authority), 403 otherwise."""
    authority = get_or_404(Authority, authority_id)
    if not authority.can_view(current_user):
        abort(404)
    if not authority.can_edit(current_user):
        abort(403)
    return authority


def _fill_profile_choices(form: ProfileForm) -> None:
    form.country_code.choices = choices(country_choices())
    form.subdivision_code.choices = choices(
        [("", _("None (national body)")), *subdivision_choices(form.country_code.data or "")]
    )
    form.description_language.choices = choices(LANGUAGE_NAMES.items())
    form.languages.choices = choices(language_choices())
    form.programmes.choices = choices((p.id, p.name) for p in all_programmes())
    form.themes.choices = [
        SelectChoice(theme.id, theme.label, optgroup=group.label)
        for group in all_theme_groups()
        for theme in group.themes
    ]
    form.border_areas.choices = choices((area.id, area.name) for area in all_border_areas())


@bp.route("/<int:authority_id>/edit", methods=["GET", "POST"])
@require(is_signed_in)
def edit(authority_id: int):
    authority = _authority_to_edit(authority_id)
    form = ProfileForm(obj=authority)
    if request.method == "GET":
        form.kind.data = authority.kind.value
        form.programmes.data = [p.id for p in authority.programmes]
        form.themes.data = [t.id for t in authority.themes]
        form.border_areas.data = [b.id for b in authority.border_areas]
        form.description_language.data = authority.description_language or current_user.language
    _fill_profile_choices(form)
    if form.validate_on_submit():
        changes = services.ProfileChanges(
            name=form.name.data,
            kind=form.kind.data,
            country_code=form.country_code.data,
            subdivision_code=form.subdivision_code.data or None,
            website=form.website.data or None,
            description=form.description.data or "",
            description_language=form.description_language.data,
            languages=form.languages.data,
            programme_ids=form.programmes.data,
            theme_ids=form.themes.data,
            border_area_ids=form.border_areas.data,
            match_capacity=form.match_capacity.data,
        )
        try:
            services.update_profile(current_user, authority, changes)
        except ActionError as error:
            db.session.rollback()
            show_error(form, error)
        else:
            db.session.commit()
            flash(_("The profile is saved."), "success")
            return redirect(url_for("authorities.show", authority_id=authority.id))
    groups = all_theme_groups()
    return (
        render_template(
            "authorities/edit.html", form=form, authority=authority, theme_groups=groups
        ),
        200 if not (form.errors or form.form_errors) else 422,
    )


@bp.get("/subdivisions")
def subdivisions():
    """The regions of a country, for the profile forms (JSON)."""
    country = request.args.get("country", "")
    if side_of(country) is None:
        return jsonify(error=_("Unknown country.")), 404
    return jsonify([{"code": code, "name": name} for code, name in subdivision_choices(country)])


# Membership ------------------------------------------------------------------------------------


@bp.get("/<int:authority_id>/members")
@require(is_signed_in)
def members(authority_id: int):
    authority = _authority_to_edit(authority_id)
    return render_template(
        "authorities/members.html",
        authority=authority,
        join_requests=services.join_requests_for(authority),
    )


@bp.post("/join-requests/<int:join_request_id>/<any(approve, reject):decision>")
@require(is_signed_in)
def answer_join_request(join_request_id: int, decision: str):
    join_request = get_or_404(JoinRequest, join_request_id)
    if not join_request.authority.can_edit(current_user):
        abort(403)
    form = JoinAnswerForm()
    if form.validate_on_submit():
        done, _result = perform(
            services.decide_join_request,
            current_user,
            join_request,
            approve=decision == "approve",
            reason=form.reason.data or "",  # None when the form has no reason field
        )
        if done:
            if decision == "approve":
                flash(_("%(name)s is now a member.", name=join_request.user.name), "success")
            else:
                flash(_("The request is declined."), "info")
    return redirect(url_for("authorities.members", authority_id=join_request.authority_id))


# Verification ----------------------------------------------------------------------------------


@bp.get("/verification")
@require(is_coordinator)
def verification_queue():
    return render_template(
        "authorities/verification.html",
        authorities=services.verification_queue(),
        reject_form=RejectionForm(formdata=None),
    )


@bp.post("/<int:authority_id>/verify")
@require(is_coordinator)
def verify(authority_id: int):
    authority = get_or_404(Authority, authority_id)
    if EmptyForm().validate_on_submit():
        try:
            services.verify_authority(current_user, authority)
        except ActionError as error:
            db.session.rollback()
            flash(str(error.message), "danger")
        else:
            db.session.commit()
            flash(_("%(name)s is verified; its members are told.", name=authority.name), "success")
    return redirect(url_for("authorities.verification_queue"))


@bp.post("/<int:authority_id>/reject")
@require(is_coordinator)
def reject(authority_id: int):
    authority = get_or_404(Authority, authority_id)
    form = RejectionForm()
    if not form.validate_on_submit():
        return (
            render_template(
                "authorities/verification.html",
                authorities=services.verification_queue(),
                reject_form=form,
                rejecting=authority,
            ),
            422,
        )
    try:
        services.reject_authority(current_user, authority, form.reason.data)
    except ActionError as error:
        db.session.rollback()
        flash(str(error.message), "danger")
    else:
        db.session.commit()
        flash(_("%(name)s is not accepted; its members are told why.", name=authority.name), "info")
    return redirect(url_for("authorities.verification_queue"))
