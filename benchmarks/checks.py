"""Check run benchmark: every auditing guideline (AG-1..10, CCM-1..3) over a large inventory.

    .venv/bin/python benchmarks/checks.py [--keys 100000] [--bindings 200000] [--grants 50000] [--data-dir DIR]
        [--max-seconds 10] [--max-mb 512]

Seeds the demo inventory of ``inventory.demo`` with N generated keys (reused when already there, like
``benchmarks/inventory.py``), adds generated bindings and access grants to those keys (reused too) with a few
per cent of them breaking a rule, then runs every check twice through ``evidence.checks.services.check_run_start``
(inline): the first run opens the findings, the second is the steady state (findings seen again). Each run
happens in a fresh child process, so its memory is the check run's alone (seeding happens in this process
and never counts): the child reports its resident memory after Django's set-up (the baseline) and this
process reads the child's peak from ``wait4``. It prints the time of each run, the time of each check
(evaluation plus its findings) in both runs, the findings opened / resolved, the child's baseline and peak
RSS, and the server time of ``GET /`` (the dashboard) through Django's test client.

Exit status 1 when a run fails or misses a target: each run at most ``--max-seconds`` (10 s) and its process
at most ``--max-mb`` (512 MB) peak RSS. The targets are for the default sizes; smaller sizes must meet them too.

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
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.inventory import setup_django

BINDING_NOTE = "benchmark binding"
GRANT_JUSTIFICATION = "benchmark grant"
BATCH = 5000


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keys", type=int, default=100_000, help="generated keys to seed (default 100,000)")
    parser.add_argument("--bindings", type=int, default=200_000, help="generated bindings (default 200,000)")
    parser.add_argument("--grants", type=int, default=50_000, help="generated access grants (default 50,000)")
    parser.add_argument("--seed", type=int, default=2026, help="random seed")
    parser.add_argument("--requests", type=int, default=5, help="timed requests of GET / (default 5)")
    parser.add_argument("--data-dir", help="SQLite only: keep the database in this folder (reused next time)")
    parser.add_argument("--force", action="store_true", help="seed even though CEK_DEBUG is off")
    parser.add_argument("--max-seconds", type=float, default=10.0, help="target per check run (default 10 s)")
    parser.add_argument("--max-mb", type=float, default=512.0, help="target peak RSS of a run (default 512 MB)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)  # internal: one run, JSON out
    return parser.parse_args(argv)


def child_run() -> int:
    """One check run in this (fresh) process; prints its id, wall time and the RSS before it as JSON."""
    from evidence.checks.services import check_run_start
    from evidence.models import RunTrigger

    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    started = time.monotonic()
    run = check_run_start(trigger=RunTrigger.COMMAND, background=False)
    print(json.dumps({"run": run.pk, "wall": time.monotonic() - started, "baseline_mb": baseline}))
    return 0


def timed_child_run() -> tuple[dict, float]:
    """(the child's JSON, its peak RSS in MB)."""
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
    return json.loads(lines[-1]), usage.ru_maxrss / 1024


def seed_usage(*, bindings: int, grants: int, seed: int) -> None:
    """Bindings and grants on the generated keys, written with ``bulk_create`` (no history rows: volume only).
    About 2 % of the bindings use another purpose and 3 % of the grants are unapproved or wildcards."""
    from django.contrib.auth import get_user_model
    from django.db import transaction
    from django.utils import timezone

    from inventory.demo import bulk_keys
    from inventory.models import AccessGrant, Binding, Purpose, Service, Tenant

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
            f"peak {peak:.0f} MB; {run.last_error}"
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
    return 0 if all(ok for _, ok in verdicts) else 1


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
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
