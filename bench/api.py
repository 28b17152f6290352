"""The API benchmark: the public API on a catalogue in PostgreSQL, served by gunicorn, under load.

    .venv/bin/python bench/api.py --database postgresql://postgres@127.0.0.1/exchange_bench_api

1. Prepares the database as the catalogue benchmark does (bench/catalogue.py: the migrations, the
   reference data, and published good practices from exchange.catalogue.bulk — 20,000 here by
   default; a database that already holds them is reused).
2. Serves the app with gunicorn (2 sync workers, production settings) on a free port, the API's
   rate limit raised so that it counts every request but refuses none (all the load comes from
   one address).
3. Measures, one mix after the other, at 8 concurrent connections (bench/catalogue.py's load
   loop: one thread each, back to back, after a short warm-up of each mix):
   - baseline: /healthz (one SELECT 1 and a broker ping);
   - list: 400 distinct /api/v1/practices pages with one or two filters among theme, programme,
     objective, country, side and language (codes, as the API takes them), 20 or 50 items;
   - search: 400 distinct full-text searches (one or two words of the catalogue's vocabulary,
     drawn evenly over the orders of magnitude of their frequency) with a filter;
   - detail: 1,000 distinct /api/v1/practices/<id>;
   - authorities: /api/v1/authorities pages, filtered by country or side, 50 items;
   - walk: the pages of paginated walks, at every depth — every `next` of a walk through all
     the practices (100 per page) and through the Spanish ones, fetched once beforehand — so
     that a deep page is measured as often as the first.
   It prints the throughput and the p50/p99 latency of each, and its ratio to the baseline.

The benchmark is not part of the test suite.
"""

import argparse
import http.client
import json
import os
import random
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.catalogue import (  # noqa: E402
    _sqlalchemy_url,
    ensure_database,
    free_port,
    prepare,
    run_mix,
    start_server,
    stop_server,
)

API = "/api/v1"


def reference_codes(url: str) -> dict:
    """The codes the API's filters take, and the countries of the authorities."""
    from sqlalchemy import select, text

    from exchange import create_app
    from exchange.extensions import db
    from exchange.reference.models import Objective, Programme, Theme

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": _sqlalchemy_url(url),
            "EXCHANGE_ENV": "development",
            "SECRET_KEY": "bench-" + "x" * 40,
        }
    )
    with app.app_context():
        codes = {
            "theme": db.session.scalars(select(Theme.code)).all(),
            "programme": db.session.scalars(select(Programme.code)).all(),
            "objective": db.session.scalars(select(Objective.code)).all(),
            "country": db.session.scalars(
                select(text("DISTINCT country_code")).select_from(text("authority"))
            ).all(),
        }
        db.engine.dispose()
    return codes


def _filters(codes: dict, rng: random.Random) -> dict:
    return {
        "theme": lambda: rng.choice(codes["theme"]),
        "programme": lambda: rng.choice(codes["programme"]),
        "objective": lambda: rng.choice(codes["objective"]),
        "country": lambda: rng.choice(codes["country"]),
        "side": lambda: rng.choice(["EU", "LAC"]),
        "language": lambda: rng.choice(["es", "pt", "en"]),
    }


def list_paths(codes: dict, count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    filters = _filters(codes, rng)
    paths: set[str] = set()
    while len(paths) < count:
        chosen = rng.sample(sorted(filters), rng.choice((1, 2)))
        params = [(name, filters[name]()) for name in chosen]
        params.append(("limit", rng.choice((20, 50))))
        paths.add(f"{API}/practices?" + urlencode(params))
    return sorted(paths)


def search_paths(codes: dict, count: int, seed: int) -> list[str]:
    from exchange.catalogue.bulk import query_words

    rng = random.Random(seed + 1)
    filters = _filters(codes, rng)
    words = list(dict.fromkeys(query_words(4 * count, seed=seed)))
    paths: set[str] = set()
    while len(paths) < count:
        params = [("q", " ".join(rng.sample(words, rng.choice((1, 2)))))]
        name = rng.choice(sorted(filters))
        params.append((name, filters[name]()))
        paths.add(f"{API}/practices?" + urlencode(params))
    return sorted(paths)


def detail_paths(data: dict, count: int) -> list[str]:
    return [f"{API}/practices/{item_id}" for item_id, _kind in data["items"][:count]]


def authority_paths(codes: dict) -> list[str]:
    paths = [f"{API}/authorities?limit=50&country={country}" for country in codes["country"]]
    return [*paths, f"{API}/authorities?limit=50&side=EU", f"{API}/authorities?limit=50&side=LAC"]


def _get_json(port: int, path: str) -> dict:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        body = response.read()
        if response.status != 200:
            raise SystemExit(f"{path}: HTTP {response.status}: {body[:200]!r}")
        return json.loads(body)
    finally:
        connection.close()


def walk_paths(port: int, starts: list[str]) -> list[str]:
    """Every page of each walk (the first, then each `next`), fetched once to learn the cursors."""
    pages = []
    for path in starts:
        while path:
            pages.append(path)
            following = _get_json(port, path)["next"]
            path = None
            if following:
                parts = urlsplit(following)
                path = f"{parts.path}?{parts.query}"
    return pages


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", required=True, help="postgresql://user@host/name")
    parser.add_argument("--practices", type=int, default=20_000)
    parser.add_argument("--reseed", action="store_true", help="empty the database first")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=20.0, help="per mix")
    parser.add_argument("--broker", default="redis://127.0.0.1:6379/10", help="for /healthz")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    if not args.database.startswith(("postgresql://", "postgres://")):
        parser.error("the benchmark runs on PostgreSQL: --database postgresql://…")

    ensure_database(args.database)
    data = prepare(args.database, args.practices, args.reseed, args.seed)
    codes = reference_codes(args.database)
    mixes = {
        "baseline": ["/healthz"],
        "list": list_paths(codes, 400, args.seed),
        "search": search_paths(codes, 400, args.seed),
        "detail": detail_paths(data, 1000),
        "authorities": authority_paths(codes),
    }

    # Counted, never refused: every request of the benchmark comes from one address.
    os.environ["EXCHANGE_API_RATE_LIMIT"] = "10000000 per minute"
    log = Path(tempfile.mkdtemp(prefix="exchange-bench-api-")) / "gunicorn.log"
    port = free_port()
    server = start_server(args.database, port, args.workers, args.broker, log)
    try:
        print(f"gunicorn: {args.workers} workers on port {port} (log: {log})")
        mixes["walk"] = walk_paths(
            port, [f"{API}/practices?limit=100", f"{API}/practices?limit=100&language=es"]
        )
        for paths in mixes.values():  # warm the workers' and the database's caches
            run_mix(port, paths, args.connections, min(5.0, args.seconds / 4))
        results = {
            name: run_mix(port, paths, args.connections, args.seconds)
            for name, paths in mixes.items()
        }
    finally:
        stop_server(server)

    base = results["baseline"]["throughput"]
    print(f"\n{args.connections} connections, {args.seconds:.0f} s per mix, "
          f"{args.practices:,} practices")  # fmt: skip
    print(f"{'mix':12} {'paths':>6} {'requests':>9} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8}"
          f" {'x baseline':>11}")  # fmt: skip
    failed = False
    for name, result in results.items():
        print(
            f"{name:12} {len(mixes[name]):>6} {result['requests']:>9} "
            f"{result['throughput']:>8.1f} {result['p50']:>8.1f} {result['p99']:>8.1f} "
            f"{result['throughput'] / base:>11.3f}"
        )
        if result["errors"]:
            failed = True
            print(f"  {len(result['errors'])} errors, e.g. {result['errors'][:3]}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
