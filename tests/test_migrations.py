"""The migrations: one head, in step with the models, and a clean round trip on a fresh database
(PostgreSQL when TEST_DATABASE_URL is set), run through the real `flask db` commands."""

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from exchange.extensions import db

ROOT = Path(__file__).resolve().parent.parent


def test_there_is_a_single_head():
    config = Config(str(ROOT / "migrations" / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    assert len(ScriptDirectory.from_config(config).get_heads()) == 1


@pytest.fixture
def fresh_database(tmp_path):
    """An empty database of the same kind as the test database."""
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        yield f"sqlite:///{tmp_path / 'migrations.sqlite'}"
        return
    url = make_url(url.replace("postgresql://", "postgresql+psycopg://", 1))
    name = f"exchange_migrations_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def flask_db(database_url: str, *args: str) -> str:
    env = {**os.environ, "DATABASE_URL": database_url, "EXCHANGE_ENV": "testing"}
    env["SECRET_KEY"] = "migration-test-secret-key-long-enough-for-anything"
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "db", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout + result.stderr


def _tables(database_url: str) -> set[str]:
    engine = create_engine(database_url)
    try:
        names = set(inspect(engine).get_table_names()) - {"alembic_version"}
        # SQLite's full-text index (FTS5) is a virtual table with shadow tables of its own.
        return {name for name in names if not name.startswith("submission_fts")}
    finally:
        engine.dispose()


def test_upgrade_check_downgrade_and_upgrade_again(fresh_database):
    expected = set(db.metadata.tables)
    flask_db(fresh_database, "upgrade")
    assert _tables(fresh_database) == expected
    assert "No new upgrade operations detected" in flask_db(fresh_database, "check")

    flask_db(fresh_database, "downgrade", "base")
    assert _tables(fresh_database) == set()

    flask_db(fresh_database, "upgrade")
    assert _tables(fresh_database) == expected
    assert "No new upgrade operations detected" in flask_db(fresh_database, "check")


def test_activity_log_refuses_updates_in_the_database(app):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("the trigger exists on PostgreSQL; SQLite relies on the ORM guard")
    from sqlalchemy.exc import DBAPIError

    with db.engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO activity_entry (subject_type, subject_id, action, data, created_at) "
                "VALUES ('authority', 1, 'authority.create', '{}', now())"
            )
        )
    with pytest.raises(DBAPIError, match="append-only"), db.engine.begin() as connection:
        connection.execute(text("UPDATE activity_entry SET action = 'forged'"))
    with pytest.raises(DBAPIError, match="append-only"), db.engine.begin() as connection:
        connection.execute(text("DELETE FROM activity_entry"))


def test_activity_entries_cannot_be_changed_through_the_orm():
    from exchange.activity.services import record_activity
    from tests.factories import make_authority

    authority = make_authority()
    entry = record_activity(None, authority, "authority.update_profile")
    db.session.commit()
    entry.action = "forged"
    with pytest.raises(RuntimeError, match="append-only"):
        db.session.commit()
    db.session.rollback()
    db.session.delete(entry)
    with pytest.raises(RuntimeError, match="append-only"):
        db.session.commit()
