"""The API's key rows: ``KeySerializer``'s JSON for a page of keys (the list) or one key (the detail), built without
a serializer per row.

:class:`KeyListRows` plans the rows once per process from ``KeySerializer``'s own fields (names, order, sources,
output formats): a field added there appears here too, or is refused at the first request when its kind is not
known below; tests compare the two outputs. A page is two queries: one ``values()`` query of the columns the fields
read (references by their natural key or id, through that query's joins; users by scalar subqueries) and one of the
page's ``exposed_to`` parties.

What a request costs is kept to what varies between requests (issue 17: at most 10 ms of app time at 100,000 keys):

- the row statement is compiled by the ORM once per ordering and kept, with a hole for the WHERE clause; a request
  compiles only its WHERE clause (its filters and the page's ``id IN (SELECT ... LIMIT 50)``, the part that varies),
  so the select list of 36 columns, three user subqueries and the joins are not built and compiled again (about 1.5
  ms a page). A queryset the kept statement cannot take (joins of its own, a slice, annotations...) is compiled
  whole, as before; a test checks that both give the same SQL;
- the parties' statement likewise, once per page length;
- a row is a dict zipped from the row's values in the plan's order; only dates and times are converted per value
  (``date.isoformat``; DRF's ``DateTimeField`` formatting with the time zone looked up once a page), since the other
  fields' DRF representation is the database value itself (a choice's value, a label dict decoded from JSON).
"""

from __future__ import annotations

import datetime as dt
import functools
import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import EmptyResultSet, FullResultSet
from django.db import connections, models
from django.db.models import BooleanField, OuterRef, Subquery
from django.db.models.expressions import RawSQL
from django.utils import timezone
from rest_framework import ISO_8601, serializers
from rest_framework.settings import api_settings

from inventory.models import Key, Party
from inventory.serializers import KeySerializer

# The WHERE clause of a kept row statement, replaced by each queryset's own (a name no SQL of a key query holds).
WHERE_HOLE = "cek_key_rows_where_hole"
# At most this many row statements are kept (one per ordering the list offers, and the detail's).
MAX_STATEMENTS = 64


@dataclass(frozen=True)
class _Statement:
    """A compiled ``SELECT`` and what its rows' values are: ``names`` in the order of the columns, ``expressions``
    the select expressions (their converters, e.g. JSON decoding, come from them for the connection at hand)."""

    sql: str
    names: tuple[str, ...]
    expressions: tuple[Any, ...]


class _IsoDateTime:
    """DRF's ``DateTimeField.to_representation`` for a field written in ISO 8601 in the current time zone (the
    default), with the time zone looked up once per page rather than once per value."""

    def __init__(self, field: serializers.DateTimeField) -> None:
        self.field = field

    def for_zone(self, zone) -> Callable[[Any], Any]:
        to_representation = self.field.to_representation

        def iso(value):
            # DRF: value.astimezone(current zone).isoformat(), "+00:00" written "Z". Anything else (no time zone
            # in use, a naive datetime, a string) goes through DRF itself.
            if zone is None or not isinstance(value, dt.datetime) or value.utcoffset() is None:
                return to_representation(value)
            text = value.astimezone(zone).isoformat()
            return text[:-6] + "Z" if text.endswith("+00:00") else text

        return iso


def _is_identity_choice(field: serializers.ChoiceField) -> bool:
    """Whether DRF writes each choice as the value stored (``choice_strings_to_values`` maps every value to
    itself): then a text column's value is its own representation."""
    return all(isinstance(value, str) and key == value for key, value in field.choice_strings_to_values.items())


def _label_dict(field: serializers.DictField) -> Callable[[Any], Any] | None:
    """A ``DictField`` of ``JSONField`` (labels) writes a dict decoded from JSON as it is (keys are strings already,
    a JSON child's value is itself): the dict is its own representation. Anything else goes through DRF."""
    child = field.child
    if not isinstance(child, serializers.JSONField) or child.binary:
        return field.to_representation
    to_representation = field.to_representation
    return lambda value: value if type(value) is dict else to_representation(value)


class KeyListRows:
    """``KeySerializer(many=True).data`` for a queryset of keys (a page of the list, or one key), the same JSON."""

    SENTINEL = 918273645  # the id of the probe whose URL gives the prefix and suffix of every row's URL
    URL, M2M = ":url", ":exposed_to"

    def __init__(self) -> None:
        self.columns: list[str] = ["id"]
        # Users (owner, backup owner, approver) are read by scalar subqueries, not joins: three joins of the user
        # table made PostgreSQL's planner take 20-35 ms over a 0.5 ms query at 100k keys.
        self.subqueries: dict[str, Subquery] = {}
        # (output name, column of the values() row or URL / M2M, converter of a non-null value or None)
        self.plan: list[tuple[str, str, Any]] = []
        for name, field in KeySerializer().fields.items():
            if isinstance(field, serializers.SlugRelatedField) and field.queryset.model is get_user_model():
                column = f"{name}_{field.slug_field}_by_subquery"
                users = get_user_model().objects.filter(pk=OuterRef(f"{field.source}_id"))
                self.subqueries[column] = Subquery(users.values(field.slug_field)[:1])
                self.columns.append(column)
                self.plan.append((name, column, None))
                continue
            if isinstance(field, serializers.HyperlinkedIdentityField):
                self.url_field = field
                self.plan.append((name, self.URL, None))
            elif isinstance(field, serializers.ManyRelatedField) and field.source == "exposed_to":
                self.plan.append((name, self.M2M, None))
            else:
                column, convert = self._column(name, field)
                if column not in self.columns:
                    self.columns.append(column)
                self.plan.append((name, column, convert))
        self.names = tuple(name for name, _, _ in self.plan)
        self._statements: dict[tuple, _Statement] = {}

    @staticmethod
    def _column(name: str, field: serializers.Field) -> tuple[str, Any]:
        source = "__".join(field.source_attrs)
        if isinstance(field, serializers.SlugRelatedField):
            return f"{source}__{field.slug_field}", None
        if isinstance(field, serializers.PrimaryKeyRelatedField):
            return source, None  # values() gives a foreign key's id
        if isinstance(field, serializers.DateTimeField):
            iso = getattr(field, "format", api_settings.DATETIME_FORMAT)
            if isinstance(iso, str) and iso.lower() == ISO_8601 and not hasattr(field, "timezone"):
                return source, _IsoDateTime(field)
            return source, field.to_representation
        if isinstance(field, serializers.DictField):
            return source, _label_dict(field)
        if isinstance(field, serializers.JSONField):
            return source, None if not field.binary else field.to_representation
        if isinstance(field, serializers.DateField):
            iso = getattr(field, "format", api_settings.DATE_FORMAT) == ISO_8601
            return source, dt.date.isoformat if iso else field.to_representation
        if isinstance(field, serializers.ChoiceField):
            if _is_identity_choice(field):
                return source, None  # the stored value is the choice DRF writes
            return source, lambda value, choices=field.choice_strings_to_values: choices.get(str(value), value)
        if isinstance(field, serializers.CharField | serializers.IntegerField | serializers.BooleanField):
            return source, None  # the column is already that str, int or bool
        raise TypeError(f"KeyListRows cannot show the field '{name}' ({type(field).__name__}).")

    # --- Statements ----------------------------------------------------------------------------------------------

    def _values(self, keys: models.QuerySet) -> models.QuerySet:
        return keys.annotate(**self.subqueries).values(*self.columns)

    @staticmethod
    def _compiled(queryset: models.QuerySet):
        """A ``values()`` queryset compiled whole: its SQL, parameters, column names and select expressions."""
        query = queryset.query
        compiler = query.get_compiler(using=queryset.db)
        sql, params = compiler.as_sql()
        names = (
            list(query.selected)
            if query.selected
            else [*query.extra_select, *query.values_select, *query.annotation_select]
        )
        expressions = tuple(column for column, _sql, _alias in compiler.select[: compiler.col_count])
        return sql, tuple(params), tuple(names), expressions

    @staticmethod
    def _takes_kept_statement(keys: models.QuerySet) -> bool:
        """Whether the WHERE clause of ``keys`` can fill a kept statement: a plain filtered queryset of keys, its
        filters on the key's own columns (a subquery, such as a page's ids, may join what it likes)."""
        query = keys.query
        return (
            keys.model is Key
            and len(query.alias_map) == 1
            and not query.is_sliced
            and not query.distinct
            and not query.annotations
            and not query.extra
            and not query.extra_order_by
            and not query.combinator
            and query.group_by is None
            and not query.select_for_update
            and query.default_cols
            and all(isinstance(term, str) for term in query.order_by)
        )

    def _kept(self, db: str, order_by: tuple[str, ...], default_ordering: bool) -> _Statement | None:
        """The row statement for ``order_by``, compiled once, with :data:`WHERE_HOLE` for the WHERE clause."""
        cache_key = (db, order_by, default_ordering)
        statement = self._statements.get(cache_key)
        if statement is not None:
            return statement
        # A constant placeholder, replaced by SQL the ORM compiled (never by request input).
        hole_expression = RawSQL(WHERE_HOLE, (), output_field=BooleanField())  # noqa: S611
        template = Key._base_manager.using(db).filter(hole_expression)
        if order_by or not default_ordering:
            template = template.order_by(*order_by)
        sql, params, names, expressions = self._compiled(self._values(template))
        hole = f"({WHERE_HOLE})"
        if params or sql.count(WHERE_HOLE) != 1 or hole not in sql:
            return None  # not a statement a WHERE clause can be put into: compile each queryset whole
        statement = _Statement(sql, names, expressions)
        if len(self._statements) < MAX_STATEMENTS:
            self._statements[cache_key] = statement
        return statement

    def statement(self, keys: models.QuerySet) -> tuple[str, tuple, _Statement] | None:
        """The SQL, parameters and columns of the rows of ``keys``; None when ``keys`` selects nothing."""
        if self._takes_kept_statement(keys):
            query = keys.query
            kept = self._kept(keys.db, tuple(query.order_by), query.default_ordering)
            if kept is not None:
                compiler = query.get_compiler(using=keys.db)
                try:
                    where, params = compiler.compile(query.where)
                except EmptyResultSet:
                    return None
                except FullResultSet:
                    where, params = None, ()  # no filter: compiled whole below
                if where:
                    return kept.sql.replace(f"({WHERE_HOLE})", where, 1), tuple(params), kept
        try:
            sql, params, names, expressions = self._compiled(self._values(keys))
        except EmptyResultSet:
            return None
        return sql, params, _Statement(sql, names, expressions)

    @staticmethod
    @functools.lru_cache(maxsize=16)
    def _parties_statement(db: str, count: int) -> str | None:
        """The statement of the parties ``count`` keys are exposed to (key id, party id), in the party order, with
        one parameter per key id (compiled with stand-in ids 1..count); None if it cannot be reused."""
        stand_ins = list(range(1, count + 1))
        query = _exposure_links(db, stand_ins).query
        sql, params = query.get_compiler(using=db).as_sql()
        return sql if list(params) == stand_ins else None

    def _parties(self, db: str, key_ids: list[int]) -> dict[int, list[int]]:
        parties: dict[int, list[int]] = {key_id: [] for key_id in key_ids}
        sql = self._parties_statement(db, len(key_ids))
        if sql is None:
            pairs = _exposure_links(db, key_ids)
        else:
            with connections[db].cursor() as cursor:
                cursor.execute(sql, key_ids)
                pairs = cursor.fetchall()  # two integer ids: no database converters apply
        for key_id, party_id in pairs:
            parties[key_id].append(party_id)
        return parties

    # --- Rows ------------------------------------------------------------------------------------------------------

    def data(self, keys: models.QuerySet, *, request, format: str | None = None) -> list[dict]:
        """The JSON rows of ``keys`` (a page: keys located by id, or one key), in its order."""
        found = self.statement(keys)
        if found is None:
            return []
        sql, params, statement = found
        connection = connections[keys.db]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        if not rows:
            return []
        id_at = statement.names.index("id")
        parties = self._parties(keys.db, [row[id_at] for row in rows])
        probe = self.url_field.get_url(_Probe(self.SENTINEL), self.url_field.view_name, request, format)
        url_prefix, _, url_suffix = str(probe).rpartition(str(self.SENTINEL))

        # Each output field's place in a row extended by its URL and parties.
        width = len(statement.names)
        places = {self.URL: width, self.M2M: width + 1}
        places.update((name, position) for position, name in enumerate(statement.names))
        pick = operator.itemgetter(*(places[column] for _name, column, _convert in self.plan))
        # The database's values as Django gives them (JSON decoded; on SQLite, dates parsed too), applied to the
        # output fields of the columns that have converters; then DRF's representation of the fields that need one.
        from_database = []
        for name, column, _convert in self.plan:
            position = places[column]
            if position < width:
                expression = statement.expressions[position]
                convs = connection.ops.get_db_converters(expression) + expression.get_db_converters(connection)
                if convs:
                    from_database.append((name, convs, expression))
        zone = timezone.get_current_timezone() if settings.USE_TZ else None
        converted = [
            (name, convert.for_zone(zone) if isinstance(convert, _IsoDateTime) else convert)
            for name, _column, convert in self.plan
            if convert is not None
        ]
        names = self.names
        results = []
        for row in rows:
            key_id = row[id_at]
            item = dict(zip(names, pick((*row, f"{url_prefix}{key_id}{url_suffix}", parties[key_id])), strict=True))
            for name, convs, expression in from_database:
                value = item[name]
                for convert in convs:
                    value = convert(value, expression, connection)
                item[name] = value
            for name, convert in converted:
                value = item[name]
                if value is not None:
                    item[name] = convert(value)
            results.append(item)
        return results


def _exposure_links(db: str, key_ids: list[int]) -> models.QuerySet:
    """(key id, party id) of the parties the keys are exposed to, in the party order (as ``exposed_to`` lists them)."""
    ordering = [f"-party__{o[1:]}" if o.startswith("-") else f"party__{o}" for o in Party._meta.ordering]
    links = Key.exposed_to.through.objects.using(db).filter(key_id__in=key_ids)
    return links.order_by(*ordering, "party_id").values_list("key_id", "party_id")


class _Probe:
    def __init__(self, pk: int) -> None:
        self.pk = pk


@functools.cache
def key_list_rows() -> KeyListRows:
    """The API key list's row builder, planned once per process."""
    return KeyListRows()
