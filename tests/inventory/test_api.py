"""REST API /api/v1/: payloads, writes through the services, errors as JSON, fixed query counts, OpenAPI."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from inventory.models import Key, KeyState, Party, Purpose
from tests.conftest import login
from tests.factories import (
    AccessGrantFactory,
    BindingFactory,
    KeyFactory,
    KeyStoreFactory,
    PartyFactory,
    PurposeFactory,
    ServiceFactory,
    TenantFactory,
    UserFactory,
    purpose,
)

pytestmark = pytest.mark.django_db

PEM = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7\n-----END PRIVATE KEY-----"
AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


def send(client, method: str, url: str, data=None, **extra):
    body = data if isinstance(data, str) else json.dumps(data)
    return getattr(client, method)(url, body, content_type="application/json", **extra)


def key_payload(store, /, **overrides) -> dict:
    payload = {
        "name": "inference-logs",
        "kind": "symmetric-key",
        "algorithm": "AES-256-GCM",
        "size_bits": 256,
        "purpose": "inference-log-encryption",
        "store": store.pk,
        "external_id": "arn:aws:kms:eu-west-1:111122223333:key/inference-logs",
        "state": "active",
        "activated_on": "2025-01-10",
        "labels": {"purpose": "inference-log-encryption", "team": "ml-platform"},
        "purpose_justification": "Encrypts inference logs of the chat service.",
    }
    return {**payload, **overrides}


# --- Reading ----------------------------------------------------------------------------------------


def test_the_key_list_is_paginated_json_with_the_documented_fields(grc_client, owner, auditor):
    party = PartyFactory()
    key = KeyFactory(
        name="training-data",
        owner=owner,
        backup_owner=auditor,
        tenant=TenantFactory(slug="acme"),
        custodian=party,
        purpose_approver=auditor,
        labels={"env": "prod"},
    )
    key.exposed_to.set([party])

    response = grc_client.get("/api/v1/keys/")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["count"] == 1 and body["next"] is None
    row = body["results"][0]
    assert row["id"] == key.pk
    assert row["url"].endswith(f"/api/v1/keys/{key.pk}/")
    assert row["purpose"] == "data-encryption"
    assert row["purpose_function"] == "encryption"
    assert row["store"] == key.store_id and row["store_name"] == key.store.name
    assert row["owner"] == "bob" and row["backup_owner"] == "dave" and row["purpose_approver"] == "dave"
    assert row["tenant"] == "acme" and row["custodian"] == party.pk and row["exposed_to"] == [party.pk]
    assert row["labels"] == {"env": "prod"}
    expected = {
        "id", "url", "name", "kind", "algorithm", "size_bits", "purpose", "purpose_function", "store", "store_name",
        "external_id", "platform_usage", "owner", "backup_owner", "tenant", "custodian", "ssrm_layer", "state",
        "description", "labels", "created_on", "activated_on", "last_rotated_on", "expires_on",
        "rotation_period_days", "cryptoperiod_days", "cryptoperiod_ends_on", "exposed_to", "exposure_scope",
        "exposure_contract", "purpose_justification", "purpose_approver", "purpose_reviewed_on", "created_at",
        "updated_at", "platform_managed", "platform_details", "not_seen_since",
    }  # fmt: skip
    assert set(row) == expected


def test_the_key_list_uses_the_same_filters_and_ordering_as_the_web_list(grc_client, owner):
    KeyFactory(name="b-signing", purpose=purpose("digital-signature"), kind="private-key", owner=owner)
    KeyFactory(name="a-data", state=KeyState.SUSPENDED)
    KeyFactory(name="c-data", owner=owner)

    def names(query: str) -> list[str]:
        response = grc_client.get(f"/api/v1/keys/?{query}")
        assert response.status_code == 200, response.json()
        return [row["name"] for row in response.json()["results"]]

    assert names("purpose=data-encryption") == ["a-data", "c-data"]
    assert names("owner=bob") == ["b-signing", "c-data"]
    assert names("state=suspended") == ["a-data"]
    assert names("function=signing") == ["b-signing"]
    assert names("q=c-da") == ["c-data"]
    assert names("ordering=-name") == ["c-data", "b-signing", "a-data"]


@pytest.mark.parametrize(
    "query", ["state=melted", "purpose=no-such-purpose", "owner=nobody", "ordering=colour", "store=abc"]
)
def test_an_invalid_filter_value_is_a_400_naming_the_parameter(grc_client, query):
    response = grc_client.get(f"/api/v1/keys/?{query}")

    assert response.status_code == 400
    body = response.json()
    assert body["detail"] and query.split("=")[0] in body["errors"]


def test_other_lists_filter_search_and_order(grc_client):
    ServiceFactory(slug="payments", name="Payments", environment="staging")
    ServiceFactory(slug="pay-later", name="Pay later", environment="production")
    ServiceFactory(slug="search", name="Search", environment="staging")
    chat = ServiceFactory(slug="chat")
    BindingFactory(service=chat, principal="role/chat")
    BindingFactory(principal="role/other")
    AccessGrantFactory(principal="old-job", expires_on=dt.date(2020, 1, 1))
    AccessGrantFactory(principal="current-job")

    def values(query: str, field: str) -> list:
        response = grc_client.get(f"/api/v1/{query}")
        assert response.status_code == 200, response.json()
        return [row[field] for row in response.json()["results"]]

    assert values("services/?environment=staging&search=pay", "slug") == ["payments"]
    assert values("services/?search=pay&ordering=-slug", "slug") == ["payments", "pay-later"]
    assert values("bindings/?service=chat", "principal") == ["role/chat"]
    assert values("grants/?expired=true", "principal") == ["old-job"]
    signing = Purpose.objects.filter(function="signing").order_by("-slug").values_list("slug", flat=True)
    assert values("purposes/?function=signing&ordering=-slug&page_size=100", "slug") == list(signing)


def test_a_list_page_size_is_capped(grc_client):
    response = grc_client.get("/api/v1/purposes/?page_size=100000")

    assert response.status_code == 200
    assert len(response.json()["results"]) == Purpose.objects.count()


def test_a_page_past_the_end_is_a_json_404(grc_client):
    response = grc_client.get("/api/v1/keys/?page=9")

    assert response.status_code == 404
    assert set(response.json()) == {"detail"}


# --- Writing keys ------------------------------------------------------------------------------------


def test_grc_creates_a_key_through_the_service(grc_client, grc_user, owner):
    store, party = KeyStoreFactory(), PartyFactory()
    payload = key_payload(store, owner="bob", exposed_to=[party.pk], rotation_period_days=365)

    response = send(grc_client, "post", "/api/v1/keys/", payload)

    assert response.status_code == 201, response.json()
    key = Key.objects.get(pk=response.json()["id"])
    assert key.purpose.slug == "inference-log-encryption" and key.owner == owner
    assert list(key.exposed_to.all()) == [party]
    # Derived by key_save from the purpose's maximum cryptoperiod; attributed in the history table.
    assert key.cryptoperiod_ends_on == dt.date(2025, 1, 10) + dt.timedelta(days=key.purpose.max_cryptoperiod_days)
    assert response.json()["cryptoperiod_ends_on"] == key.cryptoperiod_ends_on.isoformat()
    assert key.history.latest().history_user == grc_user


def test_a_partial_update_keeps_the_exposure_unless_it_is_sent(grc_client, grc_user):
    key = KeyFactory()
    party, other = PartyFactory(), PartyFactory()
    key.exposed_to.set([party])

    response = send(grc_client, "patch", f"/api/v1/keys/{key.pk}/", {"state": "suspended"})
    assert response.status_code == 200, response.json()
    assert response.json()["exposed_to"] == [party.pk]

    response = send(grc_client, "patch", f"/api/v1/keys/{key.pk}/", {"exposed_to": [other.pk], "tenant": None})
    assert response.status_code == 200
    key.refresh_from_db()
    assert key.state == "suspended" and list(key.exposed_to.all()) == [other]
    assert key.history.latest().history_user == grc_user


def test_an_unknown_purpose_is_a_400_listing_the_active_purposes(grc_client):
    Purpose.objects.filter(slug="key-wrapping").update(is_active=False)

    response = send(grc_client, "post", "/api/v1/keys/", key_payload(KeyStoreFactory(), purpose="encryptify"))

    assert response.status_code == 400
    message = response.json()["errors"]["purpose"][0]
    assert "expected one of:" in message and "data-encryption" in message
    assert "key-wrapping" not in message
    assert "encryptify" not in message


def test_a_retired_purpose_cannot_be_given_to_a_new_key(grc_client):
    retired = PurposeFactory(is_active=False, name="Old encryption")

    response = send(grc_client, "post", "/api/v1/keys/", key_payload(KeyStoreFactory(), purpose=retired.slug))

    assert response.status_code == 400
    assert "retired" in response.json()["errors"]["purpose"][0]


def test_a_purpose_that_does_not_fit_the_key_kind_is_a_400_on_the_kind(grc_client):
    response = send(grc_client, "post", "/api/v1/keys/", key_payload(KeyStoreFactory(), kind="api-token"))

    assert response.status_code == 400
    assert "kind" in response.json()["errors"]


@pytest.mark.parametrize(
    "field",
    [
        "name",
        "algorithm",
        "external_id",
        "platform_usage",
        "description",
        "exposure_scope",
        "exposure_contract",
        "purpose_justification",
    ],
)
@pytest.mark.parametrize("secret", [PEM, AWS_SECRET], ids=["pem", "aws-secret"])
def test_key_material_in_a_free_text_field_is_refused_naming_the_field(grc_client, field, secret):
    response = send(grc_client, "post", "/api/v1/keys/", key_payload(KeyStoreFactory(), **{field: secret}))

    assert response.status_code == 400
    body = response.json()
    assert list(body["errors"]) == [field]
    message = body["errors"][field][0]
    assert f"'{field}'" in message and "looks like it contains" in message
    assert secret not in response.content.decode() and secret[:20] not in response.content.decode()
    assert not Key.objects.exists()


def test_key_material_in_a_label_is_refused_without_echoing_it(grc_client):
    key = KeyFactory()

    response = send(grc_client, "patch", f"/api/v1/keys/{key.pk}/", {"labels": {"backup": AWS_SECRET}})

    assert response.status_code == 400
    message = response.json()["errors"]["labels"][0]
    assert "Label 'backup'" in message and "looks like it contains" in message
    assert AWS_SECRET not in response.content.decode()
    key.refresh_from_db()
    assert key.labels == {}


def test_key_material_is_refused_on_other_objects_too(grc_client):
    response = send(grc_client, "post", "/api/v1/services/", {"name": "Chat", "slug": "chat", "description": PEM})

    assert response.status_code == 400
    assert "'description' looks like it contains" in response.json()["errors"]["description"][0]
    assert "BEGIN" not in response.content.decode()


def test_an_active_key_cannot_be_deleted_and_the_reason_is_given(grc_client):
    key = KeyFactory(name="prod-data", state=KeyState.ACTIVE)

    response = grc_client.delete(f"/api/v1/keys/{key.pk}/")

    assert response.status_code == 400
    body = response.json()
    assert "stay in the inventory" in body["errors"]["non_field_errors"][0]
    assert Key.objects.filter(pk=key.pk).exists()


def test_a_pre_activation_key_is_deleted(grc_client):
    key = KeyFactory(state=KeyState.PRE_ACTIVATION)

    response = grc_client.delete(f"/api/v1/keys/{key.pk}/")

    assert response.status_code == 204
    assert not Key.objects.filter(pk=key.pk).exists()


# --- Other objects -------------------------------------------------------------------------------------


def test_a_purpose_in_use_cannot_be_deleted(grc_client):
    used = PurposeFactory()
    KeyFactory(purpose=used)

    response = grc_client.delete(f"/api/v1/purposes/{used.pk}/")

    assert response.status_code == 400
    assert "still refer to it" in response.json()["errors"]["non_field_errors"][0]


def test_changing_a_purpose_cryptoperiod_recomputes_its_keys(grc_client):
    mine = PurposeFactory(max_cryptoperiod_days=100)
    key = KeyFactory(purpose=mine, activated_on=dt.date(2025, 1, 1))

    response = send(grc_client, "patch", f"/api/v1/purposes/{mine.pk}/", {"max_cryptoperiod_days": 10})

    assert response.status_code == 200, response.json()
    assert response.json()["key_count"] == 1
    key.refresh_from_db()
    assert key.cryptoperiod_ends_on == dt.date(2025, 1, 11)


def test_a_new_purpose_lists_unknown_operations_as_errors(grc_client):
    payload = {
        "slug": "prompt-signing",
        "name": "Prompt signing",
        "function": "signing",
        "key_type": "private-signature",
        "allowed_kinds": ["private-key"],
        "allowed_operations": ["sign", "teleport"],
    }

    response = send(grc_client, "post", "/api/v1/purposes/", payload)

    assert response.status_code == 400
    assert "Expected one of:" in str(response.json()["errors"]["allowed_operations"])

    payload["allowed_operations"] = ["sign"]
    response = send(grc_client, "post", "/api/v1/purposes/", payload)
    assert response.status_code == 201
    assert response.json()["key_count"] == 0


def test_marking_a_party_as_us_moves_the_mark(grc_client):
    previous = PartyFactory(is_us=True)

    response = send(grc_client, "post", "/api/v1/parties/", {"name": "New us", "roles": ["MP", "AP"], "is_us": True})

    assert response.status_code == 201, response.json()
    previous.refresh_from_db()
    assert not previous.is_us and Party.objects.get(is_us=True).name == "New us"


def test_a_binding_is_written_with_slugs(grc_client):
    key = KeyFactory()
    ServiceFactory(slug="chat")
    payload = {"key": key.pk, "service": "chat", "purpose": "data-encryption", "operations": ["encrypt"]}

    response = send(grc_client, "post", "/api/v1/bindings/", payload)

    assert response.status_code == 201, response.json()
    assert response.json()["key_name"] == key.name and response.json()["service"] == "chat"

    response = send(grc_client, "post", "/api/v1/bindings/", {**payload, "service": "nope"})
    assert response.status_code == 400
    assert "expected one of: chat" in response.json()["errors"]["service"][0]


# --- Errors are JSON and never 500 ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"labels": ["purpose", "x"]}, "labels"),
        ({"labels": {"nested": {"a": 1}}}, "labels"),
        ({"labels": {"tag": "nul\u0000byte"}}, "labels"),
        ({"size_bits": "abc"}, "size_bits"),
        ({"size_bits": -1}, "size_bits"),
        ({"size_bits": 10**30}, "size_bits"),
        ({"state": "melted"}, "state"),
        ({"kind": ["symmetric-key"]}, "kind"),
        ({"name": {"text": "x"}}, "name"),
        ({"name": "nul\u0000byte"}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"activated_on": "yesterday"}, "activated_on"),
        ({"store": "abc"}, "store"),
        ({"store": 10**20}, "store"),
        ({"owner": "nobody"}, "owner"),
        ({"purpose": None}, "purpose"),
        ({"purpose": 12}, "purpose"),
        ({"exposed_to": "everyone"}, "exposed_to"),
        ({"custodian": 999999}, "custodian"),
    ],
)
def test_a_nasty_value_is_a_400_on_its_field(grc_client, overrides, field):
    response = send(grc_client, "post", "/api/v1/keys/", key_payload(KeyStoreFactory(), **overrides))

    assert response.status_code == 400
    body = response.json()
    assert body["detail"] == "The request has invalid fields."
    assert field in body["errors"]


def test_an_unknown_choice_lists_the_valid_ones_without_echoing_the_input(grc_client):
    response = send(grc_client, "post", "/api/v1/keys/", key_payload(KeyStoreFactory(), state="melted"))

    message = response.json()["errors"]["state"][0]
    assert "pre-activation" in message and "destroyed" in message and "melted" not in message


def test_a_duplicate_external_id_in_a_store_is_a_400_not_an_integrity_error(grc_client):
    existing = KeyFactory()
    payload = key_payload(existing.store, external_id=existing.external_id)

    response = send(grc_client, "post", "/api/v1/keys/", payload)

    assert response.status_code == 400
    assert "non_field_errors" in response.json()["errors"]
    assert Key.objects.count() == 1


def test_a_duplicate_slug_is_a_400(grc_client):
    ServiceFactory(slug="chat")

    response = send(grc_client, "post", "/api/v1/services/", {"name": "Chat 2", "slug": "chat"})

    assert response.status_code == 400
    assert "slug" in response.json()["errors"]


@pytest.mark.parametrize("body", ["{not json", '{"name": "x",}', "", "\u0000"])
def test_a_malformed_json_body_is_a_json_400(grc_client, body):
    response = send(grc_client, "post", "/api/v1/keys/", body)

    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert "detail" in response.json()


@pytest.mark.parametrize("body", ["[1, 2]", '"just a string"', "42", "null"])
def test_a_body_that_is_not_an_object_is_a_json_400(grc_client, body):
    response = send(grc_client, "post", "/api/v1/keys/", body)

    assert response.status_code == 400
    assert response.json()["detail"]


def test_a_form_encoded_body_is_a_json_415(grc_client):
    response = grc_client.post("/api/v1/keys/", {"name": "x"})

    assert response.status_code == 415
    assert set(response.json()) == {"detail"}


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/keys/abc/",
        "/api/v1/keys/99999999999999999999999/",
        "/api/v1/keys/999999/",
        "/api/v1/keys/?search=%00",
        "/api/v1/purposes/?search=%00",
        "/api/v1/services/?ordering=%00",
        "/api/v1/keys/?q=%00",
        "/api/v1/keys/?store=%00",
        "/api/v1/bindings/?key=abc",
    ],
)
def test_odd_urls_answer_json_without_a_server_error(grc_client, url):
    response = grc_client.get(url)

    assert response.status_code in (200, 400, 404)
    assert response["Content-Type"] == "application/json"


def test_error_bodies_have_a_detail(client, outsider, grc_client):
    anonymous = client.get("/api/v1/keys/")
    assert anonymous.status_code == 401 and set(anonymous.json()) == {"detail"}
    assert anonymous["WWW-Authenticate"].startswith("Bearer")

    forbidden = login(outsider).get("/api/v1/keys/")
    assert forbidden.status_code == 403 and set(forbidden.json()) == {"detail"}

    missing = grc_client.get("/api/v1/keys/424242/")
    assert missing.status_code == 404 and set(missing.json()) == {"detail"}


# --- Fixed number of queries -------------------------------------------------------------------------


def _rows(endpoint: str, n: int, owner) -> None:
    for _ in range(n):
        party = PartyFactory()
        if endpoint == "keys":
            key = KeyFactory(
                owner=owner,
                backup_owner=UserFactory(),
                purpose_approver=UserFactory(),
                tenant=TenantFactory(),
                custodian=party,
            )
            key.exposed_to.set([party, PartyFactory()])
        elif endpoint == "bindings":
            BindingFactory(key=KeyFactory(owner=owner), tenant=TenantFactory())
        elif endpoint == "grants":
            AccessGrantFactory(key=KeyFactory(owner=owner), approver=UserFactory())
        elif endpoint == "purposes":
            KeyFactory(purpose=PurposeFactory())
        elif endpoint == "services":
            ServiceFactory(owner=UserFactory(), operating_party=party)
        elif endpoint == "tenants":
            TenantFactory(party=party)
        elif endpoint == "key-stores":
            KeyStoreFactory(operating_party=party)
        elif endpoint == "ssrm-assignments":
            from inventory.models import SsrmAssignment

            SsrmAssignment.objects.create(layer="model", party=party, role="MP")
        # parties: the PartyFactory above is the row.


# The most any list may run, as GRC on a session: session, user, groups, count, page, one prefetch, plus
# a margin of three for middleware. Measured: keys 6 (the sixth is the exposed_to prefetch), others 5.
MAX_LIST_QUERIES = 9


LIST_ENDPOINTS = [
    "keys",
    "purposes",
    "services",
    "tenants",
    "parties",
    "key-stores",
    "bindings",
    "grants",
    "ssrm-assignments",
]
OWNER_LISTS = ["keys", "purposes", "bindings", "grants"]


@pytest.mark.parametrize(
    ("as_role", "endpoint"), [("grc", e) for e in LIST_ENDPOINTS] + [("owner", e) for e in OWNER_LISTS]
)
def test_a_list_runs_the_same_number_of_queries_for_1_and_50_rows(
    endpoint, as_role, grc_user, owner, django_assert_max_num_queries
):
    client = login(grc_user if as_role == "grc" else owner)
    url = f"/api/v1/{endpoint}/?page_size=50"

    _rows(endpoint, 1, owner)
    assert client.get(url).status_code == 200  # the first request after a write also computes stored figures
    with CaptureQueriesContext(connection) as one:
        assert client.get(url).status_code == 200
    _rows(endpoint, 49, owner)
    with django_assert_max_num_queries(MAX_LIST_QUERIES):
        response = client.get(url)
    assert response.status_code == 200
    assert len(response.json()["results"]) >= 50

    with CaptureQueriesContext(connection) as fifty:
        client.get(url)
    assert len(fifty) == len(one), "\n".join(q["sql"] for q in fifty.captured_queries)


def test_the_key_list_stays_within_twelve_queries_with_a_token_and_filters(grc_user, django_assert_max_num_queries):
    from cek.apitokens import api_token_issue

    _, raw = api_token_issue(user=grc_user, name="ci")
    _rows("keys", 50, grc_user)
    client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")

    with django_assert_max_num_queries(12):
        response = client.get("/api/v1/keys/?page_size=50&owner=alice&purpose=data-encryption&ordering=-owner")
    assert response.status_code == 200 and response.json()["count"] == 50


# --- OpenAPI -----------------------------------------------------------------------------------------


def test_the_openapi_schema_generates_without_warnings(tmp_path: Path):
    target = tmp_path / "schema.yaml"

    call_command("spectacular", "--fail-on-warn", "--validate", "--file", str(target))

    schema = target.read_text()
    for path in ("/api/v1/keys/", "/api/v1/purposes/{id}/", "/api/v1/bindings/", "/api/v1/ssrm-assignments/"):
        assert f"{path}:" in schema


@pytest.mark.parametrize(
    ("who", "status"),
    [("anonymous", 401), ("outsider", 403), ("expired_auditor", 401), ("owner", 200), ("auditor", 200), ("grc", 200)],
)
def test_the_schema_and_docs_require_a_role(who, status, client, request):
    if who != "anonymous":
        client = login(request.getfixturevalue("grc_user" if who == "grc" else who))

    schema = client.get("/api/schema/?format=json")
    docs = client.get("/api/docs/")

    assert (schema.status_code, docs.status_code) == (status, status)
    if status == 200:
        assert schema.json()["info"]["title"].startswith("CEK-11")


def test_the_swagger_ui_is_served_from_our_own_static_files(grc_client):
    response = grc_client.get("/api/docs/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger-ui-bundle.js" in html
    references = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", html)
    assert references, html
    # The init script comes from the page's own URL (not inline: the Content-Security-Policy refuses that).
    assert all(ref.startswith(("/static/", "/api/docs/?script")) for ref in references), references
    assert not re.search(r"https?://", html), "the docs page must work offline (no CDN)"
    bundle = next(ref for ref in references if ref.endswith("swagger-ui-bundle.js"))
    assert grc_client.get(bundle).status_code == 200
