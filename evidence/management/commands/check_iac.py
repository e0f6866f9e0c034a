"""``manage.py check_iac PLAN_OR_DIR [--format text|json|sarif|junit] [--output FILE]
[--record --user USERNAME --repository NAME [--commit SHA]]``

The infrastructure-as-code gate: checks a Terraform/OpenTofu plan (``terraform show -json``) or a directory of
``.tf`` files for keys used for more than one purpose, service or tenant, keys that cannot serve their consumers,
new keys without a purpose tag and purpose tags that contradict the inventory. Exits 0 when clean, 1 on
violations, 2 when the input cannot be read (one line on stderr, no traceback).

With ``--record`` the scan is stored as evidence (``IacScan``) and its violations become findings
(``evidence.iac.services.iac_scan_record``); ``--user`` must name an active GRC user. A refused record (no such
user, not GRC, an invalid repository or commit) exits 2; otherwise the exit status is still the verdict's.
"""

from __future__ import annotations

import sys
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError

from cek.roles import is_grc
from evidence.iac.formats import FORMATS, render
from evidence.iac.model import UnreadableInput
from evidence.iac.services import check_path, iac_scan_record


class Command(BaseCommand):
    help = "Check a Terraform plan (terraform show -json) or a directory of .tf files for key purpose separation."

    def add_arguments(self, parser):
        parser.add_argument("path", help="A plan as `terraform show -json PLANFILE` writes it, or a directory of .tf.")
        parser.add_argument("--format", choices=FORMATS, default="text")
        parser.add_argument("--output", help="Write the report to this file instead of standard output.")
        parser.add_argument(
            "--record", action="store_true", help="Store the scan as evidence; violations become findings."
        )
        parser.add_argument("--user", help="With --record: the active GRC user recording the scan.")
        parser.add_argument("--repository", help="With --record: the repository the plan or directory comes from.")
        parser.add_argument("--commit", default="", help="With --record: the commit scanned (a git SHA).")

    def handle(self, *args, path, format="text", output=None, record=False, **options):
        actor = self._recorder(options) if record else None
        try:
            result = check_path(Path(path))
        except UnreadableInput as exc:
            raise CommandError(str(exc), returncode=2) from None
        report = render(result, format, artifact=path)
        if output:
            try:
                Path(output).write_text(report, encoding="utf-8")
            except OSError as exc:
                raise CommandError(f"Cannot write {output}: {exc.strerror}.", returncode=2) from None
        else:
            self.stdout.write(report, ending="")
        if record:
            try:
                iac_scan = iac_scan_record(
                    result=result, repository=options["repository"], commit=options.get("commit") or "", actor=actor
                )
            except (ValidationError, PermissionDenied) as exc:
                raise CommandError(f"Not recorded: {_message(exc)}", returncode=2) from None
            self.stderr.write(f"Recorded as IaC scan #{iac_scan.pk} of {iac_scan.repository}.")
        if not result.passed:
            sys.exit(1)

    def _recorder(self, options):
        """The user ``--record`` attributes the scan to; refuses a missing option or a user who may not record."""
        missing = [f"--{name}" for name in ("user", "repository") if not (options.get(name) or "").strip()]
        if missing:
            raise CommandError(f"--record needs {' and '.join(missing)}.", returncode=2)
        username = options["user"]
        user = get_user_model().objects.filter(**{get_user_model().USERNAME_FIELD: username}).first()
        if user is None or not user.is_active:
            raise CommandError("--user must name an active user (no active user has that name).", returncode=2)
        if not is_grc(user):
            raise CommandError("--user must be in the GRC group to record IaC scans.", returncode=2)
        return user


def _message(exc: ValidationError | PermissionDenied) -> str:
    if isinstance(exc, PermissionDenied):
        return str(exc)
    if hasattr(exc, "error_dict"):
        return " ".join(f"{field}: {' '.join(messages)}" for field, messages in exc.message_dict.items())
    return " ".join(exc.messages)
