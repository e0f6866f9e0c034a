"""Azure Key Vault export: a JSON array of ``az keyvault key show --vault-name V --name K`` results (or
``--hsm-name H`` for a Managed HSM), one key bundle per key. REST API responses (GET /keys/NAME) are read too:
they spell ``key_ops``, ``exp`` and ``nbf`` and give times in Unix seconds, where the CLI prints ``keyOps``,
``expires`` and ``notBefore`` as ISO strings.

A key store is one vault or Managed HSM: the scope's ``account`` is its name, the first label of the key id's
host. The key id without its version is the key's ``external_id``.

Decisions:

- The public JWK members ``n``, ``e``, ``x`` and ``y`` of each result's ``key`` object are skipped by the
  key-material scan and never stored: the RSA size is computed from the length of ``n`` and nothing else is
  kept. Anywhere else (a tag named ``x``, a release policy member) those names are scanned like any other. A private member (``d``, ``dp``,
  ``dq``, ``p``, ``q``, ``qi``, ``k``, ``t``/``key_hsm``) with a value rejects the whole file.
- ``enabled`` false is "suspended", true "active". ``expires``/``exp`` sets ``expires_on`` (cleared when the key
  has none) and ``notBefore``/``nbf`` sets ``activated_on``; neither changes the state, so the same file always
  reads the same whatever the day of the import.
- ``created`` is when the key's current version was created: after a rotation it is the rotation's date, the
  age of the key material in use. ``key show`` has neither the first version's date nor the rotation policy,
  so ``last_rotated_on`` and ``rotation_period_days`` are left as they are.
- Keys that back certificates (``managed`` true) are platform-managed certificate private keys.
- Facts copied into ``platform_details`` (recovery level, HSM platform, ...) never fail a row.
"""

from __future__ import annotations

import base64
import binascii
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
    describe_value,
    json_array_items,
    refuse_skipped_members,
    sniff_objects,
)
from inventory.importers.base.streaming import checked_array_items, rows_in_chunks
from inventory.models import KeyKind, KeyState, StoreKind

_KID = re.compile(
    r"https://(?P<host>(?P<vault>[A-Za-z0-9-]{1,63})\.(?:vault|managedhsm)\.[A-Za-z0-9.-]+?)(?::443)?"
    r"/keys/(?P<name>[A-Za-z0-9-]{1,127})(?:/(?P<version>[A-Za-z0-9]*))?/?",
    re.IGNORECASE,
)

# JsonWebKeyType -> key family. The "-HSM" types are held in an HSM.
KEY_TYPES: dict[str, str] = {
    "RSA": "RSA",
    "RSA-HSM": "RSA",
    "EC": "EC",
    "EC-HSM": "EC",
    "oct": "oct",
    "oct-HSM": "oct",
}
# JsonWebKeyCurveName -> (readable algorithm, size in bits).
CURVES: dict[str, tuple[str, int]] = {
    "P-256": ("ECDSA P-256", 256),
    "P-256K": ("ECDSA secp256k1", 256),
    "P-384": ("ECDSA P-384", 384),
    "P-521": ("ECDSA P-521", 521),
}
# JsonWebKeyOperation, in the vendor's spelling (export: vault API 7.3+, release: Managed HSM).
KEY_OPS: tuple[str, ...] = (
    "encrypt",
    "decrypt",
    "sign",
    "verify",
    "wrapKey",
    "unwrapKey",
    "import",
    "export",
    "release",
)
_KEY_OPS_BY_LOWER = {op.lower(): op for op in KEY_OPS}
# Public members of a JSON Web Key: skipped by the key-material scan, never stored.
PUBLIC_MEMBERS = frozenset({"n", "e", "x", "y"})
# Private members of a JSON Web Key (``t`` is the HSM key blob, ``key_hsm`` in the REST API).
PRIVATE_MEMBERS: tuple[str, ...] = ("d", "dp", "dq", "p", "q", "qi", "k", "t", "key_hsm")


def _member(data: dict[str, Any], *names: str) -> tuple[str, Any]:
    """The first of ``names`` (CLI spelling first, then REST) that ``data`` has with a value, and that value."""
    for name in names:
        if data.get(name) is not None:
            return name, data[name]
    return names[0], None


def _has_value(value: Any) -> bool:
    return value is not None and value != "" and value != [] and value != {}


def _looks_like_key_bundle(item: Any) -> bool:
    if not isinstance(item, dict):
        return False
    key = item.get("key")
    if isinstance(key, dict):
        return any(name in key for name in ("kid", "kty", "keyOps", "key_ops"))
    kid = item.get("kid")  # az keyvault key list: read() explains what to run instead
    return isinstance(kid, str) and "/keys/" in kid and isinstance(item.get("attributes"), dict)


def _reject_private_members(document: Any) -> None:
    items = document if isinstance(document, list) else [document]
    for number, item in enumerate(items, start=1):
        key = item.get("key") if isinstance(item, dict) else None
        if not isinstance(key, dict):
            continue
        for member in PRIVATE_MEMBERS:
            if _has_value(key.get(member)):
                raise ImportFileError(
                    f"The file holds private key material: row {number} has a value in key.{member}, a private "
                    "member of the JSON Web Key. Key material is never stored here, so the whole file was rejected "
                    "and not kept. Export with az keyvault key show, which prints public members only, and upload "
                    "again."
                )


def _scan_public_names_outside_the_key(document: Any) -> None:
    """The generic scan skips the values of members named ``n``, ``e``, ``x`` and ``y`` wherever they are: scan
    those that are not the public members of a result's ``key`` object (a tag named ``x`` holding a token)."""
    refuse_skipped_members(
        document,
        names=PUBLIC_MEMBERS,
        exempt=lambda item, parent, _name, value: parent is item.get("key") and isinstance(value, str),
    )


def _items(document: Any) -> list[dict[str, Any]]:
    items = array_items(
        document,
        one_object="The file holds one key, not an array of keys (az keyvault key show prints one key). Put the "
        "results of az keyvault key show for every key of the vault in one JSON array (the import page shows the commands), or wrap "
        "this one in [ ], and upload again.",
        not_array="The file is not a JSON array of keys. Put the results of az keyvault key show in one JSON array "
        "and upload again.",
        not_object="Item {row} of the array is {type}, not a key object. Every item must be the output of "
        "az keyvault key show for one key.",
    )
    for number, item in enumerate(items, start=1):
        _refuse_key_list_item(number, item)
    return items


def _refuse_key_list_item(number: int, item: dict[str, Any]) -> None:
    if not isinstance(item.get("key"), dict) and isinstance(item.get("kid"), str):
        raise ImportFileError(
            f"Row {number} looks like the output of az keyvault key list, which leaves out each key's type and "
            "operations. Run az keyvault key show for each key and upload the array of its results (the import page "
            "shows the commands)."
        )


def _modulus_bits(value: Any) -> int:
    """The size of an RSA key from its public modulus ``n`` (base64url as the REST API writes it, or base64 as
    the CLI prints it). Only the length is used."""
    if not isinstance(value, str):
        raise ValueError("expected the base64 text of the RSA modulus")
    text = value.strip().rstrip("=")
    altchars = b"-_" if ("-" in text or "_" in text) else None
    try:
        raw = base64.b64decode(text + "=" * (-len(text) % 4), altchars=altchars, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("expected the base64 text of the RSA modulus") from None
    size = len(raw.lstrip(b"\0")) * 8
    if not size:
        raise ValueError("expected the base64 text of the RSA modulus")
    return size


def _read_kid(out: RowReader, key: dict[str, Any]) -> str | None:
    kid = key.get("kid")
    match = _KID.fullmatch(kid) if isinstance(kid, str) else None
    if match is None:
        shape = "https://VAULT.vault.azure.net/keys/NAME/VERSION"
        if kid is None or kid == "":
            message = f"key.kid is missing; every key that az keyvault key show prints has its id ({shape})."
        else:
            message = f"{describe_value('key.kid', kid)}; expected a Key Vault key id {shape}"
            other = re.search(r"/(secrets|certificates)/", kid) if isinstance(kid, str) else None
            if other:
                message += f". It is the id of one of the vault's {other[1]}, which this import does not read."
            else:
                message += " (or a Managed HSM's https://HSM.managedhsm.azure.net/keys/NAME/VERSION)."
        out.fail("external_id", message, "name")
        return None
    host = match["host"].lower()
    out.set("external_id", f"https://{host}/keys/{match['name']}")
    out.set("name", match["name"])
    out.detail("vaultUrl", f"https://{host}")
    return host


def _read_type(out: RowReader, key: dict[str, Any], managed: bool) -> None:
    kty = key.get("kty")
    family = KEY_TYPES.get(kty) if isinstance(kty, str) else None
    if family is None:
        message = (
            f"key.kty is missing; expected one of: {', '.join(KEY_TYPES)}."
            if kty is None
            else f"{describe_value('key.kty', kty)}; expected one of: {', '.join(KEY_TYPES)}."
        )
        out.fail("kind", message, "algorithm", "size_bits")
        return
    out.detail("kty", kty)
    if family == "oct":
        out.set("kind", KeyKind.SYMMETRIC_KEY.value)
    else:
        out.set("kind", KeyKind.CERTIFICATE_PRIVATE_KEY.value if managed else KeyKind.PRIVATE_KEY.value)

    if family == "EC":
        curve = key.get("crv")
        if curve in CURVES:
            out.detail("crv", curve)
            out.set("algorithm", CURVES[curve][0])
            out.set("size_bits", CURVES[curve][1])
        else:
            message = (
                f"key.crv is missing; an EC key names its curve: {', '.join(CURVES)}."
                if curve is None
                else f"{describe_value('key.crv', curve)}; expected one of: {', '.join(CURVES)}."
            )
            out.fail("algorithm", message, "size_bits")
        return

    size: int | None = None
    if family == "RSA" and key.get("n") is not None:
        try:
            size = _modulus_bits(key["n"])
        except ValueError as exc:
            out.fail("size_bits", f"key.n (the public modulus) cannot be read; {exc}.", "algorithm")
            return
    else:
        member, declared = _member(key, "keySize", "key_size")
        if declared is not None:
            if isinstance(declared, int) and not isinstance(declared, bool) and declared > 0:
                size = declared
            else:
                out.fail(
                    "size_bits",
                    f"{describe_value('key.' + member, declared)}; expected a whole number of bits.",
                    "algorithm",
                )
                return
    name = "RSA" if family == "RSA" else "AES"
    out.set("algorithm", f"{name}-{size}" if size else name)
    out.set("size_bits", size)


def _read_ops(out: RowReader, key: dict[str, Any]) -> None:
    member, ops = _member(key, "keyOps", "key_ops")
    if ops is None:
        return
    if not isinstance(ops, list) or not all(isinstance(op, str) for op in ops):
        out.fail("platform_usage", f"key.{member} is not a list of operation names; upload the export unchanged.")
        return
    unknown = [op for op in ops if op.lower() not in _KEY_OPS_BY_LOWER]
    if unknown:
        out.fail(
            "platform_usage",
            f"{describe_value(f'key.{member}', unknown[0])}; expected operations among: {', '.join(KEY_OPS)}.",
        )
        return
    usage = list(dict.fromkeys(_KEY_OPS_BY_LOWER[op.lower()] for op in ops))  # the file's order, once each
    out.set("platform_usage", ",".join(usage))


def _read_attributes(out: RowReader, attributes: dict[str, Any]) -> None:
    enabled = attributes.get("enabled")
    if isinstance(enabled, bool):
        out.set("state", KeyState.ACTIVE.value if enabled else KeyState.SUSPENDED.value)
    elif enabled is not None:
        out.fail("state", f"{describe_value('attributes.enabled', enabled)}; expected true or false.")
    if attributes.get("created") is not None:
        out.set("created_on", out.date("attributes.created", attributes["created"], column="created_on"))
    member, expires = _member(attributes, "expires", "exp")
    # No expiry clears a previous one.
    out.set("expires_on", out.date(f"attributes.{member}", expires, column="expires_on"))
    member, not_before = _member(attributes, "notBefore", "nbf")
    if not_before is not None:
        out.set("activated_on", out.date(f"attributes.{member}", not_before, column="activated_on"))
    out.detail_date("updated", attributes.get("updated"))
    for name in ("recoveryLevel", "recoverableDays", "exportable", "hsmPlatform"):
        out.detail(name, attributes.get(name))


def read_key_bundle(number: int, item: dict[str, Any]) -> tuple[KeyRow, list[RowError], str | None]:
    """One ``az keyvault key show`` result as a row, its problems, and the vault host its key id names."""
    out = RowReader(number)
    key = item["key"]
    host = _read_kid(out, key)
    managed = item.get("managed") is True
    _read_type(out, key, managed)
    _read_ops(out, key)
    if isinstance(item.get("attributes"), dict):  # without them nothing is known of state and dates: left as is
        _read_attributes(out, item["attributes"])
    out.set_labels("tags", item.get("tags"), word="tag")
    out.set("platform_managed", managed)
    _, policy = _member(item, "releasePolicy", "release_policy")
    if isinstance(policy, dict):
        # The policy body itself is not kept: whether there is one, and whether it can change, is the fact.
        out.detail("releasePolicy.immutable", policy.get("immutable"))
        out.detail("releasePolicy.contentType", policy.get("contentType"))
    return out.key_row(), out.errors, host


class AzureKeyVaultImporter(JsonImporter):
    format = "azure-kv"
    label = "Azure Key Vault"
    order = 40
    store_kind = StoreKind.AZURE_KV.value
    reads_tags = True
    help = "az keyvault key show --vault-name V --name K for each key, as one JSON array"
    public_members = PUBLIC_MEMBERS
    empty_message = (
        "The file lists no {noun} (an empty JSON array). Check the vault name in the export commands and export again."
    )

    def sniff(self, data: bytes, document: Any) -> bool:
        return sniff_objects(document, _looks_like_key_bundle)

    def refuse(self, document: Any) -> None:
        # Private JWK members are named (row and member), where the generic scan would report them less precisely.
        _reject_private_members(document)
        _scan_public_names_outside_the_key(document)

    def stream(self, source: ImportSource, *, file_name: str, chunk_rows: int) -> ParseStream:
        """An export is read item by item, twice, and never held whole: a first pass checks what ``parse`` checks
        of the file as a whole (:func:`checked_array_items`, no key list item, one vault) and finds the scope;
        the second reads the rows, a chunk at a time. A file the first pass finds anything wrong with is read
        whole by ``parse``, which says what."""
        try:
            first: tuple[int, str] | None = None
            for number, item in checked_array_items(self, source):
                _refuse_key_list_item(number, item)
                first = _same_vault(first, number, _host_of(item))
        except (NotStreamable, ImportFileError):
            return super().stream(source, file_name=file_name, chunk_rows=chunk_rows)
        scope = self._scope(first)
        rows = (
            (*_read_item(number, item)[:2], []) for number, item in enumerate(json_array_items(source.open()), start=1)
        )
        return ParseStream(
            chunks=rows_in_chunks(rows, size=chunk_rows, scope=scope), scope=scope, material_checked=True
        )

    def read(self, document: Any) -> ParseResult:
        result = ParseResult()
        first: tuple[int, str] | None = None
        for number, item in enumerate(_items(document), start=1):
            row, errors, host = _read_item(number, item)
            first = _same_vault(first, number, host)
            result.rows.append(row)
            result.errors.extend(errors)
        result.scope = self._scope(first)
        return result

    def _scope(self, first: tuple[int, str] | None) -> StoreScope | None:
        return None if first is None else StoreScope(kind=self.store_kind, account=first[1].split(".", 1)[0])


def _read_item(number: int, item: dict[str, Any]) -> tuple[KeyRow, list[RowError], str | None]:
    """One item of the array as a row, its problems and its vault host; an item without a key object is a row
    with that error."""
    if not isinstance(item.get("key"), dict):
        error = RowError(
            number,
            "external_id",
            "key is not an object; every az keyvault key show result has a key object with the key's "
            "kid, kty and keyOps. Upload the command's output unchanged.",
        )
        return KeyRow(row=number, fields=frozenset()), [error], None
    return read_key_bundle(number, item)


def _host_of(item: dict[str, Any]) -> str | None:
    """The vault host of an item's key id, as :func:`read_key_bundle` gives it."""
    key = item.get("key")
    kid = key.get("kid") if isinstance(key, dict) else None
    match = _KID.fullmatch(kid) if isinstance(kid, str) else None
    return match["host"].lower() if match else None


def _same_vault(first: tuple[int, str] | None, number: int, host: str | None) -> tuple[int, str] | None:
    """The first row that named its vault, as ``(row, host)``, given row ``number``'s; refuses a file whose keys
    are in two."""
    if host is None:
        return first
    if first is None:
        return number, host
    if host != first[1]:
        raise ImportFileError(
            f"Row {number} is a key of '{host:.80}', but row {first[0]} is a key of '{first[1]:.80}'. "
            "A file holds the keys of one key store (one vault or Managed HSM): export each vault to "
            "its own file and import each into its store."
        )
    return first
