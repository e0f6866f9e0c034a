"""``manage.py evidence_signing_key [--create-if-missing]``

Shows the app's evidence-signing key (its file, Ed25519 public key and fingerprint; never the private key) and
records it in the inventory (purpose "evidence-signing", metadata only). ``--create-if-missing`` first writes a
new private key (PEM, PKCS#8, mode 0600) to ``CEK_EVIDENCE_SIGNING_KEY`` when that file does not exist; an
existing key is never replaced. Exits non-zero when there is no usable key.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse

from evidence.packs import signing


class Command(BaseCommand):
    help = "Show (and with --create-if-missing, create) the Ed25519 key that signs evidence packs."

    def add_arguments(self, parser):
        parser.add_argument(
            "--create-if-missing",
            action="store_true",
            help="Create the key file named by CEK_EVIDENCE_SIGNING_KEY when it does not exist.",
        )
        parser.add_argument(
            "--no-inventory", action="store_true", help="Do not record the key in the inventory (e.g. before migrate)."
        )

    def handle(self, *args, create_if_missing=False, no_inventory=False, **options):
        path = signing.key_path()
        if create_if_missing and not path.exists():
            try:
                signing.create_key_file(path)
            except OSError as exc:
                raise CommandError(f"Could not create the evidence-signing key {path}: {exc.strerror}.") from None
            self.stdout.write(f"Created a new Ed25519 evidence-signing key in {path} (mode 0600).")
        try:
            info = signing.app_public_key()
        except signing.SigningKeyError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"Key file:    {info.path}")
        self.stdout.write(f"Algorithm:   {info.algorithm}")
        self.stdout.write(f"Public key:  {info.public_key} (base64 of the 32 raw bytes)")
        self.stdout.write(f"Fingerprint: SHA256:{info.fingerprint}")
        if signing.exposed_mode(path):
            self.stderr.write(
                f"Warning: {path} is readable by other users (mode {oct(signing.exposed_mode(path))}); "
                f"run chmod 600 {path}."
            )
        if not no_inventory:
            key = signing.signing_key_inventory_ensure(info)
            page = reverse("inventory:key-detail", args=[key.pk])
            self.stdout.write(f"Inventory:   “{key.name}” in “{key.store.name}” (its page: {page})")
