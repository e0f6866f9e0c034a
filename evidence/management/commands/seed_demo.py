"""``manage.py seed_demo [--keys N] [--seed S]``: the demo inventory of ``inventory.demo`` and the demo
policies of ``evidence.demo`` (both idempotent). It lives in ``evidence``, the top layer, because it seeds both
apps (``inventory`` knows nothing of ``evidence``, and ``cek`` imports neither).

Demo only: it also creates the demo accounts of ``manage.py demo_users`` (published passwords), so it runs
only with ``CEK_DEBUG=1`` or ``--force``.
"""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError, CommandParser

from cek.demo import demo_allowed_or_refuse
from evidence.demo import (
    POLICY_GAPS,
    demo_assessment_seed,
    demo_campaigns_seed,
    demo_iac_seed,
    demo_policies_seed,
    demo_signing_key_seed,
    demo_usage_seed,
)
from evidence.packs import signing
from inventory.demo import DEFAULT_SEED, PROBLEMS, demo_seed

MAX_KEYS = 1_000_000


class Command(BaseCommand):
    help = (
        "Build a realistic demo inventory of an AI company (parties, SSRM assignments, tenants, services, key "
        "stores, keys with bindings and grants, a usage log, IaC scans, and its deliberate problems) and its key-management policies "
        "(versions, approvals, acknowledgements, reviews, changes, evaluations). Running it again changes "
        "nothing. --keys N adds N generated keys for volume tests. Demo only: needs CEK_DEBUG=1 or --force."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--keys",
            type=int,
            default=0,
            metavar="N",
            help="Also make sure N generated keys exist (bulk insert; 100,000 takes well under a minute).",
        )
        parser.add_argument(
            "--seed",
            type=int,
            default=DEFAULT_SEED,
            metavar="S",
            help=f"Seed of the random generator for the generated keys (default {DEFAULT_SEED}).",
        )
        parser.add_argument(
            "--force", action="store_true", help="Run even though CEK_DEBUG is off (a throwaway demo instance)."
        )

    def handle(self, *args, keys: int, seed: int, force: bool, **options) -> None:
        demo_allowed_or_refuse(force=force, command="seed_demo")
        if not 0 <= keys <= MAX_KEYS:
            raise CommandError(f"--keys is {keys}; expected a number from 0 to {MAX_KEYS:,}.")
        started = time.monotonic()
        report = demo_seed(keys=keys, seed=seed)
        elapsed = time.monotonic() - started
        for warning in report.warnings:
            self.stderr.write(self.style.WARNING(warning))
        if report.created:
            made = ", ".join(f"{count} {label}" for label, count in sorted(report.created.items()))
            self.stdout.write(f"Created {made}.")
        else:
            self.stdout.write("The hand-made demo inventory was already there; nothing to create.")
        # The app's own evidence-signing key belongs to the inventory the demo assesses: recorded before the check
        # run, so the first run and the live figures count the same keys (scripts/run creates the file first).
        info = signing.app_public_key_or_none()
        if info is not None:
            demo_signing_key_seed(signing.signing_key_inventory_ensure(info))
        policies = demo_policies_seed()
        policies.update(demo_campaigns_seed())  # after the signing key: the closed campaign attests it too
        # Before the first check run, so AG-8 and AG-9 are computed in it; on a later start, brought up to date (then
        # a new run judges them).
        evidence_from_the_field = demo_iac_seed() + demo_usage_seed()
        policies.update(evidence_from_the_field)
        policies.update(demo_assessment_seed(refreshed=bool(evidence_from_the_field)))
        if policies:
            self.stdout.write("Created " + ", ".join(f"{n} {label}" for label, n in sorted(policies.items())) + ".")
        if keys:
            self.stdout.write(
                f"Generated keys: {report.bulk_created:,} created now, {report.bulk_total:,} in total (seed {seed})."
            )
        # The one list of what the demo gets wrong (inventory.demo.PROBLEMS): the first check run's open findings and
        # the guidelines that do not pass are exactly these (tests/evidence/test_demo.py).
        findings = sum(len(problem.findings) for problem in PROBLEMS)
        self.stdout.write(
            f"The demo's {len(PROBLEMS)} deliberate problems, which the checks find as {findings} open findings "
            "(and nothing else):"
        )
        for number, problem in enumerate(PROBLEMS, start=1):
            self.stdout.write(
                f"  {number:>2}. [{', '.join(problem.guidelines)}] {problem.code}: {problem.subject} "
                f"{problem.description}"
            )
        self.stdout.write("Deliberate gaps in the policies (on the dashboard and the policy pages, not findings):")
        for gap in POLICY_GAPS:
            self.stdout.write(f"   - {gap}")
        self.stdout.write(
            "Demo accounts: grace (GRC), olivia and omar (key owners), audrey (auditor), admin; "
            "'manage.py demo_users' prints their passwords."
        )
        self.stdout.write(self.style.SUCCESS(f"Done in {elapsed:.1f} s."))
