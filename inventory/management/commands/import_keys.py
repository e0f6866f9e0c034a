"""``manage.py import_keys --format csv FILE --user USERNAME [--dry-run]``: the web import, from a shell.

Prints the counts and every error as "Row N: ..."; exits with status 1 when there are errors (nothing is
written then). ``--dry-run`` plans only and writes nothing at all, not even the import record."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from cek.roles import is_grc
from inventory import importing
from inventory.importers import REGISTRY


class Command(BaseCommand):
    help = "Import keys from a file (preview, then apply atomically). Exit status 1 when any row has an error."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--format", default="csv", choices=sorted(REGISTRY))
        parser.add_argument("--user", help="GRC user the changes are attributed to (required unless --dry-run).")
        parser.add_argument("--dry-run", action="store_true", help="Show what the import would do; write nothing.")

    def handle(self, *args, file: Path, format: str, user: str | None, dry_run: bool, **options) -> None:
        actor = self._actor(user, required=not dry_run)
        data = self._read(file)
        if dry_run:
            plan = importing.key_import_plan(data=data, file_name=file.name, format=format)
        else:
            record, plan = importing.key_import_preview(data=data, file_name=file.name, format=format, actor=actor)
        self._report(plan)
        if plan.has_errors:
            count = plan.counts["errors"]
            raise CommandError(
                f"{count} row{'s' if count != 1 else ''} with errors; nothing was imported.", returncode=1
            )
        if dry_run:
            self.stdout.write("Dry run: nothing was written.")
            return
        try:
            record = importing.key_import_apply(key_import=record, actor=actor)
        except importing.ImportApplyError as exc:
            for error in exc.errors:
                self.stderr.write(str(error))
            raise CommandError(str(exc), returncode=1) from None
        self.stdout.write(self.style.SUCCESS(importing.import_summary(record.counts)))

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

    def _read(self, path: Path) -> bytes:
        try:
            size = path.stat().st_size
            if size > settings.CEK_IMPORT_MAX_BYTES:
                raise CommandError(
                    f"{path} is {size / 1048576:.1f} MB; the limit is "
                    f"{settings.CEK_IMPORT_MAX_BYTES / 1048576:.1f} MB (CEK_IMPORT_MAX_BYTES)."
                )
            return path.read_bytes()
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror}.") from None

    def _report(self, plan: importing.ImportPlan) -> None:
        if plan.file_error:
            self.stderr.write(plan.file_error)
            return
        counts = plan.counts
        self.stdout.write(
            f"{counts['rows']} rows: {counts['new']} new, {counts['changed']} changed, "
            f"{counts['unchanged']} unchanged, {counts['errors']} with errors."
        )
        for error in plan.errors:
            self.stderr.write(str(error))
