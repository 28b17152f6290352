"""The exports benchmark: 100,000 practices exported as CSV and as XLSX, with time and memory.

    .venv/bin/python bench/exports.py --database postgresql://postgres@127.0.0.1/exchange_bench_exports

1. Creates the database if it does not exist, builds the schema with the migrations, loads the
   reference data and seeds the practices with the catalogue's bulk seeder
   (exchange.catalogue.bulk.seed_catalogue, as `flask exchange seed-demo --practices N` does),
   and a coordinator to export them. A database that already holds them is reused; --reseed
   starts afresh.
2. For each format, a process of its own (so that its peak memory is the export's alone) builds
   the app, signs the coordinator in through the app's test client, exports once a tiny
   selection (to load what any first request loads), notes its resident memory, then exports
   every practice and reads the response as a client would, keeping nothing.
3. Prints, per format: the rows, the seconds, rows per second, the size of the file, the
   resident memory before the export and at its peak, and the peak's growth against the size
   of the file. A third line, `list`, holds every row in a Python list instead (what an export
   that is not streamed would do), for comparison.

The benchmark is not part of the test suite.
"""

import argparse
import json
import os
import resource
import secrets
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.catalogue import _sqlalchemy_url, ensure_database  # noqa: E402

COORDINATOR = "bench-exports@example.org"
PASSWORD = secrets.token_urlsafe(16)


def make_app(url: str):
    from exchange import create_app

    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": _sqlalchemy_url(url),
            "EXCHANGE_ENV": "development",
            "SECRET_KEY": "bench-" + "x" * 48,
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_STORAGE_URI": "memory://",
            "CELERY": {"broker_url": "memory://", "result_backend": "cache+memory://"},
        }
    )


def prepare(url: str, practices: int, reseed: bool, seed: int, password: str) -> int:
    """Schema, reference data, the practices and the coordinator; returns the practices."""
    from flask_migrate import upgrade
    from sqlalchemy import func, select, text

    from exchange.auth.models import Role, User
    from exchange.auth.passwords import hash_password
    from exchange.auth.services import create_user
    from exchange.catalogue.bulk import seed_catalogue
    from exchange.extensions import db
    from exchange.reference.services import load_reference
    from exchange.submissions.models import Submission
    from exchange.workflow import Kind

    app = make_app(url)
    with app.app_context():
        if reseed:
            with db.engine.begin() as connection:
                connection.execute(text("DROP SCHEMA public CASCADE"))
                connection.execute(text("CREATE SCHEMA public"))
        upgrade()
        load_reference()
        db.session.commit()
        found = db.session.scalar(select(func.count()).where(Submission.kind == Kind.PRACTICE))
        if found < practices:
            missing = practices - found
            print(f"seeding {missing:,} practices…", flush=True)
            started = time.perf_counter()
            seed_catalogue(missing, seed=seed + found)
            print(f"seeded in {time.perf_counter() - started:.0f} s", flush=True)
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
                c.execute(text("VACUUM ANALYZE"))
        else:
            print(f"reusing the {found:,} practices in the database")
        user = db.session.scalar(select(User).where(User.email == COORDINATOR))
        if user is None:
            create_user(
                email=COORDINATOR,
                name="Benchmark coordinator",
                password=password,
                language="en",
                role=Role.COORDINATOR,
                authority=None,
                confirmed=True,
            )
        else:
            user.password_hash = hash_password(password)
        db.session.commit()
        total = db.session.scalar(select(func.count()).where(Submission.kind == Kind.PRACTICE))
        db.engine.dispose()
    return total


def _status(name: str) -> int:
    """A memory figure of this process from /proc (VmRSS: now, VmHWM: its peak), in bytes."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(f"{name}:"):
                return int(line.split()[1]) * 1024
    return 0


def _reset_peak() -> bool:
    """Start the peak resident memory afresh (Linux 4.0+), so that it is the export's."""
    try:
        with open("/proc/self/clear_refs", "w") as clear:
            clear.write("5")
    except OSError:
        return False
    return True


def measure(url: str, fmt: str, password: str, rows: int) -> dict:
    """In this process: sign in, warm up, then export every practice (or hold them, `list`)."""
    app = make_app(url)
    client = app.test_client()
    response = client.post("/login", data={"email": COORDINATOR, "password": password})
    if response.status_code != 302:
        raise SystemExit("the benchmark's coordinator could not sign in")
    path = "/insight/exports/practices." + ("csv" if fmt == "list" else fmt)
    warm = client.get(path + "?date_to=2000-01-01")
    assert warm.status_code == 200, warm.status_code
    for _chunk in warm.response:
        pass
    warm.close()
    reset = _reset_peak()
    before = _status("VmRSS")
    started = time.perf_counter()
    if fmt == "list":
        from exchange.insight import exports
        from exchange.insight.services import InsightFilters

        with app.test_request_context():
            from exchange.auth.models import User
            from exchange.extensions import db

            user = db.session.scalar(db.select(User).where(User.email == COORDINATOR))
            _dataset, rows = exports.export_rows(user, "practices", InsightFilters())
            everything = list(rows)
            size, count = sum(len(repr(row)) for row in everything), len(everything)
    else:
        response = client.get(path)
        assert response.status_code == 200, response.status_code
        size, count = 0, 0
        for chunk in response.response:
            size += len(chunk)
            if fmt == "csv":
                count += chunk.count(b"\r\n")
        response.close()
        count = count - 1 if fmt == "csv" else rows  # the CSV's header; the XLSX as asked
    seconds = time.perf_counter() - started
    # Without the reset, the peak of the whole process (its set-up included).
    peak = _status("VmHWM") if reset else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return {"format": fmt, "rows": count, "seconds": seconds, "bytes": size, "before": before,
            "peak": peak}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", required=True, help="postgresql://user@host/name")
    parser.add_argument("--practices", type=int, default=100_000)
    parser.add_argument("--reseed", action="store_true", help="empty the database first")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--measure", choices=("csv", "xlsx", "list"), help=argparse.SUPPRESS)
    parser.add_argument("--password", help=argparse.SUPPRESS)
    parser.add_argument("--rows", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if not args.database.startswith(("postgresql://", "postgres://")):
        parser.error("the benchmark runs on PostgreSQL: --database postgresql://…")
    if args.measure:
        print(json.dumps(measure(args.database, args.measure, args.password, args.rows)))
        return

    ensure_database(args.database)
    total = prepare(args.database, args.practices, args.reseed, args.seed, PASSWORD)
    print(f"{total:,} practices to export\n")
    results = []
    for fmt in ("csv", "xlsx", "list"):
        output = subprocess.run(
            [sys.executable, __file__, "--database", args.database, "--measure", fmt,
             "--password", PASSWORD, "--rows", str(total)],
            cwd=ROOT, env={**os.environ, "EXCHANGE_LOG_LEVEL": "WARNING"}, check=True,
            capture_output=True, text=True,
        )  # fmt: skip
        results.append(json.loads(output.stdout.strip().splitlines()[-1]))

    mb = 1024 * 1024
    print(
        f"{'format':7} {'rows':>8} {'seconds':>8} {'rows/s':>8} {'output MB':>10} "
        f"{'RSS before':>11} {'RSS peak':>9} {'growth':>7} {'growth/output':>14}"
    )
    for r in results:
        growth = r["peak"] - r["before"]
        label = "list*" if r["format"] == "list" else r["format"]
        print(
            f"{label:7} {r['rows']:>8,} {r['seconds']:>8.1f} {r['rows'] / r['seconds']:>8,.0f} "
            f"{r['bytes'] / mb:>10.1f} {r['before'] / mb:>9.0f} MB {r['peak'] / mb:>6.0f} MB "
            f"{growth / mb:>4.0f} MB {growth / max(r['bytes'], 1):>14.2f}"
        )
    print("\n* every row held in a list (not streamed), for comparison; its output is the")
    print("  size of the rows' repr(), not a file.")


if __name__ == "__main__":
    main()
