"""The BigQuery query that turns a Cloud Audit Logs sink into usage-csv (evidence/usage/sql/bigquery-gcp-audit.sql),
run in DuckDB over the gcp-audit fixtures where the dialects meet: its counts are the gcp-audit source's, and its
CSV ingested as usage-csv gives the aggregates the log itself gives."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import duckdb
import pytest

from evidence.usage.models import IngestionStatus, UsageAggregate
from evidence.usage.services import usage_ingest_path
from evidence.usage.sources.base import sql_string
from inventory.models import StoreKind
from tests.evidence.usage_sources_support import FIXTURES, relevant
from tests.factories import KeyFactory, KeyStoreFactory

QUERY = Path(__file__).resolve().parents[2] / "evidence" / "usage" / "sql" / "bigquery-gcp-audit.sql"
LOG = FIXTURES / "gcp-audit" / "data_access.jsonl"
TABLE = "`PROJECT.DATASET.cloudaudit_googleapis_com_data_access`"
# BigQuery's sink table as DuckDB reads the exported entries: the same columns, AuditLog under protopayload_auditlog.
SINK_COLUMNS = (
    "{'timestamp': 'VARCHAR', 'protoPayload': 'STRUCT(serviceName VARCHAR, methodName VARCHAR, resourceName VARCHAR, "
    "status STRUCT(code BIGINT), authenticationInfo STRUCT(principalEmail VARCHAR, principalSubject VARCHAR))'}"
)
# BigQuery functions the query uses that DuckDB spells otherwise.
MACROS = (
    "CREATE MACRO FORMAT_TIMESTAMP(f, t) AS strftime(t, f)",
    "CREATE MACRO REGEXP_CONTAINS(s, p) AS regexp_matches(s, p)",
)


def bigquery_in_duckdb(log: Path) -> list[dict]:
    text = QUERY.read_text()
    assert TABLE in text and "-- the window" in text
    text = "\n".join(line for line in text.splitlines() if "-- the window" not in line).replace(TABLE, "sink")
    con = duckdb.connect(":memory:", config={"autoload_known_extensions": False})
    try:
        for macro in MACROS:
            con.execute(macro)
        timestamp = "try_cast(try_cast(timestamp AS TIMESTAMPTZ) AT TIME ZONE 'UTC' AS TIMESTAMP)"
        source = f"read_json({sql_string(str(log))}, columns={SINK_COLUMNS})"
        view = f"SELECT {timestamp} AS timestamp, protoPayload AS protopayload_auditlog FROM {source}"  # noqa: S608
        con.execute(f"CREATE VIEW sink AS {view}")
        result = con.execute(text)
        names = [column[0] for column in result.description]
        return [dict(zip(names, row, strict=True)) for row in result.fetchall()]
    finally:
        con.close()


def test_the_query_counts_what_the_gcp_audit_source_counts():
    by_source = Counter(
        (row["key_ref"], row["principal"], row["principal_type"], row["operation"], row["error_code"], row["day"])
        for row in relevant("gcp-audit", LOG)
    )
    by_query = Counter()
    for row in bigquery_in_duckdb(LOG):
        assert row["errors"] in (0, row["count"])  # one outcome a row
        assert (row["account"], row["region"]) == ("shop-prod", "europe-west1")
        by_query[
            (row["key"], row["principal"], row["principal_type"], row["operation"], row["error_code"], row["day"])
        ] += row["count"]
    assert by_query == by_source
    assert sum(by_query.values()) == 13


@pytest.mark.django_db
def test_its_csv_ingested_as_usage_csv_gives_the_aggregates_of_the_log(grc_user, tmp_path):
    store = KeyStoreFactory(name="shop-prod", kind=StoreKind.GCP_KMS, account="shop-prod", region="europe-west1")
    ring = "projects/shop-prod/locations/europe-west1/keyRings/payments/cryptoKeys/"
    for name in ("orders-dek", "release-signing", "webhook-mac", "legacy-raw"):
        KeyFactory(name=name, store=store, external_id=ring + name)
    rows = bigquery_in_duckdb(LOG)
    exported = tmp_path / "bq-results.csv"
    with exported.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)

    def aggregates() -> set[tuple]:
        return {
            (
                row.key_id,
                row.key_ref,
                row.principal,
                row.principal_type,
                row.operation,
                row.error_code,
                row.day,
                row.count,
                row.store_id,
            )
            for row in UsageAggregate.objects.all()
        }

    from_csv = usage_ingest_path(source="usage-csv", path=str(exported), user=grc_user)
    assert from_csv.status == IngestionStatus.SUCCEEDED, from_csv.last_error
    via_query = aggregates()
    UsageAggregate.objects.all().delete()
    from_log = usage_ingest_path(source="gcp-audit", path=str(LOG), user=grc_user)
    assert from_log.status == IngestionStatus.SUCCEEDED, from_log.last_error
    assert via_query == aggregates()
    assert len(via_query) == 11
