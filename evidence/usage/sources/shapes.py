"""Small pieces the JSON log sources share: how a file starts, and SQL fragments for the shapes vendors use.

Not a source itself (it defines no ``UsageSource``): the package imports it like the others and nothing
registers.
"""

from __future__ import annotations

import gzip
from typing import Any

from django.conf import settings

from evidence.usage.sources.base import SourceFile, sql_string

_HEAD_BYTES = 4096


def head(file: SourceFile, size: int = _HEAD_BYTES) -> bytes:
    """The first ``size`` bytes of the file after decompression; b'' when they cannot be read (DuckDB then reports
    the damage with the source's message)."""
    opener: Any = gzip.open if file.gzip else open
    try:
        with opener(file.path, "rb") as handle:
            return handle.read(size)
    except (OSError, EOFError):
        return b""


def first_byte(file: SourceFile) -> bytes:
    """The first byte that is not white space (after a UTF-8 byte order mark): ``[`` for a JSON array, ``{`` for
    JSON lines or one object."""
    text = head(file).lstrip(b"\xef\xbb\xbf").lstrip()
    return text[:1]


def max_object_bytes() -> int:
    """The largest JSON value read whole (a file that is one ``{"records": [...]}`` object): DuckDB allocates
    twice this per thread, so it is a quarter of DuckDB's memory limit (64 MB by default), as for CloudTrail's
    delivered files."""
    return settings.CEK_USAGE_DUCKDB_MEMORY_MB * 1024 * 1024 // 4


def utc_timestamp(expression: str) -> str:
    """SQL: an ISO 8601 text (``Z`` or an offset, any number of fractional digits) as a UTC ``TIMESTAMP`` without
    time zone, or NULL when it is not one."""
    return f"try_cast(try_cast({expression} AS TIMESTAMPTZ) AT TIME ZONE 'UTC' AS TIMESTAMP)"


def struct_columns(struct: str) -> str:
    """``STRUCT(a T, b U)`` -> DuckDB's ``columns`` map for ``read_json``: ``{'a': 'T', 'b': 'U'}``. Reading only
    the members a source needs, typed, keeps DuckDB from inferring a schema from the file's first objects."""
    inner = struct[len("STRUCT(") : -1]
    parts, depth, start = [], 0, 0
    for i, char in enumerate(inner):
        depth += char == "("
        depth -= char == ")"
        if char == "," and depth == 0:
            parts.append(inner[start:i].strip())
            start = i + 1
    parts.append(inner[start:].strip())
    items = []
    for part in parts:
        name, _, kind = part.partition(" ")
        items.append(f"{sql_string(name.strip(chr(34)))}: {sql_string(kind)}")
    return "{" + ", ".join(items) + "}"
