"""``manage.py caiq_answer [--party NAME] --format xlsx|csv|json [--output FILE]``

Writes the CEK-11.1 AI-CAIQ answer of a party (default: the party marked "us"): the newest published answer,
else the newest draft, which is marked as a draft in the output (CSV status column, JSON ``status``, xlsx
properties and print header) and announced on stderr. CSV and JSON go to stdout unless ``--output`` is given;
xlsx needs ``--output``.
"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from cek.exportguard import ExportRefused
from evidence.answers import export, selectors
from evidence.models import AnswerStatus


class Command(BaseCommand):
    help = "Export the CEK-11.1 AI-CAIQ answer of a party as xlsx (CSA layout), CSV or JSON."

    def add_arguments(self, parser):
        parser.add_argument("--party", help='Party name (default: the party marked "us").')
        parser.add_argument("--format", required=True, choices=["xlsx", "csv", "json"], dest="fmt")
        parser.add_argument("--output", help="File to write (required for xlsx; default stdout for csv/json).")

    def handle(self, *args, party=None, fmt, output=None, **options):
        if party:
            chosen = selectors.parties().filter(name=party).first()
            if chosen is None:
                known = ", ".join(selectors.parties().values_list("name", flat=True)) or "none recorded"
                raise CommandError(f"No party named “{party}”; parties: {known}.")
        else:
            chosen = selectors.party_us()
            if chosen is None:
                raise CommandError('No party is marked "us"; pass --party NAME or mark your organisation in the app.')
        answer = selectors.current_answer(party=chosen)
        if answer is None:
            raise CommandError(f"{chosen.name} has no CEK-11.1 answer yet; generate one in the app first.")
        if fmt == "xlsx" and not output:
            raise CommandError("--format xlsx needs --output FILE (a workbook is not written to the terminal).")
        if answer.status == AnswerStatus.PUBLISHED:
            self.stderr.write(
                f"Published answer #{answer.pk} of {chosen.name} ({answer.published_at:%Y-%m-%d}), SHA-256 {answer.sha256}."
            )
        else:
            self.stderr.write(
                f"DRAFT: {chosen.name} has no published answer; writing draft #{answer.pk} "
                f"({answer.created_at:%Y-%m-%d}), not published."
            )
        try:
            content = {"xlsx": export.to_xlsx, "csv": export.to_csv, "json": export.to_json}[fmt](answer)
        except ExportRefused as exc:
            raise CommandError(str(exc)) from None
        if output:
            path = Path(output)
            try:
                if isinstance(content, bytes):
                    path.write_bytes(content)
                else:
                    path.write_text(content, encoding="utf-8")
            except OSError as exc:
                raise CommandError(f"Cannot write {path}: {exc.strerror or exc}.") from exc
            self.stderr.write(f"Wrote {path}.")
        else:
            self.stdout.write(content, ending="")
