"""Key inventory benchmark: the key list page and API list on a large demo inventory.

    .venv/bin/python benchmarks/inventory.py [--keys 100000] [--requests 20] [--data-dir DIR] [--force] [--q TERM]
    .venv/bin/python benchmarks/inventory.py --keys 1000000      # the key list must meet the same targets at 1M

Seeds the demo inventory of ``inventory.demo`` with N generated keys (skipped when the database already has
them), then times ``/inventory/keys/`` and ``/api/v1/keys/`` for several filters through Django's test client
(in-process, so the figures are server-side time without a network), beside the raw SQL of the same page: the
statements the page runs on ``inventory_key`` (the row SELECT ... LIMIT/OFFSET and the paginator's COUNT(*)),
captured from one request with their parameters and re-run through ``connection.cursor()``. Each request's own SQL is timed with an execute wrapper,
so its *app time* (request time minus the time of the SQL it ran) is printed too.

Under the table, the *floor*: the same client, settings and middleware around views that do next to nothing (a
page view's role check answering "ok", the password-changed page that renders only the base layout, a DRF view
answering ``{}``; the first and last exist only in the benchmark's own URL conf), and the list's app time minus
the floor's: how much of it is the fixed cost of any logged-in request and how much the list's own work.

Targets (a row is flagged and the exit status is 1 when one is missed), on every filter:

- page / raw SQL and API / raw SQL at most 2x (medians);
- app time at most 10 ms (median), for the page and the API;
- at most 12 queries a request, no error answer, raw SQL itself under 250 ms.

The timed requests run with ``DEBUG`` off, as in production (Django's query log and template debugging cost
time of their own); seeding runs with the development settings ``manage.py seed_demo`` needs.

Database: PostgreSQL when ``DATABASE_URL`` is set (use a throwaway database: the demo data and demo
accounts are written into it), else a throwaway SQLite under a temporary ``CEK_DATA_DIR`` (or ``--data-dir``
to keep it between runs). Without ``CEK_SECRET_KEY`` the script sets ``CEK_DEBUG=1`` for itself; with a
production configuration (``CEK_DEBUG`` off) it needs ``--force``, like ``manage.py seed_demo``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
import types
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
MAX_QUERIES = 12
MAX_RATIO = 2.0  # page / raw SQL and API / raw SQL, on every filter
MAX_APP_MS = 10.0  # request time minus the time of the SQL the request ran
SLOW_SQL_MS = 250  # the ratio hides a query that is slow by itself: flag it too
# Text searches (?q=) over the generated keys, from common to absent: "infer" matches a quarter of them (the names
# of one prefix, clustered in the name order, and the ids of one store), "mac-shared" 1.5 % (one name prefix and
# tenant), "vault.azure" the external ids of one store only (8 %), "-shared-00012" a handful, "no-such-key" none.
SEARCHES = ("infer", "mac-shared", "vault.azure", "-shared-00012", "no-such-key")


@dataclass
class Timing:
    median_ms: float | None = None
    p95_ms: float | None = None
    queries: int | None = None
    note: str = ""
    sql_ms: float | None = None  # median time of the SQL one request ran
    app_ms: float | None = None  # median of (request time - its SQL time)
    cpu_ms: float | None = None  # median CPU time of the process per request (app and database client)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keys", type=int, default=100_000, help="generated keys to seed (default 100,000)")
    parser.add_argument("--requests", type=int, default=20, help="timed requests per endpoint (default 20)")
    parser.add_argument("--seed", type=int, default=2026, help="random seed of the generated keys")
    parser.add_argument("--data-dir", help="SQLite only: keep the database in this folder (reused next time)")
    parser.add_argument("--force", action="store_true", help="seed even though CEK_DEBUG is off")
    parser.add_argument(
        "--q",
        action="append",
        metavar="TERM",
        help="a text search to time (repeat for several; the first is also timed on page 100); default: "
        + ", ".join(SEARCHES),
    )
    return parser.parse_args(argv)


def setup_django(args: argparse.Namespace) -> str | None:
    """Point Django at the right database before it reads its settings; return a temp dir to remove."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cek.settings")
    if not os.environ.get("CEK_SECRET_KEY") and not os.environ.get("CEK_SECRET_KEY_FILE"):
        os.environ["CEK_DEBUG"] = "1"
    temp_dir = None
    if not os.environ.get("DATABASE_URL"):
        # Never the developer's own SQLite file: a folder of the benchmark's own.
        os.environ.pop("CEK_SQLITE_PATH", None)
        if args.data_dir:
            os.environ["CEK_DATA_DIR"] = str(Path(args.data_dir).resolve())
        else:
            temp_dir = tempfile.mkdtemp(prefix="cek-bench-")
            os.environ["CEK_DATA_DIR"] = temp_dir
    import django

    django.setup()
    from django.conf import settings

    if "testserver" not in settings.ALLOWED_HOSTS:
        settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    return temp_dir


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


def measure(call: Callable[[], object], runs: int) -> tuple[list[float], object]:
    call()  # warm-up: caches, prepared plans, template loading
    times, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = call()
        times.append((time.perf_counter() - started) * 1000)
    return times, result


def time_endpoint(client, url: str, runs: int) -> Timing:
    from django.db import connection

    # Count and time through an execute wrapper: unlike the query log it works the same with DEBUG on or off.
    executed: list[float] = []

    def timed(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            executed.append((time.perf_counter() - started) * 1000)

    with connection.execute_wrapper(timed):
        response = client.get(url, secure=True)  # warm-up
        if response.status_code != 200:
            return Timing(note=f"HTTP {response.status_code}")
        totals, sql, cpu = [], [], []
        for _ in range(runs):
            executed.clear()
            started, cpu_started = time.perf_counter(), time.process_time()
            response = client.get(url, secure=True)
            totals.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - cpu_started) * 1000)
            sql.append(sum(executed))
            if response.status_code != 200:
                return Timing(note=f"HTTP {response.status_code}")
    app = [total - spent for total, spent in zip(totals, sql, strict=True)]
    return Timing(
        statistics.median(totals),
        percentile(totals, 0.95),
        len(executed),  # the queries of the last timed request
        sql_ms=statistics.median(sql),
        app_ms=statistics.median(app),
        cpu_ms=statistics.median(cpu),
    )


def floor_urlconf() -> types.ModuleType:
    """The product's URLs plus two that do next to nothing, for the benchmark alone (no URL is added to the app):
    a page view that checks the role as every page does and answers "ok" (no template), and a DRF view with the
    API's own authentication, permission (``ApiRolePermission``) and renderer that answers ``{}``. Timed through
    the same client, settings and middleware (session, user, roles, CSRF, CSP, security headers, history, axes),
    they are the cost of any logged-in request before a view's own work."""
    from django.http import HttpResponse
    from django.urls import include, path
    from django.views import View
    from rest_framework.response import Response
    from rest_framework.views import APIView

    from cek import urls as product_urls
    from cek.pages import EVERYONE
    from cek.roles import RoleRequiredMixin

    class LoggedInView(RoleRequiredMixin, View):
        allowed_roles = EVERYONE

        def get(self, request):
            return HttpResponse("ok", content_type="text/plain")

    class ApiFloorView(APIView):
        key_owner_readable = True

        def get(self, request):
            return Response({})

    module = types.ModuleType("benchmark_floor_urls")
    module.urlpatterns = [
        path("floor/request/", LoggedInView.as_view()),
        path("api/v1/floor/", ApiFloorView.as_view()),  # under /api/: left to DRF's authentication, as the API
        path("", include("cek.urls")),
    ]
    module.handler404 = product_urls.handler404
    return module


FLOOR_REQUESTS = (
    ("logged-in request (role check, no template)", "/floor/request/"),
    ("cheapest page (password changed: base layout)", "/accounts/password/change/done/"),
    ("cheapest API answer (DRF, {})", "/api/v1/floor/"),
)


def time_floor(client, runs: int) -> list[tuple[str, Timing]]:
    """The floor rows: ``FLOOR_REQUESTS`` timed as the key list is (``time_endpoint``), the first and last through
    :func:`floor_urlconf`'s views, the middle one an existing page that renders the base layout and nothing else."""
    from django.test import override_settings

    with override_settings(ROOT_URLCONF=floor_urlconf()):
        return [(label, time_endpoint(client, url, runs)) for label, url in FLOOR_REQUESTS]


def time_cold(client, url: str, runs: int) -> Timing:
    """The request right after a write: the stored figures it reads (the count, the state filter's choices:
    ``cek.snapshot``) are computed again, as they are once after every write to the inventory."""
    from cek import snapshot

    times = []
    for _ in range(runs):
        snapshot.invalidate()
        started = time.perf_counter()
        response = client.get(url, secure=True)
        times.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            return Timing(note=f"HTTP {response.status_code}")
    return Timing(statistics.median(times), percentile(times, 0.95))


def time_raw_sql(client, url: str, runs: int, *, stored_figures: bool = True) -> Timing:
    """The page's own statements for its keys, exactly as it runs them: the statements on ``inventory_key`` of one
    request of ``url`` (the paginator's COUNT(*) and the row SELECT ... LIMIT/OFFSET), captured with their
    parameters and re-run through ``connection.cursor()``."""
    from django.db import connection

    statements: list[tuple[str, object]] = []

    def capture(execute, sql, params, many, context):
        if '"inventory_key"' in sql:
            statements.append((sql, params))
        return execute(sql, params, many, context)

    from django.conf import settings

    kept = settings.CEK_DASHBOARD_SNAPSHOT_SECONDS
    if not stored_figures:  # the statements of a page that counts its keys on every request
        settings.CEK_DASHBOARD_SNAPSHOT_SECONDS = 0
    try:
        with connection.execute_wrapper(capture):
            response = client.get(url, secure=True)
    finally:
        settings.CEK_DASHBOARD_SNAPSHOT_SECONDS = kept
    if response.status_code != 200:
        return Timing(note=f"HTTP {response.status_code}")

    def run() -> None:
        with connection.cursor() as cursor:
            for sql, sql_params in statements:
                cursor.execute(sql, sql_params)
                cursor.fetchall()

    times, _ = measure(run, runs)
    return Timing(statistics.median(times), percentile(times, 0.95), len(statements))


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    temp_dir = setup_django(args)
    try:
        return run_benchmark(args)
    finally:
        if temp_dir:
            shutil.rmtree(temp_dir, ignore_errors=True)


def run_benchmark(args: argparse.Namespace) -> int:
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.urls import NoReverseMatch, reverse

    from cek.demo import demo_allowed_or_refuse
    from inventory.demo import bulk_keys, demo_seed
    from inventory.models import Key, KeyStore

    demo_allowed_or_refuse(force=args.force, command="benchmarks/inventory.py")
    print(f"Database: {connection.vendor} ({settings.DATABASES['default']['NAME']}), DEBUG={settings.DEBUG}")
    started = time.monotonic()
    call_command("migrate", verbosity=0)
    print(f"migrate: {time.monotonic() - started:.1f} s")

    existing = bulk_keys().count()
    if existing >= args.keys:
        print(f"seed: skipped, {existing:,} generated keys already there")
    else:
        started = time.monotonic()
        report = demo_seed(keys=args.keys, seed=args.seed)
        print(f"seed: {report.bulk_created:,} keys created in {time.monotonic() - started:.1f} s")
    # Fresh planner statistics and (PostgreSQL) a visibility map, as autovacuum keeps them on a live database:
    # without it COUNT(*) cannot use an index-only scan.
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    print(f"keys in the inventory: {Key.objects.count():,}")

    from django.contrib.auth import get_user_model

    # Timed as production runs: without the query log and template debugging that DEBUG turns on.
    settings.DEBUG = False
    grace = get_user_model().objects.get(username="grace")
    client = Client()
    client.force_login(grace, backend="cek.access.ExpiringAccessBackend")
    store = KeyStore.objects.get(name="aws-kms-prod")
    cases = [
        ("no filter", {}),
        ("state=active", {"state": "active"}),
        ("purpose=inference-log-encryption", {"purpose": "inference-log-encryption"}),
        (f"store={store.pk}", {"store": str(store.pk)}),
        ("overdue=true", {"overdue": "true"}),
        ("ordering=-updated_at", {"ordering": "-updated_at"}),
        ("page=100", {"page": "100"}),
    ]
    searches = args.q or SEARCHES
    cases += [(f"q={term}", {"q": term}) for term in searches]
    cases.append((f"q={searches[0]}&page=100", {"q": searches[0], "page": "100"}))
    try:
        page_url = reverse("inventory:key-list")
    except NoReverseMatch:
        page_url = None
    api_url = "/api/v1/keys/"

    print(
        f"\n{args.requests} timed requests each after one warm-up; times in ms (median / p95), q = queries, "
        "app = request minus its own SQL, cpu = the process's CPU time per request (medians; on a loaded "
        "machine app time waits for a core, CPU time does not); load average at start: "
        + " ".join(f"{load:.2f}" for load in os.getloadavg())
        + "\n"
    )
    header = (
        f"{'filter':<34} {'page med':>9} {'p95':>7} {'q':>3} {'app':>6} {'cpu':>5}"
        f"  {'api med':>8} {'p95':>7} {'q':>3} {'app':>6} {'cpu':>5}"
        f"  {'raw SQL':>8}  {'page/raw':>8} {'api/raw':>8}  {'cold':>6} {'all SQL':>8} {'cold/all':>8}"
    )
    print(header)
    print("-" * len(header))
    flagged = 0
    app_times: dict[str, list[Timing]] = {"page": [], "api": []}
    for label, params in cases:
        query = "?" + urlencode(params) if params else ""
        page = time_endpoint(client, page_url + query, args.requests) if page_url else Timing(note="no URL")
        api = time_endpoint(client, api_url + query, args.requests)
        raw = time_raw_sql(client, page_url + query, args.requests) if page_url else Timing(note="no URL")
        cold = time_cold(client, page_url + query, max(3, args.requests // 4)) if page_url else Timing()
        every = time_raw_sql(client, page_url + query, args.requests, stored_figures=False) if page_url else Timing()
        cells, flags = [], []
        for timing, name in ((page, "page"), (api, "api")):
            if timing.median_ms is None:
                cells.append(f"{timing.note:>36}")
                # page=100 is past the last page of a small inventory: a 404 there is right, any other error not.
                if not (timing.note == "HTTP 404" and params.get("page")):
                    flags.append(f"{name} {timing.note}")
                continue
            cells.append(
                f"{timing.median_ms:>9.1f} {timing.p95_ms:>7.1f} {timing.queries:>3} {timing.app_ms:>6.1f}"
                f" {timing.cpu_ms:>5.1f}"
            )
            app_times[name].append(timing)
            if timing.queries > MAX_QUERIES:
                flags.append(f"{name} {timing.queries} queries")
            if timing.app_ms > MAX_APP_MS:
                flags.append(f"{name} app {timing.app_ms:.1f} ms")
        ratios = []
        for timing, name in ((page, "page"), (api, "api")):
            # No statement on keys (a search that matches nothing: its page reads no rows): no ratio to take.
            if timing.median_ms is None or raw.median_ms in (None, 0) or not raw.queries:
                ratios.append(f"{'-':>8}")
                continue
            ratio = timing.median_ms / raw.median_ms
            ratios.append(f"{ratio:>7.1f}x")
            if ratio > MAX_RATIO:
                flags.append(f"{name} {ratio:.1f}x raw")
        raw_cell = f"{raw.median_ms:>8.1f}" if raw.median_ms is not None else f"{raw.note:>8}"
        if raw.median_ms is None:
            flags.append(raw.note)
        elif raw.median_ms > SLOW_SQL_MS:
            flags.append(f"raw SQL {raw.median_ms:.0f} ms")
        flag = f"  <-- {', '.join(flags)}" if flags else ""
        flagged += bool(flags)
        if cold.median_ms is not None and every.median_ms:
            cold_cells = f"{cold.median_ms:>6.1f} {every.median_ms:>8.1f} {cold.median_ms / every.median_ms:>7.1f}x"
        else:
            cold_cells = f"{'-':>6} {'-':>8} {'-':>8}"
        print(f"{label:<34} {cells[0]}  {cells[1]}  {raw_cell}  {ratios[0]} {ratios[1]}  {cold_cells}{flag}")
    print_floor(client, args.requests, app_times)
    print(
        f"\nFlags: an error answer, more than {MAX_QUERIES} queries per request, more than {MAX_RATIO:g}x the raw SQL "
        f"time, more than {MAX_APP_MS:g} ms of app time, or raw SQL slower than {SLOW_SQL_MS} ms. "
        "cold = the page's first request after a write (its stored count and state choices computed again); all "
        "SQL = the statements on keys of a page without stored figures (count, rows, states). "
        "Load average at the end: " + " ".join(f"{load:.2f}" for load in os.getloadavg())
    )
    print(f"{flagged} of {len(cases)} rows flagged.")
    return 1 if flagged else 0


def print_floor(client, runs: int, app_times: dict[str, list[Timing]]) -> None:
    """The floor under the table: what any logged-in request costs here, and how much of the list's app time is
    left for its own work (its app time minus the floor's). Not a target: no flag."""
    floor = time_floor(client, runs)
    print(
        "\nFloor: the same client, middleware, session, user and roles around views that do next to nothing "
        f"(medians of {runs}; q, app and cpu as above)"
    )
    for label, timing in floor:
        if timing.median_ms is None:
            print(f"{label:<50} {timing.note}")
            continue
        print(
            f"{label:<50} {timing.median_ms:>6.1f} ms  p95 {timing.p95_ms:>6.1f}  q {timing.queries}"
            f"  app {timing.app_ms:>5.1f}  cpu {timing.cpu_ms:>5.1f}"
        )
    timings = dict(floor)
    for name, floor_label in (("page", FLOOR_REQUESTS[1][0]), ("api", FLOOR_REQUESTS[2][0])):
        base, own = timings[floor_label], app_times[name]
        if base.app_ms is None or not own:
            continue
        app, cpu = [t.app_ms for t in own], [t.cpu_ms for t in own]
        print(
            f"{name}: app {min(app):.1f}-{max(app):.1f} ms (cpu {min(cpu):.1f}-{max(cpu):.1f}) = the floor's "
            f"{base.app_ms:.1f} (cpu {base.cpu_ms:.1f}) + the list's own {min(app) - base.app_ms:.1f}-"
            f"{max(app) - base.app_ms:.1f} (cpu {min(cpu) - base.cpu_ms:.1f}-{max(cpu) - base.cpu_ms:.1f})"
        )


if __name__ == "__main__":
    sys.exit(main())
