"""CSV exports: keys (round trip through the importer, filters, visibility), services, bindings; the CLI."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.management import call_command
from django.http import StreamingHttpResponse
from django.urls import reverse

from inventory import importing
from inventory.exporters import get_exporter
from inventory.exporters.csv import BINDING_COLUMNS, SERVICE_COLUMNS
from inventory.importers.csv import COLUMN_NAMES
from inventory.models import Key, KeyState
from tests.conftest import login
from tests.factories import (
    BindingFactory,
    KeyFactory,
    KeyStoreFactory,
    PartyFactory,
    ServiceFactory,
    TenantFactory,
    purpose,
)


def read_csv(chunks) -> list[dict[str, str]]:
    text = "".join(chunks)
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text[1:], newline="")))


def body(response) -> str:
    assert isinstance(response, StreamingHttpResponse)
    return b"".join(response.streaming_content).decode("utf-8")


def test_an_export_imports_back_as_all_unchanged(db, grc_user, owner, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    store, tenant = KeyStoreFactory(name="prod; eu"), TenantFactory(slug="acme")
    partner, cloud = PartyFactory(name="Partner Labs"), PartyFactory(name="Example Cloud")
    gateway, trainer = ServiceFactory(slug="gateway"), ServiceFactory(slug="trainer")
    full = KeyFactory(
        store=store,
        name='Inference logs, "EU"',
        description="=HYPERLINK(x)\nsecond line, with a comma",
        labels={"env": "prod", "note": "a;b=c", "count": 3},
        owner=owner,
        backup_owner=grc_user,
        purpose_approver=grc_user,
        tenant=tenant,
        custodian=cloud,
        exposure_scope="-read only",
        exposure_contract="+MSA-17",
        rotation_period_days=365,
        cryptoperiod_days=400,
        expires_on=None,
        platform_usage="ENCRYPT_DECRYPT",
    )
    full.exposed_to.set([partner, cloud])
    BindingFactory(key=full, service=gateway, tenant=tenant)
    BindingFactory(key=full, service=trainer, purpose=purpose("key-wrapping"))  # a second purpose: a finding, kept
    KeyFactory(store=store, labels={"simple": "yes"}, state=KeyState.DESTROYED, purpose_reviewed_on=None)
    KeyFactory(
        store=KeyStoreFactory(name="vault"),
        kind="api-token",
        purpose=purpose("api-authentication"),
        size_bits=None,
        algorithm="",
    )

    data = "".join(get_exporter("csv", "keys")(Key.objects.order_by("pk"))).encode("utf-8")
    plan = importing.key_import_plan(data=data, file_name="export.csv", format="csv")

    assert plan.errors == [] and plan.file_error == ""
    assert plan.counts["unchanged"] == 3 and plan.counts["new"] == plan.counts["changed"] == 0


def test_the_key_export_has_the_import_columns_and_one_row_per_key(db):
    key = KeyFactory(labels={"env": "prod", "team": "ml"})
    BindingFactory(key=key, service=ServiceFactory(slug="gateway"))
    (row,) = read_csv(get_exporter("csv", "keys")(Key.objects.all()))
    assert tuple(row) == COLUMN_NAMES
    assert row["external_id"] == key.external_id and row["purpose"] == "data-encryption"
    assert row["labels"] == "env=prod;team=ml" and row["services"] == "gateway"


def test_cells_that_a_spreadsheet_would_run_as_formulas_are_escaped(db):
    KeyFactory(description="=cmd|' /C calc'!A0")
    (row,) = read_csv(get_exporter("csv", "keys")(Key.objects.all()))
    assert row["description"] == "'=cmd|' /C calc'!A0"


def test_key_export_view_streams_csv_with_the_list_filters(grc_client):
    active = KeyFactory(name="Active key")
    KeyFactory(name="Destroyed key", state=KeyState.DESTROYED)
    response = grc_client.get(reverse("inventory:export-keys"), {"state": "active"})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="keys-')
    rows = list(csv.DictReader(io.StringIO(body(response).lstrip("\ufeff"))))
    assert [r["external_id"] for r in rows] == [active.external_id]


def test_an_invalid_filter_is_refused_rather_than_exporting_everything(grc_client):
    KeyFactory()
    response = grc_client.get(reverse("inventory:export-keys"), {"purpose": "no-such-purpose"})
    assert response.status_code == 400
    assert "“Purpose” does not accept “no-such-purpose”" in response.content.decode()


def test_a_key_owner_exports_only_the_keys_they_own_or_back_up(owner, other_owner):
    mine, backed_up = KeyFactory(owner=owner), KeyFactory(owner=other_owner, backup_owner=owner)
    KeyFactory(owner=other_owner)
    rows = list(csv.DictReader(io.StringIO(body(login(owner).get(reverse("inventory:export-keys"))).lstrip("\ufeff"))))
    assert sorted(r["external_id"] for r in rows) == sorted([mine.external_id, backed_up.external_id])


@pytest.mark.parametrize(
    ("url_name", "allowed"),
    [
        ("inventory:export-keys", {"grc", "auditor", "owner", "other_owner"}),
        ("inventory:export-services", {"grc", "auditor"}),
        ("inventory:export-bindings", {"grc", "auditor", "owner", "other_owner"}),
    ],
)
def test_export_permissions(role, url_name, allowed):
    name, _user, client = role
    response = client.get(reverse(url_name))
    if name in allowed:
        assert response.status_code == 200
        body(response)
    elif name in ("anonymous", "expired_auditor"):
        assert response.status_code == 302 and "/login/" in response["Location"]
    else:
        assert response.status_code == 403


def test_key_export_runs_a_fixed_number_of_queries(grc_client, django_assert_max_num_queries):
    for _ in range(30):
        BindingFactory(key=KeyFactory(), service=ServiceFactory())
    with django_assert_max_num_queries(8):
        content = body(grc_client.get(reverse("inventory:export-keys")))
    assert content.count("\r\n") == 31


def test_services_and_bindings_exports(grc_client, owner):
    service = ServiceFactory(slug="gateway", name="Gateway", owner=owner, lifecycle_phase="deployment")
    key = KeyFactory(owner=owner)
    BindingFactory(key=key, service=service, tenant=TenantFactory(slug="acme"), operations=["encrypt", "decrypt"])
    BindingFactory()  # someone else's key

    services = list(
        csv.DictReader(io.StringIO(body(grc_client.get(reverse("inventory:export-services"))).lstrip("\ufeff")))
    )
    gateway = next(r for r in services if r["slug"] == "gateway")
    assert (
        tuple(gateway) == SERVICE_COLUMNS and gateway["owner"] == "bob" and gateway["lifecycle_phase"] == "deployment"
    )

    response = login(owner).get(reverse("inventory:export-bindings"))
    (binding,) = csv.DictReader(io.StringIO(body(response).lstrip("\ufeff")))
    assert tuple(binding) == BINDING_COLUMNS
    assert (binding["external_id"], binding["service"], binding["tenant"], binding["operations"]) == (
        key.external_id,
        "gateway",
        "acme",
        "encrypt;decrypt",
    )
    all_rows = body(grc_client.get(reverse("inventory:export-bindings"))).strip().split("\r\n")
    assert len(all_rows) == 3


def test_cli_exports_keys_to_stdout_or_a_file(db, tmp_path):
    key = KeyFactory()
    out = io.StringIO()
    call_command("export_keys", "--format", "csv", stdout=out)
    assert key.external_id in out.getvalue() and out.getvalue().lstrip("\ufeff").startswith("store,external_id,")

    target = tmp_path / "keys.csv"
    call_command("export_keys", "--output", str(target), stderr=io.StringIO())
    plan = importing.key_import_plan(data=target.read_bytes(), file_name="keys.csv", format="csv")
    assert plan.counts["unchanged"] == 1

    call_command("export_keys", "--table", "bindings", stdout=(out := io.StringIO()))
    assert out.getvalue().lstrip("\ufeff").startswith(",".join(BINDING_COLUMNS))
