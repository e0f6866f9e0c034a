"""HashiCorp Vault exports: transit keys and KV v2 secret metadata, each a JSON array of CLI responses.

- ``vault-transit``: one ``vault read -format=json transit/keys/NAME`` result per key.
- ``vault-kv``: one ``vault kv metadata get -format=json -mount=MOUNT PATH`` result per secret.

Each item is Vault's response envelope (``request_id``, ..., ``data``), which does not say where it was read
from: the README's loops add a ``path`` member with jq. A transit item without one is taken to come from the
default mount, ``transit``; a KV item needs it.

A file holding what the wrong command returns (``transit/export`` or ``transit/backup``: the keys themselves; a
``vault kv get``: the secret values) is refused whole, before the generic key-material scan, with a message
naming the command to run instead.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterator
from typing import Any, ClassVar

from inventory.importers.base import (
    DETAIL_LENGTH,
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
    json_type,
)
from inventory.importers.base.streaming import checked_array_items, rows_in_chunks
from inventory.models import KeyKind, KeyState

_REFUSED = "Key material is never stored here, so the whole file was rejected and not kept."


def _items(document: Any) -> list[Any]:
    """The items a sniffer or a refusal looks at: the array's, or the single object a user forgot to wrap."""
    if isinstance(document, list):
        return document
    return [document] if isinstance(document, dict) else []


def _data(item: Any) -> dict[str, Any] | None:
    """The ``data`` object of a Vault response envelope, or None when ``item`` is not one."""
    data = item.get("data") if isinstance(item, dict) else None
    return data if isinstance(data, dict) else None


def _first_data(document: Any) -> dict[str, Any] | None:
    items = _items(document)
    return _data(items[0]) if items else None


def _details(data: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    """The members of ``names`` that ``data`` has as plain values; ``a.b`` reads member b of object a."""
    details: dict[str, Any] = {}
    for name in names:
        parent, _, child = name.rpartition(".")
        holder = data.get(parent) if parent else data
        value = holder.get(child) if isinstance(holder, dict) else None
        if isinstance(value, (bool, int, float)):
            details[name] = value
        elif isinstance(value, str) and value:
            details[name] = value[:DETAIL_LENGTH]
    return details


class _Reading(RowReader):
    """One response envelope on its way to a :class:`KeyRow`. A problem is reported under the vendor field
    (``data.created_time``) and names the KeyRow fields it leaves unreadable."""

    def __init__(self, number: int, item: dict[str, Any]) -> None:
        super().__init__(number)
        self.item, self.data = item, item["data"]

    def missing(self, column: str, advice: str, *fields: str) -> None:
        self.fail(column, f"{column} is missing; {advice}", *fields)

    def invalid(self, column: str, value: Any, expected: str, *fields: str) -> None:
        self.fail(column, f"{describe_value(column, value)}; expected {expected}.", *fields)

    def flag(self, name: str, *fields: str) -> bool | None:
        value = self.data.get(name)
        if value is None or isinstance(value, bool):
            return value
        self.invalid(f"data.{name}", value, "true or false", *fields)
        return None

    def count(self, name: str, *fields: str) -> int | None:
        value = self.data.get(name)
        if value is None or (isinstance(value, int) and not isinstance(value, bool) and value >= 0):
            return value
        self.invalid(f"data.{name}", value, "a whole number of 0 or more", *fields)
        return None


class _VaultImporter(JsonImporter):
    """What both Vault formats share: the array of response envelopes. Each refuses, in ``refuse``, the files
    its wrong commands write (the keys or the secret values), naming the command to run instead."""

    reads_tags = True
    command: ClassVar[str]  # the CLI command one item of the array is the output of
    item_noun: ClassVar[str]  # what one item describes: "key", "secret"
    empty_message = "The file is an empty array: it lists no {noun}, so there is nothing to import."

    def stream(self, source: ImportSource, *, file_name: str, chunk_rows: int) -> ParseStream:
        """An export is read item by item, twice, and never held whole: a first pass checks what ``parse`` checks
        of the file as a whole (:func:`checked_array_items`, a ``data`` object in every item); the second reads
        the rows, a chunk at a time. A file the first pass finds anything wrong with is read whole by ``parse``,
        which says what."""
        try:
            for number, item in checked_array_items(self, source):
                self._check_item(number, item)
        except (NotStreamable, ImportFileError):
            return super().stream(source, file_name=file_name, chunk_rows=chunk_rows)
        scope = StoreScope(kind=self.store_kind or "")
        rows = ((*self._read(number, item), []) for number, item in enumerate(json_array_items(source.open()), start=1))
        return ParseStream(
            chunks=rows_in_chunks(rows, size=chunk_rows, scope=scope), scope=scope, material_checked=True
        )

    def read(self, document: Any) -> ParseResult:
        result = ParseResult(scope=StoreScope(kind=self.store_kind or ""))
        for number, item in enumerate(self._checked_items(document), start=1):
            row, errors = self._read(number, item)
            result.errors.extend(errors)
            result.rows.append(row)
        return result

    def _read(self, number: int, item: dict[str, Any]) -> tuple[KeyRow, list[RowError]]:
        reading = _Reading(number, item)
        self.read_item(reading)
        return reading.key_row(), reading.errors

    def read_item(self, reading: _Reading) -> None:
        raise NotImplementedError

    def _checked_items(self, document: Any) -> list[dict[str, Any]]:
        one = f"one `{self.command}` result"
        items = array_items(
            document,
            one_object=f"The file holds {one}, not an array of them. Wrap it in [ ] (the import page's loop writes the "
            "array for all of them) and upload again.",
            not_array=f"The file is {{type}}; expected a JSON array with {one} per {self.item_noun}.",
            not_object=f"Row {{row}} is {{type}}; each item of the array must be {one} (an object).",
        )
        for number, item in enumerate(items, start=1):
            self._check_item(number, item)
        return items

    def _check_item(self, number: int, item: dict[str, Any]) -> None:
        if _data(item) is None:
            raise ImportFileError(
                f"Row {number} has no 'data' object, so it is not one `{self.command}` result. Export it again as the "
                "import page shows and upload the whole array again."
            )


# --- Transit --------------------------------------------------------------------------------------------

_SYMMETRIC, _PRIVATE = str(KeyKind.SYMMETRIC_KEY), str(KeyKind.PRIVATE_KEY)
# Vault key type -> (kind, algorithm, size in bits). HMAC and CMAC keys are symmetric keys that stay inside
# Vault (SP 800-57 symmetric authentication keys), not secrets shared with another party. A managed key lives
# in an HSM or cloud KMS that the response does not describe: its kind and algorithm are left to the user.
_TRANSIT_TYPES: dict[str, tuple[str | None, str, int | None]] = {
    "aes128-gcm96": (_SYMMETRIC, "AES-128-GCM", 128),
    "aes256-gcm96": (_SYMMETRIC, "AES-256-GCM", 256),
    "chacha20-poly1305": (_SYMMETRIC, "ChaCha20-Poly1305", 256),
    "aes128-cmac": (_SYMMETRIC, "AES-128-CMAC", 128),
    "aes192-cmac": (_SYMMETRIC, "AES-192-CMAC", 192),
    "aes256-cmac": (_SYMMETRIC, "AES-256-CMAC", 256),
    "hmac": (_SYMMETRIC, "HMAC", None),  # size from data.key_size (bytes)
    "ed25519": (_PRIVATE, "Ed25519", 256),
    "ecdsa-p256": (_PRIVATE, "ECDSA P-256", 256),
    "ecdsa-p384": (_PRIVATE, "ECDSA P-384", 384),
    "ecdsa-p521": (_PRIVATE, "ECDSA P-521", 521),
    "rsa-2048": (_PRIVATE, "RSA-2048", 2048),
    "rsa-3072": (_PRIVATE, "RSA-3072", 3072),
    "rsa-4096": (_PRIVATE, "RSA-4096", 4096),
    "ml-dsa": (_PRIVATE, "ML-DSA", None),  # + data.parameter_set
    "hybrid": (_PRIVATE, "ML-DSA", None),  # + the parameter set and data.hybrid_key_type_ec
    "managed_key": (None, "", None),
}
_TRANSIT_DETAILS = tuple(
    """type exportable allow_plaintext_backup deletion_allowed derived convergent_encryption kdf latest_version
    min_decryption_version min_encryption_version min_available_version imported_key imported_key_allow_rotation
    backup_info.time restore_info.time""".split()
)
# Members of transit responses that hold keys, plaintext or ciphertext: export, backup, encrypt, decrypt, datakey.
_TRANSIT_SECRETS = {
    "key": "an exported key",
    "backup": "a key backup (transit/backup), which holds every key version",
    "plaintext": "plaintext returned by decrypt or datakey",
    "ciphertext": "ciphertext returned by encrypt or datakey",
}
# HMAC and CMAC keys report no supports_* capability: they serve transit/hmac and transit/cmac only.
_MAC_USAGE = {"hmac": ["hmac"], "aes128-cmac": ["cmac"], "aes192-cmac": ["cmac"], "aes256-cmac": ["cmac"]}
_CAPABILITIES = (
    ("supports_encryption", ["encrypt"]),
    ("supports_decryption", ["decrypt"]),
    ("supports_signing", ["sign", "verify"]),
)
_TRANSIT_PATH = re.compile(r"(?P<mount>.+)/keys/(?P<name>[^/]+)")
_ADVICE_TRANSIT = "Export key metadata with `vault read -format=json transit/keys/NAME` (the import page shows the commands) and upload again."


class VaultTransitImporter(_VaultImporter):
    format = "vault-transit"
    label = "HashiCorp Vault transit"
    order = 50
    store_kind = "vault-transit"
    help = "vault read -format=json transit/keys/NAME for each key, as one JSON array"
    command = "vault read -format=json transit/keys/NAME"
    item_noun = "key"
    # The public halves of asymmetric keys (and certificates) in data.keys.<version>; never stored. refuse()
    # rejects a private key in them, which the generic scan no longer sees.
    public_members = frozenset({"public_key", "certificate_chain", "hybrid_public_key"})

    def sniff(self, data: bytes, document: Any) -> bool:
        first = _first_data(document)
        if first is None:
            return False
        described = "supports_encryption" in first or isinstance(first.get("keys"), dict)
        if isinstance(first.get("type"), str) and described:
            return True
        # A transit backup, encrypt, decrypt or datakey response sniffs as transit too (it has no key type), so
        # choosing this format gets the message that refuses it.
        return any(_secret_held(name, member) for name, member in first.items())

    def refuse(self, document: Any) -> None:
        for number, item in enumerate(_items(document), start=1):
            for where, name, member in _members(_data(item) or {}, "data"):
                if name in self.public_members and isinstance(member, str) and "PRIVATE KEY" in member:
                    raise ImportFileError(
                        f"Row {number}: {where} holds a private key, not a public key. {_REFUSED} {_ADVICE_TRANSIT}"
                    )
                held = _secret_held(name, member)
                if held:
                    raise ImportFileError(
                        f"Row {number}: {where} holds {held}: this is a key export, not key metadata. {_REFUSED} "
                        f"{_ADVICE_TRANSIT}"
                    )

    def read_item(self, r: _Reading) -> None:
        data = r.data
        self._read_name(r)
        r.values["state"] = str(KeyState.ACTIVE)  # transit keys cannot be disabled, only deleted
        r.values["labels"] = {}  # transit keys have no tags or metadata of their own
        self._read_type(r)
        self._read_dates(r)
        if "auto_rotate_period" in data:
            period = r.count("auto_rotate_period", "rotation_period_days")  # seconds; 0: no automatic rotation
            r.values["rotation_period_days"] = math.ceil(period / 86400) if period else None
        r.details.update(_details(data, _TRANSIT_DETAILS))

    def _read_name(self, r: _Reading) -> None:
        name, path = r.data.get("name"), r.item.get("path")
        name, mount = (name.strip() if isinstance(name, str) else ""), "transit"
        if path is not None:
            match = _TRANSIT_PATH.fullmatch(path.strip().strip("/")) if isinstance(path, str) else None
            if match is None or (name and match["name"] != name):
                example = f"transit/keys/{name or 'NAME'}"
                expected = f"the key's path, <mount>/keys/<name>, ending with the key's name (for example {example})"
                r.invalid("path", path, expected, "external_id")
            else:
                mount, name = match["mount"], match["name"]
        if not name:
            r.missing("data.name", f"every `{self.command}` result has the key's name.", "name", "external_id")
        r.values.update(name=name, external_id=f"{mount}/keys/{name}")

    def _read_type(self, r: _Reading) -> None:
        data = r.data
        key_type = data.get("type") if isinstance(data.get("type"), str) else ""
        if key_type not in _TRANSIT_TYPES:
            r.invalid("data.type", data.get("type"), f"one of: {choices_text(list(_TRANSIT_TYPES), limit=20)}")
        else:
            kind, algorithm, size = _TRANSIT_TYPES[key_type]
            if kind:
                r.values.update(kind=kind, algorithm=_transit_algorithm(key_type, algorithm, data))
            if key_type == "hmac":
                key_size = r.count("key_size", "size_bits")  # bytes
                size = key_size * 8 if key_size else None
            if size:
                r.values["size_bits"] = size
        r.values["platform_usage"] = ",".join(_MAC_USAGE.get(key_type) or self._capabilities(r))

    @staticmethod
    def _capabilities(r: _Reading) -> list[str]:
        """The operations the supports_* flags allow, in the words of inventory.usage."""
        words = [word for member, allowed in _CAPABILITIES if r.flag(member, "platform_usage") for word in allowed]
        # supports_derivation is a property of the type; a key derives per-context keys only when created derived.
        if r.flag("supports_derivation", "platform_usage") and r.flag("derived", "platform_usage"):
            words.append("derive")
        return words

    def _read_dates(self, r: _Reading) -> None:
        # data.keys holds the versions from min_decryption_version on (older ones are archived): version 1's
        # creation time is the key's, when it is still there. HMAC, CMAC and managed keys have no data.keys.
        versions = r.data.get("keys")
        latest = r.count("latest_version", "last_rotated_on")
        if versions is not None and not isinstance(versions, dict):
            detail = f"data.keys is {json_type(versions)}; expected an object of key versions and their creation time."
            r.fail("data.keys", detail, "created_on", "last_rotated_on")
            return
        versions = versions or {}

        def created(version: int, field: str) -> dt.date | None:
            entry, column = versions[str(version)], f"data.keys.{version}"
            if isinstance(entry, dict):  # asymmetric keys: {creation_time, name, public_key, ...}
                entry, column = entry.get("creation_time"), f"{column}.creation_time"
            return r.date(column, entry, field)

        if "1" in versions:
            r.values["created_on"] = created(1, "created_on")
        if latest == 1:
            r.values["last_rotated_on"] = None
        elif latest and str(latest) in versions:
            r.values["last_rotated_on"] = created(latest, "last_rotated_on")


def _members(value: Any, path: str) -> Iterator[tuple[str, str, Any]]:
    """Every member of the objects in ``value`` at any depth, as (path such as data.keys.1.name, name, value).
    A stack, not recursion: a file nested a thousand deep must not crash the import."""
    stack = [(path, value)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, dict):
            for name, member in value.items():
                yield f"{path}.{name}", name, member
                stack.append((f"{path}.{name}", member))


def _secret_held(name: str, member: Any) -> str | None:
    """What a member of a transit response holds when it is a key or data rather than metadata, else None."""
    if name == "keys":  # transit/keys gives each version's creation time (a number or an object), export a string
        exported = isinstance(member, dict) and any(isinstance(version, str) for version in member.values())
        return "exported key versions (transit/export), not their creation times" if exported else None
    return _TRANSIT_SECRETS.get(name) if member not in (None, "", {}, []) else None


def _transit_algorithm(key_type: str, algorithm: str, data: dict[str, Any]) -> str:
    if key_type not in ("ml-dsa", "hybrid"):
        return algorithm
    parameter_set = data.get("parameter_set")
    if isinstance(parameter_set, str) and parameter_set:
        algorithm = f"{algorithm}-{parameter_set}"
    classical = _TRANSIT_TYPES.get(data.get("hybrid_key_type_ec")) if key_type == "hybrid" else None
    return f"{algorithm} + {classical[1]}" if classical else algorithm


# --- KV v2 ----------------------------------------------------------------------------------------------

_KV_DETAILS = ("current_version", "oldest_version", "max_versions", "cas_required", "delete_version_after")
_KV_METADATA_PATH = re.compile(r"(?P<mount>.+?)/metadata/(?P<path>.+)")


class VaultKvImporter(_VaultImporter):
    format = "vault-kv"
    label = "HashiCorp Vault KV"
    order = 60
    store_kind = "vault-kv"
    help = "vault kv metadata get -format=json for each secret, its path added, as one JSON array"
    command = "vault kv metadata get -format=json"
    noun = "secrets"
    item_noun = "secret"

    def sniff(self, data: bytes, document: Any) -> bool:
        first = _first_data(document)
        if first is None:
            return False
        # A `vault kv get` also sniffs as KV, so choosing this format gets the message that refuses it.
        return ("current_version" in first and "versions" in first) or _is_secret_read(first)

    def refuse(self, document: Any) -> None:
        for number, item in enumerate(_items(document), start=1):
            data = _data(item)
            if data is not None and _is_secret_read(data):
                raise ImportFileError(
                    f"Row {number} is a secret read (vault kv get), which contains the secret values in data.data. "
                    "Secrets are never stored here, so the whole file was rejected and not kept. Export metadata "
                    "with `vault kv metadata get -format=json` (the import page shows the commands) and upload again."
                )

    def read_item(self, r: _Reading) -> None:
        data = r.data
        self._read_path(r)
        # Secrets in KV are credentials a workload reads (database passwords, API keys); the metadata does not
        # say which. "password" is the kind the service-credential purpose takes; correct it per key if needed.
        # A guess, so it sets new secrets only: a kind corrected here (say to api-token) survives re-imports.
        r.values["kind"] = str(KeyKind.PASSWORD)
        r.create_only = frozenset({"kind"})
        if data.get("created_time") is None:
            r.missing("data.created_time", f"every `{self.command}` result has it.", "created_on")
        r.values["created_on"] = r.date("data.created_time", data.get("created_time"), "created_on")
        self._read_labels(r)
        self._read_current_version(r)
        r.details.update(_details(data, _KV_DETAILS))

    def _read_path(self, r: _Reading) -> None:
        path = r.item.get("path")
        if path is None:
            r.missing(
                "path",
                f"`{self.command}` does not say which secret it describes, so add the secret's path to each item, "
                'as the import page\'s loop does with jq (. + {path: "secret/metadata/app/db"}).',
                "external_id",
                "name",
            )
            return
        match = _KV_METADATA_PATH.fullmatch(path.strip().strip("/")) if isinstance(path, str) else None
        if match is None:
            expected = (
                "the secret's metadata path, <mount>/metadata/<path>, as the import page's loop adds it "
                "(for example secret/metadata/app/db)"
            )
            r.invalid("path", path, expected, "external_id", "name")
            return
        # The data path: what Vault policies and audit logs name when a workload reads the secret.
        r.values["external_id"] = f"{match['mount']}/data/{match['path'].strip('/')}"
        r.values["name"] = match["path"].strip("/").rsplit("/", 1)[-1]

    def _read_labels(self, r: _Reading) -> None:
        custom = r.data.get("custom_metadata")
        if custom is None:
            r.values["labels"] = {}
        elif isinstance(custom, dict) and all(isinstance(value, str) for value in custom.values()):
            r.values["labels"] = dict(custom)
        else:
            r.values["labels"] = {}
            detail = "a JSON object of names to text values, as vault kv metadata put -custom-metadata sets them."
            r.fail("data.custom_metadata", f"data.custom_metadata is not {detail}", "labels")

    def _read_current_version(self, r: _Reading) -> None:
        fields = ("state", "last_rotated_on", "expires_on")
        current = r.count("current_version", *fields)
        if current is None:
            if r.data.get("current_version") is None:
                r.missing("data.current_version", f"every `{self.command}` result has it.", *fields)
            return
        if current == 0:  # created with `vault kv metadata put` and no value written yet
            r.values.update(state=str(KeyState.PRE_ACTIVATION), last_rotated_on=None, expires_on=None)
            return
        versions = r.data.get("versions")
        entry = versions.get(str(current)) if isinstance(versions, dict) else None
        if not isinstance(entry, dict):
            r.fail(
                "data.versions",
                f"data.versions has no entry for version {current} (data.current_version); export the metadata "
                "again and upload the whole array again.",
                *fields,
            )
            return
        column = f"data.versions.{current}"
        destroyed = entry.get("destroyed")
        if not isinstance(destroyed, bool):
            r.invalid(f"{column}.destroyed", destroyed, "true or false", "state")
        deleted = r.date(f"{column}.deletion_time", entry.get("deletion_time"), "state", "expires_on")
        # With delete_version_after, Vault sets deletion_time at write time: a future one is a scheduled deletion.
        if destroyed:
            state = KeyState.DESTROYED
        elif deleted is not None and deleted <= dt.datetime.now(tz=dt.UTC).date():
            state = KeyState.DEACTIVATED
        else:
            state = KeyState.ACTIVE
        r.values.update(state=str(state), expires_on=deleted)
        # The current version's creation is the last time the secret's value was replaced (rotated).
        r.values["last_rotated_on"] = (
            r.date(f"{column}.created_time", entry.get("created_time"), "last_rotated_on") if current > 1 else None
        )


def _is_secret_read(data: dict[str, Any]) -> bool:
    """A ``vault kv get`` (KV v2) response: the secret's values in data.data, its version in data.metadata."""
    return "data" in data and isinstance(data.get("metadata"), dict)
