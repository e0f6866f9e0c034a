"""Key usage in the evidence pack (issue 13, AG-9): ``usage.csv`` (the window's aggregates of the scope, in the zip,
its manifest and ``pack.json``, through the export guard) and the PDF's section 12 read back with pypdf."""

from __future__ import annotations

import base64
import csv
import datetime as dt
import io
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from evidence.models import EvidencePack, PackStatus
from evidence.packs import builder
from evidence.packs.content import collect
from evidence.packs.content.usage import USAGE_HEADER, usage_rows, usage_section
from evidence.packs.data import DATA_FILES, _batched, csv_cell
from evidence.packs.pdf import DATA_FILES as PDF_DATA_FILES
from evidence.packs.pdf import render_pack_pdf
from evidence.packs.scope import window_bounds
from evidence.usage.models import IngestionStatus
from tests.evidence import packs_support
from tests.evidence.packs_data import make_pack, make_run
from tests.evidence.packs_support import build, members, request_pack, zip_bytes
from tests.evidence.test_pack_pdf import flat, pdf_text
from tests.evidence.usage_figures_support import AZURE_REF, HMAC_PRINCIPAL, aggregate, ingestion
from tests.factories import KeyFactory, KeyStoreFactory, TenantFactory

pytestmark = pytest.mark.django_db

signing_key, fake_pdf, us = packs_support.signing_key, packs_support.fake_pdf, packs_support.us


@pytest.fixture
def world(db):
    prod, dev = KeyStoreFactory(name="prod-kms"), KeyStoreFactory(name="dev-vault")
    orders = KeyFactory(name="orders-dek", store=prod, state="active")
    billing = KeyFactory(name="billing-dek", store=prod, state="active")
    KeyFactory(name="idle-dek", store=prod, state="suspended")
    KeyFactory(name="old-dek", store=prod, state="destroyed")
    dev_key = KeyFactory(name="dev-dek", store=dev, state="active")
    aggregate(key=orders, count=40, days_ago=2)
    aggregate(key=orders, operation="Sign", error_code="AccessDeniedException", count=3, days_ago=2)
    aggregate(key=billing, principal=HMAC_PRINCIPAL, count=5, days_ago=3, source="vault-audit")
    aggregate(store=prod, key_ref=AZURE_REF, count=7, days_ago=4, source="azure-kv")  # unknown to the inventory
    aggregate(store=dev, key_ref="transit/keys/ghost", count=2, days_ago=4, source="vault-audit")  # unknown
    aggregate(key=dev_key, count=11, days_ago=5)
    aggregate(key=orders, count=1000, days_ago=200)  # before the window
    ingestion(store=prod, events=58, days_ago=2)
    ingestion(store=dev, status=IngestionStatus.FAILED, days_ago=3)
    ingestion(store=prod, events=9, days_ago=300)  # before the window
    return {"prod": prod, "dev": dev, "orders": orders, "billing": billing, "dev_key": dev_key}


def csv_rows(pack) -> list[dict]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(USAGE_HEADER)
    writer.writerows([[csv_cell(v) for v in row] for row in usage_rows(pack, _batched)])
    return list(csv.DictReader(io.StringIO(buffer.getvalue())))


def test_usage_csv_is_in_the_zip_the_manifest_and_pack_json(grc_user, us, world, signing_key, fake_pdf):
    today = timezone.localdate()
    pack = build(grc_user, window_from=today - dt.timedelta(days=90), window_to=today, sample_size=1)
    files = members(zip_bytes(pack))
    assert "usage.csv" in DATA_FILES and "usage.csv" in dict(PDF_DATA_FILES)
    rows = list(csv.DictReader(io.StringIO(files["usage.csv"].decode("utf-8"))))
    assert (
        list(rows[0])
        == USAGE_HEADER
        == [
            "day",
            "store",
            "key",
            "key_ref",
            "known",
            "principal",
            "principal_type",
            "operation",
            "outcome",
            "count",
            "first_seen",
            "last_seen",
            "source",
        ]
    )
    assert len(rows) == 6  # the 200-day-old aggregate is outside the window
    failed = next(row for row in rows if row["operation"] == "Sign")
    assert failed["outcome"] == "AccessDeniedException" and failed["count"] == "3" and failed["key"] == "orders-dek"
    assert failed["store"] == "prod-kms" and failed["known"] == "true"
    assert failed["key_ref"] == world["orders"].external_id and failed["principal_type"] == "role"
    assert failed["day"] == (timezone.now().date() - dt.timedelta(days=2)).isoformat()
    unknown = next(row for row in rows if row["key_ref"] == AZURE_REF)
    assert (unknown["known"], unknown["key"], unknown["store"], unknown["source"]) == (
        "false",
        "",
        "prod-kms",
        "azure-kv",
    )
    assert next(row for row in rows if row["key"] == "billing-dek")["principal"] == HMAC_PRINCIPAL
    assert {row["outcome"] for row in rows} == {"success", "AccessDeniedException"}
    text = files["usage.csv"].decode("utf-8")
    assert "d7b2f1a4" not in text and "acme" not in text  # no event ids, no context values
    manifest = json.loads(files["manifest.json"])
    assert "usage.csv" in {entry["name"] for entry in manifest["files"]}
    assert json.loads(files["pack.json"])["files"]["usage.csv"]["rows"] == 6


def test_a_store_scope_keeps_its_keys_and_its_unknown_references(world):
    pack = make_pack(sample_size=1)
    pack.stores.set([world["prod"]])
    rows = csv_rows(pack)
    assert {row["store"] for row in rows} == {"prod-kms"}
    assert {row["key"] for row in rows} == {"orders-dek", "billing-dek", ""}
    assert [row["key_ref"] for row in rows if row["known"] == "false"] == [AZURE_REF]


def test_a_tenant_scope_keeps_its_keys_and_no_unknown_reference(world):
    tenant = TenantFactory()
    world["dev_key"].tenant = tenant
    world["dev_key"].save()
    pack = make_pack(sample_size=1)
    pack.tenants.set([tenant])
    rows = csv_rows(pack)
    assert [(row["key"], row["count"]) for row in rows] == [("dev-dek", "11")]


def test_the_whole_organisation_keeps_every_unknown_reference(world):
    aggregate(key_ref="alias/nowhere", count=1)  # no store matched
    rows = csv_rows(make_pack(sample_size=1))
    unknown = sorted(row["key_ref"] for row in rows if row["known"] == "false")
    assert unknown == sorted([AZURE_REF, "transit/keys/ghost", "alias/nowhere"])


def test_key_material_in_an_aggregate_stops_the_pack_naming_usage_csv(grc_user, us, world, signing_key, fake_pdf):
    aggregate(key=world["orders"], principal=base64.b64encode(bytes(range(32))).decode())
    today = timezone.localdate()
    pack = request_pack(grc_user, window_from=today - dt.timedelta(days=90), window_to=today, sample_size=1)
    built = builder.build_pack(pack.pk)
    assert built.status == PackStatus.FAILED
    assert "usage.csv was not produced" in built.last_error and "column 'principal'" in built.last_error
    assert EvidencePack.objects.get(pk=pack.pk).status == PackStatus.FAILED


def test_the_pdf_has_the_usage_section_with_ag9_of_the_pack_s_run(world):
    run = make_run(statuses={"AG-9": "fail"})
    pack = make_pack(sample_size=1)
    content = collect(pack)
    section = content.usage
    assert (section.calls, section.failed_calls, section.unknown_refs) == (68, 3, 2)
    assert (section.ingestions, section.ingestions_succeeded, section.ingestions_failed, section.records) == (
        2,
        1,
        1,
        58,
    )
    by_store = {row["store"]: row for row in section.stores.rows}
    assert by_store["prod-kms"]["keys_used"] == 2 and by_store["prod-kms"]["keys_in_use"] == 3
    assert by_store["prod-kms"]["calls"] == 55 and by_store["prod-kms"]["failed_calls"] == 3
    assert by_store["prod-kms"]["unknown_refs"] == 1 and by_store["prod-kms"]["fresh"]
    text = flat(pdf_text(render_pack_pdf(pack, content, data_digest="ab12" * 16).data))
    assert "12 Key usage" in text or "12Key usage" in text
    assert f"AG-9 in check run #{run.pk}" in text and "metric of AG-9" in text
    assert "Calls recorded in the window 68" in text and "Failed calls 3" in text
    tight = text.replace(" ", "")  # pypdf drops some spaces between a table's cells
    assert "Unknownkeyreferences2" in tight
    assert "Ingestionsinthewindow2(1succeeded,1failed),58eventskept" in tight
    newest = (timezone.now().date() - dt.timedelta(days=2)).isoformat()
    assert f"prod-kms {newest} (fresh) 55 2 of 3 3 1" in text
    assert "dev-vault" in text and "1 of 1" in text
    assert "usage.csv" in text


def test_the_pdf_section_without_usage_or_run():
    KeyFactory(name="lonely", store=KeyStoreFactory(name="quiet-kms"), state="active")
    pack = make_pack(sample_size=1)
    text = flat(pdf_text(render_pack_pdf(pack, collect(pack), data_digest="ab12" * 16).data))
    assert "No check run had finished by the end of the window." in text
    assert "Calls recorded in the window 0" in text
    assert "quiet-kms No usage ingested 0 0 of 1 0 0" in text


def test_stores_beyond_the_row_limit_are_in_the_data_file_only(settings, world):
    settings.CEK_PACK_PDF_MAX_ROWS = 1
    content = collect(make_pack(sample_size=1))
    assert content.usage.stores.total == 2 and content.usage.stores.in_data_file_only
    assert content.usage.calls == 68


def test_the_section_reads_a_constant_number_of_queries(world):
    run = make_run()
    pack = make_pack(sample_size=1)
    start, end = window_bounds(pack)
    with CaptureQueriesContext(connection) as few:
        usage_section(pack, run.pk, start, end, 300)
    for n in range(5):
        store = KeyStoreFactory(name=f"more-{n}")
        key = KeyFactory(store=store, state="active")
        aggregate(key=key, count=n + 1)
        aggregate(store=store, key_ref=f"alias/unknown-{n}")
        ingestion(store=store)
    with CaptureQueriesContext(connection) as many:
        section = usage_section(pack, run.pk, start, end, 300)
    assert section.stores.total == 7
    assert len(many.captured_queries) == len(few.captured_queries) <= 6
