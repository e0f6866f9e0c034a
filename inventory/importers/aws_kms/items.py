"""One item of an AWS KMS export (a describe-key result with its tags, aliases and rotation status) read into
a :class:`KeyRow`, with its problems and the account and Region it says the key lives in."""

from __future__ import annotations

from typing import Any

from inventory.importers.aws_kms.vocabulary import (
    CHINA_SYMMETRIC,
    DEFAULT_ROTATION_DAYS,
    KEY_MANAGERS,
    KEY_SPECS,
    KEY_STATES,
    KEY_USAGES,
    STORE_KIND,
)
from inventory.importers.base import KeyRow, RowError, StoreScope, choices_text, describe_value, parse_timestamp

_MAX_DETAIL = 256  # the longest platform_details value (validate_labels)
_ARN_EXAMPLE = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
ITEM_SHAPE = (
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


class Item:
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


def read_item(number: int, entry: dict[str, Any]) -> Item:
    item = Item(number)
    metadata = entry.get("KeyMetadata")
    if not isinstance(metadata, dict):
        if metadata is None:
            item.fail("KeyMetadata", f"the item has no KeyMetadata object; each item must be {ITEM_SHAPE}.")
        else:
            item.bad_value("KeyMetadata", metadata, f"expected an object; each item must be {ITEM_SHAPE}.")
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


def _read_aliases(item: Item, aliases: Any, key_id: str) -> list[dict[str, Any]]:
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


def _read_identity(item: Item, metadata: dict[str, Any]) -> str:
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


def _read_spec(item: Item, metadata: dict[str, Any]) -> None:
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
        info = CHINA_SYMMETRIC
    algorithm = info.algorithm
    if usage == "KEY_AGREEMENT" and algorithm.startswith("ECDSA "):
        algorithm = "ECDH " + algorithm[6:]
    row.kind, row.algorithm, row.size_bits = info.kind, algorithm, info.size_bits
    item.fields.update(("kind", "algorithm", "size_bits"))
    row.platform_details["KeySpec"] = spec


def _read_state(item: Item, metadata: dict[str, Any]) -> None:
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


def _read_labels(item: Item, tags: Any) -> None:
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


def _read_rotation(item: Item, entry: dict[str, Any]) -> None:
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


def _read_details(item: Item, metadata: dict[str, Any], aliases: list[dict[str, Any]]) -> None:
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
