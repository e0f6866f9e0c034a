"""PostgreSQL ``COPY`` for the rows a large write creates: the new keys and bindings of an import, the new
findings of a check run, and their history entries.

``bulk_create`` prepares every value of every row through the field API and, on PostgreSQL, sends each
column as an array that psycopg quotes in Python: for 100,000 keys of 35 columns that is minutes. ``COPY``
streams the rows through psycopg's C adapters instead. The ids are taken from the tables' own sequences
first (one query per batch), so the rows that refer to the new keys (history, bindings) can be written in
the same way.

The values written are those ``bulk_create`` would write: every field's ``pre_save`` runs (time stamps),
JSON fields are encoded with the field's encoder. The caller (the import planner, the check run) has validated every
value; nothing here validates again. Other databases (SQLite, the embedded default) use ``bulk_create``.
"""

from __future__ import annotations

import json
import operator
from collections.abc import Iterable, Sequence
from datetime import datetime

from django.db import connection, models


def copy_available() -> bool:
    return connection.vendor == "postgresql"


def _allocate_ids(model: type[models.Model], count: int) -> list[int]:
    pk = model._meta.pk
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [model._meta.db_table, pk.column, count],
        )
        return [row[0] for row in cursor.fetchall()]


def _copy(model: type[models.Model], fields: Sequence[models.Field], rows: Iterable[tuple]) -> None:
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in fields)
    statement = f"COPY {quote(model._meta.db_table)} ({columns}) FROM STDIN"
    # Django's cursor wrapper has no copy(); the psycopg cursor under it does. Its errors are psycopg's own,
    # so they are wrapped as Django's (IntegrityError, DataError...), which callers catch like any other write's:
    # unwrapped, a unique violation from a concurrent import went past them and answered 500.
    with connection.cursor() as cursor, connection.wrap_database_errors:
        with cursor.cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(row)


def _row_builder(model: type[models.Model], fields: Sequence[models.Field], *, now: datetime | None = None):
    """A function turning an object into the tuple of its column values, in ``fields`` order: the attributes
    read in one C-level call, JSON encoded, time stamps with ``auto_now(_add)`` set to ``now``."""
    getter = operator.attrgetter(*(f.attname for f in fields))
    encoders = [(i, f.encoder) for i, f in enumerate(fields) if isinstance(f, models.JSONField)]
    stamps = (
        []
        if now is None
        else [i for i, f in enumerate(fields) if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)]
    )

    def build(obj: models.Model) -> tuple:
        values = list(getter(obj)) if len(fields) > 1 else [getter(obj)]
        for i, encoder in encoders:
            if values[i] is not None:
                values[i] = json.dumps(values[i], cls=encoder)
        for i in stamps:
            values[i] = now
        return tuple(values)

    return build


def copy_create(model: type[models.Model], objs: list[models.Model], *, now: datetime) -> None:
    """Insert new objects (their pk is set, as ``bulk_create`` sets it; their time stamps are ``now``)."""
    if not objs:
        return
    fields = list(model._meta.concrete_fields)
    stamps = [f.attname for f in fields if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)]
    # A foreign key to an object saved after this one was built (a binding of a key created in the same batch)
    # takes the object's new id, as bulk_create does.
    relations = [f for f in fields if f.many_to_one]
    for obj, pk in zip(objs, _allocate_ids(model, len(objs)), strict=True):
        obj.pk = pk
        obj._state.adding = False
        obj._state.db = connection.alias
        for name in stamps:
            setattr(obj, name, now)
        for field in relations:
            if getattr(obj, field.attname) is None and field.is_cached(obj):
                related = field.get_cached_value(obj)
                setattr(obj, field.attname, related.pk if related is not None else None)
    _copy(model, fields, map(_row_builder(model, fields, now=now), objs))


def copy_history(
    model: type[models.Model],
    objs: list[models.Model],
    *,
    history_type: str,
    actor,
    reason: str,
    date: datetime,
) -> None:
    """One django-simple-history entry per object, as ``bulk_history_create`` writes it (with ``history_type``
    "+" for a new object, "~" for a change), attributed to ``actor`` with ``reason`` at ``date``."""
    if not objs:
        return
    historical = model.history.model
    extra = {
        "history_date": date,
        "history_change_reason": reason,
        "history_type": history_type,
        "history_user_id": actor.pk if actor is not None else None,
    }
    tracked = [
        f for f in historical._meta.concrete_fields if f.attname in {t.attname for t in historical.tracked_fields}
    ]
    source = {f.attname: f for f in model._meta.concrete_fields}
    build = _row_builder(model, [source[f.attname] for f in tracked])
    history_pk = historical._meta.get_field("history_id")
    extra_fields = [historical._meta.get_field(name) for name in extra]
    tail = tuple(extra.values())
    ids = _allocate_ids(historical, len(objs))
    rows = ((history_id, *build(obj), *tail) for obj, history_id in zip(objs, ids, strict=True))
    _copy(historical, [history_pk, *tracked, *extra_fields], rows)


def copy_history_in_database(
    model: type[models.Model],
    ids: list[int],
    *,
    history_type: str,
    actor,
    reason: str,
    date: datetime,
) -> None:
    """:func:`copy_history` for objects just written (``ids``), copied inside the database from their rows
    (``INSERT INTO <history> SELECT ... FROM <table>``): the same entries, in the order of ``ids`` when they
    ascend (a sequence's ids, as :func:`copy_create` gives them), without building and encoding every row in
    Python a second time (a third of the CPU of writing 100,000 new keys)."""
    if not ids:
        return
    historical = model.history.model
    quote = connection.ops.quote_name
    tracked_names = {t.attname for t in historical.tracked_fields}
    tracked = [f for f in historical._meta.concrete_fields if f.attname in tracked_names]
    source = {f.attname: f for f in model._meta.concrete_fields}
    extra = {
        "history_date": date,
        "history_change_reason": reason,
        "history_type": history_type,
        "history_user_id": actor.pk if actor is not None else None,
    }
    extra_columns = [historical._meta.get_field(name.removesuffix("_id")).column for name in extra]
    target = ", ".join(quote(column) for column in [*(f.column for f in tracked), *extra_columns])
    selected = ", ".join([*(quote(source[f.attname].column) for f in tracked), *(["%s"] * len(extra))])
    pk = quote(model._meta.pk.column)
    # Identifiers come from the models' metadata (quoted); every value is a query parameter.
    statement = (
        f"INSERT INTO {quote(historical._meta.db_table)} ({target}) "  # noqa: S608
        f"SELECT {selected} FROM {quote(model._meta.db_table)} WHERE {pk} = ANY(%s) ORDER BY {pk}"
    )
    with connection.cursor() as cursor:
        cursor.execute(statement, [*extra.values(), list(ids)])
