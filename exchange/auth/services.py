"""Account actions. Each takes the acting person explicitly, changes the rows, logs the change,
queues the notifications and flushes; the caller (request, task or command) commits once."""

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from flask_login import login_user, logout_user

from exchange.activity.services import record_activity
from exchange.auth import passwords, tokens
from exchange.auth.models import Role, User, find_user_by_email
from exchange.auth.throttle import login_allowed, record_failed_login
from exchange.authorities import services as authority_services
from exchange.database import utcnow
from exchange.errors import ActionError, NotAllowed
from exchange.extensions import db
from exchange.notifications.services import queue_notification


@dataclass(frozen=True)
class NewAuthority:
    name: str
    kind: str
    country_code: str
    subdivision_code: str | None
    website: str | None


@dataclass(frozen=True)
class Registration:
    name: str
    email: str
    password: str
    language: str
    new_authority: NewAuthority | None = None
    join_authority_id: int | None = None
    join_message: str = ""


def _check_email_free(email: str, field: str = "email") -> None:
    if find_user_by_email(email) is not None:
        raise ActionError(
            _l("An account with this address already exists. Log in, or reset your password."),
            field=field,
        )


def check_new_password(password: str, *, email: str | None = None, field: str = "password") -> None:
    """Refuse a password that is too short, too long, common, or the e-mail address itself."""
    if len(password) < passwords.MIN_LENGTH:
        raise ActionError(
            _l("Use at least %(count)d characters.", count=passwords.MIN_LENGTH), field=field
        )
    if len(password) > passwords.MAX_LENGTH:
        raise ActionError(
            _l("Use at most %(count)d characters.", count=passwords.MAX_LENGTH), field=field
        )
    if passwords.is_common(password) or (email and password.strip().lower() == email.lower()):
        raise ActionError(
            _l("This password is too common and easy to guess. Choose another."), field=field
        )


def create_user(
    *,
    email: str,
    name: str,
    password: str,
    language: str = "en",
    role: Role = Role.MEMBER,
    authority=None,
    confirmed: bool = False,
) -> User:
    """A new account; the address is unconfirmed unless `confirmed` (CLI and demo data only)."""
    email = email.strip().lower()
    _check_email_free(email)
    check_new_password(password, email=email)
    user = User(
        email=email,
        name=name.strip(),
        password_hash=passwords.hash_password(password),
        language=language,
        role=role,
        authority=authority,
        email_confirmed_at=utcnow() if confirmed else None,
    )
    db.session.add(user)
    db.session.flush()
    return user


def register(registration: Registration) -> User:
    """Create an account with a new authority (pending verification) or a request to join one.

    The person is sent a confirmation link. A join request reaches the authority's members only
    once the address is confirmed.
    """
    if (registration.new_authority is None) == (registration.join_authority_id is None):
        raise ActionError(_l("Choose whether to register a new authority or join one."))
    user = create_user(
        email=registration.email,
        name=registration.name,
        password=registration.password,
        language=registration.language,
    )
    record_activity(user, user, "user.register")
    if registration.new_authority is not None:
        new = registration.new_authority
        authority = authority_services.create_authority(
            user,
            name=new.name,
            kind=new.kind,
            country_code=new.country_code,
            subdivision_code=new.subdivision_code,
            website=new.website,
            languages=[registration.language],
        )
        user.authority = authority
    else:
        authority_services.request_to_join(
            user, registration.join_authority_id, registration.join_message
        )
    queue_notification(user, "auth.confirm_email")
    db.session.flush()
    return user


def confirm_email(token: str) -> User:
    """Mark the address in the token as confirmed. The token works once."""
    data = tokens.read_token(tokens.CONFIRM_EMAIL, token)
    user = db.session.get(User, data.get("user")) if isinstance(data.get("user"), int) else None
    if user is None or data.get("email") != tokens.fingerprint(user.email):
        raise tokens.TokenError("invalid")
    if user.email_confirmed:
        raise tokens.TokenError("used")
    user.email_confirmed_at = utcnow()
    record_activity(user, user, "user.confirm_email")
    authority_services.announce_pending_join_request(user)
    db.session.flush()
    return user


def confirmation_token(user: User) -> str:
    return tokens.make_token(
        tokens.CONFIRM_EMAIL, {"user": user.id, "email": tokens.fingerprint(user.email)}
    )


def resend_confirmation(user: User) -> None:
    if user.email_confirmed:
        raise ActionError(_l("Your address is already confirmed."))
    queue_notification(user, "auth.confirm_email")


def authenticate(email: str, password: str, client_address: str | None) -> User:
    """The active account with this address and password, or ActionError (the same for every
    failure, so the answer never tells whether an address has an account)."""
    if not login_allowed(email, client_address):
        raise ActionError(
            _l("Too many failed attempts. Wait a few minutes, or reset your password.")
        )
    user = find_user_by_email(email)
    valid = passwords.verify_password(
        user.password_hash if user else passwords.dummy_hash(), password
    )
    if user is None or not valid or not user.active:
        record_failed_login(email, client_address)
        raise ActionError(_l("This address and password do not match an account."))
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
    return user


def log_in(user: User, remember: bool = False) -> None:
    user.last_login_at = utcnow()
    login_user(user, remember=remember)


def log_out(user: User) -> None:
    """End the session everywhere: every copy of the cookie stops working."""
    user.rotate_session_token()
    logout_user()


def request_password_reset(email: str) -> None:
    """Send a reset link if the address has an active account; do nothing visible otherwise."""
    user = find_user_by_email(email)
    if user is not None and user.active:
        queue_notification(user, "auth.reset_password")


def password_reset_token(user: User) -> str:
    return tokens.make_token(
        tokens.RESET_PASSWORD, {"user": user.id, "pw": tokens.fingerprint(user.password_hash)}
    )


def user_for_reset_token(token: str) -> User:
    data = tokens.read_token(tokens.RESET_PASSWORD, token)
    user = db.session.get(User, data.get("user")) if isinstance(data.get("user"), int) else None
    if user is None or not user.active:
        raise tokens.TokenError("invalid")
    if data.get("pw") != tokens.fingerprint(user.password_hash):
        raise tokens.TokenError("used")
    return user


def reset_password(token: str, new_password: str) -> User:
    """Set a new password from a reset link; the link then stops working, and so do sessions."""
    user = user_for_reset_token(token)
    _set_password(user, new_password)
    # Following the link proves the address.
    if not user.email_confirmed:
        user.email_confirmed_at = utcnow()
    record_activity(user, user, "user.reset_password")
    db.session.flush()
    return user


def _set_password(user: User, new_password: str) -> None:
    check_new_password(new_password, email=user.email)
    user.password_hash = passwords.hash_password(new_password)
    user.rotate_session_token()


def _reauthenticate(user: User, password: str, field: str = "current_password") -> None:
    if not passwords.verify_password(user.password_hash, password):
        raise ActionError(_l("Your current password is not correct."), field=field)


def change_password(user: User, current_password: str, new_password: str) -> None:
    """Change the password after checking the current one; other sessions are signed out."""
    _reauthenticate(user, current_password)
    _set_password(user, new_password)
    record_activity(user, user, "user.change_password")
    db.session.flush()
    # This browser stays signed in with the new session token.
    login_user(user)


def request_email_change(user: User, current_password: str, new_email: str) -> None:
    """Send a link to the new address; the account changes only when that link is followed."""
    _reauthenticate(user, current_password)
    new_email = new_email.strip().lower()
    if new_email == user.email:
        raise ActionError(_l("This is already your address."), field="new_email")
    _check_email_free(new_email, field="new_email")
    queue_notification(user, "auth.confirm_email_change", to_address=new_email, new_email=new_email)


def email_change_token(user: User, new_email: str) -> str:
    return tokens.make_token(
        tokens.CHANGE_EMAIL,
        {"user": user.id, "old": tokens.fingerprint(user.email), "new": new_email},
    )


def confirm_email_change(token: str) -> User:
    data = tokens.read_token(tokens.CHANGE_EMAIL, token)
    user = db.session.get(User, data.get("user")) if isinstance(data.get("user"), int) else None
    new_email = data.get("new")
    if user is None or not isinstance(new_email, str):
        raise tokens.TokenError("invalid")
    if data.get("old") != tokens.fingerprint(user.email):
        raise tokens.TokenError("used")
    _check_email_free(new_email)
    old_email = user.email
    user.email = new_email
    user.email_confirmed_at = utcnow()
    record_activity(user, user, "user.change_email", data={"old_domain": old_email.split("@")[-1]})
    db.session.flush()
    return user


def update_account(user: User, *, name: str, language: str) -> None:
    user.name = name.strip()
    user.language = language


def set_language(user: User | None, language: str) -> None:
    if user is not None and user.is_authenticated:
        user.language = language


def set_role(actor: User, user: User, role: Role) -> None:
    """Admins give and take the coordinator and admin roles."""
    if not actor.is_admin:
        raise NotAllowed(_l("Only administrators can change roles."))
    if user.id == actor.id and role != Role.ADMIN:
        raise ActionError(_l("You cannot take the administrator role from yourself."))
    if user.role == role:
        return
    record_activity(actor, user, "user.set_role", from_state=user.role, to_state=role)
    user.role = role
    db.session.flush()


def set_active(actor: User, user: User, active: bool) -> None:
    """Admins suspend and restore accounts; a suspended account is signed out at once."""
    if not actor.is_admin:
        raise NotAllowed(_l("Only administrators can suspend accounts."))
    if user.id == actor.id:
        raise ActionError(_l("You cannot suspend your own account."))
    if user.active == active:
        return
    record_activity(actor, user, "user.activate" if active else "user.suspend")
    user.active = active
    user.rotate_session_token()
    db.session.flush()
