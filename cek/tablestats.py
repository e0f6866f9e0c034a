"""Planner statistics after a large write: ``ANALYZE`` a table that a write just grew by as many rows as its
statistics count (PostgreSQL only).

PostgreSQL plans from the statistics of the last ``ANALYZE``; autovacuum takes new ones only after the write has
committed, and not at all for the rest of the writing transaction. A table that grew from nothing to a million
rows inside one transaction (the demo's campaign launched and answered in one, or an answer right after a launch
before autovacuum ran) is planned as if it were still empty: nested loops over what are now hash joins, minutes
instead of seconds. ANALYZE samples the rows this transaction wrote too, and this session's planner uses the new
figures at once (others after commit). It holds a SHARE UPDATE EXCLUSIVE lock to the end of the transaction, which
blocks no read or write, only another ANALYZE, VACUUM or index build of the table. ``inventory.importing.apply``
does the same for the key and binding tables of an import.
"""

from __future__ import annotations

from django.db import connection, models

ANALYZE_AFTER_ROWS = 5000


def statistics_refresh(
    model: type[models.Model],
    *,
    written: int,
    minimum: int = ANALYZE_AFTER_ROWS,
    also: tuple[type[models.Model], ...] = (),
) -> bool:
    """``ANALYZE`` ``model``'s table (and the tables of ``also``, written beside it) when ``written`` new rows are at
    least ``minimum`` and at least as many as its statistics count (True when it ran; never on other databases)."""
    if connection.vendor != "postgresql" or written < minimum:
        return False
    table = model._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [table])
        counted = max(0, (cursor.fetchone() or (0,))[0])
        if written < counted:
            return False
        for analysed in (model, *also):
            cursor.execute(f"ANALYZE {connection.ops.quote_name(analysed._meta.db_table)}")
    return True
