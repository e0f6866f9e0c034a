"""Google Cloud KMS export: the JSON array ``gcloud kms keys list --location L --keyring R --format=json`` prints,
one CryptoKey resource per key. Several key rings of one location may be concatenated into one array.

A key store is one project and location: the scope is ``account`` = project, ``region`` = location, and the key
ring is kept in ``platform_details`` (a file may list several key rings of its location, never two locations).

What the export does not say is left out of ``fields``, so a re-import keeps what the app already knows:

- ``state`` is the primary version's state. Only ENCRYPT_DECRYPT keys have a primary; for asymmetric, MAC, raw
  and key-encapsulation keys the list shows no version state, so their state is not read (a new key starts
  active, a known key keeps its state).
- ``last_rotated_on`` is the primary version's createTime when the primary is a later version than 1 (the key
  was rotated); version 1 means "never rotated" and clears the date. Keys without a primary leave it alone.
- ``rotation_period_days`` is read for ENCRYPT_DECRYPT keys (the only ones Cloud KMS rotates automatically):
  ``rotationPeriod`` in seconds, rounded to the nearest whole day; when it is not a whole number of days the
  exact value is kept in ``platform_details``. No rotationPeriod clears the period.
- Facts copied into ``platform_details`` (protection level, next rotation, backend, ...) never fail a row: a
  value this module cannot render is copied as the file spells it.
"""

from __future__ import annotations

import re
from typing import Any

from inventory.importers.base import (
    ImportFileError,
    ImportSource,
    JsonImporter,
    KeyRow,
    NotStreamable,
    ParseResult,
    ParseStream,
    RowError,
    RowReader,
    StoreScope,
    array_items,
    choices_text,
    describe_value,
    json_array_items,
    sniff_objects,
)
from inventory.importers.base.streaming import checked_array_items, rows_in_chunks
from inventory.models import KeyKind, KeyState, StoreKind

_KEY_NAME = re.compile(
    r"projects/(?P<project>[^/]+)/locations/(?P<location>[^/]+)/keyRings/(?P<ring>[^/]+)/cryptoKeys/(?P<key>[^/]+)"
)
_RING_NAME = re.compile(r"projects/[^/]+/locations/[^/]+/keyRings/[^/]+")
_VERSION_NAME = re.compile(_KEY_NAME.pattern + r"/cryptoKeyVersions/(?P<version>\d+)")
_DURATION = re.compile(r"(?P<seconds>\d+)(?:\.(?P<fraction>\d{1,9}))?s")
_DAY = 86_400

# CryptoKey.purpose -> the kind of key it holds. The purpose itself is the key's platform usage.
PURPOSES: dict[str, str] = {
    "ENCRYPT_DECRYPT": KeyKind.SYMMETRIC_KEY.value,
    "RAW_ENCRYPT_DECRYPT": KeyKind.SYMMETRIC_KEY.value,
    "MAC": KeyKind.SYMMETRIC_KEY.value,
    "ASYMMETRIC_SIGN": KeyKind.PRIVATE_KEY.value,
    "ASYMMETRIC_DECRYPT": KeyKind.PRIVATE_KEY.value,
    "KEY_ENCAPSULATION": KeyKind.PRIVATE_KEY.value,
}
# Only these keys have a primary version and automatic rotation.
_ROTATING_PURPOSE = "ENCRYPT_DECRYPT"

# CryptoKeyVersion.state of the primary version -> the key's state.
STATES: dict[str, str] = {
    "PENDING_GENERATION": KeyState.PRE_ACTIVATION.value,
    "PENDING_IMPORT": KeyState.PRE_ACTIVATION.value,
    # A failed import or generation left no usable material; another import or version can still activate it.
    "IMPORT_FAILED": KeyState.PRE_ACTIVATION.value,
    "GENERATION_FAILED": KeyState.PRE_ACTIVATION.value,
    "ENABLED": KeyState.ACTIVE.value,
    "DISABLED": KeyState.SUSPENDED.value,
    # Unusable but restorable until the scheduled destruction.
    "DESTROY_SCHEDULED": KeyState.DEACTIVATED.value,
    "DESTROYED": KeyState.DESTROYED.value,
    # Destroyed in Cloud KMS; the external key manager's copy is (still) being destroyed. primary.state in
    # platform_details tells the two apart.
    "PENDING_EXTERNAL_DESTRUCTION": KeyState.DESTROYED.value,
    "EXTERNAL_DESTRUCTION_FAILED": KeyState.DESTROYED.value,
}


def _algorithm_table() -> dict[str, tuple[str, int | None]]:
    """CryptoKeyVersionAlgorithm -> (readable algorithm, key size in bits or None where bits say nothing)."""
    table: dict[str, tuple[str, int | None]] = {
        # Cloud KMS documents GOOGLE_SYMMETRIC_ENCRYPTION as AES-256 in Galois Counter Mode.
        "GOOGLE_SYMMETRIC_ENCRYPTION": ("AES-256-GCM", 256),
        "EXTERNAL_SYMMETRIC_ENCRYPTION": ("External symmetric key (Cloud EKM)", None),
        "EC_SIGN_P256_SHA256": ("ECDSA P-256", 256),
        "EC_SIGN_P384_SHA384": ("ECDSA P-384", 384),
        "EC_SIGN_SECP256K1_SHA256": ("ECDSA secp256k1", 256),
        "EC_SIGN_ED25519": ("Ed25519", 256),
        "HMAC_SHA1": ("HMAC-SHA1", 160),
        "ML_KEM_768": ("ML-KEM-768", None),
        "ML_KEM_1024": ("ML-KEM-1024", None),
        "KEM_XWING": ("X-Wing (ML-KEM-768 + X25519)", None),
        "PQ_SIGN_SLH_DSA_SHA2_128S": ("SLH-DSA-SHA2-128s", None),
        "PQ_SIGN_HASH_SLH_DSA_SHA2_128S_SHA256": ("HashSLH-DSA-SHA2-128s with SHA-256", None),
    }
    for bits in (128, 256):
        for mode in ("GCM", "CBC", "CTR"):
            table[f"AES_{bits}_{mode}"] = (f"AES-{bits}-{mode}", bits)
    for bits in (224, 256, 384, 512):
        table[f"HMAC_SHA{bits}"] = (f"HMAC-SHA{bits}", bits)
    for bits in (2048, 3072, 4096):
        for name in ("SIGN_PSS_{}_SHA256", "SIGN_PKCS1_{}_SHA256", "SIGN_RAW_PKCS1_{}", "DECRYPT_OAEP_{}_SHA256"):
            table["RSA_" + name.format(bits)] = (f"RSA-{bits}", bits)
        table[f"RSA_DECRYPT_OAEP_{bits}_SHA1"] = (f"RSA-{bits}", bits)
    for name in ("SIGN_PSS_4096_SHA512", "SIGN_PKCS1_4096_SHA512", "DECRYPT_OAEP_4096_SHA512"):
        table["RSA_" + name] = ("RSA-4096", 4096)
    for level in (44, 65, 87):
        table[f"PQ_SIGN_ML_DSA_{level}"] = (f"ML-DSA-{level}", None)
        table[f"PQ_SIGN_ML_DSA_{level}_EXTERNAL_MU"] = (f"ML-DSA-{level} (external mu)", None)
    return table


ALGORITHMS: dict[str, tuple[str, int | None]] = _algorithm_table()


def _seconds(value: Any) -> float:
    """A protobuf JSON duration ("7776000s", "86400.5s") in seconds; ValueError otherwise."""
    match = _DURATION.fullmatch(value.strip()) if isinstance(value, str) else None
    if match is None:
        raise ValueError("expected a duration in seconds such as 7776000s (90 days)")
    return int(match["seconds"]) + (int(match["fraction"]) / 10 ** len(match["fraction"]) if match["fraction"] else 0)


def _duration_text(value: Any) -> Any:
    """ "30 days" for a whole number of days, else the value as the file spells it."""
    try:
        seconds = _seconds(value)
    except ValueError:
        return value
    days, rest = divmod(seconds, _DAY)
    if rest or not days:
        return value
    return f"{int(days)} day{'s' if days != 1 else ''}"


def _name_problem(name: Any) -> str:
    shape = "projects/PROJECT/locations/LOCATION/keyRings/KEY_RING/cryptoKeys/KEY"
    if name is None or name == "":
        return f"name is missing; every key that gcloud kms keys list prints has its resource name ({shape})."
    described = describe_value("name", name)
    if isinstance(name, str) and _VERSION_NAME.fullmatch(name):
        return (
            f"{described}, the name of a key version, not of a key; export the keys themselves with "
            "gcloud kms keys list --format=json."
        )
    if isinstance(name, str) and _RING_NAME.fullmatch(name):
        return (
            f"{described}, the name of a key ring, not of a key; export the keys of each key ring with "
            "gcloud kms keys list --keyring KEY_RING --format=json."
        )
    return f"{described}; expected a key resource name {shape}."


def _looks_like_crypto_key(item: Any) -> bool:
    if not isinstance(item, dict):
        return False
    name = item.get("name")
    if isinstance(name, str) and name.startswith("projects/") and "/keyRings/" in name:
        return True
    return item.get("purpose") in PURPOSES


def _items(document: Any) -> list[dict[str, Any]]:
    return array_items(
        document,
        one_object="The file holds one key object, not an array of keys (gcloud kms keys describe prints one key). "
        "Export with gcloud kms keys list --format=json, or wrap the object in [ ], and upload again.",
        not_array="The file is not a JSON array of keys. Export with gcloud kms keys list --format=json and upload "
        "again.",
        not_object="Item {row} of the array is {type}, not a key object. Every item must be one key as gcloud kms "
        "keys list --format=json prints it; upload the command's output unchanged.",
    )


def _read_name(out: RowReader, item: dict[str, Any]) -> tuple[str, str] | None:
    name = item.get("name")
    match = _KEY_NAME.fullmatch(name) if isinstance(name, str) else None
    if match is None:
        out.fail("external_id", _name_problem(name), "name")
        return None
    out.set("external_id", name)
    out.set("name", match["key"])
    out.detail("keyRing", match["ring"])
    return match["project"], match["location"]


def _read_purpose(out: RowReader, item: dict[str, Any]) -> Any:
    purpose = item.get("purpose")
    if purpose in PURPOSES:
        out.set("platform_usage", purpose)
        out.set("kind", PURPOSES[purpose])
    elif purpose is None:
        out.fail(
            "platform_usage",
            f"purpose is missing; every key has one ({', '.join(PURPOSES)}). Upload the output of "
            "gcloud kms keys list unchanged.",
            "kind",
        )
    else:
        out.fail(
            "platform_usage",
            f"{describe_value('purpose', purpose)}; expected one of: {', '.join(PURPOSES)}.",
            "kind",
        )
    return purpose


def _read_algorithm(out: RowReader, purpose: Any, primary: dict[str, Any], template: dict[str, Any]) -> None:
    path, algorithm = "primary.algorithm", primary.get("algorithm")
    if algorithm is None:
        path, algorithm = "versionTemplate.algorithm", template.get("algorithm")
    if algorithm is None and purpose == _ROTATING_PURPOSE:
        algorithm = "GOOGLE_SYMMETRIC_ENCRYPTION"  # implied by Cloud KMS when an ENCRYPT_DECRYPT key has no template
    if algorithm is None:
        return
    known = ALGORITHMS.get(algorithm) if isinstance(algorithm, str) else None
    if known is None:
        out.fail(
            "algorithm",
            f"{describe_value(path, algorithm)}, an algorithm this app does not know; expected a Cloud KMS "
            f"algorithm ({choices_text(list(ALGORITHMS), limit=6)}). Check the export, or leave this key out of the "
            "file until the app knows the algorithm.",
            "size_bits",
        )
        return
    out.set("algorithm", known[0])
    out.set("size_bits", known[1])
    out.detail("algorithm", algorithm)


def _read_primary(out: RowReader, primary: dict[str, Any], created: Any) -> None:
    state = primary.get("state")
    if state in STATES:
        out.set("state", STATES[state])
        out.detail("primary.state", state)
    elif state is None:
        out.fail("state", f"primary.state is missing; expected one of: {', '.join(STATES)}.")
    else:
        out.fail("state", f"{describe_value('primary.state', state)}; expected one of: {', '.join(STATES)}.")

    version_name = primary.get("name")
    match = _VERSION_NAME.fullmatch(version_name) if isinstance(version_name, str) else None
    version = int(match["version"]) if match else None
    if version is not None:
        out.detail("primaryVersion", str(version))
    member = "createTime" if primary.get("createTime") is not None else "generateTime"
    moment = out.date(f"primary.{member}", primary.get(member), column="last_rotated_on")
    # Version 1 is the key's first material; without a version number, a later date than the key's says it.
    rotated = version > 1 if version is not None else bool(moment and created and moment > created)
    out.set("last_rotated_on", moment if rotated else None)
    out.detail_date("primary.destroyTime", primary.get("destroyTime"))
    out.detail_date("primary.destroyEventTime", primary.get("destroyEventTime"))
    external = primary.get("externalProtectionLevelOptions")
    if isinstance(external, dict):
        out.detail("externalKeyUri", external.get("externalKeyUri"))
        out.detail("ekmConnectionKeyPath", external.get("ekmConnectionKeyPath"))


def _read_rotation(out: RowReader, item: dict[str, Any], purpose: Any) -> None:
    raw = item.get("rotationPeriod")
    if raw is None and purpose != _ROTATING_PURPOSE:
        return  # Cloud KMS does not rotate these keys: a period recorded in the app stays
    if raw is None:
        out.set("rotation_period_days", None)
        return
    try:
        seconds = _seconds(raw)
    except ValueError as exc:
        out.fail("rotation_period_days", f"{describe_value('rotationPeriod', raw)}; {exc}.")
        return
    days = max(1, int(seconds / _DAY + 0.5))
    out.set("rotation_period_days", days)
    if seconds != days * _DAY:
        out.detail("rotationPeriod", raw)  # rounded to whole days above; the exact period stays visible


def _read_details(out: RowReader, item: dict[str, Any], primary: dict[str, Any], template: dict[str, Any]) -> None:
    out.detail("protectionLevel", primary.get("protectionLevel") or template.get("protectionLevel"))
    out.detail_date("nextRotationTime", item.get("nextRotationTime"))
    if item.get("destroyScheduledDuration") is not None:
        out.detail("destroyScheduledDuration", _duration_text(item["destroyScheduledDuration"]))
    out.detail("importOnly", item.get("importOnly"))
    out.detail("cryptoKeyBackend", item.get("cryptoKeyBackend"))
    policy = item.get("keyAccessJustificationsPolicy")
    if isinstance(policy, dict):
        reasons = policy.get("allowedAccessReasons") or []
        if isinstance(reasons, list):
            # An empty list allows no access reason at all, which is not the same as having no policy.
            out.detail("keyAccessJustificationsPolicy", ",".join(map(str, reasons)) or "none allowed")


def read_crypto_key(number: int, item: dict[str, Any]) -> tuple[KeyRow, list[RowError], tuple[str, str] | None]:
    """One CryptoKey as a row, its problems, and the (project, location) its name places it in."""
    out = RowReader(number)
    scope = _read_name(out, item)
    name = item.get("name")
    if isinstance(name, str) and (_RING_NAME.fullmatch(name) or _VERSION_NAME.fullmatch(name)):
        return out.key_row(), out.errors, None  # not a key at all: its other members would only add noise
    purpose = _read_purpose(out, item)
    primary = item.get("primary") if isinstance(item.get("primary"), dict) else {}
    template = item.get("versionTemplate") if isinstance(item.get("versionTemplate"), dict) else {}
    _read_algorithm(out, purpose, primary, template)
    created = out.date("createTime", item.get("createTime"), column="created_on")
    if created is not None:
        out.set("created_on", created)
    if primary:
        _read_primary(out, primary, created)
    _read_rotation(out, item, purpose)
    out.set_labels("labels", item.get("labels"), word="label")
    out.set("platform_managed", False)  # the list shows customer-managed keys only
    _read_details(out, item, primary, template)
    return out.key_row(), out.errors, scope


class GcpKmsImporter(JsonImporter):
    format = "gcp-kms"
    label = "Google Cloud KMS"
    order = 30
    store_kind = StoreKind.GCP_KMS.value
    reads_tags = True
    help = "gcloud kms keys list --location L --keyring R --format=json"
    # What gcloud prints for an empty key ring.
    empty_message = (
        "The file lists no {noun} (an empty JSON array). Check the --location and --keyring of the gcloud kms keys "
        "list command and export again."
    )

    def sniff(self, data: bytes, document: Any) -> bool:
        return sniff_objects(document, _looks_like_crypto_key)

    def stream(self, source: ImportSource, *, file_name: str, chunk_rows: int) -> ParseStream:
        """An export is read item by item, twice, and never held whole: a first pass checks what ``parse`` checks
        of the file as a whole (:func:`checked_array_items`, and one project and location) and finds the scope;
        the second reads the rows, a chunk at a time. A file the first pass finds anything wrong with is read
        whole by ``parse``, which says what."""
        try:
            first: tuple[int, str, str] | None = None
            for number, item in checked_array_items(self, source):
                first = _same_store(first, number, _scope_of(item))
        except (NotStreamable, ImportFileError):
            return super().stream(source, file_name=file_name, chunk_rows=chunk_rows)
        scope = self._scope(first)
        rows = (
            (*read_crypto_key(number, item)[:2], [])
            for number, item in enumerate(json_array_items(source.open()), start=1)
        )
        return ParseStream(
            chunks=rows_in_chunks(rows, size=chunk_rows, scope=scope), scope=scope, material_checked=True
        )

    def read(self, document: Any) -> ParseResult:
        result = ParseResult()
        first: tuple[int, str, str] | None = None
        for number, item in enumerate(_items(document), start=1):
            row, errors, scope = read_crypto_key(number, item)
            first = _same_store(first, number, scope)
            result.rows.append(row)
            result.errors.extend(errors)
        result.scope = self._scope(first)
        return result

    def _scope(self, first: tuple[int, str, str] | None) -> StoreScope | None:
        return None if first is None else StoreScope(kind=self.store_kind, account=first[1], region=first[2])


def _scope_of(item: dict[str, Any]) -> tuple[str, str] | None:
    """The (project, location) of a CryptoKey's name, as :func:`read_crypto_key` gives it."""
    name = item.get("name")
    match = _KEY_NAME.fullmatch(name) if isinstance(name, str) else None
    return (match["project"], match["location"]) if match else None


def _same_store(first: tuple[int, str, str] | None, number: int, scope: tuple[str, str] | None) -> Any:
    """The first row that named its project and location, as ``(row, project, location)``, given row
    ``number``'s; refuses a file whose keys are in two."""
    if scope is None:
        return first
    if first is None:
        return (number, *scope)
    if scope != first[1:]:
        raise ImportFileError(
            f"Row {number} is a key of project '{scope[0]:.60}' in location '{scope[1]:.60}', but row "
            f"{first[0]} is in project '{first[1]:.60}', location '{first[2]:.60}'. A file holds the "
            "keys of one key store (one project and location): export each project and location to "
            "its own file and import each into its store."
        )
    return first
