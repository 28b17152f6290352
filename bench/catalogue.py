"""The catalogue benchmark: a large catalogue in PostgreSQL, served by gunicorn, under load.

    .venv/bin/python bench/catalogue.py --database postgresql://postgres@127.0.0.1/exchange_bench

1. Creates the database if it does not exist, builds the schema with the migrations, loads the
   reference data and seeds 100,000 published good practices (exchange.catalogue.bulk: text from
   a generated vocabulary with a Zipf-like word frequency, bulk inserts, the search index made
   by exchange.text). A database that already holds them is reused; --reseed starts afresh.
2. Serves the app with gunicorn (2 sync workers, production settings) on a free port.
3. Measures, one mix after the other in the same run, at 8 concurrent connections (one thread
   each, the standard library's http.client, a new connection per request as gunicorn's sync
   workers close them), after a short warm-up of each: a bare baseline route (/healthz, which
   the app has anyway: one SELECT 1 and a broker ping), then
   (a) 400 distinct catalogue searches: one or two words of the catalogue's own vocabulary,
       drawn evenly over the orders of magnitude of their frequency (as many words found in
       half of the practices as words found in a hundred), two filters among language, side,
       theme, objective, programme, country and type, and a page from 1 to 5;
   (b) 1,000 distinct detail pages (/practices/<id>) of random published practices.
   It prints the throughput and the p50/p99 latency of each, and its ratio to the baseline.

Targets (issue 3): search mix >= 0.10 x baseline with p99 <= 100 ms, detail mix >= 0.25 x.
The benchmark is not part of the test suite.
"""

import argparse
import http.client
import os
import random
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TARGETS = {"search": (0.10, 100.0), "detail": (0.25, None)}


def _sqlalchemy_url(url: str) -> str:
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def ensure_database(url: str) -> None:
    """CREATE DATABASE if it is missing (connecting to the server's `postgres` database)."""
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = parts._replace(scheme="postgresql", path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as connection:
        exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
        if exists.fetchone() is None:
            connection.execute(f'CREATE DATABASE "{name}"')
            print(f"created database {name}")


def prepare(url: str, practices: int, reseed: bool, seed: int) -> dict:
    """Schema, reference data and the catalogue; returns what the load mixes need."""
    from flask_migrate import upgrade
    from sqlalchemy import func, select, text

    from exchange import create_app
    from exchange.extensions import db

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": _sqlalchemy_url(url),
            "EXCHANGE_ENV": "development",
            "SECRET_KEY": secrets.token_urlsafe(48),
        }
    )
    with app.app_context():
        if reseed:
            with db.engine.begin() as connection:
                connection.execute(text("DROP SCHEMA public CASCADE"))
                connection.execute(text("CREATE SCHEMA public"))
        upgrade()
        from exchange.catalogue.bulk import seed_catalogue
        from exchange.reference.models import BorderArea, Objective, Programme, Theme
        from exchange.reference.services import load_reference
        from exchange.submissions.models import Submission
        from exchange.workflow import State

        load_reference()
        db.session.commit()
        published = db.session.scalar(
            select(func.count()).where(Submission.state == State.PUBLISHED)
        )
        if published < practices:
            missing = practices - published
            print(f"seeding {missing:,} published practices…", flush=True)
            started = time.perf_counter()
            done = 0

            def progress(n):
                nonlocal done
                done += n
                if done % 20_000 < n:
                    print(f"  {done:,}", flush=True)

            seed_catalogue(missing, seed=seed + published, progress=progress)
            print(f"seeded in {time.perf_counter() - started:.0f} s", flush=True)
            db.session.commit()
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
                c.execute(text("VACUUM ANALYZE"))
        else:
            print(f"reusing the {published:,} published items in the database")
        data = {
            "themes": db.session.scalars(select(Theme.id)).all(),
            "objectives": db.session.scalars(select(Objective.id)).all(),
            "programmes": db.session.scalars(select(Programme.id)).all(),
            "border_areas": db.session.scalars(select(BorderArea.id)).all(),
            "countries": db.session.scalars(
                select(text("DISTINCT country_code")).select_from(text("authority"))
            ).all(),
            "items": db.session.execute(
                select(Submission.id, Submission.kind)
                .where(Submission.published_revision_id.is_not(None))
                .order_by(func.random())
                .limit(5000)
            ).all(),
            "endpoints": {rule.endpoint for rule in app.url_map.iter_rules()},
        }
        db.engine.dispose()
    return data


def search_paths(data: dict, count: int, seed: int) -> list[str]:
    """`count` distinct catalogue searches: one or two words, two filters, a page from 1 to 5."""
    from exchange.catalogue.bulk import query_words

    rng = random.Random(seed)
    words = list(dict.fromkeys(query_words(4 * count, seed=seed)))  # distinct
    filters = {
        "language": lambda: rng.choice(["es", "pt", "en"]),
        "side": lambda: rng.choice(["EU", "LAC"]),
        "theme": lambda: rng.choice(data["themes"]),
        "objective": lambda: rng.choice(data["objectives"]),
        "programme": lambda: rng.choice(data["programmes"]),
        "country": lambda: rng.choice(data["countries"]),
        "type": lambda: "practice",
    }
    paths: set[str] = set()
    while len(paths) < count:
        query = " ".join(rng.sample(words, rng.choice((1, 2))))
        params = [("q", query)]
        for name in rng.sample(sorted(filters), 2):
            params.append((name, filters[name]()))
        params.append(("page", rng.randint(1, 5)))
        paths.add("/catalogue/?" + urlencode(params))
    return sorted(paths)


def detail_paths(data: dict, count: int) -> list[str]:
    prefix = {"practice": "/practices/", "idea": "/ideas/"}
    return [f"{prefix[kind]}{item_id}" for item_id, kind in data["items"][:count]]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(url: str, port: int, workers: int, broker: str, log: Path):
    env = {
        **os.environ,
        "EXCHANGE_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "DATABASE_URL": url,
        "CELERY_BROKER_URL": broker,
        "RATELIMIT_STORAGE_URI": "memory://",
        "HTTPS": "0",
        "BASE_URL": f"http://127.0.0.1:{port}",
        "INSTANCE_PATH": str(log.parent / "instance"),
    }
    command = [
        sys.executable, "-m", "gunicorn", "--workers", str(workers), "--bind",
        f"127.0.0.1:{port}", "--access-logfile", "-", "wsgi:app",
    ]  # fmt: skip
    handle = log.open("w")
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn stopped; see {log}")
        try:
            status, _ = request(port, "/healthz")
            if status == 200:
                return process
        except OSError:
            pass
        time.sleep(0.3)
    stop_server(process)
    raise SystemExit(f"gunicorn did not answer on port {port}; see {log}")


def stop_server(process) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def request(port: int, path: str, connection=None) -> tuple[int, int]:
    own = connection is None
    connection = connection or http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", path, headers={"Accept-Language": "en"})
        response = connection.getresponse()
        body = response.read()
        return response.status, len(body)
    finally:
        if own:
            connection.close()


def run_mix(port: int, paths: list[str], connections: int, seconds: float) -> dict:
    """Each connection sends the paths in its own shuffled order, back to back, for `seconds`."""
    latencies: list[list[float]] = [[] for _ in range(connections)]
    errors: list[str] = []
    stop_at = time.perf_counter() + seconds

    def worker(index: int) -> None:
        order = paths[:]
        random.Random(index).shuffle(order)
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        position = 0
        while time.perf_counter() < stop_at:
            path = order[position % len(order)]
            position += 1
            started = time.perf_counter()
            try:
                status, _ = request(port, path, connection)
            except (OSError, http.client.HTTPException) as error:
                connection.close()
                errors.append(f"{path}: {error!r}")
                continue
            latencies[index].append(time.perf_counter() - started)
            if status != 200:
                errors.append(f"{path}: HTTP {status}")
        connection.close()

    started = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    every = sorted(value for values in latencies for value in values)
    if not every:
        raise SystemExit(f"no request succeeded: {errors[:3]}")
    return {
        "requests": len(every),
        "throughput": len(every) / elapsed,
        "p50": statistics.quantiles(every, n=100)[49] * 1000,
        "p99": statistics.quantiles(every, n=100)[98] * 1000,
        "errors": errors,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", required=True, help="postgresql://user@host/name")
    parser.add_argument("--practices", type=int, default=100_000)
    parser.add_argument("--reseed", action="store_true", help="empty the database first")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=20.0, help="per mix")
    parser.add_argument("--searches", type=int, default=400, help="distinct searches (>= 200)")
    parser.add_argument("--details", type=int, default=1000, help="distinct detail pages")
    parser.add_argument("--broker", default="redis://127.0.0.1:6379/7", help="for /healthz")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    if not args.database.startswith(("postgresql://", "postgres://")):
        parser.error("the benchmark runs on PostgreSQL: --database postgresql://…")

    ensure_database(args.database)
    data = prepare(args.database, args.practices, args.reseed, args.seed)
    mixes = {"baseline": ["/healthz"], "search": search_paths(data, args.searches, args.seed)}
    if "practices.show" in data["endpoints"]:
        mixes["detail"] = detail_paths(data, args.details)
    else:
        print("no item pages yet (practices.show): the detail mix is skipped")

    log = Path(tempfile.mkdtemp(prefix="exchange-bench-")) / "gunicorn.log"
    port = free_port()
    server = start_server(args.database, port, args.workers, args.broker, log)
    try:
        print(f"gunicorn: {args.workers} workers on port {port} (log: {log})")
        for paths in mixes.values():  # warm the workers' and the database's caches
            run_mix(port, paths, args.connections, min(5.0, args.seconds / 4))
        results = {
            name: run_mix(port, paths, args.connections, args.seconds)
            for name, paths in mixes.items()
        }
    finally:
        stop_server(server)

    base = results["baseline"]["throughput"]
    print(f"\n{args.connections} connections, {args.seconds:.0f} s per mix")
    print(f"{'mix':10} {'paths':>6} {'requests':>9} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8}"
          f" {'x baseline':>11}  target")  # fmt: skip
    failed = False
    for name, result in results.items():
        ratio = result["throughput"] / base
        target = ""
        if name in TARGETS:
            minimum, p99 = TARGETS[name]
            ok = ratio >= minimum and (p99 is None or result["p99"] <= p99)
            failed |= not ok
            target = f">= {minimum:.2f} x" + (f", p99 <= {p99:.0f} ms" if p99 else "")
            target += "  ok" if ok else "  MISSED"
        print(
            f"{name:10} {len(mixes[name]):>6} {result['requests']:>9} "
            f"{result['throughput']:>8.1f} {result['p50']:>8.1f} {result['p99']:>8.1f} "
            f"{ratio:>11.3f}  {target}"
        )
        if result["errors"]:
            failed = True
            print(f"  {len(result['errors'])} errors, e.g. {result['errors'][:3]}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
