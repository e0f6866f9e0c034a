"""Document scanning: the one walk over every string of a JSON file that finds unsafe text or key material
before anything reads it, and says where (row and path) without quoting it."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cek.keymaterial import find_key_material
from cek.textsafety import MAX_DEPTH, find_unsafe_text
from inventory.importers.base.errors import KEY_MATERIAL, UNSAFE_TEXT, RefusedFileError

_UNJUDGED = object()


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


def first_finding(item: Any, skip: frozenset[str], judged: dict[str, tuple[str, str] | None]) -> tuple[str, str] | None:
    """``(kind, reason)`` of the first string of one item of a top-level array that :func:`scan_document` would
    refuse (``judged``: strings judged already, shared across items), or None."""
    return _first_finding(item, skip, judged, 1)


def scan_item(
    item: Any, skip: frozenset[str], judged: dict[str, tuple[str, str] | None]
) -> tuple[tuple[str, str] | None, bool]:
    """:func:`first_finding` of one item of a top-level array, and whether the item has a member (at any depth)
    named in ``skip``: only such an item needs :func:`refuse_skipped_members`, which looks at those members
    alone. The second value is meaningful only when there is no finding (the walk stops at the first)."""
    seen: list[str] = []
    found = _first_finding(item, skip, judged, 1, seen)
    return found, bool(seen)


def _first_finding(
    value: Any,
    skip: frozenset[str],
    judged: dict[str, tuple[str, str] | None],
    base: int,
    seen_skipped: list[str] | None = None,
) -> tuple[str, str] | None:
    # Stack entries: (value, depth, whether key material is looked for). Members in ``skip`` are public values:
    # still checked for unsafe text, not for key material. ``seen_skipped`` collects the names in ``skip`` met.
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
                if name in skip:
                    if seen_skipped is not None:
                        seen_skipped.append(name)
                    stack.append((member, depth + 1, False))
                else:
                    stack.append((member, depth + 1, material))
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
