"""Dashboard benchmark: the landing page (``/``) for GRC and for a key owner on a large demo inventory.

    .venv/bin/python benchmarks/dashboard.py [--keys 100000] [--requests 30] [--force]

Seeds the demo (``manage.py seed_demo --keys N``: inventory, policies, campaigns, IaC scans, a check run) unless
that many generated keys are there, then times ``/`` through Django's test client (in-process: server-side time,
no network) for the GRC demo user ``grace`` and the key owner ``olivia``, three ways:

- ``live``: every figure counted on each request (``CEK_DASHBOARD_SNAPSHOT_SECONDS=0``, how the page worked before
  its snapshot);
- ``cold``: the first request after a write (it computes and stores the snapshot);
- ``snapshot``: the requests after it (the page as it is served, median and p95, and the process's CPU time per
  request, median: on a shared machine the wall time includes waiting for a core).

The requests are timed with ``DEBUG`` off, as in production (no query log, no template debugging).

Exit status 1 when the snapshot median of either user is over 50 ms or a request fails.

Database: PostgreSQL when ``DATABASE_URL`` is set (use a THROWAWAY database: demo data and demo accounts are written
into it), else a throwaway SQLite folder. Without ``CEK_SECRET_KEY`` it sets ``CEK_DEBUG=1`` for itself.
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_MS = 50.0
USERS = ("grace", "olivia")  # GRC, key owner


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keys", type=int, default=100_000, help="generated keys to seed (default 100,000)")
    parser.add_argument("--requests", type=int, default=30, help="timed requests per user and way (default 30)")
    parser.add_argument("--force", action="store_true", help="seed even though CEK_DEBUG is off")
    return parser.parse_args(argv)


def setup_django() -> str | None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cek.settings")
    if not os.environ.get("CEK_SECRET_KEY") and not os.environ.get("CEK_SECRET_KEY_FILE"):
        os.environ["CEK_DEBUG"] = "1"
    temp_dir = None
    if not os.environ.get("DATABASE_URL"):
        os.environ.pop("CEK_SQLITE_PATH", None)
        temp_dir = tempfile.mkdtemp(prefix="cek-bench-dashboard-")
        os.environ["CEK_DATA_DIR"] = temp_dir
    import django

    django.setup()
    from django.conf import settings

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"  # the demo campaigns' e-mails
    return temp_dir


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))]


def timed_get(client) -> tuple[float, int]:
    started = time.perf_counter()
    response = client.get("/", secure=True)
    return (time.perf_counter() - started) * 1000, response.status_code


def timed_cpu(client) -> tuple[float, float, int]:
    """A request's wall time and the process's CPU time for it (on a shared machine wall time waits for a core)."""
    cpu_started = time.process_time()
    ms, status = timed_get(client)
    return ms, (time.process_time() - cpu_started) * 1000, status


def run_benchmark(args: argparse.Namespace) -> int:
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from cek import snapshot
    from cek.demo import demo_allowed_or_refuse
    from inventory.demo import bulk_keys
    from inventory.models import Key

    demo_allowed_or_refuse(force=args.force, command="benchmarks/dashboard.py")
    print(f"Database: {connection.vendor} ({settings.DATABASES['default']['NAME']}), DEBUG={settings.DEBUG}")
    call_command("migrate", verbosity=0)
    if bulk_keys().count() >= args.keys:
        print(f"seed: skipped, {bulk_keys().count():,} generated keys already there")
    else:
        started = time.monotonic()
        call_command("seed_demo", keys=args.keys, force=True, stdout=io.StringIO())
        print(f"seed_demo --keys {args.keys}: {time.monotonic() - started:.1f} s")
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    print(f"keys: {Key.objects.count():,}; load average {', '.join(f'{x:.2f}' for x in os.getloadavg())}")

    executed: list[str] = []

    def count(execute, sql, params, many, context):
        executed.append(sql)
        return execute(sql, params, many, context)

    failures: list[str] = []
    # Timed as production runs: without the query log and template debugging that DEBUG turns on.
    settings.DEBUG = False
    print(
        f"\n{'user':8} {'owns':>7} {'live median':>12} {'cold':>8} {'snapshot median':>16} {'p95':>8} {'cpu':>7}"
        f" {'queries':>8}"
    )
    for username in USERS:
        user = get_user_model().objects.get(username=username)
        owns = Key.objects.filter(owner=user).count()
        client = Client()
        client.force_login(user)
        # live: the figures counted on every request
        settings.CEK_DASHBOARD_SNAPSHOT_SECONDS = 0
        timed_get(client)
        live = [timed_get(client) for _ in range(max(3, args.requests // 5))]
        settings.CEK_DASHBOARD_SNAPSHOT_SECONDS = 300
        snapshot.invalidate()
        cold, cold_status = timed_get(client)
        with connection.execute_wrapper(count):
            executed.clear()
            timed_get(client)
            queries = len(executed)
        warm = [timed_cpu(client) for _ in range(args.requests)]
        statuses = {status for _ms, status in live} | {status for _ms, _cpu, status in warm} | {cold_status}
        live_ms = statistics.median(ms for ms, _ in live)
        warm_times = [ms for ms, _cpu, _ in warm]
        cpu = statistics.median(cpu for _ms, cpu, _ in warm)
        median = statistics.median(warm_times)
        print(
            f"{username:8} {owns:>7,} {live_ms:>9.1f} ms {cold:>5.0f} ms {median:>13.1f} ms"
            f" {percentile(warm_times, 0.95):>5.1f} ms {cpu:>4.1f} ms {queries:>8}"
        )
        if statuses != {200}:
            failures.append(f"{username}: HTTP {sorted(statuses)}")
        if median > TARGET_MS:
            failures.append(f"{username}: snapshot median {median:.1f} ms > {TARGET_MS:.0f} ms")
    print(f"load average {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    for failure in failures:
        print(f"MISSED: {failure}")
    return 1 if failures else 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    temp_dir = setup_django()
    try:
        return run_benchmark(args)
    finally:
        if temp_dir:
            shutil.rmtree(temp_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
