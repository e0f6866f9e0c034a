"""AWS KMS export: one JSON array with an ``aws kms describe-key`` result per key, each optionally carrying the
key's tags, aliases and rotation status beside its ``KeyMetadata``::

    [{"KeyMetadata": {"KeyId": "1234abcd-...", "Arn": "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-...", ...},
      "Tags": [{"TagKey": "purpose", "TagValue": "inference-log-encryption"}],
      "Aliases": [{"AliasName": "alias/inference-logs", "AliasArn": "arn:aws:kms:...", "TargetKeyId": "..."}],
      "KeyRotationEnabled": true, "RotationPeriodInDays": 365}]

``Tags`` is the list ``aws kms list-resource-tags`` prints, ``Aliases`` the list ``aws kms list-aliases --key-id``
prints, and ``KeyRotationEnabled``, ``RotationPeriodInDays`` and ``NextRotationDate`` come from ``aws kms
get-key-rotation-status``; null stands for "not exported" (the README's script writes null for keys that have no
rotation status, such as asymmetric keys). The file holds the keys of one account and Region: a multi-Region
key's replicas are separate keys in separate stores, so a file that mixes Regions is refused.

How the vendor's values become ours (the tables below hold the details):

- ``KeyState`` is mapped to the SP 800-57 states by what the key can do now: usable keys are active, keys that
  can be made usable again (disabled, custom key store disconnected) are suspended, keys not yet usable
  (replica being created, key material not imported; KMS also shows imported material that expired or was
  deleted this way) are pre-activation, keys scheduled for deletion are deactivated. ``Enabled`` is used only
  when ``KeyState`` is absent.
- ``KeySpec`` (or the deprecated ``CustomerMasterKeySpec`` of older exports) gives the kind, the algorithm and
  the size. HMAC keys are ``symmetric-key``, like ``SYMMETRIC_DEFAULT``: KMS generates and holds them and they
  never leave it, so they are not "shared secrets" handed to another party (the kind a webhook secret has);
  ``symmetric-key`` is also the kind every purpose that an HMAC key can serve accepts, key derivation included.
  Asymmetric keys are ``private-key``: KMS holds the private half; the public half is fetched with GetPublicKey.
- ``KeyUsage`` is kept as the platform usage, in AWS's words; ``KeyManager`` ``AWS`` marks a platform-managed
  key. Facts for an auditor (origin, key store, multi-Region role, deletion date, algorithms...) go to the
  platform details under their AWS names.
- The name is the first alias without its ``alias/`` prefix, else the key id; the external id is the key ARN.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from inventory.importers.base import (
    ImportFileError,
    JsonImporter,
    KeyRow,
    ParseResult,
    RowError,
    StoreScope,
    choices_text,
    describe_value,
    parse_timestamp,
    refuse_skipped_members,
)

STORE_KIND = "aws-kms"

# AWS KeyState -> our KeyState value (see the module docstring for the reasoning).
KEY_STATES: dict[str, str] = {  # in the order AWS documents them
    "Creating": "pre-activation",  # a multi-Region replica being created: not usable yet
    "Enabled": "active",
    "Disabled": "suspended",  # can be enabled again
    "PendingDeletion": "deactivated",  # scheduled for deletion: unusable, the deletion can still be cancelled
    "PendingImport": "pre-activation",  # no key material (never imported, or it expired or was deleted)
    "PendingReplicaDeletion": "deactivated",  # a primary key waiting for its replicas to be deleted first
    "Unavailable": "suspended",  # its custom key store is disconnected: usable again once it reconnects
    "Updating": "active",  # a multi-Region key whose primary Region is changing: still usable
}
KEY_USAGES: tuple[str, ...] = (
    "ENCRYPT_DECRYPT",
    "SIGN_VERIFY",
    "GENERATE_VERIFY_MAC",
    "KEY_AGREEMENT",
    "ENCAPSULATE_DECAPSULATE",
)
KEY_MANAGERS: tuple[str, ...] = ("AWS", "CUSTOMER")


@dataclass(frozen=True, slots=True)
class KeySpecInfo:
    kind: str  # a KeyKind value
    algorithm: str
    size_bits: int | None  # None for the post-quantum parameter sets, which have no single key size


_SYMMETRIC, _PRIVATE = "symmetric-key", "private-key"
KEY_SPECS: dict[str, KeySpecInfo] = {
    "SYMMETRIC_DEFAULT": KeySpecInfo(_SYMMETRIC, "AES-256-GCM", 256),
    "HMAC_224": KeySpecInfo(_SYMMETRIC, "HMAC-SHA224", 224),
    "HMAC_256": KeySpecInfo(_SYMMETRIC, "HMAC-SHA256", 256),
    "HMAC_384": KeySpecInfo(_SYMMETRIC, "HMAC-SHA384", 384),
    "HMAC_512": KeySpecInfo(_SYMMETRIC, "HMAC-SHA512", 512),
    "RSA_2048": KeySpecInfo(_PRIVATE, "RSA-2048", 2048),
    "RSA_3072": KeySpecInfo(_PRIVATE, "RSA-3072", 3072),
    "RSA_4096": KeySpecInfo(_PRIVATE, "RSA-4096", 4096),
    "ECC_NIST_P256": KeySpecInfo(_PRIVATE, "ECDSA P-256", 256),
    "ECC_NIST_P384": KeySpecInfo(_PRIVATE, "ECDSA P-384", 384),
    "ECC_NIST_P521": KeySpecInfo(_PRIVATE, "ECDSA P-521", 521),
    "ECC_SECG_P256K1": KeySpecInfo(_PRIVATE, "ECDSA secp256k1", 256),
    "ECC_NIST_EDWARDS25519": KeySpecInfo(_PRIVATE, "Ed25519", 256),
    "SM2": KeySpecInfo(_PRIVATE, "SM2", 256),
    "ML_DSA_44": KeySpecInfo(_PRIVATE, "ML-DSA-44", None),
    "ML_DSA_65": KeySpecInfo(_PRIVATE, "ML-DSA-65", None),
    "ML_DSA_87": KeySpecInfo(_PRIVATE, "ML-DSA-87", None),
    "ML_KEM_512": KeySpecInfo(_PRIVATE, "ML-KEM-512", None),
    "ML_KEM_768": KeySpecInfo(_PRIVATE, "ML-KEM-768", None),
    "ML_KEM_1024": KeySpecInfo(_PRIVATE, "ML-KEM-1024", None),
}
# In the China Regions SYMMETRIC_DEFAULT is a 128-bit SM4 key, not AES-256-GCM.
_CHINA_SYMMETRIC = KeySpecInfo(_SYMMETRIC, "SM4-128", 128)
DEFAULT_ROTATION_DAYS = 365  # what KMS uses when rotation is on and get-key-rotation-status shows no period

_MAX_DETAIL = 256  # the longest platform_details value (validate_labels)
_ARN_EXAMPLE = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
_ITEM_SHAPE = (
    'the output of aws kms describe-key ({"KeyMetadata": {...}}), optionally with Tags, Aliases and '
    "KeyRotationEnabled beside KeyMetadata"
)
_TAGS_SHAPE = 'a list of {"TagKey": ..., "TagValue": ...} objects, as aws kms list-resource-tags prints them'
_ALIASES_SHAPE = 'a list of {"AliasName": "alias/...", ...} objects, as aws kms list-aliases prints them'


def _kms_arn(text: Any, resource: str) -> tuple[str, str, str, str] | None:
    """``(partition, region, account, id)`` of ``arn:<partition>:kms:<region>:<account>:<resource>/<id>``."""
    if not isinstance(text, str):
        return None
    parts = text.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn" or parts[2] != "kms":
        return None
    partition, region, account, tail = parts[1], parts[3], parts[4], parts[5]
    kind, _, name = tail.partition("/")
    if not (partition and region and len(account) == 12 and account.isdigit() and kind == resource and name):
        return None
    return partition, region, account, name


def _detail(value: str) -> str:
    return value if len(value) <= _MAX_DETAIL else value[: _MAX_DETAIL - 3] + "..."


_KEY_MATERIAL_ID = re.compile(r"[0-9a-f]{64}")


class _Item:
    """One element of the array while it is read: the row, its problems, and where it says the key lives."""

    __slots__ = ("account", "errors", "fields", "key_id", "number", "partition", "region", "row")

    def __init__(self, number: int) -> None:
        self.number = number
        self.row = KeyRow(row=number, fields=frozenset())
        self.fields: set[str] = set()
        self.errors: list[RowError] = []
        self.partition = self.region = self.account = ""
        self.key_id = ""  # set when the item has no ARN and one must be built from the key id

    def fail(self, path: str, message: str) -> None:
        self.errors.append(RowError(self.number, path, message))

    def bad_value(self, path: str, value: Any, expected: str) -> None:
        self.fail(path, f"{describe_value(path, value)}; {expected}")

    def scope(self) -> StoreScope:
        return StoreScope(kind=STORE_KIND, account=self.account, region=self.region)


class AwsKmsImporter(JsonImporter):
    format = "aws-kms"
    label = "AWS KMS"
    store_kind = STORE_KIND
    reads_tags = True
    help = (
        "one JSON array of aws kms describe-key results, each with the key's Tags, Aliases and rotation status; "
        "see README"
    )
    # A 64-hex identifier of the key material (a digest-like id computed by KMS), not the material itself, which
    # never leaves KMS; the importer does not keep it.
    public_members = frozenset({"CurrentKeyMaterialId"})  # refuse() scans any other value under that name

    def sniff(self, data: bytes, document: Any) -> bool:
        if isinstance(document, dict):
            return isinstance(document.get("KeyMetadata"), dict)
        if isinstance(document, list):
            return any(isinstance(item, dict) and isinstance(item.get("KeyMetadata"), dict) for item in document[:20])
        return False

    def refuse(self, document: Any) -> None:
        # The generic scan skips every member named CurrentKeyMaterialId: only the 64-hex id KMS writes there is
        # skipped by right, anything else under that name is scanned here.
        refuse_skipped_members(
            document,
            names=self.public_members,
            exempt=lambda _item, _parent, _name, value: isinstance(value, str)
            and bool(_KEY_MATERIAL_ID.fullmatch(value)),
        )

    def read(self, document: Any) -> ParseResult:
        if isinstance(document, dict) and "KeyMetadata" in document:
            raise ImportFileError(
                "The file holds a single describe-key result, but an AWS KMS export is a JSON array of them. "
                "Wrap the object in [ ] (or export every key with the README's script) and upload again."
            )
        if not isinstance(document, list):
            raise ImportFileError(f"The file must be a JSON array in which each item is {_ITEM_SHAPE}.")
        if not document:
            raise ImportFileError("The file is an empty JSON array: it lists no keys. Export them and upload again.")
        for number, item in enumerate(document, start=1):
            if not isinstance(item, dict):
                raise ImportFileError(f"Row {number} is not a JSON object; each item must be {_ITEM_SHAPE}.")
        items = [_read_item(number, item) for number, item in enumerate(document, start=1)]
        scope = _common_scope(items)
        partition = next((item.partition for item in items if item.partition), "aws")
        result = ParseResult(scope=scope)
        for item in items:
            if item.key_id:
                _build_arn(item, scope, partition)
            item.row.fields = frozenset(item.fields)
            result.rows.append(item.row)
            result.errors.extend(item.errors)
        return result


def _common_scope(items: list[_Item]) -> StoreScope | None:
    """The account and Region every key of the file lives in; refuses a file whose keys say different ones."""
    by_account: _Item | None = None
    by_region: _Item | None = None
    for item in items:
        if item.account:
            if by_account is None:
                by_account = item
            elif item.account != by_account.account:
                raise _mixed(by_account, item)
        if item.region:
            if by_region is None:
                by_region = item
            elif item.region != by_region.region:
                raise _mixed(by_region, item)
    if by_account is None and by_region is None:
        return None
    return StoreScope(
        kind=STORE_KIND,
        account=by_account.account if by_account else "",
        region=by_region.region if by_region else "",
    )


def _mixed(first: _Item, other: _Item) -> ImportFileError:
    return ImportFileError(
        f"The file mixes key stores: row {first.number} is a key of {first.scope().describe()}, but row "
        f"{other.number} is a key of {other.scope().describe()}. A file holds the keys of one account and Region "
        "(each replica of a multi-Region key is a key of its own Region): export each account and Region to its "
        "own file and import them one at a time."
    )


def _build_arn(item: _Item, scope: StoreScope | None, partition: str) -> None:
    """The key ARN of a key exported without one, from its account, its Region and its id."""
    account = item.account or (scope.account if scope else "")
    region = item.region or (scope.region if scope else "")
    if not account or not region:
        what = (
            "account (KeyMetadata.AWSAccountId)" if not account else "Region (no key or alias ARN in the file says it)"
        )
        item.fail(
            "KeyMetadata.Arn",
            f"KeyMetadata.Arn is missing and the key ARN cannot be built without the key's {what}. Export the key "
            "again with aws kms describe-key, which prints the Arn.",
        )
        return
    item.row.external_id = f"arn:{item.partition or partition}:kms:{region}:{account}:key/{item.key_id}"
    item.fields.add("external_id")


def _read_item(number: int, entry: dict[str, Any]) -> _Item:
    item = _Item(number)
    metadata = entry.get("KeyMetadata")
    if not isinstance(metadata, dict):
        if metadata is None:
            item.fail("KeyMetadata", f"the item has no KeyMetadata object; each item must be {_ITEM_SHAPE}.")
        else:
            item.bad_value("KeyMetadata", metadata, f"expected an object; each item must be {_ITEM_SHAPE}.")
        return item
    row, details = item.row, item.row.platform_details
    key_id = _read_identity(item, metadata)
    aliases = _read_aliases(item, entry.get("Aliases"), key_id)
    if key_id:
        row.name = aliases[0]["AliasName"].removeprefix("alias/") if aliases else key_id
        item.fields.add("name")
    if item.key_id and not item.region:
        # No key ARN: the key's Region (and partition) may still be told from an alias ARN.
        for alias in aliases:
            parts = _kms_arn(alias.get("AliasArn"), "alias")
            if parts:
                item.partition, item.region = parts[0], parts[1]
                break
    _read_spec(item, metadata)
    _read_state(item, metadata)
    _read_labels(item, entry.get("Tags"))
    _read_rotation(item, entry)

    description = metadata.get("Description")
    if isinstance(description, str):
        row.description = description
        item.fields.add("description")
    elif description is not None:
        item.bad_value("KeyMetadata.Description", description, "expected text.")
    for member, name in (("CreationDate", "created_on"), ("ValidTo", "expires_on")):
        value = metadata.get(member)
        if value is not None:
            try:
                setattr(row, name, parse_timestamp(value))
                item.fields.add(name)
            except ValueError as exc:
                item.bad_value(f"KeyMetadata.{member}", value, f"{exc}.")

    manager = metadata.get("KeyManager")
    if manager in KEY_MANAGERS:
        row.platform_managed = manager == "AWS"
        item.fields.add("platform_managed")
        details["KeyManager"] = manager
    elif manager is not None:
        item.bad_value("KeyMetadata.KeyManager", manager, f"expected one of: {', '.join(KEY_MANAGERS)}.")
    _read_details(item, metadata, aliases)
    item.fields.add("platform_details")
    return item


def _read_aliases(item: _Item, aliases: Any, key_id: str) -> list[dict[str, Any]]:
    """The key's aliases. Entries for another key (a whole list-aliases output pasted in) are left out."""
    if aliases is None:
        return []
    if isinstance(aliases, list):
        own = []
        for alias in aliases:
            if not isinstance(alias, dict) or not isinstance(alias.get("AliasName"), str):
                break
            target = alias.get("TargetKeyId")
            if target is None or target == key_id:
                own.append(alias)
        else:
            return own
    item.fail("Aliases", f"Aliases is not {_ALIASES_SHAPE}.")
    return []


def _read_identity(item: _Item, metadata: dict[str, Any]) -> str:
    """Reads the key ARN (the external id) and where it says the key lives; returns the key id, or ""."""
    arn, key_id, account = metadata.get("Arn"), metadata.get("KeyId"), metadata.get("AWSAccountId")
    if arn is None and isinstance(key_id, str) and key_id.startswith("arn:"):
        arn, key_id = key_id, None  # a KeyId given as the key ARN
    if arn is None and key_id is None:
        item.fail(
            "KeyMetadata.Arn",
            "KeyMetadata has neither Arn nor KeyId, so the key cannot be identified. Export the key again with "
            "aws kms describe-key.",
        )
        return ""
    if arn is not None:
        parts = _kms_arn(arn, "key")
        if parts is None:
            item.bad_value("KeyMetadata.Arn", arn, f"expected a KMS key ARN such as {_ARN_EXAMPLE}.")
        else:
            item.partition, item.region, item.account, arn_key_id = parts
            item.row.external_id = arn
            item.fields.add("external_id")
            if key_id is not None and key_id != arn_key_id:
                item.bad_value("KeyMetadata.KeyId", key_id, "it is not the key id in KeyMetadata.Arn.")
            if account is not None and account != item.account:
                item.bad_value("KeyMetadata.AWSAccountId", account, "it is not the account in KeyMetadata.Arn.")
            key_id = arn_key_id
    if not isinstance(key_id, str) or not key_id:
        if key_id is not None:
            item.bad_value(
                "KeyMetadata.KeyId", key_id, "expected the key id, such as 1234abcd-12ab-34cd-56ef-1234567890ab."
            )
        return ""
    if arn is None:
        # No ARN: read() builds it from the account, the Region and the key id once the file's scope is known.
        item.key_id = key_id
        if isinstance(account, str) and len(account) == 12 and account.isdigit():
            item.account = account
        elif account is not None:
            item.bad_value("KeyMetadata.AWSAccountId", account, "expected the twelve-digit account id.")
    return key_id


def _read_spec(item: _Item, metadata: dict[str, Any]) -> None:
    row = item.row
    path, spec = "KeyMetadata.KeySpec", metadata.get("KeySpec")
    if spec is None:
        path, spec = "KeyMetadata.CustomerMasterKeySpec", metadata.get("CustomerMasterKeySpec")
    usage = metadata.get("KeyUsage")
    if usage in KEY_USAGES:
        row.platform_usage = usage
        item.fields.add("platform_usage")
    elif usage is not None:
        item.bad_value("KeyMetadata.KeyUsage", usage, f"expected one of: {', '.join(KEY_USAGES)}.")
    if spec is None:
        return
    info = KEY_SPECS.get(spec) if isinstance(spec, str) else None
    if info is None:
        item.bad_value(path, spec, f"expected one of: {choices_text(list(KEY_SPECS), limit=len(KEY_SPECS))}.")
        return
    if spec == "SYMMETRIC_DEFAULT" and item.partition == "aws-cn":
        info = _CHINA_SYMMETRIC
    algorithm = info.algorithm
    if usage == "KEY_AGREEMENT" and algorithm.startswith("ECDSA "):
        algorithm = "ECDH " + algorithm[6:]
    row.kind, row.algorithm, row.size_bits = info.kind, algorithm, info.size_bits
    item.fields.update(("kind", "algorithm", "size_bits"))
    row.platform_details["KeySpec"] = spec


def _read_state(item: _Item, metadata: dict[str, Any]) -> None:
    state, enabled = metadata.get("KeyState"), metadata.get("Enabled")
    if state is not None:
        if isinstance(state, str) and state in KEY_STATES:
            item.row.state = KEY_STATES[state]
            item.fields.add("state")
        else:
            item.bad_value("KeyMetadata.KeyState", state, f"expected one of: {', '.join(KEY_STATES)}.")
    elif isinstance(enabled, bool):
        item.row.state = KEY_STATES["Enabled" if enabled else "Disabled"]
        item.fields.add("state")
    if enabled is not None and not isinstance(enabled, bool):
        item.bad_value("KeyMetadata.Enabled", enabled, "expected true or false.")


def _read_labels(item: _Item, tags: Any) -> None:
    labels: dict[str, str] = {}
    if tags is not None:
        if not isinstance(tags, list):
            item.fail("Tags", f"Tags is not {_TAGS_SHAPE}.")
            return
        for index, tag in enumerate(tags):
            try:
                name, value = tag["TagKey"], tag["TagValue"]
            except (KeyError, TypeError, IndexError):
                name = value = None
            if not isinstance(name, str) or not isinstance(value, str) or not name:
                item.fail(f"Tags[{index}]", f"Tags[{index}] is not a tag; Tags must be {_TAGS_SHAPE}.")
                return
            if name in labels:
                item.fail(f"Tags[{index}]", f"Tags names the tag '{name[:60]}' twice; a KMS key has each tag once.")
                return
            labels[name] = value
    item.row.labels = labels
    item.fields.add("labels")


def _read_rotation(item: _Item, entry: dict[str, Any]) -> None:
    enabled, period = entry.get("KeyRotationEnabled"), entry.get("RotationPeriodInDays")
    if enabled is not None and not isinstance(enabled, bool):
        item.bad_value("KeyRotationEnabled", enabled, "expected true or false.")
        return
    if period is not None and (isinstance(period, bool) or not isinstance(period, int) or period < 1):
        item.bad_value("RotationPeriodInDays", period, "expected a whole number of days, such as 365.")
        return
    if enabled is None and period is not None:
        enabled = True  # get-key-rotation-status gives a period only for keys that rotate
    if enabled is None:
        return
    item.row.rotation_period_days = (period or DEFAULT_ROTATION_DAYS) if enabled else None
    item.fields.add("rotation_period_days")
    item.row.platform_details["KeyRotationEnabled"] = enabled
    next_rotation = entry.get("NextRotationDate")
    if next_rotation is not None:
        try:
            day = parse_timestamp(next_rotation)
        except ValueError as exc:
            item.bad_value("NextRotationDate", next_rotation, f"{exc}.")
        else:
            if day:
                item.row.platform_details["NextRotationDate"] = day.isoformat()


# KeyMetadata members copied to platform_details as they are (text, numbers, true/false).
_PLAIN_DETAILS = ("Origin", "ExpirationModel", "CustomKeyStoreId", "CloudHsmClusterId", "PendingDeletionWindowInDays")


def _read_details(item: _Item, metadata: dict[str, Any], aliases: list[dict[str, Any]]) -> None:
    details = item.row.platform_details
    for name in _PLAIN_DETAILS:
        value = metadata.get(name)
        if value is None or isinstance(value, bool):
            continue
        if isinstance(value, str):
            details[name] = _detail(value)
        elif isinstance(value, (int, float)):
            details[name] = value
    xks = metadata.get("XksKeyConfiguration")
    if isinstance(xks, dict) and isinstance(xks.get("Id"), str):
        details["XksKeyId"] = _detail(xks["Id"])
    multi_region = metadata.get("MultiRegion")
    if isinstance(multi_region, bool):
        details["MultiRegion"] = multi_region
    configuration = metadata.get("MultiRegionConfiguration")
    if isinstance(configuration, dict):
        role = configuration.get("MultiRegionKeyType")
        if isinstance(role, str):
            details["MultiRegionKeyType"] = role
        primary = configuration.get("PrimaryKey")
        if role == "REPLICA" and isinstance(primary, dict) and isinstance(primary.get("Arn"), str):
            details["PrimaryKeyArn"] = _detail(primary["Arn"])
    deletion = metadata.get("DeletionDate")
    if deletion is not None:
        try:
            day = parse_timestamp(deletion)
        except ValueError as exc:
            item.bad_value("KeyMetadata.DeletionDate", deletion, f"{exc}.")
        else:
            if day:
                details["DeletionDate"] = day.isoformat()
    # EncryptionAlgorithms, SigningAlgorithms, MacAlgorithms, KeyAgreementAlgorithms and any later *Algorithms.
    for name, value in metadata.items():
        if name.endswith("Algorithms") and isinstance(value, list) and value:
            details[name] = _detail(",".join(map(str, value)))
    if aliases:
        details["Aliases"] = _detail(",".join(alias["AliasName"] for alias in aliases))
