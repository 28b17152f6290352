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
@click.option(
    "--practices",
    type=click.IntRange(min=1),
    help="Also add this many published practices in bulk (a large catalogue for benchmarks).",
)
@click.option(
    "--seed",
    type=int,
    default=2026,
    show_default=True,
    help="Random seed of the bulk practices: the same seed gives the same catalogue.",
)
def seed_demo_command(practices, seed):
    """Create demo authorities, practices, ideas and logins (idempotent); loads the reference
    data first. Not in production: the logins' password is published."""
    if current_app.config["EXCHANGE_ENV"] == "production":
        raise click.ClickException(
            "seed-demo does not run in production: its logins (an admin among them) share a "
            "password that the README publishes."
        )
    from exchange.demo import demo_size, seed_demo
    from exchange.reference.services import load_reference

    seed_catalogue = _bulk_seeder() if practices else None
    load_reference()
    password = current_app.config["DEMO_PASSWORD"]
    with click.progressbar(length=demo_size(), label="Demo data") as bar:
        logins = seed_demo(password, progress=bar)
    db.session.commit()
    if seed_catalogue is not None:
        # It commits batch by batch: a large catalogue does not fit one transaction.
        with click.progressbar(length=practices, label="Bulk practices") as bar:
            added = seed_catalogue(practices, seed=seed, progress=bar.update)
        click.echo(f"Added {added} published practices in bulk.")
    click.echo(f"\nDemo logins (password: {password}):")
    for login in logins:
        click.echo(f"  {login.email:40} {login.what}")
        click.echo(f"  {'':40}   try: {login.try_this}")


def _bulk_seeder():
    """`seed_catalogue(count, seed=…)` from the catalogue, which writes practices in bulk."""
    try:
        from exchange.catalogue.bulk import seed_catalogue
    except ImportError as error:
        raise click.ClickException(
            "--practices needs exchange.catalogue.bulk.seed_catalogue, which this version of "
            f"Exchange does not have ({error})."
        ) from error
    return seed_catalogue


@exchange_cli.command("import")
@click.argument(
    "files",
    nargs=-1,
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
)
@click.option(
    "--as",
    "actor_email",
    required=True,
    metavar="EMAIL",
    help="The coordinator or admin who imports; the activity log names them.",
)
@click.option(
    "--type",
    "record_type",
    type=click.Choice(["authorities", "members", "practices", "ideas"]),
    help="What the rows are, for CSV files without a 'type' column and not named after a type.",
)
@click.option("--dry-run", is_flag=True, help="Check and go through the import; save nothing.")
@click.pass_context
def import_command(ctx, files, actor_email, record_type, dry_run):
    """Import authorities, members, practices and ideas from JSON or CSV FILES.

    Every row is checked first; if any has a problem, each is reported and nothing is imported.
    Otherwise everything is written in one transaction: all or nothing.
    """
    from exchange.auth.models import find_user_by_email
    from exchange.importer import check_records, import_plan, read_files
    from exchange.importer.services import ImportFailed

    actor = find_user_by_email(actor_email)
    if actor is None or not actor.active or not actor.is_coordinator:
        raise click.BadParameter(
            f"{actor_email} is not the address of an active coordinator or admin",
            param_hint="--as",
        )
    records, problems = read_files(list(files), record_type)
    plan, found = check_records(records)
    problems = _in_file_order(problems + found, files)
    if problems:
        click.echo(f"Nothing was imported: {len(problems)} problem(s) to correct.", err=True)
        for problem in problems:
            click.echo(f"  {problem}", err=True)
        ctx.exit(1)
    counts = ", ".join(f"{what}: {n}" for what, n in plan.counts().items())
    click.echo(f"Checked {len(files)} file(s) ({counts}): no problem found.")
    try:
        with click.progressbar(length=plan.size, label="Importing") as bar:
            report = import_plan(actor, plan, progress=bar)
    except ImportFailed as failure:
        db.session.rollback()
        click.echo(f"\nNothing was imported: {failure.problem}", err=True)
        ctx.exit(1)
    except BaseException:
        db.session.rollback()
        raise
    if dry_run:
        db.session.rollback()
    else:
        db.session.commit()
    click.echo("")
    for note in report.notes:
        click.echo(note)
    click.echo("Dry run: nothing was saved. The import would make:" if dry_run else "Imported:")
    for what in plan.counts():
        line = f"  {what}: {report.created[what]} created, {report.reused[what]} reused"
        if what in ("practices", "ideas"):
            line += f" ({report.published[what]} published)"
        if what == "members" and report.created[what]:
            line += " (each sent a link to choose a password)"
        click.echo(line)


def _in_file_order(problems, files):
    order = {path.name: index for index, path in enumerate(files)}
    return sorted(problems, key=lambda p: (order.get(p.source, 0), p.row or 0))


@exchange_cli.command("reindex-search")
def reindex_search_command():
    """Rebuild the full-text index of every published practice and idea."""
    from exchange.submissions.search import reindex_all

    indexed = reindex_all()
    db.session.commit()
    click.echo(f"Indexed {indexed} published item(s).")


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


# Matching --------------------------------------------------------------------------------------

match_cli = AppGroup("match", help="Matching counterparts: runs and suggestions.")
exchange_cli.add_command(match_cli)


@match_cli.command("run")
def match_run_command():
    """Compute every verified authority's proposals now (the nightly run, in this process)."""
    from exchange.matching import services

    run = services.start_run(scope="full")
    with click.progressbar(length=run.chunks_total, label="Matching") as bar:
        services.compute_run(run, progress=bar.update)
    db.session.commit()
    click.echo(
        f"Run {run.id} (engine {run.engine_version}): {run.proposals} proposal(s) "
        f"in {run.chunks_total} chunk(s)."
    )


def _find_authority(reference: str):
    from sqlalchemy import select

    from exchange.authorities.models import Authority

    if reference.isdigit():
        found = db.session.get(Authority, int(reference))
        if found is not None:
            return found
    named = db.session.scalars(select(Authority).where(Authority.name == reference)).all()
    if len(named) > 1:
        raise click.BadParameter(
            f"{len(named)} authorities are named {reference!r}: give the id", param_hint="AUTHORITY"
        )
    if not named:
        raise click.BadParameter(
            f"no authority with the id or the exact name {reference!r}", param_hint="AUTHORITY"
        )
    return named[0]


@match_cli.command("suggest")
@click.argument("authority")
@click.option("--top", type=click.IntRange(min=1), default=10, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
def match_suggest_command(authority, top, as_json):
    """Print the best counterparts of AUTHORITY (its id or exact name), with scores and
    reasons."""
    import json

    from exchange.authorities.models import Authority
    from exchange.matching import services
    from exchange.matching.reasons import describe

    found = _find_authority(authority)
    if not found.is_verified:
        raise click.ClickException(f"{found.name} is not verified: it is never matched.")
    suggestions = services.suggest(found, top=top)
    others = {
        a.id: a
        for a in db.session.scalars(
            db.select(Authority).where(Authority.id.in_([s.counterpart_id for s in suggestions]))
        )
    }
    rows = []
    for rank, suggestion in enumerate(suggestions, start=1):
        other = others[suggestion.counterpart_id]
        reasons = services.reasons_as_rows(suggestion.reasons)
        rows.append(
            {
                "rank": rank,
                "id": other.id,
                "name": other.name,
                "country": other.country_code,
                "side": str(other.side),
                "kind": str(other.kind),
                "score": suggestion.score,
                "score_for": suggestion.score_for,
                "score_back": suggestion.score_back,
                "reasons": reasons,
                "explanation": describe(reasons, authority=found.name, counterpart=other.name),
            }
        )
    if as_json:
        payload = {
            "authority": {"id": found.id, "name": found.name},
            "suggestions": rows,
        }
        click.echo(json.dumps(payload, ensure_ascii=False, indent=2))
        return
    if not rows:
        click.echo(f"No counterpart found for {found.name}.")
        return
    click.echo(f"Best counterparts of {found.name} (id {found.id}):")
    for row in rows:
        click.echo(
            f"{row['rank']:>3}. {row['name']} ({row['country']}, id {row['id']}) "
            f"score {row['score']:.3f} (for it {row['score_for']:.3f}, "
            f"back {row['score_back']:.3f})"
        )
        for sentence in row["explanation"]:
            click.echo(f"       - {sentence}")
