"""``manage.py verify_pack FILE.zip [--public-key BASE64]``

Checks an evidence pack: every file's SHA-256 and size against ``manifest.json``, files present but not listed,
files listed but missing, the data manifest digest, and the Ed25519 signature in ``manifest.sig`` (against this
app's public key, or the one given, and against the key the manifest names). Prints what differs; exits 0 when
the pack verifies, 1 when it does not, 2 when the file cannot be opened.
"""

from __future__ import annotations

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from evidence.packs.verify import verify_pack_file


class Command(BaseCommand):
    help = "Verify an evidence pack (.zip): every digest and the manifest's signature."

    def add_arguments(self, parser):
        parser.add_argument("file", help="The evidence pack .zip.")
        parser.add_argument(
            "--public-key",
            help="The Ed25519 public key to trust (base64 of the 32 raw bytes). Default: this app's signing key.",
        )

    def handle(self, *args, file, public_key=None, **options):
        path = Path(file)
        try:
            handle = path.open("rb")
        except OSError as exc:
            raise CommandError(f"Cannot open {path}: {exc.strerror}.", returncode=2) from None
        with handle:
            report = verify_pack_file(handle, public_key=public_key)
        self.stdout.write(f"Evidence pack {path}")
        for line in report.lines():
            self.stdout.write(line)
        if not report.ok:
            sys.exit(1)
