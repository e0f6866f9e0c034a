"""How an importer's messages name what they are about: a column's value (never echoing key material or unsafe
text), a list of choices, a JSON value's type."""

from __future__ import annotations

from typing import Any

from cek.keymaterial import find_key_material
from cek.textsafety import find_unsafe_text


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
