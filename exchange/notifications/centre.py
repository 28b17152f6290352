"""The notification centre, e-mail preferences, one-click unsubscribe, and the coordinators'
notification log (mounted at /notifications)."""

from urllib.parse import parse_qsl, urlencode

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from exchange.access import get_or_404, is_coordinator, is_signed_in, require
from exchange.actions import perform
from exchange.errors import ActionError
from exchange.extensions import csrf
from exchange.forms import EmptyForm, choices, show_error
from exchange.notifications import digests, inbox, log, preferences
from exchange.notifications.forms import (
    STATUS_LABELS,
    BulkResendForm,
    LogFilterForm,
    PreferencesForm,
)
from exchange.notifications.kinds import all_kinds, register_kinds
from exchange.notifications.models import Notification, NotificationStatus
from exchange.notifications.services import dispatch

bp = Blueprint("notifications", __name__)

LOG_FILTER_NAMES = ("recipient", "kind", "status", "date_from", "date_to")


@bp.record_once
def _register_own_kinds(state) -> None:
    # The digest and the closing notice belong to this feature: registered with it.
    register_kinds(*digests.KINDS)


@bp.app_context_processor
def _header():
    return {
        "unread_notification_count": lambda: inbox.safe_unread_count(current_user),
        # For the footer of the e-mails (rendered with the app's context processors).
        "unsubscribe_url": preferences.unsubscribe_url,
        "email_preferences_url": preferences.preferences_url,
    }


@bp.context_processor
def _labels():
    return {"kind_label": preferences.kind_label, "status_labels": STATUS_LABELS}


# The centre --------------------------------------------------------------------------------------


@bp.get("/")
@require(is_signed_in)
def index():
    """The person's notifications, newest first, unread ones marked."""
    unread_only = request.args.get("show") == "unread"
    page = inbox.inbox(
        current_user, page=request.args.get("page", 1, type=int), unread_only=unread_only
    )
    return render_template("notifications/index.html", page=page, unread_only=unread_only)


def _back_to_centre():
    args = {}
    if request.form.get("show") == "unread":
        args["show"] = "unread"
    if request.form.get("page", type=int):
        args["page"] = request.form.get("page", type=int)
    return redirect(url_for("notifications.index", **args))


@bp.post("/<int:notification_id>/read")
@require(is_signed_in)
def mark_read(notification_id: int):
    notification = get_or_404(Notification, notification_id)
    if notification.user_id != current_user.id:
        abort(404)  # another person's: not even its existence is shown
    if EmptyForm().validate_on_submit():
        perform(inbox.mark_read, current_user, notification)
    return _back_to_centre()


@bp.post("/read")
@require(is_signed_in)
def mark_all_read():
    if EmptyForm().validate_on_submit():
        done, count = perform(inbox.mark_all_read, current_user)
        if done and count:
            flash(
                ngettext(
                    "%(num)d notification is marked read.",
                    "%(num)d notifications are marked read.",
                    count,
                ),
                "success",
            )
    return _back_to_centre()


# Preferences -------------------------------------------------------------------------------------


def _preferences_form(submitted: bool) -> PreferencesForm:
    """The form as posted, or filled with the person's current choices."""
    if not submitted:
        form = PreferencesForm(
            formdata=None,
            email_kinds=[
                name
                for name in preferences.switchable_kinds()
                if name not in (current_user.email_muted_kinds or [])
            ],
            digest_frequency=current_user.digest_frequency.value,
        )
    else:
        form = PreferencesForm()
    form.email_kinds.choices = choices(
        (name, preferences.kind_label(name)) for name in preferences.switchable_kinds()
    )
    return form


def _render_preferences(form: PreferencesForm, status: int = 200):
    return (
        render_template(
            "notifications/preferences.html",
            form=form,
            groups=preferences.grouped_kinds(),
            chosen=set(form.email_kinds.data or []),
        ),
        status,
    )


@bp.get("/preferences")
@require(is_signed_in)
def edit_preferences():
    """Which e-mails the person receives, by feature, and how often the digest comes."""
    return _render_preferences(_preferences_form(submitted=False))


@bp.post("/preferences")
@require(is_signed_in)
def update_preferences():
    form = _preferences_form(submitted=True)
    if form.validate_on_submit():
        done, _result = perform(
            preferences.update_preferences,
            current_user,
            set(form.email_kinds.data or []),
            form.digest_frequency.data,
            form=form,
        )
        if done:
            flash(_("Your e-mail preferences are saved."), "success")
            return redirect(url_for("notifications.edit_preferences"))
    return _render_preferences(form, 422)


# One-click unsubscribe ---------------------------------------------------------------------------


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt  # the signed token is the proof; mail clients post here without a form (RFC 8058)
def unsubscribe(token: str):
    """GET: ask to confirm. POST (the confirmation page's button, or a mail client's one-click
    `List-Unsubscribe=One-Click`): stop e-mailing this kind to this person. No login needed;
    doing it twice changes nothing."""
    try:
        user, kind = preferences.read_unsubscribe_token(token)
    except preferences.UnsubscribeTokenError:
        return render_template("notifications/unsubscribe.html", invalid=True), 400
    if kind.mandatory:
        return render_template("notifications/unsubscribe.html", invalid=True), 400
    label = preferences.kind_label(kind.name)
    if request.method == "GET":
        return render_template(
            "notifications/unsubscribe.html",
            token=token,
            label=label,
            address=_masked(user.email),
            digest=kind.name == preferences.DIGEST_KIND,
            already=not preferences.is_emailed(user, kind.name),
        )
    perform(preferences.mute_kind, user, kind.name)
    return render_template(
        "notifications/unsubscribe.html",
        done=True,
        label=label,
        digest=kind.name == preferences.DIGEST_KIND,
    )


def _masked(address: str) -> str:
    """Enough of the address to recognise it, not enough to read it off a shared link."""
    local, _at, domain = address.partition("@")
    return f"{local[:1]}…@{domain}"


# The notification log ----------------------------------------------------------------------------


def _kind_choices():
    return choices(
        [
            ("", _("Any kind")),
            *sorted(
                ((kind.name, preferences.kind_label(kind.name)) for kind in all_kinds()),
                key=lambda pair: pair[1].lower(),
            ),
        ]
    )


def _log_filters(args) -> tuple[LogFilterForm, log.LogFilters, dict, bool]:
    form = LogFilterForm(args)
    form.kind.choices = _kind_choices()
    valid = form.validate()
    values = {
        name: getattr(form, name).data
        for name in LOG_FILTER_NAMES
        if getattr(form, name).data and not getattr(form, name).errors
    }
    filters = log.LogFilters(
        recipient=values.get("recipient", ""),
        kind=values.get("kind"),
        status=NotificationStatus(values["status"]) if "status" in values else None,
        date_from=values.get("date_from"),
        date_to=values.get("date_to"),
    )
    url_args = {
        name: value.isoformat() if hasattr(value, "isoformat") else value
        for name, value in values.items()
    }
    return form, filters, url_args, valid


def _render_log(args, bulk_form: BulkResendForm, status: int = 200):
    form, filters, url_args, valid = _log_filters(args)
    result = log.search_log(filters, page=args.get("page", 1, type=int))
    if not bulk_form.filters.data:
        bulk_form.filters.data = urlencode(url_args)
    return (
        render_template(
            "notifications/log.html",
            form=form,
            result=result,
            filter_args=url_args,
            bulk_form=bulk_form,
            chosen=set(bulk_form.notification_ids.data or []),
        ),
        status if valid else 422,
    )


def _log_url(query_string: str | None) -> str:
    """Back to the log with the search it had; only known filter names are kept."""
    args = MultiDict(parse_qsl(query_string or ""))
    return url_for(
        "notifications.show_log",
        **{name: args[name] for name in LOG_FILTER_NAMES if args.get(name)},
    )


@bp.get("/log")
@require(is_coordinator)
def show_log():
    """Every notification, newest first: search by recipient, kind, status and date."""
    return _render_log(request.args, BulkResendForm(formdata=None))


@bp.post("/log/<int:notification_id>/resend")
@require(is_coordinator)
def resend(notification_id: int):
    """Send one failed message again, once the change is committed."""
    notification = get_or_404(Notification, notification_id)
    if EmptyForm().validate_on_submit():
        done, _result = perform(log.resend_notification, current_user, notification)
        if done:
            dispatch([notification.id])
            flash(
                _("The message to %(address)s is sent again.", address=notification.to_address),
                "success",
            )
    return redirect(_log_url(request.form.get("filters")))


@bp.post("/log/resend")
@require(is_coordinator)
def bulk_resend():
    """First POST: the confirmation page, listing what will be sent again and what skipped.
    Second POST, with `confirm`: each listed message sent again."""
    form = BulkResendForm()
    log_args = MultiDict(parse_qsl(form.filters.data or ""))
    if not form.validate_on_submit():
        return _render_log(log_args, form, 422)
    if form.confirm.data != "yes":
        try:
            plan = log.plan_bulk_resend(form.notification_ids.data)
        except ActionError as error:
            show_error(form, error)
            return _render_log(log_args, form, 422)
        return render_template(
            "notifications/confirm_resend.html",
            plan=plan,
            form=form,
            log_url=_log_url(form.filters.data),
        )
    done, ids = perform(log.resend_notifications, current_user, form.notification_ids.data)
    if done:
        dispatch(ids)
        flash(
            ngettext(
                "%(num)d message is sent again.", "%(num)d messages are sent again.", len(ids)
            ),
            "success",
        )
    return redirect(_log_url(form.filters.data))
