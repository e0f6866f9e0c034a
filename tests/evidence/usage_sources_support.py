"""Shared by the usage source tests: the fixtures folder and a source's normalized rows, read by DuckDB the way
the engine reads them (its memory limit and threads, no extension loaded on demand), without the database."""

from __future__ import annotations

import gzip
from pathlib import Path

import duckdb
from django.conf import settings

from evidence.usage.sources import get_source
from evidence.usage.sources.base import COLUMNS, SourceFile

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "usage"


def source_file(path: Path) -> SourceFile:
    return SourceFile(path=str(path), gzip=path.read_bytes()[:2] == b"\x1f\x8b", name=path.name)


def rows(fmt: str, path: Path) -> list[dict]:
    """Every normalized row of ``path`` as ``fmt`` reads it, in the file's order."""
    con = duckdb.connect(
        ":memory:",
        config={
            "memory_limit": f"{settings.CEK_USAGE_DUCKDB_MEMORY_MB}MB",
            "threads": settings.CEK_USAGE_DUCKDB_THREADS,
            "autoinstall_known_extensions": False,
            "autoload_known_extensions": False,
        },
    )
    try:
        statement = get_source(fmt).relation(con, source_file(path))
        result = con.execute(f"SELECT {', '.join(COLUMNS)} FROM ({statement})")  # noqa: S608 (the source's own SQL)
        return [dict(zip(COLUMNS, row, strict=True)) for row in result.fetchall()]
    finally:
        con.close()


def relevant(fmt: str, path: Path) -> list[dict]:
    return [row for row in rows(fmt, path) if row["relevant"]]


def calls(fmt: str, path: Path) -> set[tuple]:
    """The relevant rows as comparable tuples: (key_ref, principal, principal_type, operation, error_code, day)."""
    return {
        (row["key_ref"], row["principal"], row["principal_type"], row["operation"], row["error_code"], str(row["day"]))
        for row in relevant(fmt, path)
    }


def write_lines(path: Path, lines: list[str], *, compress: bool = False) -> Path:
    data = ("\n".join(lines) + "\n").encode()
    path.write_bytes(gzip.compress(data, mtime=0) if compress else data)
    return path
