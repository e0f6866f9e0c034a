"""Check run benchmark: every auditing guideline (AG-1..10, CCM-1..3) over a large inventory.

    .venv/bin/python benchmarks/checks.py [--keys 100000] [--bindings 2N] [--grants N/2] [--data-dir DIR]
        [--max-seconds 10] [--max-mb 512]
    DATABASE_URL=postgres://.../cek_bench_checks .venv/bin/python benchmarks/checks.py --scale 100000,1000000

Seeds the demo inventory of ``inventory.demo`` with N generated keys (reused when already there, like
``benchmarks/inventory.py``), adds generated bindings (two per key unless given) and access grants (one per two
keys) to those keys (reused too) with a few per cent of them breaking a rule, then runs every check twice through
``evidence.checks.services.check_run_start`` (inline): the first run opens the findings, the second is the steady
state (findings seen again). Each run happens in a fresh child process, so its memory is the check run's alone
(seeding happens in this process and never counts): the child reports its resident memory after Django's set-up
(the baseline) and the load average, and this process reads the child's peak from ``wait4``. It prints the time
of each run, the time of each check (evaluation plus its findings) in both runs, the findings opened / resolved,
the child's baseline and peak RSS, and the server time of ``GET /`` (the dashboard) through Django's test client.
On PostgreSQL the bindings and grants are made inside the database (``seed_usage_sql``), else with
``bulk_create``.

Exit status 1 when a run fails or misses a target: each run at most ``--max-seconds`` (10 s) and its process
at most ``--max-mb`` (512 MB) peak RSS. The targets are for the default sizes; smaller sizes must meet them too.

``--scale 100000,1000000`` (PostgreSQL): the benchmark once per size, each in its own throwaway database named
after ``DATABASE_URL``'s (``cek_bench_checks_100000``, ...: created, seeded, dropped afterwards unless ``--keep``),
with the targets of issue 17 (each run at most 60 s and 1,024 MB peak RSS, at every size), then a table of the
sizes and the ratios of time and of memory above set-up between consecutive sizes (linear: about the ratio of
the keys).

Database: PostgreSQL when ``DATABASE_URL`` is set (use a THROWAWAY database: demo data and demo accounts are
written into it), else a throwaway SQLite. Same safety rules as ``benchmarks/inventory.py``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from itertools import pairwise
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.inventory import setup_django

BINDING_NOTE = "benchmark binding"
GRANT_JUSTIFICATION = "benchmark grant"
BATCH = 5000
SCALE_MAX_SECONDS = 60.0  # --scale: a check run over a million keys within a minute ...
SCALE_MAX_MB = 1024.0  # ... and a gigabyte
SUMMARY = "SUMMARY "  # the line a benchmark prints last, read by --scale


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keys", type=int, default=100_000, help="generated keys to seed (default 100,000)")
    parser.add_argument("--bindings", type=int, help="generated bindings (default: two per key)")
    parser.add_argument("--grants", type=int, help="generated access grants (default: one per two keys)")
    parser.add_argument("--seed", type=int, default=2026, help="random seed")
    parser.add_argument("--requests", type=int, default=5, help="timed requests of GET / (default 5)")
    parser.add_argument("--data-dir", help="SQLite only: keep the database in this folder (reused next time)")
    parser.add_argument("--force", action="store_true", help="seed even though CEK_DEBUG is off")
    parser.add_argument("--max-seconds", type=float, default=10.0, help="target per check run (default 10 s)")
    parser.add_argument("--max-mb", type=float, default=512.0, help="target peak RSS of a run (default 512 MB)")
    parser.add_argument(
        "--scale",
        metavar="N,N",
        help="PostgreSQL only: for each size (e.g. 100000,1000000) a throwaway database <DATABASE_URL's>_<N> is "
        "created, seeded, benchmarked with the targets of --max-seconds/--max-mb (60 s and 1,024 MB unless given) "
        "and dropped; then the ratios between the sizes are printed",
    )
    parser.add_argument("--keep", action="store_true", help="--scale: keep the databases (reused next time)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)  # internal: one run, JSON out
    args = parser.parse_args(argv)
    if args.scale and "--max-seconds" not in " ".join(argv if argv is not None else sys.argv):
        args.max_seconds = SCALE_MAX_SECONDS
    if args.scale and "--max-mb" not in " ".join(argv if argv is not None else sys.argv):
        args.max_mb = SCALE_MAX_MB
    args.bindings = 2 * args.keys if args.bindings is None else args.bindings
    args.grants = args.keys // 2 if args.grants is None else args.grants
    return args


def child_run() -> int:
    """One check run in this (fresh) process; prints its id, wall time and the RSS before it as JSON."""
    from evidence.checks.services import check_run_start
    from evidence.models import RunTrigger

    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    started = time.monotonic()
    run = check_run_start(trigger=RunTrigger.COMMAND, background=False)
    wall = time.monotonic() - started
    print(json.dumps({"run": run.pk, "wall": wall, "baseline_mb": baseline, "load": os.getloadavg()[0]}))
    return 0


def timed_child_run() -> tuple[dict, float]:
    """(the child's JSON with its CPU seconds added, its peak RSS in MB)."""
    command = [sys.executable, __file__, "--child"]
    if os.environ.get("CEK_DATA_DIR") and not os.environ.get("DATABASE_URL"):
        command += ["--data-dir", os.environ["CEK_DATA_DIR"]]  # the same SQLite file
    with tempfile.TemporaryFile() as out:
        process = subprocess.Popen(command, env=os.environ.copy(), stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(process.pid, 0)
        out.seek(0)
        lines = out.read().decode(errors="replace").strip().splitlines()
    if os.waitstatus_to_exitcode(status) != 0 or not lines:
        raise SystemExit("The check run failed:\n" + "\n".join(lines[-20:]))
    # CPU time (user + system) of the whole child, set-up included: less sensitive to a busy machine than wall time.
    return {**json.loads(lines[-1]), "cpu": usage.ru_utime + usage.ru_stime}, usage.ru_maxrss / 1024


def seed_usage(*, bindings: int, grants: int, seed: int) -> None:
    """Bindings and grants on the generated keys, written with ``bulk_create`` (no history rows: volume only).
    About 2 % of the bindings use another purpose and 3 % of the grants are unapproved or wildcards."""
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction
    from django.utils import timezone

    from inventory.demo import bulk_keys
    from inventory.models import AccessGrant, Binding, Purpose, Service, Tenant

    if connection.vendor == "postgresql":
        seed_usage_sql(bindings=bindings, grants=grants, seed=seed)
        return
    rng = random.Random(seed)
    keys = list(bulk_keys().order_by("pk").values_list("pk", "purpose_id"))
    services = list(Service.objects.values_list("pk", flat=True))
    tenants = [None, *Tenant.objects.values_list("pk", flat=True)]
    purposes = list(Purpose.objects.values_list("pk", "allowed_operations"))
    allowed = dict(purposes)
    fallback = purposes[0][0]
    have = Binding.objects.filter(notes=BINDING_NOTE).count()
    started = time.monotonic()
    while have < bindings:
        rows = []
        for n in range(have, min(bindings, have + BATCH)):
            key_id, purpose_id = keys[n % len(keys)]
            purpose_id = purpose_id or fallback
            if rng.random() < 0.02:
                purpose_id = rng.choice(purposes)[0]
            rows.append(
                Binding(
                    key_id=key_id,
                    service_id=services[key_id % len(services)] if rng.random() > 0.01 else rng.choice(services),
                    tenant_id=tenants[key_id % len(tenants)],
                    purpose_id=purpose_id,
                    principal=f"arn:aws:iam::111122223333:role/bench-{n}",
                    operations=list(allowed[purpose_id])[:2],
                    notes=BINDING_NOTE,
                )
            )
        with transaction.atomic():
            Binding.objects.bulk_create(rows, batch_size=BATCH)
        have += len(rows)
    print(f"bindings: {have:,} ({time.monotonic() - started:.1f} s)")
    have = AccessGrant.objects.filter(justification=GRANT_JUSTIFICATION).count()
    today = timezone.localdate()
    approver = get_user_model().objects.get(username="grace")
    started = time.monotonic()
    while have < grants:
        rows = []
        for n in range(have, min(grants, have + BATCH)):
            key_id, purpose_id = keys[(n * 7) % len(keys)]
            bad = rng.random() < 0.03
            rows.append(
                AccessGrant(
                    key_id=key_id,
                    principal="arn:aws:iam::111122223333:role/*" if bad else f"arn:aws:iam::111122223333:role/g-{n}",
                    operations=list(allowed[purpose_id or fallback])[:1],
                    justification=GRANT_JUSTIFICATION,
                    approver_id=None if bad else approver.pk,
                    approved_on=today,
                )
            )
        with transaction.atomic():
            AccessGrant.objects.bulk_create(rows, batch_size=BATCH)
        have += len(rows)
    print(f"grants: {have:,} ({time.monotonic() - started:.1f} s)")


def seed_usage_sql(*, bindings: int, grants: int, seed: int) -> None:
    """PostgreSQL: the same bindings and grants as ``seed_usage`` (same shares, same spread over the generated
    keys), made inside the database with one ``INSERT ... SELECT`` each: a million keys' two million bindings in
    seconds rather than the half hour ``bulk_create`` takes. The random draws are hashes of the row number and
    ``seed``, so the data depends only on them."""
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction

    from inventory.demo import BULK_LABEL, bulk_keys
    from inventory.models import AccessGrant, Binding, Key, Purpose, Service, Tenant

    services = list(Service.objects.order_by("pk").values_list("pk", flat=True))
    tenants = list(Tenant.objects.order_by("pk").values_list("pk", flat=True))
    purposes = list(Purpose.objects.order_by("pk").values_list("pk", "allowed_operations"))
    approver = get_user_model().objects.get(username="grace").pk
    # Per-row draws in [0, 1): a hash of (seed, row number, what is drawn).
    draw = "((hashtextextended(%(seed)s || ':' || n || ':{0}', 0) & 1048575) / 1048576.0)"
    params = {
        "seed": str(seed),
        "label": json.dumps(dict([BULK_LABEL])),
        "services": services,
        "tenants": [None, *tenants],
        "purpose_ids": [pk for pk, _ in purposes],
        "two_ops": [json.dumps(list(ops)[:2]) for _, ops in purposes],
        "one_op": [json.dumps(list(ops)[:1]) for _, ops in purposes],
        "note": BINDING_NOTE,
        "justification": GRANT_JUSTIFICATION,
        "approver": approver,
    }
    keys = f"""
        WITH keys AS (
            SELECT id, COALESCE(purpose_id, %(fallback)s) AS purpose_id, row_number() OVER (ORDER BY id) - 1 AS i
            FROM {Key._meta.db_table} WHERE labels @> %(label)s::jsonb
        ),
        purposes AS (
            SELECT p.id, p.i, p.two_ops::jsonb AS two_ops, p.one_op::jsonb AS one_op
            FROM unnest(%(purpose_ids)s::bigint[], %(two_ops)s::text[], %(one_op)s::text[])
                 WITH ORDINALITY AS p(id, two_ops, one_op, i)
        )"""
    # The counts as parameters, so that the joins on the row number are plain equalities (hash joins).
    params.update(fallback=purposes[0][0], purposes=len(purposes), keys=bulk_keys().count())
    have = Binding.objects.filter(notes=BINDING_NOTE).count()
    started = time.monotonic()
    if have < bindings:
        purpose = f"CASE WHEN {draw.format('other')} < 0.02 THEN o.id ELSE k.purpose_id END"
        sql = f"""{keys}
            INSERT INTO {Binding._meta.db_table}
                (created_at, updated_at, principal, operations, notes, key_id, purpose_id, service_id, tenant_id)
            SELECT now(), now(), 'arn:aws:iam::111122223333:role/bench-' || n, p.two_ops, %(note)s, k.id, p.id,
                   CASE WHEN {draw.format("service")} > 0.01
                        THEN (%(services)s::bigint[])[1 + k.id %% cardinality(%(services)s::bigint[])]
                        ELSE (%(services)s::bigint[])[1 + floor({draw.format("which")} * cardinality(%(services)s::bigint[]))::int]
                   END,
                   (%(tenants)s::bigint[])[1 + k.id %% cardinality(%(tenants)s::bigint[])]
            FROM generate_series(%(have)s, %(want)s - 1) AS n
            JOIN keys k ON k.i = n %% %(keys)s
            JOIN purposes o ON o.i = 1 + floor({draw.format("purpose")} * %(purposes)s)::int
            JOIN purposes p ON p.id = {purpose}"""  # table names from the models, values as parameters
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, {**params, "have": have, "want": bindings})
        have = bindings
    print(f"bindings: {have:,} ({time.monotonic() - started:.1f} s)")
    have = AccessGrant.objects.filter(justification=GRANT_JUSTIFICATION).count()
    started = time.monotonic()
    if have < grants:
        bad = f"{draw.format('bad')} < 0.03"
        sql = f"""{keys}
            INSERT INTO {AccessGrant._meta.db_table}
                (created_at, updated_at, principal_type, principal, operations, justification, approver_id,
                 approved_on, key_id)
            SELECT now(), now(), 'role',
                   CASE WHEN {bad} THEN 'arn:aws:iam::111122223333:role/*'
                        ELSE 'arn:aws:iam::111122223333:role/g-' || n END,
                   p.one_op, %(justification)s, CASE WHEN {bad} THEN NULL ELSE %(approver)s END, current_date, k.id
            FROM generate_series(%(have)s, %(want)s - 1) AS n
            JOIN keys k ON k.i = (n * 7) %% %(keys)s
            JOIN purposes p ON p.id = k.purpose_id"""
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, {**params, "have": have, "want": grants})
        have = grants
    print(f"grants: {have:,} ({time.monotonic() - started:.1f} s)")


def run_benchmark(args: argparse.Namespace) -> int:
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from cek.demo import demo_allowed_or_refuse
    from evidence.checks.selectors import run_results
    from evidence.models import RunStatus
    from inventory.demo import bulk_keys, demo_seed
    from inventory.models import AccessGrant, Binding, Key

    demo_allowed_or_refuse(force=args.force, command="benchmarks/checks.py")
    print(f"Database: {connection.vendor} ({settings.DATABASES['default']['NAME']}), DEBUG={settings.DEBUG}")
    call_command("migrate", verbosity=0)
    existing = bulk_keys().count()
    if existing >= args.keys:
        print(f"seed: skipped, {existing:,} generated keys already there")
    else:
        started = time.monotonic()
        report = demo_seed(keys=args.keys, seed=args.seed)
        print(f"seed: {report.bulk_created:,} keys created in {time.monotonic() - started:.1f} s")
    seed_usage(bindings=args.bindings, grants=args.grants, seed=args.seed)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    print(
        f"inventory: {Key.objects.count():,} keys, {Binding.objects.count():,} bindings, "
        f"{AccessGrant.objects.count():,} grants"
    )

    from evidence.models import CheckRun

    connection.close()  # the children open their own
    runs, figures = [], []
    for label in ("first run (opens findings)", "second run (steady state)"):
        child, peak = timed_child_run()
        run = CheckRun.objects.get(pk=child["run"])
        runs.append(run)
        figures.append((label, run, child, peak))
        print(
            f"{label}: #{run.pk} {run.status} in {child['wall']:.2f} s (recorded {run.duration_ms} ms); "
            f"{run.keys_evaluated:,} keys in use; findings opened {run.findings_opened:,}, "
            f"resolved {run.findings_resolved:,}; RSS {child['baseline_mb']:.0f} MB after set-up, "
            f"peak {peak:.0f} MB; child CPU {child['cpu']:.1f} s; load average {child['load']:.1f}; {run.last_error}"
        )
    print(f"\n{'Guideline':<10} {'Status':<15} {'ms (1st)':>9} {'ms (2nd)':>9}  Metric")
    first = {r.guideline_id: r for r in run_results(runs[0])}
    for result in run_results(runs[1]):
        print(
            f"{result.guideline_id:<10} {result.get_status_display():<15} {first[result.guideline_id].duration_ms:>9} "
            f"{result.duration_ms:>9}  {result.metric}"
        )
    verdicts = []
    for label, run, child, peak in figures:
        name = label.split(" (")[0]
        verdicts += [
            (f"{name} succeeded", run.status == RunStatus.SUCCEEDED),
            (f"{name} <= {args.max_seconds:g} s ({child['wall']:.2f} s)", child["wall"] <= args.max_seconds),
            (f"{name} peak RSS <= {args.max_mb:g} MB ({peak:.0f} MB)", peak <= args.max_mb),
        ]
    print(
        f"\nseeding process peak RSS (not a target): {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB"
    )

    from django.contrib.auth import get_user_model

    client = Client()
    client.force_login(get_user_model().objects.get(username="grace"), backend="cek.access.ExpiringAccessBackend")
    if "testserver" not in settings.ALLOWED_HOSTS:
        settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    client.get("/")
    timings = []
    for _ in range(args.requests):
        started = time.monotonic()
        status = client.get("/").status_code
        timings.append((time.monotonic() - started) * 1000)
    print(f"GET / (dashboard): HTTP {status}, median {statistics.median(timings):.0f} ms over {args.requests} requests")
    verdicts.append(("GET / answers 200", status == 200))
    print()
    for label, ok in verdicts:
        print(f"{'met' if ok else 'NOT MET':>8}  {label}")
    summary = {
        "keys": args.keys,
        "keys_in_use": runs[-1].keys_evaluated,
        "runs": [
            {
                "seconds": child["wall"],
                "cpu_seconds": child["cpu"],
                "peak_mb": peak,
                "baseline_mb": child["baseline_mb"],
                "load": child["load"],
            }
            for _, _, child, peak in figures
        ],
        "met": all(ok for _, ok in verdicts),
    }
    print(SUMMARY + json.dumps(summary))
    return 0 if summary["met"] else 1


def run_scale(args: argparse.Namespace) -> int:
    """``--scale``: this script once per size, each in its own throwaway database, then the ratios."""
    import psycopg

    base = os.environ.get("DATABASE_URL", "")
    if not base.startswith(("postgres://", "postgresql://")):
        raise SystemExit("--scale needs DATABASE_URL naming a PostgreSQL database (its name is the prefix).")
    server, _, name = base.rpartition("/")
    name = name.split("?")[0]
    sizes = [int(size) for size in args.scale.split(",")]
    maintenance = f"{server}/postgres"  # CREATE and DROP DATABASE run from the server's own database
    results = []
    for size in sizes:
        database = f"{name}_{size}"
        with psycopg.connect(maintenance, autocommit=True) as admin:
            if not admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database]).fetchone():
                admin.execute(f'CREATE DATABASE "{database}"')
        command = [
            sys.executable, __file__, "--keys", str(size), "--seed", str(args.seed), "--requests", str(args.requests),
            "--max-seconds", str(args.max_seconds), "--max-mb", str(args.max_mb),
        ]  # fmt: skip
        if args.force:
            command.append("--force")
        print(f"\n=== {size:,} keys (database {database}) ===", flush=True)
        started = time.monotonic()
        try:
            process = subprocess.run(
                command, env={**os.environ, "DATABASE_URL": f"{server}/{database}"}, capture_output=True, text=True
            )
        finally:
            if not args.keep:
                with psycopg.connect(maintenance, autocommit=True) as admin:
                    admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        print(process.stdout.replace(SUMMARY, "summary: "), process.stderr[-3000:], sep="", flush=True)
        lines = [line for line in process.stdout.splitlines() if line.startswith(SUMMARY)]
        if not lines:
            print(f"{size:,} keys: the benchmark failed (exit {process.returncode}).")
            return 1
        results.append(json.loads(lines[-1].removeprefix(SUMMARY)))
        print(f"{size:,} keys: {time.monotonic() - started:.0f} s in all (seeding included)")
    print(
        f"\n{'keys':>10} {'in use':>10} {'1st run s':>10} {'2nd run s':>10} {'peak MB':>8} {'above set-up MB':>16} load"
    )
    for result in results:
        first, second = result["runs"]
        peak = max(run["peak_mb"] for run in result["runs"])
        above = max(run["peak_mb"] - run["baseline_mb"] for run in result["runs"])
        loads = ", ".join(f"{run['load']:.1f}" for run in result["runs"])
        print(
            f"{result['keys']:>10,} {result['keys_in_use']:>10,} {first['seconds']:>10.2f} {second['seconds']:>10.2f} "
            f"{peak:>8.0f} {above:>16.0f} {loads}"
        )
    for small, large in pairwise(results):
        keys = large["keys_in_use"] / small["keys_in_use"]
        for index, label in enumerate(("first run", "second run")):
            seconds = large["runs"][index]["seconds"] / small["runs"][index]["seconds"]
            memory = (large["runs"][index]["peak_mb"] - large["runs"][index]["baseline_mb"]) / max(
                small["runs"][index]["peak_mb"] - small["runs"][index]["baseline_mb"], 1
            )
            cpu = large["runs"][index]["cpu_seconds"] / small["runs"][index]["cpu_seconds"]
            print(
                f"{large['keys']:,} vs {small['keys']:,} keys ({keys:.1f}x keys in use), {label}: "
                f"time {seconds:.1f}x, child CPU {cpu:.1f}x, memory above set-up {memory:.1f}x"
            )
    return 0 if all(result["met"] for result in results) else 1


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.scale:
        return run_scale(args)
    temp_dir = setup_django(args)
    if args.child:
        return child_run()
    try:
        return run_benchmark(args)
    finally:
        if temp_dir:
            shutil.rmtree(temp_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
