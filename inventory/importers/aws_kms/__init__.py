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
from typing import Any, NoReturn

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
from inventory.importers.base.scanning import scan_item

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
        """An export is read item by item and never held whole. Each item is checked for what ``parse`` checks
        of the file as a whole (every string scanned for unsafe text and key material, the shape, the account
        and Region of every key) before its row is handed on.

        One pass when the first items say where the keys live (their ARNs give the account, the Region and the
        partition: every real export): the rows are read as they are checked, each JSON item decoded and read
        once. A problem found further on (key material in row 90,000, a second account) rejects the file then:
        it is read whole by ``parse``, which raises the error it always gave, and the caller discards whatever
        it planned (and, applying, rolls back whatever it wrote). Otherwise (keys without ARNs, so the scope
        may come from any item) two passes: the check of every item first, then the rows. A file the first
        items show anything wrong with is read whole by ``parse`` at once."""
        check = _FileCheck(self)
        items = enumerate(json_array_items(source.open()), start=1)
        ahead: list[Item] = []
        try:
            for number, entry in items:
                ahead.append(check.item(number, entry))
                if check.complete or len(ahead) >= chunk_rows:
                    break
            if check.complete:
                return ParseStream(
                    chunks=self._read_checked(source, file_name, check, ahead, items, chunk_rows),
                    scope=check.scope(),
                    material_checked=True,
                )
            ahead = []
            for number, entry in items:
                check.item(number, entry)
            check.finish()
        except (NotStreamable, ImportFileError):
            return super().stream(source, file_name=file_name, chunk_rows=chunk_rows)
        return ParseStream(
            chunks=self._read_items(source, check.scope(), check.partition or "aws", chunk_rows),
            scope=check.scope(),
            material_checked=True,
        )

    def _read_checked(
        self,
        source: ImportSource,
        file_name: str,
        check: _FileCheck,
        ahead: list[Item],
        items: Iterator[tuple[int, Any]],
        chunk_rows: int,
    ) -> Iterator[ParseResult]:
        """The rows of the one pass: the items checked already (``ahead``), then the others, each checked as it
        is read."""
        scope, partition = check.scope(), check.partition
        chunk = ParseResult(scope=scope, material_checked=True)
        ahead.reverse()  # taken from the end: a row handed on is no longer held here
        while True:
            try:
                if ahead:
                    item = ahead.pop()
                else:
                    number, entry = next(items)
                    item = check.item(number, entry)
            except StopIteration:
                break
            except NotStreamable:
                self._reject_whole(source, file_name)
            _add_row(chunk, item, scope, partition)
            if len(chunk.rows) >= chunk_rows:
                yield chunk
                chunk = ParseResult(scope=scope, material_checked=True)
        try:
            check.finish()
        except NotStreamable:
            self._reject_whole(source, file_name)
        if chunk.rows:
            yield chunk

    def _reject_whole(self, source: ImportSource, file_name: str) -> NoReturn:
        """A problem found part-way through the one pass: the file read whole says what it is, as ever."""
        self.parse(source.read_all(), file_name=file_name)
        # Not expected: every problem the item check finds, ``parse`` finds too.
        raise ImportFileError("The file could not be read as an AWS KMS export. Export it again and upload it.")

    def _read_items(
        self, source: ImportSource, scope: StoreScope | None, partition: str, chunk_rows: int
    ) -> Iterator[ParseResult]:
        chunk = ParseResult(scope=scope, material_checked=True)
        for number, entry in enumerate(json_array_items(source.open()), start=1):
            _add_row(chunk, read_item(number, entry), scope, partition)
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


class _FileCheck:
    """What ``parse`` checks of the file as a whole, checked one item at a time: each item is an object, the
    file looks like an export (an item with ``KeyMetadata`` among the first 20), no string is unsafe text or key
    material (the generic scan, then :meth:`AwsKmsImporter.refuse` for the members it skips), and every key is
    of one account and Region. :meth:`item` raises :class:`NotStreamable` at the first problem."""

    def __init__(self, importer: AwsKmsImporter) -> None:
        self.importer = importer
        self.judged: dict[str, Any] = {}
        self.sniffed = False
        self.count = 0
        self.account = self.region = self.partition = ""  # the first item's that says them

    def item(self, number: int, entry: Any) -> Item:
        self.count = number
        if not isinstance(entry, dict):
            raise NotStreamable
        self.sniffed = self.sniffed or (number <= 20 and isinstance(entry.get("KeyMetadata"), dict))
        if number == 20 and not self.sniffed:
            raise NotStreamable
        found, skipped = scan_item(entry, self.importer.public_members, self.judged)
        if found is not None:
            raise NotStreamable
        if len(self.judged) > 50_000:  # repeated values are judged once, but the cache stays small
            self.judged.clear()
        if skipped:  # only an item with a member the scan skips has anything for refuse() to look at
            try:
                self.importer.refuse([entry])
            except RefusedFileError:
                raise NotStreamable from None
        item = read_item(number, entry)
        if item.account:
            if not self.account:
                self.account = item.account
            elif item.account != self.account:
                raise NotStreamable
        if item.region:
            if not self.region:
                self.region = item.region
            elif item.region != self.region:
                raise NotStreamable
        self.partition = self.partition or item.partition
        return item

    @property
    def complete(self) -> bool:
        """Whether the items so far settle the file's scope and partition (later items can only match them or
        reject the file) and that it looks like an export."""
        return self.sniffed and bool(self.account and self.region and self.partition)

    def finish(self) -> None:
        if not self.count or not self.sniffed:
            raise NotStreamable

    def scope(self) -> StoreScope | None:
        if not self.account and not self.region:
            return None
        return StoreScope(kind=STORE_KIND, account=self.account, region=self.region)


def _add_row(chunk: ParseResult, item: Item, scope: StoreScope | None, partition: str) -> None:
    if item.key_id:
        _build_arn(item, scope, partition or "aws")
    item.row.fields = frozenset(item.fields)
    chunk.rows.append(item.row)
    chunk.errors.extend(item.errors)


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
