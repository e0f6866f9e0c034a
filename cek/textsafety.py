"""The one check that keeps hostile text out of the app: forms, API serializers and importers all run it.

Refused, in every text a user or a file gives us:

- NUL and the other C0/C1 control characters (PostgreSQL cannot store a NUL at all; the others hide text
  or drive terminals). Tab, line feed and carriage return are allowed where a field is multi-line (text
  areas; in the inventory also labels and platform facts, which are the platform's own text).
- Unpaired surrogates (``"\\ud800"`` is valid JSON but no valid Unicode text: it cannot be encoded as UTF-8,
  so it crashes the database write and every page or file that would show it).
- Bidirectional overrides and isolates (U+202A-U+202E, U+2066-U+2069): they make text read differently
  from what it is ("Trojan Source"), which is the opposite of what audit data is for.
- Structures (JSON in a file, a labels cell, a CBOM property) nested deeper than :data:`MAX_DEPTH` levels:
  no real export comes near it, and deep nesting exhausts the recursion of every reader that follows.

Refuse, never clean, for data: the inventory is audit evidence, and silently changing what a file or a
person said would make the record differ from its source. The error names the field (and the row, for
imports) and says what was found by its code point, never repeating the text. Only text the app writes
about an input (an error message, a file name shown in the history) is cleaned, with :func:`scrub`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from django.core.exceptions import ValidationError

MAX_DEPTH = 32  # levels of arrays/objects; the deepest real export read here (CycloneDX 1.6) uses under 10

ADVICE = "Remove it (paste the text as plain text) and try again."
CODE = "unsafe_text"

# Control characters other than tab, LF and CR; DEL and C1; surrogates; bidi embeddings, overrides, isolates.
_UNSAFE_MULTILINE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\u202a-\u202e\u2066-\u2069]")
_UNSAFE_LINE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\u202a-\u202e\u2066-\u2069]")


def _describe(char: str) -> str:
    point = ord(char)
    code = f"U+{point:04X}"
    if point == 0:
        return f"a NUL character ({code})"
    if char == "\t":
        return f"a tab ({code}) in a one-line field"
    if char in "\n\r":
        return f"a line break ({code}) in a one-line field"
    if 0xD800 <= point <= 0xDFFF:
        return f"an unpaired surrogate ({code}), which is not valid Unicode text"
    if 0x202A <= point <= 0x202E or 0x2066 <= point <= 0x2069:
        return f"a bidirectional override ({code}), which makes text read differently from what it is"
    return f"a control character ({code})"


def find_unsafe_text(value: Any, *, multiline: bool = False) -> str | None:
    """Why ``value`` is unsafe text (a short phrase naming the character by code point), or None.

    Non-strings are judged by their ``str()``; None is safe."""
    if value is None:
        return None
    text = value if isinstance(value, str) else str(value)
    match = (_UNSAFE_MULTILINE if multiline else _UNSAFE_LINE).search(text)
    return _describe(match.group()) if match else None


def message_for(field: str, reason: str) -> str:
    return f"{field} contains {reason}. {ADVICE}"


def check_text(value: Any, *, field: str = "This value", multiline: bool = False) -> None:
    """Raise ``ValidationError`` (code ``unsafe_text``) naming ``field`` when ``value`` is unsafe text."""
    reason = find_unsafe_text(value, multiline=multiline)
    if reason:
        raise ValidationError(message_for(field, reason), code=CODE)


def _walk(value: Any, max_depth: int) -> Iterator[tuple[tuple[Any, ...], str | None, str]]:
    """Depth-first, without recursion: ``(path, member name or None, reason)`` for each problem."""
    stack: list[tuple[Any, tuple[Any, ...]]] = [(value, ())]
    while stack:
        item, path = stack.pop()
        if len(path) > max_depth:
            yield path[:max_depth], None, f"structures nested more than {max_depth} levels deep"
            continue
        if isinstance(item, str):
            reason = find_unsafe_text(item, multiline=True)
            if reason:
                yield path, None, reason
        elif isinstance(item, dict):
            for name, member in item.items():
                reason = find_unsafe_text(name, multiline=True) if isinstance(name, str) else None
                if reason:
                    yield path, "name", reason
                    continue
                stack.append((member, (*path, name)))
        elif isinstance(item, (list, tuple)):
            stack.extend((member, (*path, index)) for index, member in enumerate(item))


def find_unsafe_structure(value: Any, *, max_depth: int = MAX_DEPTH) -> tuple[tuple[Any, ...], str] | None:
    """The first problem in a nested structure (JSON data): ``(path, reason)`` or None. Every string, member
    name and value, is checked as multi-line text; the path leads to the offending value (for a member name,
    to the object that holds it, whose own names are safe to show)."""
    for path, _, reason in _walk(value, max_depth):
        return path, reason
    return None


def path_text(path: tuple[Any, ...]) -> str:
    """``a.b[2].c`` for messages; only names already found safe are part of a path."""
    text = "".join(f"[{part}]" if isinstance(part, int) else f".{str(part)[:60]}" for part in path)
    return text.lstrip(".") or "the top level"


class UnsafeTextError(ValueError):
    """Raised by :func:`loads_json`: ``reason`` says what was found (and where), never quoting the text."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def loads_json(text: str, *, max_depth: int = MAX_DEPTH) -> Any:
    """``json.loads`` for JSON embedded in a field (a CSV labels cell, a CBOM property): raises
    :class:`UnsafeTextError` when it is nested too deeply or holds unsafe text, so neither a
    ``RecursionError`` nor an unstorable string gets further. Invalid JSON raises ``json.JSONDecodeError``,
    as ``json.loads`` does (both are ``ValueError``)."""
    try:
        value = json.loads(text)
    except RecursionError:
        raise UnsafeTextError(f"structures nested more than {max_depth} levels deep") from None
    found = find_unsafe_structure(value, max_depth=max_depth)
    if found:
        path, reason = found
        raise UnsafeTextError(reason + (f" at {path_text(path)}" if path else ""))
    return value


def scrub(text: str) -> str:
    """Replace unsafe characters (as multi-line text) with U+FFFD. Only for text the app writes about an input
    (messages, a file name): input data is refused, not cleaned."""
    return _UNSAFE_MULTILINE.sub("\ufffd", text)


class UnsafeTextValidator:
    """Model/form/serializer field validator: ``UnsafeTextValidator(multiline=True)`` for a text area."""

    code = CODE

    def __init__(self, *, multiline: bool = False) -> None:
        self.multiline = multiline

    def __call__(self, value: Any) -> None:
        check_text(value, multiline=self.multiline)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, UnsafeTextValidator) and other.multiline == self.multiline

    def __hash__(self) -> int:
        return hash((self.code, self.multiline))

    def deconstruct(self) -> tuple[str, tuple, dict]:
        return ("cek.textsafety.UnsafeTextValidator", (), {"multiline": self.multiline})
