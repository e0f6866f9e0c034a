"""The one interface every importer implements.

An importer turns a file (bytes and a name) into :class:`KeyRow` objects, plain values that name other
objects by their natural keys (store name, purpose slug, username, tenant and service slug, party name),
plus per-row errors for what it could not read. It touches no database: resolving the names, checking
them, diffing against the inventory and writing are the job of ``inventory.importing``, the same for every
format. Adding a format is adding a module with an :class:`Importer` subclass and a line in
``inventory.importers.REGISTRY``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import gc
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from cek.keymaterial import find_key_material
from cek.textsafety import MAX_DEPTH, find_unsafe_text
from inventory import keyfields
from inventory.keyfields import Kind

# KeyRow fields an importer may provide, in the order of the CSV columns (see inventory.keyfields). ``fields`` on a
# row says which of them the source actually carries: fields it does not carry are left as they are on a key.
KEY_FIELDS: tuple[str, ...] = tuple(field.name for field in keyfields.IMPORTED if field.csv is not None)
REQUIRED_FIELDS: tuple[str, ...] = keyfields.REQUIRED
DATE_FIELDS: frozenset[str] = frozenset(field.name for field in keyfields.IMPORTED if field.kind is Kind.DATE)
INTEGER_FIELDS: frozenset[str] = frozenset(field.name for field in keyfields.IMPORTED if field.kind is Kind.INTEGER)
# Multi-line text fields (text areas): tab and line breaks are allowed in them, in no other field.
MULTILINE_FIELDS: frozenset[str] = frozenset(field.name for field in keyfields.IMPORTED if field.multiline)
# Fields only platform exports (and the CBOM) carry, not CSV columns: whether the platform manages the key itself
# (an AWS-managed key) and the platform's own facts about it (origin, protection level, multi-region...).
PLATFORM_FIELDS: tuple[str, ...] = tuple(field.name for field in keyfields.IMPORTED if field.csv is None)
ALL_FIELDS: tuple[str, ...] = KEY_FIELDS + PLATFORM_FIELDS
DETAIL_LENGTH = 256  # the longest platform_details value (cek.keymaterial.validate_labels)


class ImportFileError(ValueError):
    """The file as a whole cannot be imported (empty, wrong encoding, wrong columns, holds a PEM block...).

    The message says what is wrong and what to do, and never quotes the file's content."""


class RefusedFileError(ImportFileError):
    """The file holds key material or unsafe text: it is refused whole and none of its bytes are kept. Carries
    the refusal as recorded on the import: ``row`` (or None), ``column`` (a path), ``kind`` and ``reason`` (the
    phrase, never the value)."""

    def __init__(self, message: str, *, kind: str, reason: str, row: int | None = None, column: str = "") -> None:
        super().__init__(message)
        self.kind, self.reason, self.row, self.column = kind, reason, row, column

    @classmethod
    def of(cls, found: DocumentFinding) -> RefusedFileError:
        if found.kind == KEY_MATERIAL:
            message = (
                f"The file holds what looks like {found.reason} at {found.where}. Key material is never stored "
                "here, so the whole file was rejected and not kept. Export metadata only and upload again."
            )
        else:
            message = (
                f"The file holds {found.reason} at {found.where}. Text with control characters, unpaired "
                "surrogates, bidirectional overrides or deep nesting is refused (it corrupts or disguises what "
                "is recorded), so the whole file was rejected and not kept. Upload the export unchanged."
            )
        field = found.field + (" (a member name)" if found.member_name else "")
        return cls(message, kind=found.kind, reason=found.reason, row=found.row, column=field)

    def refusal(self) -> dict[str, Any]:
        return {"row": self.row, "field": self.column, "kind": self.kind, "reason": self.reason}


@dataclass(slots=True)
class RowError:
    """One problem in one row; ``message`` starts with the column it is about and never echoes key material
    or unsafe text. ``kind`` is :data:`KEY_MATERIAL` or :data:`UNSAFE_TEXT` for a problem that refuses the
    whole upload (its bytes are then not kept), with ``reason`` the phrase that says what was found."""

    row: int | None
    column: str
    message: str
    kind: str = ""
    reason: str = ""

    def __str__(self) -> str:
        return f"Row {self.row}: {self.message}" if self.row is not None else self.message

    def as_dict(self) -> dict[str, Any]:
        data = {"row": self.row, "column": self.column, "message": self.message}
        if self.kind:
            data["kind"] = self.kind
        return data

    def refusal(self) -> dict[str, Any]:
        return {"row": self.row, "field": self.column, "kind": self.kind, "reason": self.reason}


@dataclass(slots=True)
class BindingRow:
    """A service (optionally for one tenant) that uses the key. An empty ``purpose`` means the key's purpose.

    A binding is identified by (service, tenant, purpose); ``principal`` and ``operations`` are set on the
    bindings an import creates and left alone on bindings that already exist."""

    service: str
    tenant: str = ""
    purpose: str = ""
    principal: str | None = None
    operations: list[str] | None = None


def row_attribute(field: str) -> str:
    """The KeyRow attribute of an imported field: its name, except ``services`` (the row's ``bindings``)."""
    return "bindings" if keyfields.BY_NAME[field].kind is Kind.BINDINGS else field


# The KeyRow attribute of each kind of field: (type, default or default factory). An empty value is the kind's
# empty value; ``bindings`` is None when the source says nothing about bindings.
_ROW_TYPES: dict[Kind, tuple[str, Any]] = {
    Kind.TEXT: ("str", ""),
    Kind.CHOICE: ("str", ""),
    Kind.REFERENCE: ("str", ""),
    Kind.INTEGER: ("int | None", None),
    Kind.DATE: ("dt.date | None", None),
    Kind.FLAG: ("bool", False),
    Kind.MAPPING: ("dict[str, Any]", dict),
    Kind.PARTIES: ("list[str]", list),
    Kind.BINDINGS: ("list[BindingRow] | None", None),
}


def _row_field(kind: Kind) -> Any:
    default = _ROW_TYPES[kind][1]
    return field(default_factory=default) if callable(default) else field(default=default)


def empty_value(name: str) -> Any:
    """What an imported field holds when the source states it and gives nothing ([] for the key's bindings)."""
    kind = keyfields.BY_NAME[name].kind
    if kind is Kind.BINDINGS:
        return []
    default = _ROW_TYPES[kind][1]
    return default() if callable(default) else default


KeyRow = dataclasses.make_dataclass(
    "KeyRow",
    [
        ("row", "int"),
        ("fields", "frozenset[str]"),
        *((row_attribute(f.name), _ROW_TYPES[f.kind][0], _row_field(f.kind)) for f in keyfields.IMPORTED),
        # Fields that set a new key only: an existing key keeps its value (a guess the platform cannot confirm,
        # such as the kind of a Vault KV secret, must not undo a correction made here).
        ("create_only", "frozenset[str]", field(default=frozenset())),
    ],
    slots=True,
)
KeyRow.__module__ = __name__
KeyRow.__doc__ = """One key as read from a file: plain values, references by natural key, ``row`` for error messages.

Its fields are the imported fields of ``inventory.keyfields`` (each typed by its kind: text, a date, a number,
a mapping...), ``services`` as ``bindings``. ``fields`` names the fields the source provides (for CSV: its
columns). ``bindings`` is None when the source says nothing about bindings, and a list (possibly empty) when it
lists all of them."""


@dataclass(frozen=True, slots=True)
class StoreScope:
    """Where the keys of a platform export live, as read from the file (ARNs, resource names, key URLs).

    Used to find the key store the file belongs to (kind, then account and region when the store records
    them) and to refuse files that mix stores. Empty strings mean the file does not say."""

    kind: str  # a StoreKind value
    account: str = ""  # AWS account, GCP project, Azure vault name, Vault address or mount
    region: str = ""  # AWS region, GCP location (and key ring), Azure region if known

    def describe(self) -> str:
        parts = [self.kind]
        if self.account:
            parts.append(f"account '{self.account}'")
        if self.region:
            parts.append(f"region '{self.region}'")
        return " ".join(parts)


@dataclass
class ParseResult:
    """``rows`` may include rows that also have ``errors`` (their unreadable fields left out of ``fields``):
    they are checked like the others so the preview lists every problem of a row, and are never applied.

    ``scope`` is set by platform importers (all rows then have an empty ``store``: the store is the one the
    user chose, or the one whose kind, account and region match the scope)."""

    rows: list[KeyRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    scope: StoreScope | None = None
    # Every string of the file was checked for key material before it was read (JSON formats): the planner
    # then checks the rows' shapes and lengths only, not their text a second time.
    material_checked: bool = False
    # What the preview shows of a row without stopping it (an optional reference that resolves to nothing):
    # the planner adds each to its row's warnings.
    warnings: list[RowError] = field(default_factory=list)


class Importer:
    """Turns one file into key rows. Subclasses set the class attributes and implement :meth:`parse`."""

    format: ClassVar[str]  # registry name, stored on KeyImport.format: "csv", "aws-kms"...
    label: ClassVar[str]  # shown in the format select and in history: "CSV"
    extensions: ClassVar[tuple[str, ...]] = ()
    media_type: ClassVar[str] = "application/octet-stream"
    # Platform exports (KMS, Vault): rows carry the platform's tags in ``labels``, and the planner derives
    # purpose, owner, tenant and services from them with the store's tag keys. Unknown tag values are
    # listed as warnings, never errors and never created. Formats with explicit columns (CSV, CBOM with cek:
    # properties) leave this False: there an unknown reference is an error in the row.
    reads_tags: ClassVar[bool] = False
    store_kind: ClassVar[str | None] = None  # the StoreKind a platform export belongs to
    help: ClassVar[str] = ""  # one line for the upload page: which command produces the file

    def parse(self, data: bytes, *, file_name: str) -> ParseResult:
        """Read ``data``; raise :class:`ImportFileError` when the file as a whole is unusable."""
        raise NotImplementedError

    def sniff(self, data: bytes, document: Any) -> bool:
        """Whether a file looks like this format (``document`` is the parsed JSON, or None when the file is
        not JSON). Used to tell a user who chose the wrong format which one the file looks like."""
        return False


class JsonImporter(Importer):
    """Base of the JSON formats: decoding, JSON errors with line and column, the key-material scan of every
    string in the document, and the wrong-format message. Subclasses implement :meth:`read`."""

    extensions = (".json",)
    media_type = "application/json"
    # Object member names whose values are public by definition and skipped by the key-material scan (for
    # example the public modulus ``n`` of an RSA JSON Web Key): a subclass that sets this must reject the
    # private members of the same structure itself.
    public_members: ClassVar[frozenset[str]] = frozenset()

    noun: ClassVar[str] = "keys"  # what the file lists, for messages: "keys", "secrets"
    # The message for an empty array ({noun} is replaced by ``noun``), so a format can say how its export comes
    # out empty. Checked before sniff, which has nothing to recognise in [ ].
    empty_message: ClassVar[str] = "The file lists no {noun}."

    def parse(self, data: bytes, *, file_name: str) -> ParseResult:
        # A large export is millions of small objects that all live until the end: the cyclic garbage collector
        # would walk them again and again while they are built (a third of the time of a 100 MB file), and
        # there are no cycles to find.
        collecting = gc.isenabled()
        gc.disable()
        try:
            document = load_json(data)
            if document == []:
                raise ImportFileError(self.empty_message.format(noun=self.noun))
            if document == {}:
                raise ImportFileError(f"The file lists no {self.noun}.")
            # One walk over every string: unsafe text refuses the file before anything reads it (the format
            # checks below quote no text, but nothing should have to be careful); key material after the
            # format's own, more precise refusals.
            found = scan_document(document, skip=self.public_members)
            if found is not None and found.kind == UNSAFE_TEXT:
                raise RefusedFileError.of(found)
            if not self.sniff(data, document):
                raise ImportFileError(wrong_format_message(self, data, document))
            self.refuse(document)
            found = self.find_material(document, found)
            if found is not None:
                raise RefusedFileError.of(found)
            result = self.read(document)
            result.material_checked = True
            return result
        finally:
            if collecting:
                gc.enable()

    def refuse(self, document: Any) -> None:
        """Raise :class:`ImportFileError` for a file of the right shape that must not be imported, with a
        message more precise than the generic key-material scan (which runs next): a Vault key export, a
        JSON Web Key with its private members, a CBOM component with a ``value``."""

    def find_material(self, document: Any, found: DocumentFinding | None) -> DocumentFinding | None:
        """What refuses the file for key material, given ``found``, the first finding of the generic scan of
        every string but those under :attr:`public_members` (unsafe text was refused already). A format whose
        fields have a known meaning (a digest, a file path) may judge them by it instead."""
        return found

    def read(self, document: Any) -> ParseResult:
        raise NotImplementedError


def load_json(data: bytes) -> Any:
    """Parse a JSON file, or raise :class:`ImportFileError` saying where it is broken (never quoting it)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportFileError(
            f"The file is not UTF-8 text (byte {exc.start} cannot be read). Save it as UTF-8 and upload again."
        ) from None
    if not text.strip():
        raise ImportFileError("The file is empty.")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        reason = exc.msg.lower().removesuffix(" at")  # "invalid control character at" -> no "at at"
        raise ImportFileError(
            f"The file is not valid JSON: {reason} at line {exc.lineno}, column {exc.colno}."
        ) from None
    except RecursionError:
        reason = f"structures nested more than {MAX_DEPTH} levels deep"
        raise RefusedFileError(
            f"The file holds {reason}: no export is, so the whole file was rejected and not kept. "
            "Upload the export unchanged.",
            kind=UNSAFE_TEXT,
            reason=reason,
        ) from None


_UNJUDGED = object()
KEY_MATERIAL = "key_material"  # RowError.kind / RefusedFileError.kind: what refuses an upload outright
UNSAFE_TEXT = "unsafe_text"


def _judge(text: str) -> tuple[str, str] | None:
    """``(kind, reason)`` for a string that refuses the file: unsafe text first (it must not reach the key
    material scan's messages either), then key material."""
    reason = find_unsafe_text(text, multiline=True)
    if reason:
        return UNSAFE_TEXT, reason
    reason = find_key_material(text)
    return (KEY_MATERIAL, reason) if reason else None


def _safe_part(part: Any) -> str:
    return str(part)[:60]


def _path_text(path: tuple[Any, ...]) -> str:
    """``row 4, KeyMetadata.Description`` for a path into a top-level array (rows are numbered from 1, as in
    every other message), else the plain path."""
    if path and isinstance(path[0], int):
        rest = _path_text(path[1:]) if len(path) > 1 else ""
        return f"row {path[0] + 1}" + (f", {rest}" if rest else "")
    text = "".join(f"[{part}]" if isinstance(part, int) else f".{_safe_part(part)}" for part in path)
    return text.lstrip(".") or "the top level"


@dataclass(frozen=True, slots=True)
class DocumentFinding:
    """What refuses a JSON file: ``kind`` (:data:`KEY_MATERIAL` or :data:`UNSAFE_TEXT`), the reason phrase
    (never the value), and where: the row (1-based, for a top-level array) and the path within it."""

    kind: str
    reason: str
    row: int | None
    field: str
    member_name: bool = False

    @property
    def where(self) -> str:
        text = f"row {self.row}" + (f", {self.field}" if self.field else "") if self.row else self.field
        return text + (" (a member name)" if self.member_name else "")


def scan_document(document: Any, *, skip: frozenset[str] = frozenset()) -> DocumentFinding | None:
    """The first string (member name or value) of a JSON document that is unsafe text (any member) or looks
    like key material (members not in ``skip``), or a structure nested deeper than ``MAX_DEPTH``; None when
    there is none.

    Values that repeat (states, usages, dates of a batch) are judged once. The walk keeps no paths (a large
    export has millions of strings) and uses no recursion: the path is worked out only for the item that
    holds the finding."""
    judged: dict[str, tuple[str, str] | None] = {}
    items = document if isinstance(document, list) else [document]
    base = 1 if items is document else 0
    for index, item in enumerate(items):
        found = _first_finding(item, skip, judged, base)
        if found is None:
            continue
        path = _find_path(item, skip, judged, found, (index,) if items is document else ())
        kind, reason = found
        if path is None:  # not expected: the walk and the path search judge the same strings
            return DocumentFinding(kind, reason, index + 1 if base else None, "")
        parts, member_name = path
        if base:
            field = _path_text(parts[1:]) if len(parts) > 1 else ""
            return DocumentFinding(kind, reason, parts[0] + 1, field, member_name)
        return DocumentFinding(kind, reason, None, _path_text(parts), member_name)
    return None


def refuse_skipped_members(
    document: Any, *, names: frozenset[str], exempt: Callable[[dict[str, Any], dict[str, Any], str, Any], bool]
) -> None:
    """Scan the values of members named in ``names`` (an importer's :attr:`JsonImporter.public_members`, which
    the generic scan skips wherever they stand) except where ``exempt(item, parent, name, value)`` says the
    value is the public one the format puts there; raise :class:`RefusedFileError` for the first that holds key
    material or unsafe text. A member skipped by its name alone would let a tag of that name through."""
    items = document if isinstance(document, list) else [document]
    for number, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            continue
        stack: list[tuple[Any, str]] = [(item, "")]
        while stack:
            value, path = stack.pop()
            if isinstance(value, list):
                stack.extend((member, f"{path}[{index}]") for index, member in enumerate(value))
                continue
            if not isinstance(value, dict):
                continue
            for name, member in value.items():
                if name in names and not exempt(item, value, name, member):
                    found = scan_document({name: member})  # wrapped: a list would be read as rows
                    if found:
                        where = f"{path}.{found.field}" if path else found.field
                        raise RefusedFileError.of(dataclasses.replace(found, row=number, field=where))
                stack.append((member, f"{path}.{name}" if path else str(name)))


def _first_finding(
    value: Any, skip: frozenset[str], judged: dict[str, tuple[str, str] | None], base: int
) -> tuple[str, str] | None:
    # Stack entries: (value, depth, whether key material is looked for). Members in ``skip`` are public values:
    # still checked for unsafe text, not for key material.
    stack: list[tuple[Any, int, bool]] = [(value, base, True)]
    while stack:
        value, depth, material = stack.pop()
        kind = type(value)
        if kind is str:
            found = judged.get(value, _UNJUDGED)
            if found is _UNJUDGED:
                found = judged[value] = _judge(value)
            if found and (material or found[0] == UNSAFE_TEXT):
                return found
        elif depth >= MAX_DEPTH and kind in (dict, list):
            return UNSAFE_TEXT, f"structures nested more than {MAX_DEPTH} levels deep"
        elif kind is dict:
            for name, member in value.items():
                found = judged.get(name, _UNJUDGED)
                if found is _UNJUDGED:
                    found = judged[name] = _judge(name)
                if found:
                    return found
                stack.append((member, depth + 1, material and name not in skip))
        elif kind is list:
            stack.extend((member, depth + 1, material) for member in value)
    return None


def _find_path(
    value: Any,
    skip: frozenset[str],
    judged: dict[str, tuple[str, str] | None],
    found: tuple[str, str],
    path: tuple[Any, ...],
) -> tuple[tuple[Any, ...], bool] | None:
    """The path to the string (or too-deep structure) judged ``found``: ``(path, is a member name)``. Without
    recursion (the structure may be deep); every name on the returned path was judged safe."""
    deep = found[0] == UNSAFE_TEXT and found[1].startswith("structures nested")
    limit = MAX_DEPTH - (1 if path else 0)
    stack: list[tuple[Any, tuple[Any, ...], bool]] = [(value, path, True)]
    while stack:
        value, at, material = stack.pop()
        relative = len(at) - len(path)
        if isinstance(value, str):
            if judged.get(value) == found and (material or found[0] == UNSAFE_TEXT):
                return at, False
        elif isinstance(value, (dict, list)) and relative >= limit:
            if deep:
                return at, False
        elif isinstance(value, dict):
            for name in reversed(value):
                if judged.get(name) == found:
                    return at, True
            for name, member in reversed(value.items()):
                if not judged.get(name):
                    stack.append((member, (*at, name), material and name not in skip))
        elif isinstance(value, list):
            stack.extend((member, (*at, index), material) for index, member in reversed(list(enumerate(value))))
    return None


def wrong_format_message(importer: Importer, data: bytes, document: Any) -> str:
    """ "This file does not look like an AWS KMS export; it looks like a Google Cloud KMS export (gcp-kms)." """
    from inventory.importers import guess_formats  # the registry imports this module

    guesses = [other for other in guess_formats(data, document) if other.format != importer.format]
    article = "an" if importer.label[:1].upper() in "AEIOU" else "a"
    text = f"This file does not look like {article} {importer.label} export"
    if importer.help:
        text += f" ({importer.help})"
    if guesses:
        names = " or ".join(f"{other.label} ({other.format})" for other in guesses)
        return f"{text}; it looks like {names}. Choose that format and upload again."
    return f"{text}, nor like any other format this app reads. Check that you uploaded the right file."


def parse_timestamp(value: Any) -> dt.date | None:
    """The date of an ISO 8601 timestamp ("2024-01-31T10:00:00.123Z", "2024-01-31T10:00:00+01:00") or of a
    Unix time in seconds (AWS CLI output in some versions, Azure attributes). None for None or "". Raises
    ValueError with a short reason for anything else."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ValueError("expected a date and time")
    if isinstance(value, (int, float)):
        try:
            return dt.datetime.fromtimestamp(value, tz=dt.UTC).date()
        except (OverflowError, OSError, ValueError):
            raise ValueError("expected a date and time (the number is out of range)") from None
    if isinstance(value, str):
        text = value.strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        # Python before 3.11 did not read more than 6 fraction digits; GCP writes 9. Cut to 6.
        text = re.sub(r"(\.\d{6})\d+", r"\1", text)
        try:
            if "T" not in text and " " not in text:
                return dt.date.fromisoformat(text)
            moment = dt.datetime.fromisoformat(text)
        except ValueError:
            raise ValueError("expected an ISO 8601 date and time such as 2025-01-31T10:00:00Z") from None
        return (moment if moment.tzinfo is None else moment.astimezone(dt.UTC)).date()
    raise ValueError("expected a date and time")


def describe_value(column: str, value: Any) -> str:
    """ "column 'x' is 'value'" for messages, without ever echoing something that looks like key material."""
    text = "" if value is None else str(value)
    unsafe = find_unsafe_text(text, multiline=True)
    if unsafe:
        return f"column '{column}' holds {unsafe} (not shown)"
    reason = find_key_material(text)
    if reason:
        return f"column '{column}' holds what looks like {reason} (not shown)"
    if len(text) > 60:
        text = text[:57] + "..."
    return f"column '{column}' is '{text}'"


def choices_text(values: list[str], *, limit: int = 12) -> str:
    """ "a, b, c" or "a, b, ... and 20 more" for "expected one of" messages."""
    if len(values) <= limit:
        return ", ".join(values)
    return f"{', '.join(values[:limit])}, ... and {len(values) - limit} more"


# --- Platform exports: a JSON array with one vendor object per key ----------------------------------------------


def json_type(value: Any) -> str:
    """ "a string", "an array"... for messages about the shape of a file."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return "an array" if isinstance(value, list) else "an object"


def sniff_objects(document: Any, looks_like: Callable[[dict[str, Any]], bool]) -> bool:
    """For the ``sniff`` of a format whose file is an array of vendor objects: whether ``document`` is one such
    object (read() then asks for the [ ]), or an array in which one of the first ten objects (among its first
    50 items) is one."""
    if isinstance(document, dict):
        return looks_like(document)
    if not isinstance(document, list):
        return False
    objects = [item for item in document[:50] if isinstance(item, dict)][:10]
    return any(looks_like(item) for item in objects)


def array_items(document: Any, *, one_object: str, not_array: str, not_object: str) -> list[dict[str, Any]]:
    """The items of a file that must be a JSON array of objects, or :class:`ImportFileError` with the format's
    own message: ``one_object`` for a single object (the user forgot the [ ]), ``not_array`` for any other
    value, ``not_object`` for the first item that is no object. In the last two, ``{type}`` is replaced by the
    value's JSON type ("a string") and ``{row}`` by the item's row (1-based)."""
    if isinstance(document, dict):
        raise ImportFileError(one_object)
    if not isinstance(document, list):
        raise ImportFileError(not_array.format(type=json_type(document)))
    for number, item in enumerate(document, start=1):
        if not isinstance(item, dict):
            raise ImportFileError(not_object.format(row=number, type=json_type(item)))
    return document


class RowReader:
    """One item of a platform export on its way to a :class:`KeyRow`: the values read so far, the platform
    facts (``platform_details``, always provided) and the problems.

    A problem is a :class:`RowError` under a column (a KeyRow field, or the vendor's field path) and names the
    fields it leaves unreadable. Those are left out of the row, so the preview still shows the row with all of
    its problems, and what the file could not say is left as it is on an existing key."""

    def __init__(self, number: int) -> None:
        self.number = number
        self.values: dict[str, Any] = {}
        self.details: dict[str, Any] = {}
        self.errors: list[RowError] = []
        self.create_only: frozenset[str] = frozenset()
        self._unreadable: set[str] = set()

    def set(self, name: str, value: Any) -> None:
        self.values[name] = value

    def fail(self, column: str, message: str, *fields: str) -> None:
        """A problem under ``column``; ``column`` (when it is a KeyRow field) and ``fields`` are left out."""
        self.errors.append(RowError(self.number, column, message))
        self._unreadable.update((column, *fields))

    def date(self, path: str, value: Any, *fields: str, column: str = "") -> dt.date | None:
        """The date of the vendor timestamp ``value`` at ``path`` (None when there is none). A value that is no
        timestamp is a problem under ``column`` (default: ``path``) that leaves ``fields`` out; it gives None."""
        try:
            return parse_timestamp(value)
        except ValueError as exc:
            self.fail(column or path, f"{describe_value(path, value)}; {exc}.", *fields)
            return None

    def set_labels(self, path: str, value: Any, *, word: str) -> None:
        """``labels`` from the vendor's flat object of tags at ``path`` ({} when there is none, so a re-import
        clears removed tags), numbers as text. ``word`` names one entry in the message: "tag", "label"."""
        if value is None:
            self.set("labels", {})
        elif isinstance(value, dict) and all(isinstance(item, (str, int, float)) for item in value.values()):
            self.set("labels", {str(name): str(item) for name, item in value.items()})
        else:
            self.fail("labels", f"{path} is not an object of {word} names to text values; upload the export unchanged.")

    def detail(self, name: str, value: Any) -> None:
        """Keep a short scalar vendor fact in ``platform_details`` (a long text is cut; other values are not
        kept). A fact never fails a row."""
        if isinstance(value, str) and len(value) > DETAIL_LENGTH:
            value = value[: DETAIL_LENGTH - 1] + "…"
        if isinstance(value, (str, int, float, bool)):
            self.details[name] = value

    def detail_date(self, name: str, value: Any) -> None:
        """Keep a vendor timestamp as its date, or as the file spells it when it is none."""
        try:
            day = parse_timestamp(value)
        except ValueError:
            self.detail(name, value)
        else:
            if day is not None:
                self.detail(name, day.isoformat())

    def key_row(self) -> KeyRow:
        values = {**self.values, "platform_details": self.details}
        fields = frozenset(values) - self._unreadable
        return KeyRow(
            row=self.number, fields=fields, create_only=self.create_only, **{name: values[name] for name in fields}
        )
