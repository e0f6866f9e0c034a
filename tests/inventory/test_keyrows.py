"""The API's key rows (``inventory.keyrows``) as built for many requests (issue 17): each request compiles only what
varies (its filters and page), the kept statement is the SQL the ORM writes, and the JSON stays what
``KeySerializer`` gives, whichever way the rows are read."""

from __future__ import annotations

import json

import pytest
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models.sql.compiler import SQLCompiler
from django.http import QueryDict
from django.test import RequestFactory
from django.utils import timezone
from rest_framework.request import Request

from inventory.filters import KEY_ORDERING, KeyFilter
from inventory.keyrows import KeyListRows, key_list_rows
from inventory.models import Key
from inventory.selectors import PagedRows, key_list_keys
from inventory.serializers import KeySerializer
from tests.conftest import login

pytestmark = pytest.mark.django_db


def _page_keys(keys, *, bottom: int = 0, top: int = 50):
    """The queryset ``PagedRows`` hands its row reader for one page (the keys located by id in a subquery)."""
    (page,) = PagedRows(keys, lambda located: [located])[bottom:top]
    return page


def _request() -> Request:
    return Request(RequestFactory().get("/api/v1/keys/", secure=True))


def _serialized(keys) -> list[dict]:
    request = _request()
    return [
        json.loads(json.dumps(KeySerializer(key, context={"request": request}).data, cls=DjangoJSONEncoder))
        for key in keys
    ]


def _compiled_queries(monkeypatch) -> list:
    """The queries compiled whole from now on (``SQLCompiler.as_sql``), as (model, every column?, annotations)."""
    compiled = []
    as_sql = SQLCompiler.as_sql

    def spy(self, *args, **kwargs):
        compiled.append((self.query.model, self.query.default_cols, tuple(self.query.annotations)))
        return as_sql(self, *args, **kwargs)

    monkeypatch.setattr(SQLCompiler, "as_sql", spy)
    return compiled


def test_a_repeated_api_list_request_compiles_only_its_filters_and_page(grc_user, varied_inventory, monkeypatch):
    """The row statement (36 columns, three user subqueries, the joins) is compiled once per ordering and kept; the
    stored count is named without compiling every column of a key. Both cost milliseconds a request at 100k keys."""
    client = login(grc_user)
    for query in ("?state=active", "?state=active&ordering=-updated_at"):
        assert client.get(f"/api/v1/keys/{query}").status_code == 200  # plans and keeps the statement
        compiled = _compiled_queries(monkeypatch)
        assert client.get(f"/api/v1/keys/{query}").status_code == 200
        monkeypatch.undo()
        on_keys = [(every, annotations) for model, every, annotations in compiled if model is Key]
        assert on_keys, "the page's ids are still compiled per request"
        assert not [annotations for _every, annotations in on_keys if annotations], "the row statement was compiled"
        assert not [every for every, _annotations in on_keys if every], "every column of Key was compiled"


ORDERINGS = [None, *KEY_ORDERING, *(f"-{value}" for value in KEY_ORDERING)]


@pytest.mark.parametrize(
    "query",
    ["", "state=active&state=suspended", "q=signing", "overdue=true", "function=signing", "owner=owner", "ai=true"],
)
def test_the_kept_statement_is_the_sql_the_orm_writes(grc_user, owner, varied_inventory, query):
    """Filling the kept statement's WHERE clause gives exactly the SQL and parameters of the whole query compiled by
    the ORM, for every ordering the list offers (some join the ordering's table) and filters of each kind (joins,
    OR, EXISTS, dates), on the first page and a later one."""
    rows = KeyListRows()
    for ordering in ORDERINGS:
        data = QueryDict(query.replace("owner=owner", f"owner={owner.username}"), mutable=True)
        if ordering:
            data["ordering"] = ordering
        filterset = KeyFilter(data, queryset=key_list_keys(user=grc_user))
        assert filterset.is_valid(), filterset.errors
        for bottom in (0, 2):
            keys = _page_keys(filterset.qs, bottom=bottom, top=bottom + 2)
            found = rows.statement(keys)
            if found is None:  # a page past a search's stored matches: keys by id, none (nothing to run)
                assert not list(keys), (query, ordering, bottom)
                continue
            sql, params, _statement = found
            whole_sql, whole_params, _names, _expressions = rows._compiled(rows._values(keys))
            assert (sql, params) == (whole_sql, whole_params), ordering
    assert len(rows._statements) >= len(KEY_ORDERING), "a statement per ordering was not kept"


@pytest.mark.parametrize(
    "keys",
    [
        pytest.param(lambda: Key.objects.filter(purpose__function="signing"), id="joined-filter"),
        pytest.param(lambda: Key.objects.all(), id="no-filter"),
        pytest.param(lambda: Key.objects.order_by("-purpose__name", "id")[1:4], id="sliced"),
        pytest.param(lambda: Key.objects.filter(pk__in=Key.objects.values("pk")[:3]).order_by(), id="unordered"),
    ],
)
def test_rows_read_by_any_queryset_are_the_serializers_json(grc_user, varied_inventory, keys):
    """A queryset the kept statement cannot take (its own joins, no filter, a slice) is compiled whole: same JSON."""
    queryset = keys()
    rows = key_list_rows().data(queryset, request=_request())
    assert rows, "the queryset should select keys"
    expected = _serialized(Key.objects.filter(pk__in=[row["id"] for row in rows]))
    by_id = {row["id"]: row for row in expected}
    for row in rows:
        assert list(row) == list(by_id[row["id"]])
        assert row == by_id[row["id"]]
    if queryset.ordered:
        assert [row["id"] for row in rows] == list(queryset.values_list("pk", flat=True))


def test_a_queryset_that_selects_nothing_reads_no_rows(grc_user, varied_inventory, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert key_list_rows().data(Key.objects.filter(pk__in=[]), request=_request()) == []


@pytest.mark.parametrize("zone", ["UTC", "Asia/Kolkata", "America/St_Johns"])
def test_times_are_written_in_the_current_time_zone_as_drf_writes_them(grc_user, varied_inventory, zone):
    """Created and updated times are DRF's ISO 8601 in the active time zone ("Z" for UTC), the zone looked up once
    a page."""
    with timezone.override(zone):
        rows = key_list_rows().data(_page_keys(key_list_keys(user=grc_user)), request=_request())
        expected = {row["id"]: row for row in _serialized(Key.objects.all())}
    assert rows
    for row in rows:
        assert row == expected[row["id"]]
        assert row["created_at"].endswith("Z") == (zone == "UTC")
