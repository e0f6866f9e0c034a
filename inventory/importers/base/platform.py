"""Platform exports (KMS, Vault): a JSON array with one vendor object per key, each item read into a
:class:`KeyRow` by a :class:`RowReader`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from inventory.importers.base.errors import ImportFileError, RowError
from inventory.importers.base.messages import describe_value, json_type
from inventory.importers.base.rows import KeyRow
from inventory.importers.base.timestamps import parse_timestamp

DETAIL_LENGTH = 256  # the longest platform_details value (cek.keymaterial.validate_labels)


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
