"""``manage.py build_pack --from DATE --to DATE --output FILE.zip [--party NAME] [--store NAME ...]
[--tenant SLUG ...] [--sample-size N] [--seed TEXT] [--user USERNAME]``

Builds an evidence pack inline (no worker) through the same service the Celery task calls, then copies the zip
from storage to ``--output``. The pack is recorded like any other (requested by ``--user``: default the first
active GRC user or superuser) and listed in the app.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q

from cek.roles import Role
from evidence.models import PackStatus
from evidence.packs import jobs
from evidence.packs.builder import build_pack
from inventory.models import KeyStore, Party, Tenant


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"“{value}” is not a date; use YYYY-MM-DD.") from None


class Command(BaseCommand):
    help = "Build an evidence pack for an observation window, inline, and write the .zip."

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="window_from", required=True, help="First day of the window (YYYY-MM-DD).")
        parser.add_argument("--to", dest="window_to", required=True, help="Last day of the window (YYYY-MM-DD).")
        parser.add_argument("--output", required=True, help="Where to write the .zip.")
        parser.add_argument("--party", help='Whose perspective (default: the party marked "us").')
        parser.add_argument("--store", action="append", default=[], help="Only this key store (repeatable).")
        parser.add_argument("--tenant", action="append", default=[], help="Only this tenant slug (repeatable).")
        parser.add_argument("--sample-size", type=int, default=25)
        parser.add_argument("--seed", default="", help="Sample seed (default: random, printed in the pack).")
        parser.add_argument("--user", help="Requested by (default: the first active GRC user or superuser).")

    def handle(self, *args, **options):
        user = self._user(options.get("user"))
        party = None
        if options.get("party"):
            party = Party.objects.filter(name=options["party"]).first()
            if party is None:
                raise CommandError(f"No party named “{options['party']}”.")
        stores = self._named(KeyStore, "name", options["store"], "key store")
        tenants = self._named(Tenant, "slug", options["tenant"], "tenant")
        output = Path(options["output"])
        if not output.parent.is_dir():
            raise CommandError(f"The folder {output.parent} does not exist.")
        try:
            pack = jobs.pack_create(
                actor=user,
                window_from=_date(options["window_from"]),
                window_to=_date(options["window_to"]),
                party=party,
                stores=stores,
                tenants=tenants,
                sample_size=options["sample_size"],
                sample_seed=options["seed"],
            )
        except (ValidationError, PermissionDenied) as exc:
            raise CommandError(" ".join(getattr(exc, "messages", [str(exc)]))) from None
        self.stderr.write(f"Building evidence pack #{pack.pk} ({pack.uid}) for {pack.window_from} .. {pack.window_to}")

        def progress(percent: int, phase: str) -> None:
            if options["verbosity"] >= 2:
                self.stderr.write(f"  {percent:3d}%  {phase}")

        pack = build_pack(pack.pk, progress=progress)
        if pack.status != PackStatus.READY:
            raise CommandError(f"Evidence pack #{pack.pk} {pack.get_status_display().lower()}: {pack.last_error}")
        with pack.file.open("rb") as source, output.open("wb") as target:
            shutil.copyfileobj(source, target)
        self.stdout.write(f"Wrote {output} ({pack.size:,} bytes)")
        self.stdout.write(f"Pack id:          {pack.uid}")
        self.stdout.write(
            f"Keys:             {pack.stats.get('keys')}; sample of {pack.stats.get('sampled')} (seed {pack.sample_seed})"
        )
        self.stdout.write(f"PDF pages:        {pack.pages}")
        self.stdout.write(f"Zip SHA-256:      {pack.sha256}")
        self.stdout.write(f"Manifest SHA-256: {pack.manifest_sha256}")
        self.stdout.write(f"Data digest:      {pack.stats.get('data_digest')}")
        self.stdout.write(f"Signing key:      {pack.signing_public_key}")
        self.stdout.write(f"Built in {pack.stats.get('total_seconds')} s (PDF {pack.stats.get('render_seconds')} s)")

    def _user(self, username: str | None):
        users = get_user_model().objects.filter(is_active=True)
        if username:
            user = users.filter(username=username).first()
            if user is None:
                raise CommandError(f"No active user “{username}”.")
            return user
        user = users.filter(Q(is_superuser=True) | Q(groups__name=Role.GRC.value)).order_by("pk").first()
        if user is None:
            raise CommandError("No active GRC user or superuser to record as the requester; pass --user USERNAME.")
        return user

    def _named(self, model, field: str, values: list[str], label: str) -> list:
        found = list(model.objects.filter(**{f"{field}__in": values}))
        missing = sorted(set(values) - {getattr(obj, field) for obj in found})
        if missing:
            raise CommandError(f"No {label} named {', '.join(missing)}.")
        return found
