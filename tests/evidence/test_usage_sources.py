"""The source plug-in contract: sources register themselves by format, every registered source's statement returns
exactly the normalized columns, and a second source claiming a format is refused."""

from __future__ import annotations

import duckdb
import pytest

from evidence.usage.engine import source_file
from evidence.usage.sources import REGISTRY, format_choices
from evidence.usage.sources.base import COLUMNS, UsageSource
from tests.evidence.usage_support import CLOUDTRAIL, USAGE_CSV, records, write_records

SAMPLES = {"cloudtrail": CLOUDTRAIL, "usage-csv": USAGE_CSV}


def test_the_sources_register_themselves_in_their_order():
    assert list(REGISTRY)[:1] == ["cloudtrail"]
    assert "usage-csv" in REGISTRY
    assert ("cloudtrail", "AWS CloudTrail (KMS)") in format_choices()


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_each_source_returns_exactly_the_normalized_columns(name):
    source = REGISTRY[name]
    con = duckdb.connect()
    relation = con.sql(source.relation(con, source_file(str(SAMPLES[name]), name="sample")))

    assert sorted(relation.columns) == sorted(COLUMNS)


def test_a_second_source_for_a_format_is_refused():
    with pytest.raises(TypeError, match="Two usage sources name the format 'cloudtrail'"):
        type("Again", (UsageSource,), {"format": "cloudtrail", "label": "x", "order": 1, "__module__": "elsewhere"})


def test_a_source_without_an_order_is_refused():
    with pytest.raises(TypeError, match="must set order"):
        type("NoOrder", (UsageSource,), {"format": "no-order", "label": "x", "__module__": "elsewhere"})


def test_a_re_encrypt_counts_for_both_of_its_keys(tmp_path):
    event = records()[0] | {"eventName": "ReEncrypt", "eventID": "re-1"}
    event["resources"] = [
        {"type": "AWS::KMS::Key", "ARN": "arn:aws:kms:us-west-2:111122223333:key/source-key"},
        {"type": "AWS::KMS::Key", "ARN": "arn:aws:kms:us-west-2:111122223333:key/destination-key"},
    ]
    path = write_records(tmp_path / "re.json", [event])
    source = REGISTRY["cloudtrail"]
    con = duckdb.connect()

    rows = con.sql(source.relation(con, source_file(str(path), name="re.json"))).fetchall()

    refs = sorted(row[COLUMNS.index("key_ref")] for row in rows)
    assert refs == [
        "arn:aws:kms:us-west-2:111122223333:key/destination-key",
        "arn:aws:kms:us-west-2:111122223333:key/source-key",
    ]
    assert {row[COLUMNS.index("operation")] for row in rows} == {"ReEncrypt"}
