"""Key page benchmark: ``/inventory/keys/<id>/`` and ``/api/v1/keys/<id>/`` on a large demo inventory.

    .venv/bin/python benchmarks/key_page.py [--keys 100000] [--sample 8] [--requests 10] [--explain] [--force]

Seeds the demo (``manage.py seed_demo --keys N``) unless that many generated keys are there, then times the key page
and the API key detail through Django's test client (in-process: server-side time, no network) with ``DEBUG`` off,
for the GRC demo user ``grace`` and the key owner ``olivia``, on ``--sample`` keys each user may see (drawn as
``benchmarks/load.py`` draws them) plus the visible key with the most bindings, grants and usage rows. Per user and
URL it prints the most queries one request ran, the median request time, the median CPU time of the process (app and
database client), the mean CPU time of the PostgreSQL backend serving it (parsing, planning, executing; when the
server runs on this machine) and the median time of the request's SQL.

``--explain`` runs ``EXPLAIN (ANALYZE, BUFFERS)`` on every statement of one key page request (PostgreSQL) and prints
each plan's scan nodes, planning and execution time; a sequential scan of a table of more than ``BIG_TABLE_ROWS``
rows is flagged.

Exit status 1 when a request fails, or a key page or API detail runs more than ``MAX_QUERIES`` queries.

Database: PostgreSQL when ``DATABASE_URL`` is set (use a THROWAWAY database: demo data and demo accounts are written
into it), else a throwaway SQLite folder. Without ``CEK_SECRET_KEY`` it sets ``CEK_DEBUG=1`` for itself.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import re
import shutil
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.inventory import setup_django  # noqa: E402  (the project root on the path first)

USERS = ("grace", "olivia")  # GRC, key owner
MAX_QUERIES = 12  # session, user and roles included
BIG_TABLE_ROWS = 10_000  # a sequential scan of a smaller table (stores, purposes, users) is the planner's right choice


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keys", type=int, default=100_000, help="generated keys to seed (default 100,000)")
    parser.add_argument("--sample", type=int, default=8, help="keys drawn per user (default 8)")
    parser.add_argument("--requests", type=int, default=10, help="timed requests per key and URL (default 10)")
    parser.add_argument("--explain", action="store_true", help="EXPLAIN ANALYZE every statement of one key page")
    parser.add_argument("--force", action="store_true", help="seed even though CEK_DEBUG is off")
    parser.add_argument("--data-dir", help="SQLite only: keep the database in this folder (reused next time)")
    return parser.parse_args(argv)


def server_cpu_ms() -> float | None:
    """CPU time so far of this connection's PostgreSQL backend process (parsing, planning, executing), when the
    server runs on this machine and ``/proc`` shows it; else None."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")  # utime + stime


def time_url(client, url: str, runs: int) -> tuple[list[float], list[float], list[float], int] | str:
    """Request ``url`` once to warm up, then ``runs`` times: (wall ms, CPU ms, SQL ms) per request and the most
    queries one request ran; or the failure as a string."""
    from django.db import connection

    executed: list[float] = []

    def timed(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            executed.append((time.perf_counter() - started) * 1000)

    walls, cpus, sqls, most = [], [], [], 0
    with connection.execute_wrapper(timed):
        response = client.get(url, secure=True)
        if response.status_code != 200:
            return f"HTTP {response.status_code}"
        for _ in range(runs):
            executed.clear()
            started, cpu_started = time.perf_counter(), time.process_time()
            response = client.get(url, secure=True)
            walls.append((time.perf_counter() - started) * 1000)
            cpus.append((time.process_time() - cpu_started) * 1000)
            sqls.append(sum(executed))
            most = max(most, len(executed))
            if response.status_code != 200:
                return f"HTTP {response.status_code}"
    return walls, cpus, sqls, most


def table_rows(cursor, table: str) -> float:
    cursor.execute("SELECT reltuples FROM pg_class WHERE relname = %s", [table])
    row = cursor.fetchone()
    return row[0] if row else 0


def explain(client, url: str) -> None:
    """EXPLAIN ANALYZE each statement ``url`` runs (PostgreSQL), printing its scans and its execution time."""
    from django.db import connection

    statements: list[tuple[str, object]] = []

    def capture(execute, sql, params, many, context):
        statements.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(capture):
        client.get(url, secure=True)
    print(f"\nEXPLAIN ANALYZE of the {len(statements)} statements of {url}:")
    with connection.cursor() as cursor:
        for number, (sql, params) in enumerate(statements, 1):
            if not sql.lstrip().upper().startswith("SELECT"):
                print(f"{number:>2}. (not a SELECT) {sql[:80]}")
                continue
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
            plan = [row[0] for row in cursor.fetchall()]
            scans = sorted(
                {
                    m.group(0)
                    for line in plan
                    for m in re.finditer(r"(Seq|Index Only|Index|Bitmap Heap) Scan[^(]*", line)
                }
            )
            took = " ".join(line for line in plan if line.startswith(("Planning Time", "Execution Time")))
            seq = [s.split(" on ", 1)[1].split()[0] for s in scans if s.startswith("Seq")]
            big = [table for table in seq if table_rows(cursor, table) > BIG_TABLE_ROWS]
            flag = f"  <-- SEQUENTIAL SCAN of {', '.join(big)}" if big else ""
            print(f"{number:>2}. {took}: {'; '.join(s.strip() for s in scans) or 'no scan'}{flag}")
            print(f"    {sql[:160]}")


def run_benchmark(args: argparse.Namespace) -> int:
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.db.models import Count
    from django.test import Client

    from cek.demo import demo_allowed_or_refuse
    from inventory.demo import bulk_keys
    from inventory.models import Key
    from inventory.selectors import keys_for

    demo_allowed_or_refuse(force=args.force, command="benchmarks/key_page.py")
    call_command("migrate", verbosity=0)
    if bulk_keys().count() < args.keys:
        started = time.monotonic()
        call_command("seed_demo", keys=args.keys, force=True, stdout=io.StringIO())
        print(f"seed_demo --keys {args.keys}: {time.monotonic() - started:.0f} s")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    print(f"Database: {connection.vendor}, {Key.objects.count():,} keys; load {os.getloadavg()[0]:.1f}")

    settings.DEBUG = False
    failed = False
    rng = random.Random(2026)
    for username in USERS:
        user = get_user_model().objects.get(username=username)
        visible = keys_for(user)
        ids = list(visible.order_by().values_list("pk", flat=True))
        sample = rng.sample(ids, min(args.sample, len(ids)))
        richest = (
            visible.annotate(n=Count("bindings", distinct=True) + Count("grants", distinct=True))
            .order_by("-n", "pk")
            .values_list("pk", flat=True)
            .first()
        )
        if richest is not None and richest not in sample:
            sample.append(richest)
        client = Client()
        client.force_login(user, backend="cek.access.ExpiringAccessBackend")
        for label, pattern in (("key page", "/inventory/keys/{}/"), ("API key detail", "/api/v1/keys/{}/")):
            walls, cpus, sqls, most = [], [], [], 0
            server_started = server_cpu_ms()
            for pk in sample:
                result = time_url(client, pattern.format(pk), args.requests)
                if isinstance(result, str):
                    print(f"{username} {label} {pk}: {result}")
                    failed = True
                    continue
                walls += result[0]
                cpus += result[1]
                sqls += result[2]
                most = max(most, result[3])
            if not walls:
                continue
            server_ended = server_cpu_ms()
            server = ""
            if server_started is not None and server_ended is not None:
                # Warm-up requests included: (runs + 1) per key. The clock ticks are 10 ms: a mean over many requests.
                server = (
                    f", database CPU {(server_ended - server_started) / (len(sample) * (args.requests + 1)):.1f} ms"
                )
            over = most > MAX_QUERIES
            failed |= over
            print(
                f"{username:<7} {label:<15} {len(sample)} keys x {args.requests}: queries <= {most}"
                f"{' (over ' + str(MAX_QUERIES) + ')' if over else ''}, median {statistics.median(walls):.1f} ms,"
                f" CPU {statistics.median(cpus):.1f} ms{server}, SQL {statistics.median(sqls):.1f} ms"
                f"; load {os.getloadavg()[0]:.1f}"
            )
        if args.explain and connection.vendor == "postgresql" and richest is not None:
            explain(client, f"/inventory/keys/{richest}/")
            explain(client, f"/inventory/keys/{sample[0]}/")
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    temp_dir = setup_django(args)  # benchmarks/inventory.py's: the same database and settings
    try:
        return run_benchmark(args)
    finally:
        if temp_dir:
            shutil.rmtree(temp_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
