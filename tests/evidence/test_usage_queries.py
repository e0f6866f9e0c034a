"""The shipped Athena query (evidence/usage/sql/athena-cloudtrail.sql) produces the usage CSV: run as it is over the
CloudTrail fixture in DuckDB (with Athena's table shape and two macros for Trino's functions), its CSV ingested
gives the same aggregates as ingesting the CloudTrail file itself."""

from __future__ import annotations

import csv
from pathlib import Path

import duckdb
import pytest

import evidence.usage
from evidence.usage.models import UsageAggregate
from evidence.usage.services import usage_ingest_path
from tests.evidence.usage_support import CLOUDTRAIL, inventory

pytestmark = pytest.mark.django_db

ATHENA = Path(evidence.usage.__file__).parent / "sql" / "athena-cloudtrail.sql"

# The CloudTrail table of Athena, from the fixture: lower-case names, requestparameters kept as JSON text.
TABLE = f"""
CREATE TABLE cloudtrail_logs AS
SELECT
    {{'type': r.userIdentity.type, 'principalid': r.userIdentity.principalId, 'arn': r.userIdentity.arn,
      'accountid': r.userIdentity.accountId, 'invokedby': r.userIdentity.invokedBy,
      'sessioncontext': {{'sessionissuer': {{'arn': r.userIdentity.sessionContext.sessionIssuer.arn}}}}}} AS useridentity,
    r.eventTime AS eventtime, r.eventSource AS eventsource, r.eventName AS eventname, r.awsRegion AS awsregion,
    r.errorCode AS errorcode, CAST(r.requestParameters AS VARCHAR) AS requestparameters,
    list_transform(r.resources, x -> {{'arn': x."ARN", 'accountid': x.accountId, 'type': x.type}}) AS resources,
    r.recipientAccountId AS recipientaccountid, r.eventID AS eventid
FROM (
    SELECT unnest(Records) AS r FROM read_json('{CLOUDTRAIL}', format='unstructured', columns={{'Records': 'STRUCT(
        eventTime VARCHAR, eventSource VARCHAR, eventName VARCHAR, awsRegion VARCHAR, errorCode VARCHAR,
        eventID VARCHAR, recipientAccountId VARCHAR, requestParameters JSON,
        userIdentity STRUCT(type VARCHAR, principalId VARCHAR, arn VARCHAR, accountId VARCHAR, invokedBy VARCHAR,
            sessionContext STRUCT(sessionIssuer STRUCT(arn VARCHAR))),
        resources STRUCT("ARN" VARCHAR, type VARCHAR, accountId VARCHAR)[])[]'}})
)
"""  # noqa: S608 (a test's own statement over its fixture)
TRINO = [
    "CREATE MACRO element_at(l, i) AS l[i]",
    "CREATE MACRO json_extract_scalar(j, p) AS json_extract_string(j, p)",
]


def athena_csv(path: Path) -> Path:
    con = duckdb.connect()
    for statement in [*TRINO, TABLE]:
        con.execute(statement)
    cursor = con.execute(ATHENA.read_text())
    with open(path, "w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow([column[0] for column in cursor.description])
        writer.writerows(cursor.fetchall())
    return path


def snapshot() -> set[tuple]:
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
            row.first_seen,
            row.last_seen,
            row.store_id,
        )
        for row in UsageAggregate.objects.all()
    }


def test_the_athena_query_gives_the_usage_csv_of_the_same_aggregates(grc_user, tmp_path):
    inventory()
    usage_ingest_path(source="cloudtrail", path=str(CLOUDTRAIL), user=grc_user)
    direct = snapshot()
    UsageAggregate.objects.all().delete()

    ingestion = usage_ingest_path(source="usage-csv", path=str(athena_csv(tmp_path / "usage.csv")), user=grc_user)

    assert ingestion.status == "succeeded", ingestion.last_error
    assert ingestion.counts["events"] == 8
    assert snapshot() == direct
