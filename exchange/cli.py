"""`flask --app wsgi exchange …`: the commands operators and developers run."""

from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from exchange.auth.models import Role
from exchange.errors import ActionError
from exchange.extensions import db

exchange_cli = AppGroup("exchange", help="Exchange administration commands.")


@exchange_cli.command("create-user")
@click.argument("email")
@click.option("--name", prompt=True, help="The person's name.")
@click.option(
    "--role",
    type=click.Choice([role.value for role in Role]),
    default=Role.MEMBER.value,
    show_default=True,
)
@click.option("--language", type=click.Choice(["en", "es", "pt"]), default="en", show_default=True)
@click.option("--authority-id", type=int, help="The authority a member works for.")
@click.password_option(help="Asked for when not given.")
def create_user_command(email, name, role, language, authority_id, password):
    """Create an account with a confirmed address (coordinators and admins mostly)."""
    from exchange.auth.services import create_user
    from exchange.authorities.models import Authority

    authority = db.session.get(Authority, authority_id) if authority_id else None
    if authority_id and authority is None:
        raise click.BadParameter(
            f"no authority with id {authority_id}", param_hint="--authority-id"
        )
    try:
        user = create_user(
            email=email,
            name=name,
            password=password,
            language=language,
            role=Role(role),
            authority=authority,
            confirmed=True,
        )
    except ActionError as error:
        raise click.ClickException(str(error.message)) from error
    db.session.commit()
    click.echo(f"Created {user.email} ({user.role}).")


@exchange_cli.command("load-reference")
@click.option("--update", is_flag=True, help="Reset existing rows to the texts in the files.")
def load_reference_command(update):
    """Load programmes, objectives, themes and border areas (idempotent)."""
    from exchange.reference.services import load_reference

    report = load_reference(update=update)
    db.session.commit()
    created = ", ".join(f"{n} {kind}" for kind, n in report.created.items()) or "nothing"
    click.echo(f"Reference data loaded: created {created}.")
    if update:
        updated = ", ".join(f"{n} {kind}" for kind, n in report.updated.items()) or "nothing"
        click.echo(f"Updated {updated}.")


@exchange_cli.command("seed-demo")
def seed_demo_command():
    """Create demo authorities and logins (idempotent); loads the reference data first."""
    from exchange.demo import AUTHORITIES, seed_demo
    from exchange.reference.services import load_reference

    load_reference()
    password = current_app.config["DEMO_PASSWORD"]
    with click.progressbar(length=len(AUTHORITIES), label="Demo authorities") as bar:
        logins = seed_demo(password, progress=bar)
    db.session.commit()
    click.echo(f"\nDemo logins (password: {password}):")
    for email, what in logins:
        click.echo(f"  {email:40} {what}")


@exchange_cli.command("sweep-notifications")
def sweep_notifications_command():
    """Dispatch notifications whose dispatch was lost (beat does this every minute)."""
    from exchange.notifications.services import sweep_notifications

    click.echo(f"Dispatched {sweep_notifications()} notification(s).")


@exchange_cli.command("mail-catcher")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8025, show_default=True, type=int)
@click.option("--maildir", type=click.Path(path_type=Path), help="Default: instance/mail.")
def mail_catcher_command(host, port, maildir):
    """Run a local SMTP server that keeps every e-mail (read them at /dev/mail)."""
    from exchange.notifications.catcher import caught_mail_dir, run_catcher

    maildir = maildir or caught_mail_dir(current_app)
    click.echo(f"Catching e-mail on {host}:{port} into {maildir}")
    run_catcher(host, port, maildir)
