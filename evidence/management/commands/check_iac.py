"""``manage.py check_iac PLAN_OR_DIR [--format text|json|sarif|junit] [--output FILE]``

The infrastructure-as-code gate: checks a Terraform/OpenTofu plan (``terraform show -json``) or a directory of
``.tf`` files for keys used for more than one purpose, service or tenant, keys that cannot serve their consumers,
new keys without a purpose tag and purpose tags that contradict the inventory. Exits 0 when clean, 1 on
violations, 2 when the input cannot be read (one line on stderr, no traceback).
"""

from __future__ import annotations

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from evidence.iac.formats import FORMATS, render
from evidence.iac.model import UnreadableInput
from evidence.iac.services import check_path


class Command(BaseCommand):
    help = "Check a Terraform plan (terraform show -json) or a directory of .tf files for key purpose separation."

    def add_arguments(self, parser):
        parser.add_argument("path", help="A plan as `terraform show -json PLANFILE` writes it, or a directory of .tf.")
        parser.add_argument("--format", choices=FORMATS, default="text")
        parser.add_argument("--output", help="Write the report to this file instead of standard output.")

    def handle(self, *args, path, format="text", output=None, **options):
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
        if not result.passed:
            sys.exit(1)
