"""``manage.py export_keys --format csv|cbom [--spec 1.6|1.7] [--output FILE] [--table keys|services|bindings]``.

Writes the whole inventory (the command runs with the operator's rights, not a web user's). Both formats stream,
so the memory used does not grow with the number of keys; ``cbom`` is a CycloneDX CBOM of the keys, spec 1.6 by
default (what the common scanners read) or 1.7 with ``--spec 1.7``."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from cek.exportguard import ExportRefused
from inventory import exporters
from inventory.models import Binding, Key, Service


class Command(BaseCommand):
    help = "Export keys (or services, bindings) in an import-compatible format, to stdout or a file."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--format", default="csv", choices=sorted(exporters.REGISTRY))
        parser.add_argument("--table", default="keys", choices=exporters.TABLES)
        parser.add_argument(
            "--spec",
            choices=sorted({version for versions in exporters.SPECS.values() for version in versions}),
            help="CycloneDX spec version of a cbom export (default: 1.6).",
        )
        parser.add_argument("--output", type=Path, help="File to write (default: standard output).")

    def handle(self, *args, format: str, table: str, spec: str | None, output: Path | None, **options) -> None:
        querysets = {
            "keys": Key.objects.order_by("store__name", "external_id"),
            "services": Service.objects.order_by("slug"),
            "bindings": Binding.objects.order_by("key__store__name", "key__external_id", "service__slug", "pk"),
        }
        try:
            exporter = exporters.get_exporter(format, table, spec=spec)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        chunks = exporter(querysets[table])
        if output is None:
            # Standard output cannot be taken back: a refused export ends it early with a non-zero exit status.
            try:
                for chunk in chunks:
                    self.stdout.write(chunk, ending="")
            except ExportRefused as exc:
                raise CommandError(str(exc)) from None
            return
        try:
            with output.open("w", encoding="utf-8", newline="") as handle:
                for chunk in chunks:
                    handle.write(chunk)
        except ExportRefused as exc:
            output.unlink(missing_ok=True)  # no half file holding what came before the refused value
            raise CommandError(str(exc)) from None
        except OSError as exc:
            raise CommandError(f"Cannot write {output}: {exc.strerror}.") from None
        self.stderr.write(f"Wrote {table} to {output}.")
