"""``manage.py export_oscal assessment-results [--run N] [--output FILE]`` and
``manage.py export_oscal component-definition [--output FILE]``: the OSCAL 1.1.3 documents (see
:mod:`evidence.oscal`), to standard output or a file. The same data gives a byte-identical file."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from cek.exportguard import ExportRefused
from evidence.oscal.export import RunNotFound, assessment_results_file, component_definition_file

DOCUMENTS = ("assessment-results", "component-definition")


class Command(BaseCommand):
    help = "Export a check run as OSCAL assessment results, or the SSRM responsibilities as a component definition."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("document", choices=DOCUMENTS)
        parser.add_argument("--run", type=int, help="Check run number (default: the newest succeeded run).")
        parser.add_argument("--output", type=Path, help="File to write (default: standard output).")

    def handle(self, *args, document: str, run: int | None, output: Path | None, **options) -> None:
        if document == "component-definition" and run is not None:
            raise CommandError("--run applies to assessment-results only; a component definition has no run.")
        try:
            exported = (
                assessment_results_file(run_pk=run)
                if document == "assessment-results"
                else (component_definition_file())
            )
        except (RunNotFound, ExportRefused) as exc:
            raise CommandError(str(exc)) from None
        if output is None:
            self.stdout.write(exported.text, ending="")
            return
        try:
            output.write_text(exported.text, encoding="utf-8", newline="")
        except OSError as exc:
            raise CommandError(f"Cannot write {output}: {exc.strerror}.") from None
        self.stderr.write(f"Wrote {document} to {output}.")
