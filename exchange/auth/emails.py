"""The account e-mails: what each needs to be written, in the recipient's language."""

from flask import current_app, url_for

from exchange.auth import services
from exchange.notifications.kinds import NotificationKind


def _confirm_email(notification) -> dict:
    token = services.confirmation_token(notification.user)
    return {
        "confirm_url": url_for("auth.confirm_email", token=token, _external=True),
        "valid_days": current_app.config["EMAIL_CONFIRM_MAX_AGE"] // 86400,
    }


def _reset_password(notification) -> dict:
    token = services.password_reset_token(notification.user)
    return {
        "reset_url": url_for("auth.reset_password", token=token, _external=True),
        "forgot_url": url_for("auth.forgot_password", _external=True),
        "valid_hours": current_app.config["PASSWORD_RESET_MAX_AGE"] // 3600,
    }


def _confirm_email_change(notification) -> dict:
    token = services.email_change_token(notification.user, notification.payload["new_email"])
    return {
        "confirm_url": url_for("auth.confirm_email_change", token=token, _external=True),
        "new_email": notification.payload["new_email"],
        "valid_hours": current_app.config["EMAIL_CHANGE_MAX_AGE"] // 3600,
    }


KINDS = (
    NotificationKind(
        "auth.confirm_email", "email/auth/confirm_email", _confirm_email, mandatory=True
    ),
    NotificationKind(
        "auth.reset_password", "email/auth/reset_password", _reset_password, mandatory=True
    ),
    NotificationKind(
        "auth.confirm_email_change",
        "email/auth/confirm_email_change",
        _confirm_email_change,
        mandatory=True,
    ),
)
