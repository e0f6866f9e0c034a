"""The one interface every importer implements.

An importer turns a file (bytes and a name) into :class:`KeyRow` objects, plain values that name other
objects by their natural keys (store name, purpose slug, username, tenant and service slug, party name),
plus per-row errors for what it could not read. It touches no database: resolving the names, checking
them, diffing against the inventory and writing are the job of ``inventory.importing``, the same for every
format. Adding a format is adding a module with an :class:`Importer` subclass (it registers itself).

This package holds the key fields and the importer classes; what they read into, the errors, the scan of JSON
documents, the messages, timestamps and the reading of platform exports are its modules (:mod:`.rows`,
:mod:`.errors`, :mod:`.scanning`, :mod:`.messages`, :mod:`.timestamps`, :mod:`.platform`), their names
importable from here.
"""

from __future__ import annotations

import gc
import json
from typing import Any, ClassVar

from cek.textsafety import MAX_DEPTH
from inventory import keyfields
from inventory.importers.base.errors import KEY_MATERIAL, UNSAFE_TEXT, ImportFileError, RefusedFileError, RowError
from inventory.importers.base.messages import choices_text, describe_value, json_type
from inventory.importers.base.platform import DETAIL_LENGTH, RowReader, array_items, sniff_objects
from inventory.importers.base.rows import BindingRow, KeyRow, ParseResult, StoreScope, empty_value, row_attribute
from inventory.importers.base.scanning import DocumentFinding, refuse_skipped_members, scan_document
from inventory.importers.base.streaming import ImportSource, NotStreamable, ParseStream, chunked, json_array_items
from inventory.importers.base.timestamps import parse_timestamp
from inventory.keyfields import Kind

__all__ = [
    "ALL_FIELDS",
    "DATE_FIELDS",
    "DETAIL_LENGTH",
    "INTEGER_FIELDS",
    "KEY_FIELDS",
    "KEY_MATERIAL",
    "MULTILINE_FIELDS",
    "PLATFORM_FIELDS",
    "REQUIRED_FIELDS",
    "UNSAFE_TEXT",
    "BindingRow",
    "DocumentFinding",
    "ImportFileError",
    "ImportSource",
    "Importer",
    "JsonImporter",
    "KeyRow",
    "NotStreamable",
    "ParseResult",
    "ParseStream",
    "RefusedFileError",
    "RowError",
    "RowReader",
    "StoreScope",
    "array_items",
    "choices_text",
    "chunked",
    "describe_value",
    "empty_value",
    "json_array_items",
    "json_type",
    "load_json",
    "parse_timestamp",
    "refuse_skipped_members",
    "registered_importers",
    "row_attribute",
    "scan_document",
    "sniff_objects",
    "wrong_format_message",
]

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


# Every importer class that names a format, by format: filled as their modules are imported (the package
# ``inventory.importers`` imports all of its modules and builds ``REGISTRY`` from this).
_REGISTERED: dict[str, type[Importer]] = {}


def registered_importers() -> list[type[Importer]]:
    """The importer classes that registered themselves, in their ``order``."""
    return sorted(_REGISTERED.values(), key=lambda cls: (cls.order, cls.format))


class Importer:
    """Turns one file into key rows. Subclasses set the class attributes and implement :meth:`parse`.

    A subclass that sets ``format`` is a format of its own and registers itself when it is defined; bases shared
    by several formats (:class:`JsonImporter`) set none."""

    format: ClassVar[str]  # registry name, stored on KeyImport.format: "csv", "aws-kms"...
    label: ClassVar[str]  # shown in the format select and in history: "CSV"
    # Where the format stands among the others, lower first: the order of the format choices (upload page, API)
    # and the order in which formats are tried to tell a user which one a file looks like.
    order: ClassVar[int]
    extensions: ClassVar[tuple[str, ...]] = ()
    media_type: ClassVar[str] = "application/octet-stream"
    # Platform exports (KMS, Vault): rows carry the platform's tags in ``labels``, and the planner derives
    # purpose, owner, tenant and services from them with the store's tag keys. Unknown tag values are
    # listed as warnings, never errors and never created. Formats with explicit columns (CSV, CBOM with cek:
    # properties) leave this False: there an unknown reference is an error in the row.
    reads_tags: ClassVar[bool] = False
    store_kind: ClassVar[str | None] = None  # the StoreKind a platform export belongs to
    help: ClassVar[str] = ""  # one line for the upload page: which command produces the file

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "format" not in cls.__dict__:
            return
        if not isinstance(getattr(cls, "order", None), int):
            raise TypeError(f"The importer {cls.__qualname__} ('{cls.format}') must set order, a whole number.")
        other = _REGISTERED.get(cls.format)
        if other is not None and (other.__module__, other.__qualname__) != (cls.__module__, cls.__qualname__):
            raise TypeError(
                f"Two importers name the format '{cls.format}': {other.__module__}.{other.__qualname__} and "
                f"{cls.__module__}.{cls.__qualname__}. Give one of them another format."
            )
        _REGISTERED[cls.format] = cls  # the same class defined again (its module reloaded) replaces itself

    def parse(self, data: bytes, *, file_name: str) -> ParseResult:
        """Read ``data``; raise :class:`ImportFileError` when the file as a whole is unusable."""
        raise NotImplementedError

    def stream(self, source: ImportSource, *, file_name: str, chunk_rows: int) -> ParseStream:
        """Read ``source`` in chunks of ``chunk_rows`` rows; raise :class:`ImportFileError` when the file as a
        whole is unusable (as far as its start, or a first pass over it, shows). By default the file is read
        whole by :meth:`parse` and its rows handed on in chunks; a format that can read one item at a time
        overrides this, so a large file is never held in memory."""
        parsed = self.parse(source.read_all(), file_name=file_name)
        if not parsed.rows and not parsed.errors:
            raise ImportFileError(self.no_rows_message())
        return ParseStream(
            chunks=chunked(parsed, chunk_rows), scope=parsed.scope, material_checked=parsed.material_checked
        )

    def no_rows_message(self) -> str:
        return (
            "The file lists no keys."
            if self.store_kind or self.format != "csv"
            else "The file has a header but no rows."
        )

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
