"""The app's evidence-signing key: an Ed25519 private key in a PEM (PKCS#8) file named by
``CEK_EVIDENCE_SIGNING_KEY``. It signs the ``manifest.json`` of every evidence pack.

The private key lives only in that file (created with mode 0600, never stored in the database, never logged);
the app shows and records its public key (32 raw bytes, base64) and the SHA-256 fingerprint of those bytes.
The key is itself in the inventory (metadata only) with the purpose "evidence-signing": see
:func:`signing_key_inventory_ensure`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings
from django.db import transaction

ALGORITHM = "Ed25519"
INVENTORY_STORE_NAME = "CEK-11 evidence app (signing key file)"
INVENTORY_KEY_NAME = "evidence-pack-signing"
PURPOSE_SLUG = "evidence-signing"

logger = logging.getLogger(__name__)


class SigningKeyError(Exception):
    """The signing key file is missing, unreadable or not an Ed25519 private key (the message says what to do)."""


def key_path() -> Path:
    return Path(settings.CEK_EVIDENCE_SIGNING_KEY)


def _missing_message(path: Path) -> str:
    return (
        f"The evidence-signing key file {path} does not exist. Create it with "
        "`python manage.py evidence_signing_key --create-if-missing` (the run script does this for the demo), or "
        "point CEK_EVIDENCE_SIGNING_KEY at an existing Ed25519 private key in PEM (PKCS#8)."
    )


def load_private_key(path: Path | None = None) -> Ed25519PrivateKey:
    path = path or key_path()
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise SigningKeyError(_missing_message(path)) from None
    except OSError as exc:
        raise SigningKeyError(f"The evidence-signing key file {path} cannot be read: {exc.strerror}.") from None
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError):
        raise SigningKeyError(
            f"The evidence-signing key file {path} is not an unencrypted PEM private key (PKCS#8)."
        ) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningKeyError(f"The key in {path} is not an Ed25519 key; evidence packs are signed with Ed25519.")
    if exposed_mode(path):
        logger.warning(
            "The evidence-signing key file %s is readable by other users (mode %s); restrict it with chmod 600.",
            path,
            oct(exposed_mode(path)),
        )
    return key


def exposed_mode(path: Path) -> int:
    """The group/other permission bits of the key file (0 when only its owner may read it, as it should be)."""
    try:
        return stat.S_IMODE(path.stat().st_mode) & 0o077
    except OSError:
        return 0


def create_key_file(path: Path | None = None) -> Path:
    """Write a new Ed25519 private key (PEM, PKCS#8) readable by its owner only. Refuses to overwrite."""
    path = path or key_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    # O_EXCL: never replace an existing key (packs signed with it would no longer verify against the app).
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    os.chmod(path, 0o600)
    return path


def public_key_b64(public_key: Ed25519PublicKey) -> str:
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode("ascii")


def fingerprint(public_b64: str) -> str:
    """SHA-256 (hex) of the 32 raw public-key bytes."""
    return hashlib.sha256(base64.b64decode(public_b64)).hexdigest()


@dataclass(frozen=True)
class PublicKeyInfo:
    public_key: str  # base64 of the raw 32 bytes
    fingerprint: str
    path: str
    algorithm: str = ALGORITHM

    @property
    def pem(self) -> str:
        key = Ed25519PublicKey.from_public_bytes(base64.b64decode(self.public_key))
        return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def app_public_key() -> PublicKeyInfo:
    """The public half of the app's signing key. Raises :class:`SigningKeyError` when there is no usable key."""
    path = key_path()
    public_b64 = public_key_b64(load_private_key(path).public_key())
    return PublicKeyInfo(public_key=public_b64, fingerprint=fingerprint(public_b64), path=str(path))


def app_public_key_or_none() -> PublicKeyInfo | None:
    try:
        return app_public_key()
    except SigningKeyError:
        return None


def sign(data: bytes) -> bytes:
    """Ed25519 signature (64 raw bytes) of ``data`` with the app's key."""
    return load_private_key().sign(data)


def verify_signature(*, public_b64: str, signature: bytes, data: bytes) -> bool:
    try:
        key = Ed25519PublicKey.from_public_bytes(base64.b64decode(public_b64, validate=True))
    except (ValueError, binascii.Error):
        return False
    try:
        key.verify(signature, data)
    except InvalidSignature:
        return False
    return True


def signing_key_inventory_ensure(info: PublicKeyInfo | None = None):
    """Keep the signing key in the inventory (metadata only): a key store standing for this app, and a Key with
    the purpose "evidence-signing", algorithm Ed25519 and "SHA256:<fingerprint>" as its external id. A new key file
    (a new fingerprint) gets a new Key row; the previous one is marked deactivated. Returns the Key."""
    from django.utils import timezone

    from inventory import services as inventory_services
    from inventory.models import Key, KeyKind, KeyState, KeyStore, Party, Purpose, SsrmLayer, StoreKind

    info = info or app_public_key()
    external_id = f"SHA256:{info.fingerprint}"
    us = Party.objects.filter(is_us=True).first()
    purpose = Purpose.objects.filter(slug=PURPOSE_SLUG).first()
    with transaction.atomic():
        store = KeyStore.objects.select_for_update().filter(name=INVENTORY_STORE_NAME).first()
        if store is None:
            store = inventory_services.object_save(
                instance=KeyStore(
                    name=INVENTORY_STORE_NAME,
                    kind=StoreKind.OTHER,
                    operating_party=us,
                    description="The private key file (PEM, PKCS#8) named by CEK_EVIDENCE_SIGNING_KEY on the "
                    "app's servers; it signs the manifest of every evidence pack.",
                ),
                actor=None,
                reason="Evidence-signing key store registered by the app",
            )
        existing = Key.objects.filter(store=store, external_id=external_id).first()
        for previous in Key.objects.filter(store=store, state=KeyState.ACTIVE).exclude(external_id=external_id):
            previous.state = KeyState.DEACTIVATED
            inventory_services.key_save(key=previous, actor=None, reason="Replaced by a new evidence-signing key")
        if existing is not None:
            return existing
        today = timezone.localdate()
        key = Key(
            name=INVENTORY_KEY_NAME,
            kind=KeyKind.PRIVATE_KEY,
            algorithm=ALGORITHM,
            size_bits=256,
            store=store,
            external_id=external_id,
            description="Ed25519 key that signs the manifest of every evidence pack. Its external id is the "
            "SHA-256 fingerprint of the raw public key, as shown on the evidence-pack pages.",
            custodian=us,
            ssrm_layer=SsrmLayer.APPLICATION,
            state=KeyState.ACTIVE,
            created_on=today,
            activated_on=today,
            purpose=purpose,
            purpose_justification="Signs manifest.json of every evidence pack so auditors can verify it."
            if purpose
            else "",
            purpose_reviewed_on=today if purpose else None,
            labels={"purpose": PURPOSE_SLUG, "managed-by": "cek-evidence-app"},
        )
        if purpose is None:
            # The default catalog seeds the purpose; a catalog without it keeps the key "purpose unassigned".
            key.full_clean()
            return inventory_services.object_save(instance=key, actor=None, validated=True)
        return inventory_services.key_save(key=key, actor=None, reason="Evidence-signing key registered by the app")
