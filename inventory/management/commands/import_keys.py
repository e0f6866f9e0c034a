"""``manage.py import_keys --format F FILE --user USERNAME [--store NAME] [--full] [--dry-run]``: the web
import, from a shell, applied in this process whatever the file's size (no worker needed).

Prints the counts, every error as "Row N: ...", and the conflicts and unknown names as warnings; exits with
status 1 when there are errors (nothing is written then). ``--dry-run`` plans only and writes nothing at
all, not even the import record."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from cek.roles import is_grc
from inventory import importing
from inventory.importers import REGISTRY
from inventory.importers.base import ImportSource
from inventory.models import KeyStore


class Command(BaseCommand):
    help = "Import keys from a file (preview, then apply atomically). Exit status 1 when any row has an error."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--format", default="csv", choices=sorted(REGISTRY))
        parser.add_argument("--user", help="GRC user the changes are attributed to (required unless --dry-run).")
        parser.add_argument(
            "--store", help="Name of the key store the file belongs to (platform exports are matched when omitted)."
        )
        parser.add_argument(
            "--full",
            action="store_true",
            help="The file lists every key of its store: mark the store's other keys as not seen since today.",
        )
        parser.add_argument("--dry-run", action="store_true", help="Show what the import would do; write nothing.")

    def handle(
        self, *args, file: Path, format: str, user: str | None, store: str | None, full: bool, dry_run: bool, **options
    ) -> None:
        actor = self._actor(user, required=not dry_run)
        key_store = self._store(store)
        with self._open(file) as data:
            self._import(data, file, format=format, actor=actor, dry_run=dry_run, store=key_store, full=full)

    def _import(self, data: ImportSource, file: Path, *, format: str, actor, dry_run: bool, **where) -> None:
        if dry_run:
            plan = importing.key_import_plan(data=data, file_name=file.name, format=format, **where)
            self._report(plan)
            self._fail_on_errors(plan)
            self.stdout.write("Dry run: nothing was written.")
            return
        try:
            record, plan = importing.key_import_run(data=data, file_name=file.name, format=format, actor=actor, **where)
        except importing.ImportApplyError as exc:
            raise CommandError(str(exc), returncode=1) from None
        self._report(plan)
        self._fail_on_errors(plan)
        self.stdout.write(self.style.SUCCESS(importing.import_summary(record.counts)))

    def _fail_on_errors(self, plan: importing.ImportPlan) -> None:
        if plan.has_errors:
            count = plan.counts["errors"]
            raise CommandError(
                f"{count} row{'s' if count != 1 else ''} with errors; nothing was imported.", returncode=1
            )

    def _actor(self, username: str | None, *, required: bool):
        if not username:
            if required:
                raise CommandError("--user USERNAME is required: every change is attributed to a GRC user.")
            return None
        user = get_user_model().objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(f"No active user '{username}'.")
        if not is_grc(user):
            raise CommandError(f"'{username}' is not in the GRC group; only GRC users import keys.")
        return user

    def _store(self, name: str | None) -> KeyStore | None:
        if not name:
            return None
        store = KeyStore.objects.filter(name=name).first()
        if store is None:
            known = ", ".join(KeyStore.objects.order_by("name").values_list("name", flat=True)[:20])
            raise CommandError(f"No key store named '{name}'. Known stores: {known or 'none yet'}.")
        return store

    def _open(self, path: Path) -> ImportSource:
        """The file, open: read a block at a time as it is planned and written, never whole."""
        try:
            size = path.stat().st_size
            if size > settings.CEK_IMPORT_MAX_BYTES:
                raise CommandError(
                    f"{path} is {size / 1048576:.1f} MB; the limit is "
                    f"{settings.CEK_IMPORT_MAX_BYTES / 1048576:.1f} MB (CEK_IMPORT_MAX_BYTES)."
                )
            return ImportSource(path.open("rb"))
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror}.") from None

    def _report(self, plan: importing.ImportPlan) -> None:
        if plan.file_error:
            self.stderr.write(plan.file_error)
            return
        counts = plan.counts
        store = f" into {plan.store.name}" if plan.store else ""
        self.stdout.write(
            f"{counts['rows']} rows{store}: {counts['new']} new, {counts['changed']} changed, "
            f"{counts['unchanged']} unchanged, {counts['errors']} with errors; {counts['conflicts']} with conflicts, "
            f"{counts['unassigned']} without a purpose"
            + (f", {counts['not_seen']} no longer listed (to mark not seen)" if plan.full else "")
            + "."
        )
        for column, names in plan.unknowns.items():
            self.stdout.write(self.style.WARNING(f"Unknown {column} in tags: {', '.join(names)}"))
        for warning in plan.warnings:
            self.stdout.write(self.style.WARNING(f"Warning: {warning}"))
        for error in plan.errors:
            self.stderr.write(str(error))
        more = counts["error_messages"] - len(plan.errors)
        if more > 0:
            self.stderr.write(
                f"... and {more} more error{'s' if more != 1 else ''} (the first {len(plan.errors)} shown)."
            )
