"""The values every section of an evidence pack is built from: a :class:`Table` for a list that may be too long
for the PDF, its row limit, and how a person is named."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

DEFAULT_MAX_ROWS = 300


def max_rows() -> int:
    """Tables longer than this go to the data files only (setting ``CEK_PACK_PDF_MAX_ROWS``, default 300)."""
    return int(getattr(settings, "CEK_PACK_PDF_MAX_ROWS", DEFAULT_MAX_ROWS))


def person(user) -> str:
    if user is None:
        return ""
    return user.get_full_name() or user.username


@dataclass
class Table:
    """A list that may be too long for the PDF. ``rows`` is ``None`` when the list was not read (its data file
    holds it), or the full list when the data file is written from it (``pack.json``); either way a list of
    more than ``limit`` rows is not printed: the PDF names ``data_file`` instead."""

    total: int
    rows: list | None
    data_file: str
    limit: int = DEFAULT_MAX_ROWS

    @property
    def in_data_file_only(self) -> bool:
        return self.rows is None or self.total > self.limit
