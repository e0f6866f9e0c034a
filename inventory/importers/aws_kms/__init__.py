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

The tables are in :mod:`.vocabulary`, the reading of one item in :mod:`.items`; the file as a whole (one account
and Region, key ARNs built for keys exported without one) here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from inventory.importers.aws_kms.items import ITEM_SHAPE, Item, read_item
from inventory.importers.aws_kms.vocabulary import (
    DEFAULT_ROTATION_DAYS,
    KEY_MANAGERS,
    KEY_SPECS,
    KEY_STATES,
    KEY_USAGES,
    STORE_KIND,
    KeySpecInfo,
)
from inventory.importers.base import (
    ImportFileError,
    ImportSource,
    JsonImporter,
    NotStreamable,
    ParseResult,
    ParseStream,
    RefusedFileError,
    StoreScope,
    json_array_items,
    refuse_skipped_members,
)
from inventory.importers.base.scanning import first_finding

__all__ = [
    "DEFAULT_ROTATION_DAYS",
    "KEY_MANAGERS",
    "KEY_SPECS",
    "KEY_STATES",
    "KEY_USAGES",
    "STORE_KIND",
    "AwsKmsImporter",
    "KeySpecInfo",
]

_KEY_MATERIAL_ID = re.compile(r"[0-9a-f]{64}")


class AwsKmsImporter(JsonImporter):
    format = "aws-kms"
    label = "AWS KMS"
    order = 20
    store_kind = STORE_KIND
    reads_tags = True
    help = "one JSON array of aws kms describe-key results, each with the key's Tags, Aliases and rotation status"
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

    def stream(self, source: ImportSource, *, file_name: str, chunk_rows: int) -> ParseStream:
        """An export is read item by item, twice, and never held whole: a first pass checks what ``parse``
        checks of the file as a whole (every string scanned for unsafe text and key material, the shape, the
        account and Region of every key) and finds the scope; the second reads the rows, a chunk at a time. A
        file the first pass finds anything wrong with is read whole by ``parse``, which says what."""
        try:
            scope, partition = self._check_items(source)
        except (NotStreamable, ImportFileError):
            return super().stream(source, file_name=file_name, chunk_rows=chunk_rows)
        return ParseStream(
            chunks=self._read_items(source, scope, partition, chunk_rows), scope=scope, material_checked=True
        )

    def _check_items(self, source: ImportSource) -> tuple[StoreScope | None, str]:
        judged: dict[str, Any] = {}
        sniffed = False
        by_account: Item | None = None
        by_region: Item | None = None
        partition = ""
        number = 0
        for number, entry in enumerate(json_array_items(source.open()), start=1):
            if not isinstance(entry, dict):
                raise NotStreamable
            sniffed = sniffed or (number <= 20 and isinstance(entry.get("KeyMetadata"), dict))
            if number == 20 and not sniffed:
                raise NotStreamable
            if first_finding(entry, self.public_members, judged) is not None:
                raise NotStreamable
            if len(judged) > 50_000:  # repeated values are judged once, but the cache stays small
                judged.clear()
            try:
                self.refuse([entry])
            except RefusedFileError:
                raise NotStreamable from None
            item = read_item(number, entry)
            if item.account:
                if by_account is None:
                    by_account = item
                elif item.account != by_account.account:
                    raise NotStreamable
            if item.region:
                if by_region is None:
                    by_region = item
                elif item.region != by_region.region:
                    raise NotStreamable
            partition = partition or item.partition
        if not number or not sniffed:
            raise NotStreamable
        scope = None
        if by_account is not None or by_region is not None:
            scope = StoreScope(
                kind=STORE_KIND,
                account=by_account.account if by_account else "",
                region=by_region.region if by_region else "",
            )
        return scope, partition or "aws"

    def _read_items(
        self, source: ImportSource, scope: StoreScope | None, partition: str, chunk_rows: int
    ) -> Iterator[ParseResult]:
        chunk = ParseResult(scope=scope, material_checked=True)
        for number, entry in enumerate(json_array_items(source.open()), start=1):
            item = read_item(number, entry)
            if item.key_id:
                _build_arn(item, scope, partition)
            item.row.fields = frozenset(item.fields)
            chunk.rows.append(item.row)
            chunk.errors.extend(item.errors)
            if len(chunk.rows) >= chunk_rows:
                yield chunk
                chunk = ParseResult(scope=scope, material_checked=True)
        if chunk.rows:
            yield chunk

    def read(self, document: Any) -> ParseResult:
        if isinstance(document, dict) and "KeyMetadata" in document:
            raise ImportFileError(
                "The file holds a single describe-key result, but an AWS KMS export is a JSON array of them. "
                "Wrap the object in [ ] (or export every key with the import page's script) and upload again."
            )
        if not isinstance(document, list):
            raise ImportFileError(f"The file must be a JSON array in which each item is {ITEM_SHAPE}.")
        if not document:
            raise ImportFileError("The file is an empty JSON array: it lists no keys. Export them and upload again.")
        for number, item in enumerate(document, start=1):
            if not isinstance(item, dict):
                raise ImportFileError(f"Row {number} is not a JSON object; each item must be {ITEM_SHAPE}.")
        items = [read_item(number, item) for number, item in enumerate(document, start=1)]
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


def _common_scope(items: list[Item]) -> StoreScope | None:
    """The account and Region every key of the file lives in; refuses a file whose keys say different ones."""
    by_account: Item | None = None
    by_region: Item | None = None
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


def _mixed(first: Item, other: Item) -> ImportFileError:
    return ImportFileError(
        f"The file mixes key stores: row {first.number} is a key of {first.scope().describe()}, but row "
        f"{other.number} is a key of {other.scope().describe()}. A file holds the keys of one account and Region "
        "(each replica of a multi-Region key is a key of its own Region): export each account and Region to its "
        "own file and import them one at a time."
    )


def _build_arn(item: Item, scope: StoreScope | None, partition: str) -> None:
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
