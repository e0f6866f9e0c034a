"""Attestation campaigns at scale: launch a campaign over every active key, have each owner "confirm all", close it.

    .venv/bin/python benchmarks/campaigns.py [--keys 100000] [--data-dir DIR] [--force] [--keep]

Seeds the demo inventory with N generated keys (``inventory.demo.demo_seed``, in a child process so that its memory
is not counted here; skipped when the database already has them), then, as GRC and the key owners would through the
pages, times the campaign services on every active key:

- launch: ``campaign_create`` + ``campaign_launch`` (over the inline limit: queued) + ``campaign_launch_run`` (what
  the worker runs);
- confirm all: ``attestation_confirm_all`` by each addressee in turn (olivia backs up omar's keys, so the first
  confirms nearly all of them: the case of one owner confirming everything);
- close: ``campaign_close`` (locks every attestation and takes the digest of the results file).

Each step prints its wall-clock and CPU seconds (this process; and, when PostgreSQL runs on this machine, its
backend's, which does most of the work), its statements and the most parameters one of them had, and the load
average. Everything runs in one transaction that is rolled back at the end (``--keep`` commits), so the database
can be measured again.

Targets (issue 17), exit status 1 when one is missed:

- each step at most 60 s per 100,000 keys in scope (at least 60 s): a launch runs on a worker, at that pace a
  million keys in ten minutes; confirm-all runs in a request, and at 100,000 keys 60 s is the usual proxy timeout
  (nginx's ``proxy_read_timeout``). An owner confirming many more keys than that at once outlasts it (the
  request's transaction still completes: see benchmarks/README.md);
- peak RSS of this process at most 500 MB: nothing may hold the population in memory;
- no statement with more than 40 parameters (a statement's own values: the campaign's history row has 36 columns),
  i.e. no list of ids or rows sent per key.

Database: PostgreSQL when ``DATABASE_URL`` is set (use a throwaway database, or a copy:
``createdb -T cek_b100k ...``), else a throwaway SQLite under a temporary ``CEK_DATA_DIR`` (``--data-dir`` keeps it).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.inventory import setup_django  # noqa: E402  (the project root on the path first)
from benchmarks.key_page import server_cpu_ms  # noqa: E402

SECONDS_PER_100K = 60.0
MAX_RSS_MB = 500
MAX_PARAMS = 40


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keys", type=int, default=100_000, help="generated keys to seed (default 100,000)")
    parser.add_argument("--seed", type=int, default=2026, help="random seed of the generated keys")
    parser.add_argument("--data-dir", help="SQLite only: keep the database in this folder (reused next time)")
    parser.add_argument("--force", action="store_true", help="seed even though CEK_DEBUG is off")
    parser.add_argument("--keep", action="store_true", help="commit the campaign instead of rolling it back")
    parser.add_argument("--seed-only", action="store_true", help=argparse.SUPPRESS)  # the child that seeds
    return parser.parse_args(argv)


class Step:
    """Times one step: wall, this process's CPU, the database backend's CPU, statements and their parameters."""

    def __init__(self, name: str, keys: int) -> None:
        self.name, self.keys = name, keys
        self.statements = 0
        self.most_params = 0

    def _count(self, execute, sql, params, many, context):
        self.statements += 1
        if params is not None and not many:
            self.most_params = max(self.most_params, len(params))
        return execute(sql, params, many, context)

    def __enter__(self) -> Step:
        from django.db import connection

        self._wrapper = connection.execute_wrapper(self._count)
        self._wrapper.__enter__()
        self.server = server_cpu_ms()
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc) -> None:
        self.wall = time.perf_counter() - self.wall
        self.cpu = time.process_time() - self.cpu
        self._wrapper.__exit__(*exc)
        ended = server_cpu_ms()
        self.server = None if self.server is None or ended is None else (ended - self.server) / 1000

    def report(self) -> bool:
        """Print the figures; True when a target is missed."""
        limit = max(SECONDS_PER_100K, SECONDS_PER_100K * self.keys / 100_000)
        slow = self.wall > limit
        chatty = self.most_params > MAX_PARAMS
        database = "" if self.server is None else f", database CPU {self.server:.1f} s"
        print(
            f"{self.name:<12} {self.keys:>9,} keys: {self.wall:7.1f} s wall (target {limit:.0f} s"
            f"{', MISSED' if slow else ''}), CPU {self.cpu:.1f} s{database}; {self.statements} statements, "
            f"at most {self.most_params} parameters{' (per-key values: MISSED)' if chatty else ''}; "
            f"peak RSS so far {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB; load {' '.join(f'{x:.1f}' for x in os.getloadavg())}",
            flush=True,
        )
        return slow or chatty


def seed(args: argparse.Namespace) -> None:
    from django.core.management import call_command
    from django.db import connection

    from cek.demo import demo_allowed_or_refuse
    from inventory.demo import bulk_keys, demo_seed

    demo_allowed_or_refuse(force=args.force, command="benchmarks/campaigns.py")
    call_command("migrate", verbosity=0)
    existing = bulk_keys().count()
    if existing >= args.keys:
        print(f"seed: skipped, {existing:,} generated keys already there")
        return
    started = time.monotonic()
    report = demo_seed(keys=args.keys, seed=args.seed)
    print(f"seed: {report.bulk_created:,} keys created in {time.monotonic() - started:.1f} s")
    with connection.cursor() as cursor:  # statistics as autovacuum keeps them on a live database
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")


class Rollback(Exception):
    pass


def run_benchmark(args: argparse.Namespace) -> int:
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core import mail
    from django.db import connection, transaction
    from django.utils import timezone

    from cek.demo import demo_users_ensure
    from evidence.campaigns import services
    from evidence.models import Attestation, Campaign, CampaignStatus

    print(f"Database: {connection.vendor} ({settings.DATABASES['default']['NAME']})")
    settings.DEBUG = False  # no query log, as in production
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"  # counted, not printed
    mail.outbox = []
    grace = demo_users_ensure()["grace"].user
    print(f"peak RSS before the campaign: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    missed = False
    try:
        with transaction.atomic():
            draft = Campaign(scope_store=None)
            keys = services.campaign_keys(draft).count()
            with Step("launch", keys) as step:
                campaign = services.campaign_create(actor=grace, name="Benchmark", due_on=timezone.localdate())
                campaign = services.campaign_launch(campaign=campaign, actor=grace)
                if campaign.status == CampaignStatus.LAUNCHING:  # what the worker runs
                    services.campaign_launch_run(campaign_id=campaign.pk)
            missed |= step.report()
            created = Attestation.objects.filter(campaign=campaign).count()
            print(f"             {created:,} attestations, {len(mail.outbox)} launch e-mails")
            addressees = (
                Attestation.objects.filter(campaign=campaign, addressed_to__isnull=False)
                .order_by()
                .values_list("addressed_to", flat=True)
                .distinct()
            )
            for user in get_user_model().objects.filter(pk__in=list(addressees)).order_by("username"):
                with Step("confirm all", keys) as step:
                    confirmed = services.attestation_confirm_all(actor=user, campaign=campaign)
                print(f"             {user.username}: {confirmed:,} confirmed")
                missed |= step.report()
            campaign.refresh_from_db()
            with Step("close", keys) as step:
                closed = services.campaign_close(campaign=campaign, actor=grace)
            missed |= step.report()
            print(f"             results digest over {closed.results_rows:,} rows")
            if not args.keep:
                raise Rollback
    except Rollback:
        print("rolled back (--keep commits)")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    heavy = rss > MAX_RSS_MB
    print(f"peak RSS {rss:.0f} MB (target {MAX_RSS_MB} MB{', MISSED' if heavy else ''})")
    return 1 if missed or heavy else 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    temp_dir = setup_django(args)
    try:
        if args.seed_only:
            seed(args)
            return 0
        if temp_dir:  # the child seeds into the same throwaway folder
            args.data_dir = temp_dir
        child = [sys.executable, __file__, "--seed-only", "--keys", str(args.keys), "--seed", str(args.seed)]
        child += ["--force"] if args.force else []
        child += ["--data-dir", args.data_dir] if args.data_dir else []
        subprocess.run(child, check=True)
        return run_benchmark(args)
    finally:
        if temp_dir:
            shutil.rmtree(temp_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
