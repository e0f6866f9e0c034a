"""``manage.py ingest_usage --format F FILE... --user USERNAME [--store NAME]``: ingest usage-log files in this
process (no worker needed), each file its own ingestion (a job row, as an upload's).

gzip is recognised by its content. A file already ingested is skipped with a notice (nothing changes; exit 0 when
that is all); a file that cannot be ingested (unreadable, another format, another account than ``--store``, a
secret in it) is reported with its reason, nothing of it is written, and the exit status is 1."""

from __future__ import annotations

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from cek.roles import is_grc
from evidence.usage.models import IngestionStatus
from evidence.usage.services import IngestionRefused, usage_ingest_path
from evidence.usage.sources import REGISTRY
from inventory.models import KeyStore


def summary(counts: dict) -> str:
    return (
        f"{counts.get('events', 0)} events into {counts.get('aggregates', 0)} aggregates "
        f"({counts.get('created', 0)} new, {counts.get('merged', 0)} merged), {counts.get('keys', 0)} known keys, "
        f"{counts.get('unknown_keys', 0)} unknown, {counts.get('skipped', 0)} other events skipped"
        + (
            f", {counts['withheld_context_values']} context values withheld"
            if counts.get("withheld_context_values")
            else ""
        )
    )


class Command(BaseCommand):
    help = "Ingest key usage from audit-log files (aggregates only). Exit status 1 when a file could not be ingested."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("files", nargs="+", type=Path)
        parser.add_argument("--format", required=True, choices=sorted(REGISTRY))
        parser.add_argument("--user", required=True, help="GRC user the ingestion is attributed to.")
        parser.add_argument(
            "--store", help="The key store the files belong to (else matched from the events' account and region)."
        )

    def handle(self, *args, files: list[Path], format: str, user: str, store: str | None, **options) -> None:
        actor = get_user_model().objects.filter(username=user, is_active=True).first()
        if actor is None:
            raise CommandError(f"No active user '{user}'.")
        if not is_grc(actor):
            raise CommandError(f"'{user}' is not in the GRC group; only GRC users ingest usage logs.")
        key_store = None
        if store:
            key_store = KeyStore.objects.filter(name=store).first()
            if key_store is None:
                raise CommandError(f"No key store named '{store}'.")
        failed = 0
        for path in files:
            if not path.is_file():
                self.stderr.write(f"{path}: no such file.")
                failed += 1
                continue
            try:
                ingestion = usage_ingest_path(source=format, path=str(path), user=actor, store=key_store)
            except IngestionRefused as exc:
                self.stdout.write(self.style.WARNING(str(exc)))
                continue
            if ingestion.status == IngestionStatus.SUCCEEDED:
                self.stdout.write(self.style.SUCCESS(f"{path.name}: {summary(ingestion.counts)}."))
            else:
                failed += 1
                self.stderr.write(ingestion.last_error or f"{path.name}: {ingestion.get_status_display()}.")
        if failed:
            raise CommandError(f"{failed} of {len(files)} files could not be ingested.", returncode=1)
