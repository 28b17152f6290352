from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from exchange.access import is_signed_in, require
from exchange.auth import services
from exchange.auth.forms import (
    AccountForm,
    ChangeEmailForm,
    ChangePasswordForm,
    ForgotPasswordForm,
    LoginForm,
    RegistrationForm,
    ResetPasswordForm,
)
from exchange.auth.tokens import TokenError
from exchange.authorities.services import joinable_authorities, pending_join_request
from exchange.errors import ActionError
from exchange.extensions import db, limiter
from exchange.forms import EmptyForm, choices, show_error
from exchange.i18n import current_language
from exchange.main.views import safe_next
from exchange.reference.countries import country_choices, country_name, subdivision_choices

bp = Blueprint("auth", __name__)

TOKEN_MESSAGES = {
    "expired": lambda: _("This link has expired. Ask for a new one below."),
    "used": lambda: _("This link has already been used."),
    "invalid": lambda: _("This link is not valid. Check that you copied all of it."),
}


def _fill_place_choices(form) -> None:
    form.country_code.choices = choices([("", _("Choose…")), *country_choices()])
    country = form.country_code.data
    form.subdivision_code.choices = choices(
        [("", _("None (national body)")), *(subdivision_choices(country) if country else [])]
    )


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit("20 per hour", methods=["POST"])
def register():
    if current_user.is_authenticated:
        return redirect(url_for("auth.account"))
    form = RegistrationForm()
    if request.method == "GET":
        form.language.data = current_language()
    _fill_place_choices(form)
    form.join_authority.choices = choices(
        [
            (0, _("Choose…")),
            *((a.id, f"{a.name} ({country_name(a.country_code)})") for a in joinable_authorities()),
        ]
    )
    if form.validate_on_submit():
        new_authority = None
        if form.mode.data == "new":
            new_authority = services.NewAuthority(
                name=form.authority_name.data,
                kind=form.kind.data,
                country_code=form.country_code.data,
                subdivision_code=form.subdivision_code.data or None,
                website=form.website.data or None,
            )
        registration = services.Registration(
            name=form.name.data,
            email=form.email.data,
            password=form.password.data,
            language=form.language.data,
            new_authority=new_authority,
            join_authority_id=form.join_authority.data if form.mode.data == "join" else None,
            join_message=form.join_message.data or "",
        )
        try:
            user = services.register(registration)
        except ActionError as error:
            db.session.rollback()
            show_error(form, error)
        else:
            services.log_in(user)
            db.session.commit()
            flash(
                _(
                    "Welcome! We sent a link to %(email)s: open it to confirm your address.",
                    email=user.email,
                ),
                "success",
            )
            return redirect(url_for("auth.account"))
    return render_template("auth/register.html", form=form), 200 if not form.errors else 422


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = services.authenticate(form.email.data, form.password.data, request.remote_addr)
        except ActionError as error:
            db.session.commit()  # the failed attempt is counted; nothing else changed
            show_error(form, error)
        else:
            services.log_in(user, remember=form.remember.data)
            db.session.commit()
            return redirect(safe_next(request.args.get("next"), url_for("auth.account")))
    status = 200 if not (form.errors or form.form_errors) else 422
    return render_template("auth/login.html", form=form), status


@bp.post("/logout")
@require(is_signed_in)
def logout():
    if EmptyForm().validate_on_submit():
        services.log_out(current_user._get_current_object())
        db.session.commit()
        flash(_("You are logged out."), "info")
    return redirect(url_for("main.index"))


@bp.get("/confirm/<token>")
def confirm_email(token: str):
    try:
        user = services.confirm_email(token)
    except TokenError as error:
        db.session.rollback()
        flash(TOKEN_MESSAGES[error.reason](), "danger")
        return redirect(url_for("auth.account" if current_user.is_authenticated else "auth.login"))
    db.session.commit()
    flash(_("Thank you: your address %(email)s is confirmed.", email=user.email), "success")
    return redirect(url_for("auth.account" if current_user.is_authenticated else "auth.login"))


@bp.post("/account/confirmation")
@limiter.limit("5 per hour")
@require(is_signed_in)
def resend_confirmation():
    if EmptyForm().validate_on_submit():
        try:
            services.resend_confirmation(current_user)
        except ActionError as error:
            flash(str(error.message), "info")
        else:
            db.session.commit()
            flash(_("We sent a new link to %(email)s.", email=current_user.email), "success")
    return redirect(url_for("auth.account"))


@bp.route("/password/forgot", methods=["GET", "POST"])
@limiter.limit("10 per hour", methods=["POST"])
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        services.request_password_reset(form.email.data)
        db.session.commit()
        # The same answer whether or not the address has an account.
        flash(
            _(
                "If %(email)s has an account, a link to choose a new password is on its way. "
                "It works for two hours.",
                email=form.email.data,
            ),
            "info",
        )
        return redirect(url_for("auth.login"))
    return render_template("auth/forgot_password.html", form=form)


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    try:
        services.user_for_reset_token(token)
    except TokenError as error:
        flash(TOKEN_MESSAGES[error.reason](), "danger")
        return redirect(url_for("auth.forgot_password"))
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            services.reset_password(token, form.password.data)
        except ActionError as error:
            db.session.rollback()
            show_error(form, error)
        else:
            db.session.commit()
            flash(_("Your password is changed. Log in with the new one."), "success")
            return redirect(url_for("auth.login"))
    return render_template("auth/reset_password.html", form=form), 200 if not form.errors else 422


@bp.get("/account")
@require(is_signed_in)
def account():
    account_form = AccountForm(obj=current_user)
    return _render_account(account_form=account_form)


def _render_account(status: int = 200, **forms):
    forms.setdefault("account_form", AccountForm(obj=current_user, formdata=None))
    forms.setdefault("password_form", ChangePasswordForm(prefix="password", formdata=None))
    forms.setdefault("email_form", ChangeEmailForm(prefix="email", formdata=None))
    return (
        render_template(
            "auth/account.html",
            join_request=pending_join_request(current_user),
            **forms,
        ),
        status,
    )


@bp.post("/account")
@require(is_signed_in)
def update_account():
    form = AccountForm()
    if not form.validate_on_submit():
        return _render_account(422, account_form=form)
    services.update_account(current_user, name=form.name.data, language=form.language.data)
    db.session.commit()
    response = redirect(url_for("auth.account"))
    flash(_("Your account is saved."), "success")
    return response


@bp.post("/account/password")
@require(is_signed_in)
def change_password():
    form = ChangePasswordForm(prefix="password")
    if form.validate_on_submit():
        try:
            services.change_password(
                current_user._get_current_object(),
                form.current_password.data,
                form.new_password.data,
            )
        except ActionError as error:
            db.session.rollback()
            show_error(form, error)
        else:
            db.session.commit()
            flash(_("Your password is changed. Other devices have been logged out."), "success")
            return redirect(url_for("auth.account"))
    return _render_account(422, password_form=form)


@bp.post("/account/email")
@limiter.limit("10 per hour")
@require(is_signed_in)
def change_email():
    form = ChangeEmailForm(prefix="email")
    if form.validate_on_submit():
        try:
            services.request_email_change(
                current_user._get_current_object(), form.current_password.data, form.new_email.data
            )
        except ActionError as error:
            db.session.rollback()
            show_error(form, error)
        else:
            db.session.commit()
            flash(
                _(
                    "We sent a link to %(email)s. Your address changes when you open it.",
                    email=form.new_email.data,
                ),
                "info",
            )
            return redirect(url_for("auth.account"))
    return _render_account(422, email_form=form)


@bp.get("/account/email/<token>")
def confirm_email_change(token: str):
    try:
        user = services.confirm_email_change(token)
    except TokenError as error:
        db.session.rollback()
        flash(TOKEN_MESSAGES[error.reason](), "danger")
    except ActionError as error:
        db.session.rollback()
        flash(str(error.message), "danger")
    else:
        db.session.commit()
        flash(_("Your address is now %(email)s.", email=user.email), "success")
    return redirect(url_for("auth.account" if current_user.is_authenticated else "auth.login"))
