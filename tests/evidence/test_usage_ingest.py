"""Ingesting usage logs: CloudTrail KMS events (as delivered to S3, gzip, JSON lines) and the usage CSV become
aggregates per key, principal, operation, outcome and day; keys resolved by ARN, alias, key id; unknown keys kept;
the same file twice counts once; bad input is refused with nothing written."""

from __future__ import annotations

import datetime as dt
import gzip

import pytest
from django.core.management import CommandError, call_command

from evidence.usage.models import IngestionStatus, UsageAggregate, UsageIngestion
from evidence.usage.services import IngestionRefused, usage_ingest_path
from tests.evidence.usage_support import (
    ALICE,
    CLOUDTRAIL,
    KEY_ARN,
    MRK_ARN,
    ROLE,
    TRAIL_KEY_ARN,
    UNKNOWN_KEY_ID,
    USAGE_CSV,
    inventory,
    other_store,
    records,
    write_gzip,
    write_lines,
    write_records,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def keys(owner):
    return inventory(owner=owner)


def ingest(path, user, *, source="cloudtrail", store=None) -> UsageIngestion:
    return usage_ingest_path(source=source, path=str(path), user=user, store=store)


def table() -> dict[tuple, UsageAggregate]:
    return {
        (row.key_ref, row.principal, row.operation, row.error_code, row.day.isoformat()): row
        for row in UsageAggregate.objects.select_related("key")
    }


def test_it_aggregates_a_cloudtrail_file_per_key_principal_operation_outcome_and_day(grc_user, keys):
    ingestion = ingest(CLOUDTRAIL, grc_user)

    assert ingestion.status == IngestionStatus.SUCCEEDED, ingestion.last_error
    assert ingestion.counts["events"] == 8
    assert ingestion.counts["skipped"] == 1  # the CreateKey
    rows = table()
    decrypts = rows[(KEY_ARN, ALICE, "Decrypt", "", "2026-11-02")]
    assert decrypts.key == keys["key"]
    assert decrypts.store == keys["store"]
    assert decrypts.count == 2  # one named the key, the other only had it in resources
    assert decrypts.first_seen == dt.datetime(2026, 11, 2, 22, 58, 24, tzinfo=dt.UTC)
    assert decrypts.last_seen == dt.datetime(2026, 11, 2, 23, 10, 5, tzinfo=dt.UTC)
    assert decrypts.sample_event_ids == ["abcde202-ba1a-467c-b4ba-f729d45ae521", "bbcde202-ba1a-467c-b4ba-f729d45ae521"]
    assert decrypts.principal_type == "user"


def test_an_assumed_role_session_counts_for_the_role_behind_it_with_its_encryption_context(grc_user, keys):
    ingest(CLOUDTRAIL, grc_user)

    row = table()[(KEY_ARN, ROLE, "GenerateDataKey", "", "2026-11-02")]
    assert row.principal_type == "role"
    assert row.context == {"Department": ["IT"], "tenant": ["acme"]}


def test_a_failed_call_naming_an_alias_is_its_own_outcome_on_the_aliased_key(grc_user, keys):
    ingest(CLOUDTRAIL, grc_user)

    rows = table()
    failed = rows[(KEY_ARN, ROLE, "Decrypt", "AccessDeniedException", "2026-11-02")]
    assert failed.key == keys["key"]
    assert failed.count == 1
    assert failed.failed
    encrypt = rows[(KEY_ARN, ALICE, "Encrypt", "", "2026-11-02")]  # keyId alias, the key ARN in resources
    assert encrypt.key == keys["key"]


def test_a_multi_region_key_is_the_one_of_the_events_region(grc_user, keys):
    ingest(CLOUDTRAIL, grc_user)

    row = table()[(MRK_ARN, "arn:aws:iam::111122223333:role/ReleaseSigner", "Sign", "", "2026-11-03")]
    assert row.key == keys["mrk"]
    assert row.key != keys["mrk_replica"]


def test_an_aws_service_principal_is_recorded_as_platform_use(grc_user, keys):
    ingest(CLOUDTRAIL, grc_user)

    row = table()[(TRAIL_KEY_ARN, "cloudtrail.amazonaws.com", "GenerateDataKey", "", "2026-11-03")]
    assert row.principal_type == "service"
    assert row.key == keys["trail_key"]
    assert set(row.context) == {"aws:cloudtrail:arn", "aws:s3:arn"}


def test_a_key_the_inventory_does_not_know_is_kept_as_an_unknown_key_aggregate(grc_user, keys):
    ingestion = ingest(CLOUDTRAIL, grc_user)

    row = table()[(UNKNOWN_KEY_ID, ALICE, "Encrypt", "NotFoundException", "2026-11-03")]
    assert row.key is None
    assert row.store == keys["store"]  # matched by the event's account and region
    assert ingestion.counts["unknown_keys"] == 1
    assert ingestion.counts["keys"] == 3  # the key, the multi-region key, the trail key


def test_gzip_and_json_lines_give_the_same_aggregates_as_the_delivered_file(grc_user, keys, tmp_path):
    ingest(CLOUDTRAIL, grc_user)
    expected = {dims: (row.count, row.key_id) for dims, row in table().items()}

    for path in (
        write_gzip(tmp_path / "delivered.json.gz"),
        write_lines(tmp_path / "events.jsonl", records()),
        write_lines(tmp_path / "events.jsonl.gz", records(), compress=True),
    ):
        UsageAggregate.objects.all().delete()
        ingestion = ingest(path, grc_user)
        assert ingestion.status == IngestionStatus.SUCCEEDED, ingestion.last_error
        assert {dims: (row.count, row.key_id) for dims, row in table().items()} == expected


def test_the_same_file_again_changes_nothing(grc_user, keys):
    ingest(CLOUDTRAIL, grc_user)
    before = {dims: row.count for dims, row in table().items()}

    with pytest.raises(IngestionRefused, match=r"already ingested .* Nothing changed"):
        ingest(CLOUDTRAIL, grc_user)

    assert {dims: row.count for dims, row in table().items()} == before
    assert UsageIngestion.objects.count() == 1


def test_a_later_file_adds_to_the_same_aggregates_and_widens_first_and_last_seen(grc_user, keys, tmp_path):
    ingest(CLOUDTRAIL, grc_user)
    later = records()[0] | {"eventID": "later-0001", "eventTime": "2026-11-02T23:59:59Z"}
    earlier = records()[0] | {"eventID": "earlier-0001", "eventTime": "2026-11-02T00:00:01Z"}

    ingestion = ingest(write_records(tmp_path / "more.json", [later, earlier]), grc_user)

    assert ingestion.counts["merged"] == 1
    assert ingestion.counts["created"] == 0
    row = table()[(KEY_ARN, ALICE, "Decrypt", "", "2026-11-02")]
    assert row.count == 4
    assert row.first_seen == dt.datetime(2026, 11, 2, 0, 0, 1, tzinfo=dt.UTC)
    assert row.last_seen == dt.datetime(2026, 11, 2, 23, 59, 59, tzinfo=dt.UTC)
    assert len(row.sample_event_ids) == 4
    assert row.sample_event_ids[:2] == ["abcde202-ba1a-467c-b4ba-f729d45ae521", "bbcde202-ba1a-467c-b4ba-f729d45ae521"]


def test_samples_of_event_ids_are_bounded(grc_user, keys, tmp_path):
    events = [records()[0] | {"eventID": f"event-{n:04d}"} for n in range(12)]

    ingest(write_records(tmp_path / "many.json", events), grc_user)

    row = table()[(KEY_ARN, ALICE, "Decrypt", "", "2026-11-02")]
    assert row.count == 12
    assert len(row.sample_event_ids) == 5


def test_an_encryption_context_value_that_looks_like_a_secret_is_withheld(grc_user, keys, tmp_path):
    event = records()[3]
    secret = "AKIAIOSFODNN7EXAMPLE/wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    event["requestParameters"]["encryptionContext"] = {"tenant": "acme", "password": f"password={secret}"}

    ingestion = ingest(write_records(tmp_path / "context.json", [event]), grc_user)

    assert ingestion.status == IngestionStatus.SUCCEEDED, ingestion.last_error
    row = UsageAggregate.objects.get()
    assert row.context["tenant"] == ["acme"]
    assert row.context["password"][0].startswith("(withheld: looks like ")
    assert secret not in str(row.context)
    assert ingestion.counts["withheld_context_values"] == 1


def test_a_principal_that_looks_like_a_secret_refuses_the_file(grc_user, keys, tmp_path):
    event = records()[0]
    event["userIdentity"]["arn"] = "-----BEGIN RSA PRIVATE KEY-----"

    ingestion = ingest(write_records(tmp_path / "secret.json", [event, records()[1]]), grc_user)

    assert ingestion.status == IngestionStatus.FAILED
    assert "a principal in the file looks like it contains" in ingestion.last_error
    assert "BEGIN" not in ingestion.last_error
    assert not UsageAggregate.objects.exists()


def test_a_truncated_gzip_is_refused_with_nothing_written(grc_user, keys, tmp_path):
    whole = write_gzip(tmp_path / "whole.json.gz").read_bytes()
    cut = tmp_path / "cut.json.gz"
    cut.write_bytes(whole[: len(whole) // 2])

    ingestion = ingest(cut, grc_user)

    assert ingestion.status == IngestionStatus.FAILED
    assert "the gzip file is cut short" in ingestion.last_error
    assert not UsageAggregate.objects.exists()


def test_a_gzip_cut_exactly_after_a_whole_event_is_refused_too(grc_user, keys, tmp_path):
    import json
    import zlib

    compressor = zlib.compressobj(6, zlib.DEFLATED, 31)
    lines = [json.dumps(event) + "\n" for event in records()]
    data = compressor.compress("".join(lines[:4]).encode()) + compressor.flush(zlib.Z_FULL_FLUSH)
    cut = tmp_path / "cut.jsonl.gz"
    cut.write_bytes(data)  # four whole events, then nothing: no end of stream
    assert len(gzip.GzipFile(fileobj=__import__("io").BytesIO(data)).read1()) > 0

    ingestion = ingest(cut, grc_user)

    assert ingestion.status == IngestionStatus.FAILED
    assert "the gzip file is cut short" in ingestion.last_error
    assert not UsageAggregate.objects.exists()


@pytest.mark.parametrize(
    ("path", "source", "message"),
    [
        (USAGE_CSV, "cloudtrail", "not readable"),
        (CLOUDTRAIL, "usage-csv", "not readable as Usage CSV"),
    ],
)
def test_a_file_of_another_format_is_refused(grc_user, keys, path, source, message):
    ingestion = ingest(path, grc_user, source=source)

    assert ingestion.status == IngestionStatus.FAILED
    assert message in ingestion.last_error
    assert not UsageAggregate.objects.exists()


def test_json_lines_that_are_not_cloudtrail_events_are_refused_as_another_format(grc_user, keys, tmp_path):
    gcp = {"protoPayload": {"serviceName": "cloudkms.googleapis.com"}, "timestamp": "2026-11-02T00:00:00Z"}
    path = write_lines(tmp_path / "gcp.jsonl", [gcp, records()[0]])

    ingestion = ingest(path, grc_user)

    assert ingestion.status == IngestionStatus.FAILED
    assert "1 of 2 records are not AWS CloudTrail (KMS) events" in ingestion.last_error
    assert not UsageAggregate.objects.exists()


def test_events_of_another_account_than_the_chosen_store_are_refused_with_nothing_written(grc_user, keys):
    ingestion = ingest(CLOUDTRAIL, grc_user, store=other_store())

    assert ingestion.status == IngestionStatus.FAILED
    assert "events of account 111122223333" in ingestion.last_error
    assert "the store kms-other is account 444455556666" in ingestion.last_error
    assert not UsageAggregate.objects.exists()


def test_a_failed_file_can_be_ingested_again_once_fixed(grc_user, keys, tmp_path):
    assert ingest(CLOUDTRAIL, grc_user, store=other_store()).status == IngestionStatus.FAILED

    assert ingest(CLOUDTRAIL, grc_user, store=keys["store"]).status == IngestionStatus.SUCCEEDED


def test_a_store_of_another_platform_is_refused_before_reading(grc_user, keys):
    from tests.factories import KeyStoreFactory

    vault = KeyStoreFactory(name="vault", kind="vault-transit", account="", region="")
    with pytest.raises(IngestionRefused, match="HashiCorp Vault transit store"):
        ingest(CLOUDTRAIL, grc_user, store=vault)


def test_the_usage_csv_names_stores_and_splits_errors_into_their_own_outcome(grc_user, keys):
    ingestion = ingest(USAGE_CSV, grc_user, source="usage-csv")

    assert ingestion.status == IngestionStatus.SUCCEEDED, ingestion.last_error
    rows = table()
    assert rows[(KEY_ARN, ROLE, "Decrypt", "", "2026-11-04")].count == 117
    assert rows[(KEY_ARN, ROLE, "Decrypt", "Error", "2026-11-04")].count == 3
    by_alias = rows[(KEY_ARN, ROLE, "Encrypt", "", "2026-11-04")]
    assert by_alias.key == keys["key"]
    unknown = UsageAggregate.objects.get(key__isnull=True)
    assert unknown.store is None
    assert unknown.key_ref == "projects/p/locations/global/keyRings/r/cryptoKeys/unknown"


def test_a_usage_csv_row_that_does_not_read_refuses_the_file(grc_user, keys, tmp_path):
    path = tmp_path / "bad.csv"
    text = USAGE_CSV.read_text().replace(",120,3,", ",120,300,")
    path.write_text(text)

    ingestion = ingest(path, grc_user, source="usage-csv")

    assert ingestion.status == IngestionStatus.FAILED
    assert "1 of 3 records are not" in ingestion.last_error
    assert not UsageAggregate.objects.exists()


def test_a_usage_csv_naming_a_store_that_does_not_exist_is_refused(grc_user, keys, tmp_path):
    path = tmp_path / "nostore.csv.gz"
    with gzip.open(path, "wt") as out:
        out.write(USAGE_CSV.read_text().replace("kms-prod,", "kms-nowhere,"))

    ingestion = ingest(path, grc_user, source="usage-csv")

    assert ingestion.status == IngestionStatus.FAILED
    assert "not key stores here" in ingestion.last_error
    assert not UsageAggregate.objects.exists()


def test_the_command_ingests_files_and_reports_a_file_already_ingested(grc_user, keys, tmp_path, capsys):
    gz = write_gzip(tmp_path / "trail.json.gz")

    call_command("ingest_usage", "--format", "cloudtrail", str(CLOUDTRAIL), str(gz), "--user", "alice")
    out = capsys.readouterr().out
    assert "cloudtrail-kms.json: 8 events into 7 aggregates (7 new, 0 merged), 3 known keys, 1 unknown" in out
    assert "trail.json.gz: 8 events into 7 aggregates (0 new, 7 merged)" in out

    call_command("ingest_usage", "--format", "cloudtrail", str(CLOUDTRAIL), "--user", "alice")
    assert "already ingested" in capsys.readouterr().out
    assert UsageAggregate.objects.get(key_ref=KEY_ARN, principal=ALICE, operation="Decrypt").count == 4


def test_the_command_fails_for_a_bad_file_and_a_user_outside_grc(grc_user, owner, keys, tmp_path):
    cut = tmp_path / "cut.gz"
    cut.write_bytes(write_gzip(tmp_path / "w.gz").read_bytes()[:200])

    with pytest.raises(CommandError, match="1 of 1 files could not be ingested"):
        call_command("ingest_usage", "--format", "cloudtrail", str(cut), "--user", "alice")
    with pytest.raises(CommandError, match="not in the GRC group"):
        call_command("ingest_usage", "--format", "cloudtrail", str(CLOUDTRAIL), "--user", owner.username)


def test_a_file_name_is_cleaned_and_one_that_looks_like_a_secret_is_withheld(grc_user, keys, tmp_path):
    from evidence.usage.services import safe_file_name

    assert safe_file_name("trail\u202e.json\n.gz") == "trail\ufffd.json .gz"
    assert safe_file_name("ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8" + ".json").startswith("(name withheld")
    path = tmp_path / "events\u202e.json"
    path.write_bytes(CLOUDTRAIL.read_bytes())

    assert ingest(path, grc_user).file_name == "events\ufffd.json"
