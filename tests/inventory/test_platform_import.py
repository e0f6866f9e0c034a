"""Platform exports through the whole import flow: store matching, purposes and owners from tags, conflicts,
"purpose unassigned", full imports and "not seen since", idempotent re-imports, every format's good files."""

from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db import IntegrityError, transaction
from django.urls import reverse

from inventory import importing
from inventory.importing import WarningKind
from inventory.models import Binding, Key, KeyImport, KeyState
from tests.factories import (
    BindingFactory,
    KeyFactory,
    KeyStoreFactory,
    PurposeFactory,
    ServiceFactory,
    TenantFactory,
    UserFactory,
)

FIXTURES = Path(__file__).parent / "fixtures"
ACCOUNT, REGION = "111122223333", "eu-west-1"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def grc(db):
    return UserFactory(username="grace", roles=["grc"])


@pytest.fixture
def store(db):
    return KeyStoreFactory(name="aws-prod-eu", kind="aws-kms", account=ACCOUNT, region=REGION)


def aws_key(n: int, *, usage: str = "ENCRYPT_DECRYPT", tags: dict | None = None, **metadata) -> dict:
    key_id = f"0b7fd7b1-8d3c-4f0e-9a57-{n:012d}"
    spec = {"ENCRYPT_DECRYPT": "SYMMETRIC_DEFAULT", "SIGN_VERIFY": "ECC_NIST_P256"}.get(usage, "HMAC_256")
    item = {
        "KeyMetadata": {
            "AWSAccountId": metadata.pop("account", ACCOUNT),
            "KeyId": key_id,
            "Arn": f"arn:aws:kms:{metadata.pop('region', REGION)}:{ACCOUNT}:key/{key_id}",
            "CreationDate": "2025-01-15T10:00:00+00:00",
            "Enabled": True,
            "Description": f"Key {n}",
            "KeyUsage": usage,
            "KeyState": "Enabled",
            "Origin": "AWS_KMS",
            "KeyManager": "CUSTOMER",
            "KeySpec": spec,
            "MultiRegion": False,
            **metadata,
        },
        "Tags": [{"TagKey": name, "TagValue": value} for name, value in (tags or {}).items()],
        "Aliases": [{"AliasName": f"alias/key-{n}"}],
    }
    return item


def dump(items: list[dict]) -> bytes:
    return json.dumps(items).encode()


def preview(data: bytes, actor, *, format: str = "aws-kms", store=None, full: bool = False, name: str = "kms.json"):
    return importing.key_import_preview(data=data, file_name=name, format=format, actor=actor, store=store, full=full)


def imported(data: bytes, actor, **kwargs) -> KeyImport:
    record, plan = preview(data, actor, **kwargs)
    assert not plan.has_errors, plan.errors or plan.file_error
    return importing.key_import_apply(key_import=record, actor=actor)


def key(n: int) -> Key:
    return Key.objects.select_related("purpose", "owner", "tenant").get(external_id__endswith=f"-{n:012d}")


# --- Store matching -------------------------------------------------------------------------------------


def test_the_store_is_found_from_the_accounts_and_regions_in_the_file(grc, store):
    KeyStoreFactory(name="aws-prod-us", kind="aws-kms", account=ACCOUNT, region="us-east-1")
    record, plan = preview(dump([aws_key(1)]), grc)
    assert plan.file_error == "" and plan.store == store and record.store == store
    assert plan.rows[0].store == "aws-prod-eu"


def test_no_matching_store_says_which_one_to_create(grc, db):
    KeyStoreFactory(name="gcp", kind="gcp-kms")
    _, plan = preview(dump([aws_key(1)]), grc)
    assert plan.file_error.startswith(
        f"There is no AWS KMS key store for account '{ACCOUNT}' and region '{REGION}'"
    )


def test_several_matching_stores_ask_the_user_to_choose(grc, store):
    KeyStoreFactory(name="aws-prod-eu-2", kind="aws-kms", account="", region="")
    _, plan = preview(dump([aws_key(1)]), grc)
    assert "Several AWS KMS key stores could hold this file" in plan.file_error
    assert "'aws-prod-eu'" in plan.file_error and "Choose the store when you upload" in plan.file_error


def test_a_chosen_store_of_another_kind_or_account_is_refused(grc, store):
    vault = KeyStoreFactory(name="vault", kind="vault-transit")
    _, plan = preview(dump([aws_key(1)]), grc, store=vault)
    assert "'vault' is a HashiCorp Vault transit store, but this is a AWS KMS export" in plan.file_error.replace(
        "an AWS", "a AWS"
    )
    other = KeyStoreFactory(name="aws-other", kind="aws-kms", account="999988887777", region=REGION)
    _, plan = preview(dump([aws_key(1)]), grc, store=other)
    assert "but the key store 'aws-other' is account '999988887777'" in plan.file_error


def test_a_file_mixing_accounts_or_regions_is_refused_as_mixed_stores(grc, store):
    _, plan = preview(dump([aws_key(1), aws_key(2, region="us-east-1")]), grc)
    assert plan.file_error and "us-east-1" in plan.file_error and KeyImport.objects.get().status == "failed"


# --- Purposes, owners, services and tenants from tags ------------------------------------------------------


def test_tags_set_purpose_owner_tenant_and_add_bindings(grc, store):
    bob = UserFactory(username="bob", email="Bob@Example.com", roles=["key-owners"])
    TenantFactory(slug="acme")
    gateway = ServiceFactory(slug="inference-gateway")
    items = [
        aws_key(
            1,
            tags={
                "Purpose": "inference-log-encryption",
                "owner": "bob@example.com",
                "tenant": "acme",
                "service": "inference-gateway",
            },
        )
    ]
    record = imported(dump(items), grc)
    assert record.counts["new"] == 1 and record.counts["conflicts"] == 0 and record.counts["unassigned"] == 0
    one = key(1)
    assert (one.purpose.slug, one.owner, one.tenant.slug) == ("inference-log-encryption", bob, "acme")
    assert one.platform_usage == "ENCRYPT_DECRYPT" and one.labels["Purpose"] == "inference-log-encryption"
    assert [(b.service, b.purpose) for b in one.bindings.all()] == [(gateway, one.purpose)]
    assert one.history.first().history_user == grc


def test_unknown_tag_values_are_listed_never_created_and_leave_the_field_alone(grc, store):
    items = [
        aws_key(1, tags={"purpose": "data-encryption", "owner": "nobody", "service": "ghost-svc", "tenant": "initech"})
    ]
    record, plan = preview(dump(items), grc)
    assert not plan.has_errors
    assert plan.unknowns == {"owner": ["nobody"], "service": ["ghost-svc"], "tenant": ["initech"]}
    assert record.unknowns == plan.unknowns and plan.counts["unknown"] == 3
    assert {w.column for w in plan.warnings if w.kind == WarningKind.UNKNOWN} == {"owner", "services", "tenant"}
    importing.key_import_apply(key_import=record, actor=grc)
    one = key(1)
    assert one.owner is None and one.tenant is None and not one.bindings.exists()
    assert one.purpose.slug == "data-encryption"


def test_a_key_without_a_purpose_tag_is_imported_as_purpose_unassigned(grc, store):
    record, plan = preview(
        dump([aws_key(1, tags={"team": "ml"}), aws_key(2, tags={"purpose": "no-such-purpose"})]), grc
    )
    assert plan.counts["unassigned"] == 2
    assert [w.kind for w in plan.rows[0].warnings] == [WarningKind.UNASSIGNED]
    assert "(no 'purpose' tag)" in plan.rows[0].warnings[0].message
    assert {w.kind for w in plan.rows[1].warnings} == {WarningKind.UNKNOWN, WarningKind.UNASSIGNED}
    importing.key_import_apply(key_import=record, actor=grc)
    assert key(1).purpose is None and key(2).purpose is None
    assert Key.objects.filter(purpose__isnull=True).count() == 2


def test_a_tag_that_contradicts_the_native_usage_is_imported_as_a_conflict(grc, store):
    items = [aws_key(1, usage="SIGN_VERIFY", tags={"purpose": "data-encryption"})]
    record, plan = preview(dump(items), grc)
    # Two conflicts: the usage (SIGN_VERIFY is no encryption key) and the kind (an ECC private key).
    assert {c.column for c in plan.rows[0].conflicts} == {"purpose", "kind"}
    conflict = next(c for c in plan.rows[0].conflicts if c.column == "purpose")
    assert "contradicts the key's platform usage: the platform usage SIGN_VERIFY allows" in conflict.message
    assert "the purpose is for encryption" in conflict.message
    importing.key_import_apply(key_import=record, actor=grc)
    record.refresh_from_db()
    assert record.counts["conflicts"] == 1 and record.warnings[0]["kind"] == "conflict"
    assert key(1).purpose.slug == "data-encryption"  # imported, with the conflict recorded


def test_a_tag_naming_the_purpose_maps_it_and_leaves_no_finding(grc, store):
    from evidence.checks.base import CheckContext
    from evidence.checks.registry import BY_GUIDELINE

    items = [
        aws_key(1, tags={"purpose": "Data encryption", "owner": "grace"}),
        aws_key(2, tags={"purpose": "DATA_ENCRYPTION"}),
    ]
    record = imported(dump(items), grc)
    assert record.counts["new"] == 2 and record.counts["unassigned"] == 0 and record.counts["unknown"] == 0
    assert key(1).purpose.slug == "data-encryption" and key(2).purpose.slug == "data-encryption"
    for guideline in ("AG-3", "AG-7"):
        failing = {s.id for s in BY_GUIDELINE[guideline].evaluate(CheckContext()).failing}
        assert key(1).pk not in failing and key(2).pk not in failing


def test_a_recorded_purpose_is_never_overwritten_by_a_tag(grc, store):
    imported(dump([aws_key(1, tags={"purpose": "data-encryption"})]), grc)
    signing = PurposeFactory(slug="other-encryption", function="encryption")
    record, plan = preview(dump([aws_key(1, tags={"purpose": signing.slug})]), grc)
    assert [c.column for c in plan.rows[0].changes] == ["labels"]  # the tag changed; the purpose does not
    assert "recorded purpose is kept" in plan.rows[0].conflicts[0].message
    importing.key_import_apply(key_import=record, actor=grc)
    assert key(1).purpose.slug == "data-encryption"


def test_an_unassigned_key_gets_its_purpose_once_the_tag_appears(grc, store):
    imported(dump([aws_key(1)]), grc)
    assert key(1).purpose is None
    record = imported(dump([aws_key(1, tags={"purpose": "data-encryption"})]), grc)
    assert record.counts["changed"] == 1 and key(1).purpose.slug == "data-encryption"


def test_tag_keys_are_configurable_per_store(grc, db):
    custom = KeyStoreFactory(
        kind="aws-kms", account=ACCOUNT, region=REGION, purpose_tag_key="cek:purpose", owner_tag_key="Owner-Email"
    )
    UserFactory(username="dana", email="dana@example.com")
    imported(dump([aws_key(1, tags={"cek:purpose": "data-encryption", "owner-email": "dana@example.com"})]), grc)
    one = key(1)
    assert one.store == custom and one.purpose.slug == "data-encryption" and one.owner.username == "dana"


def test_tag_bindings_are_added_but_never_remove_recorded_ones(grc, store):
    imported(dump([aws_key(1, tags={"purpose": "data-encryption"})]), grc)
    manual = BindingFactory(key=key(1), service=ServiceFactory(slug="manual"), purpose=key(1).purpose)
    ServiceFactory(slug="svc-a")
    record = imported(dump([aws_key(1, tags={"purpose": "data-encryption", "service": "svc-a, manual"})]), grc)
    assert record.counts["changed"] == 1
    assert sorted(key(1).bindings.values_list("service__slug", flat=True)) == ["manual", "svc-a"]
    assert Binding.objects.filter(pk=manual.pk).exists()
    _, plan = preview(dump([aws_key(1, tags={"purpose": "data-encryption", "service": "svc-a, manual"})]), grc)
    assert plan.counts["unchanged"] == 1


# --- Idempotent re-imports, full imports ------------------------------------------------------------------


def test_importing_the_same_file_twice_changes_nothing(grc, store):
    data = dump([aws_key(n, tags={"purpose": "data-encryption"}) for n in range(1, 6)])
    imported(data, grc)
    history = Key.history.count()
    record = imported(data, grc)
    assert record.counts["new"] == 0 and record.counts["changed"] == 0 and record.counts["unchanged"] == 5
    assert Key.history.count() == history


def test_a_full_import_marks_missing_keys_not_seen_and_clears_the_mark_when_they_return(grc, store):
    with time_machine.travel(dt.datetime(2026, 10, 1, 12, tzinfo=dt.UTC)):
        imported(dump([aws_key(n) for n in (1, 2, 3)]), grc, full=True)
    other_store_key = KeyFactory(external_id="elsewhere", store=KeyStoreFactory(kind="gcp-kms"))
    with time_machine.travel(dt.datetime(2026, 11, 1, 12, tzinfo=dt.UTC)):
        record, plan = preview(dump([aws_key(1), aws_key(3)]), grc, full=True)
        assert [k.external_id for k in plan.missing] == [key(2).external_id] and plan.counts["not_seen"] == 1
        importing.key_import_apply(key_import=record, actor=grc)
    assert key(2).not_seen_since == dt.date(2026, 11, 1) and key(2).state == KeyState.ACTIVE  # never deleted
    assert key(1).not_seen_since is None and Key.objects.get(pk=other_store_key.pk).not_seen_since is None
    store.refresh_from_db()
    assert store.last_full_import_at.date() == dt.date(2026, 11, 1)
    assert key(2).history.first().history_change_reason.startswith("AWS KMS import")

    record, plan = preview(dump([aws_key(n) for n in (1, 2, 3)]), grc)  # not full: still clears the mark
    assert plan.rows[1].action == importing.Action.CHANGED
    assert plan.rows[1].changes[-1].column == "not_seen_since"
    importing.key_import_apply(key_import=record, actor=grc)
    assert key(2).not_seen_since is None


def test_a_partial_import_marks_nothing(grc, store):
    imported(dump([aws_key(1), aws_key(2)]), grc)
    imported(dump([aws_key(1)]), grc)
    assert not Key.objects.filter(not_seen_since__isnull=False).exists()


def test_a_full_csv_import_needs_a_single_store(grc, store):
    from tests.inventory.fixtures import GOOD_CSV, make_references

    make_references()
    _, plan = preview(GOOD_CSV.read_bytes(), grc, format="csv", full=True, name="keys.csv")
    assert "names 2 stores" in plan.file_error


# --- "Purpose unassigned" is a state only imports produce -----------------------------------------------------


def test_the_database_refuses_an_unassigned_key_with_a_mapping(grc, store):
    one = KeyFactory(store=store)
    with pytest.raises(IntegrityError), transaction.atomic():
        Key.objects.filter(pk=one.pk).update(purpose=None)  # it still has a justification and reviewed date


def test_the_key_page_and_list_show_unassigned_and_not_seen_keys(client, grc, store):
    imported(dump([aws_key(1)]), grc)
    Key.objects.filter(pk=key(1).pk).update(not_seen_since=dt.date(2026, 11, 2))
    client.force_login(grc)
    page = client.get(key(1).get_absolute_url()).content.decode()
    assert (
        "This key has <strong>no purpose</strong>" in page
        and 'not seen since <time datetime="2026-11-02">2 Nov 2026</time>' in page
    )
    keys = reverse("inventory:key-list")
    listing = client.get(f"{keys}?unassigned=true").content.decode()
    assert "Purpose unassigned" in listing and "key-1" in listing
    assert "key-1" not in client.get(f"{keys}?unassigned=false").content.decode()
    assert "key-1" in client.get(f"{keys}?not_seen=true").content.decode()
    edit = client.post(reverse("inventory:key-update", args=[key(1).pk]), {"name": "x"})
    assert edit.status_code == 200 and "This field is required" in edit.content.decode()


# --- Every format's good files go through the whole flow -----------------------------------------------------

GOOD_FILES = [
    ("aws-kms", "keys.json", "aws-kms"),
    ("gcp-kms", "keys.json", "gcp-kms"),
    ("azure-kv", "keys.json", "azure-kv"),
    ("azure-kv", "managed-hsm.json", "azure-kv"),
    ("azure-kv", "rest-api.json", "azure-kv"),
    ("vault-transit", "keys.json", "vault-transit"),
    ("vault-kv", "secrets.json", "vault-kv"),
]


@pytest.mark.parametrize(("folder", "name", "format"), GOOD_FILES)
def test_a_good_export_imports_and_imports_again_unchanged(grc, folder, name, format):
    data = (FIXTURES / folder / name).read_bytes()
    KeyStoreFactory(name=f"store-{format}", kind=format, account="", region="")
    first = imported(data, grc, format=format, name=name)
    assert first.counts["new"] > 1 and first.counts["errors"] == 0
    assert Key.objects.count() == first.counts["new"]
    again = imported(data, grc, format=format, name=name)
    assert again.counts["new"] == 0 and again.counts["changed"] == 0
    assert again.counts["unchanged"] == first.counts["new"]


# --- The command line ----------------------------------------------------------------------------------------


def test_cli_imports_a_platform_export_into_a_named_store_with_full_and_dry_run(grc, store):
    path = FIXTURES / "aws-kms" / "keys.json"
    out = io.StringIO()
    call_command("import_keys", str(path), "--format", "aws-kms", "--store", store.name, "--dry-run", stdout=out)
    assert f"into {store.name}:" in out.getvalue() and "Dry run: nothing was written." in out.getvalue()
    assert Key.objects.count() == 0 and KeyImport.objects.count() == 0
    stale = KeyFactory(store=store, external_id="arn:aws:kms:eu-west-1:111122223333:key/gone")
    out = io.StringIO()
    call_command("import_keys", str(path), "--format", "aws-kms", "--full", "--user", grc.username, stdout=out)
    assert "no longer listed (marked not seen)" in out.getvalue()
    stale.refresh_from_db()
    assert stale.not_seen_since is not None and KeyImport.objects.get().full


def test_cli_names_the_known_stores_when_the_store_is_unknown(grc, store):
    with pytest.raises(CommandError, match=r"No key store named 'nope'\. Known stores: aws-prod-eu"):
        call_command("import_keys", "x.json", "--format", "aws-kms", "--store", "nope", "--dry-run")


def test_a_corrected_kind_of_a_vault_kv_secret_survives_a_re_import(grc, db):
    data = (FIXTURES / "vault-kv" / "secrets.json").read_bytes()
    KeyStoreFactory(name="vault-kv", kind="vault-kv", account="", region="")
    imported(data, grc, format="vault-kv")
    secret = Key.objects.order_by("pk").first()
    assert secret.kind == "password"
    Key.objects.filter(pk=secret.pk).update(kind="api-token")
    again = imported(data, grc, format="vault-kv")
    assert again.counts["changed"] == 0
    secret.refresh_from_db()
    assert secret.kind == "api-token"


# --- CycloneDX: the app's own export imports back unchanged; a scanner's CBOM goes into a chosen store -----


def test_a_cbom_export_imports_back_with_no_change(varied_inventory, grc_user, settings, tmp_path):
    from inventory.exporters import get_exporter

    settings.MEDIA_ROOT = tmp_path / "media"
    data = "".join(get_exporter("cbom", "keys")(Key.objects.all())).encode()
    history = Key.history.count()
    record, plan = preview(data, grc_user, format="cbom", name="inventory.cdx.json")
    assert plan.errors == [] and plan.file_error == ""
    assert plan.counts["unchanged"] == Key.objects.count() and plan.counts["new"] == plan.counts["changed"] == 0
    importing.key_import_apply(key_import=record, actor=grc_user)
    assert Key.history.count() == history


def test_a_third_party_cbom_imports_its_keys_into_the_chosen_store_as_purpose_unassigned(grc):
    store = KeyStoreFactory(name="scanned", kind="other", account="", region="")
    data = (FIXTURES / "cbom" / "scanner-1.6.cdx.json").read_bytes()
    _, plan = preview(data, grc, format="cbom", name="scan.cdx.json")
    assert plan.counts["errors"] and "choose the store the file belongs to" in plan.errors[0].message
    record = imported(data, grc, format="cbom", store=store, name="scan.cdx.json")
    assert record.counts["new"] == record.counts["unassigned"] > 0
    assert set(Key.objects.values_list("store__name", flat=True)) == {"scanned"}
