"""``manage.py run_checks``: evaluate every auditing guideline now, in this process, and print the results."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from evidence.checks import services
from evidence.checks.selectors import run_results
from evidence.models import CheckStatus, RunStatus, RunTrigger

SEVERITY_ORDER = {CheckStatus.FAIL: 2, CheckStatus.PARTIAL: 1}


class Command(BaseCommand):
    help = "Evaluate CEK-11's auditing guidelines (AG-1..AG-10, CCM-1..CCM-3) now and print a summary."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--fail-on",
            choices=["fail", "partial"],
            help="Exit with status 1 when a guideline is failing (fail), or failing or partial (partial).",
        )

    def handle(self, *args, fail_on: str | None = None, **options) -> None:
        try:
            run = services.check_run_start(trigger=RunTrigger.COMMAND, background=False)
        except services.CheckRunError as exc:
            raise CommandError(str(exc)) from None
        if run.status != RunStatus.SUCCEEDED:
            raise CommandError(f"Check run #{run.pk} failed: {run.last_error}")
        results = run_results(run)
        width = max((len(r.metric) for r in results), default=10)
        self.stdout.write(f"{'Guideline':<10} {'Status':<15} {'Metric':<{width}} {'Failing':>8} {'ms':>6}")
        for result in results:
            self.stdout.write(
                f"{result.guideline_id:<10} {result.get_status_display():<15} {result.metric:<{width}} "
                f"{result.failing_count:>8} {result.duration_ms:>6}"
            )
        summary = ", ".join(f"{n} {CheckStatus(s).label.lower()}" for s, n in run.counts.items())
        self.stdout.write(
            f"Check run #{run.pk}: {summary}; {run.keys_evaluated} keys in use; findings opened "
            f"{run.findings_opened}, resolved {run.findings_resolved}; {run.duration_ms} ms."
        )
        if fail_on:
            threshold = SEVERITY_ORDER[CheckStatus(fail_on)]
            bad = [r.guideline_id for r in results if SEVERITY_ORDER.get(r.status, 0) >= threshold]
            if bad:
                raise CommandError(f"Guidelines at or below {fail_on}: {', '.join(bad)}", returncode=1)
