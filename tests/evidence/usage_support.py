"""Shared set-up of the usage-log tests: the fixture files, and the inventory they are ingested against."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

from inventory.models import KeyStore, StoreKind
from tests.factories import KeyFactory, KeyStoreFactory

FIXTURES = Path(__file__).parent / "fixtures" / "usage"
CLOUDTRAIL = FIXTURES / "cloudtrail-kms.json"
USAGE_CSV = FIXTURES / "usage.csv"

ACCOUNT = "111122223333"
KEY_ARN = "arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
MRK_ID = "mrk-1234abcd12ab34cd56ef1234567890ab"
MRK_ARN = f"arn:aws:kms:us-west-2:111122223333:key/{MRK_ID}"
MRK_REPLICA_ARN = f"arn:aws:kms:us-east-1:111122223333:key/{MRK_ID}"
TRAIL_KEY_ARN = "arn:aws:kms:us-west-2:111122223333:key/0987dcba-09fe-87dc-65ba-ab0987654321"
UNKNOWN_KEY_ID = "5555aaaa-55aa-55aa-55aa-5555aaaa5555"
ALICE = "arn:aws:iam::111122223333:user/Alice"
ROLE = "arn:aws:iam::111122223333:role/ExampleRole"


def records() -> list[dict]:
    return json.loads(CLOUDTRAIL.read_text())["Records"]


def write_gzip(path: Path, source: Path = CLOUDTRAIL) -> Path:
    with open(source, "rb") as src, gzip.open(path, "wb") as out:
        shutil.copyfileobj(src, out)
    return path


def write_lines(path: Path, events: list[dict], *, compress: bool = False) -> Path:
    text = "\n".join(json.dumps(event) for event in events) + "\n"
    if compress:
        with gzip.open(path, "wt") as out:
            out.write(text)
    else:
        path.write_text(text)
    return path


def write_records(path: Path, events: list[dict]) -> Path:
    path.write_text(json.dumps({"Records": events}))
    return path


def inventory(owner=None) -> dict:
    """The store of the fixtures' account and region with the keys they name (one of them by alias), a replica of
    the multi-region key in another region's store, and CloudTrail's own (AWS-managed) key."""
    store = KeyStoreFactory(name="kms-prod", kind=StoreKind.AWS_KMS, account=ACCOUNT, region="us-west-2")
    replica_store = KeyStoreFactory(name="kms-dr", kind=StoreKind.AWS_KMS, account=ACCOUNT, region="us-east-1")
    return {
        "store": store,
        "replica_store": replica_store,
        "key": KeyFactory(
            name="orders-data",
            store=store,
            external_id=KEY_ARN,
            owner=owner,
            platform_details={"Aliases": "alias/ExampleAlias"},
        ),
        "mrk": KeyFactory(name="release-signing", store=store, external_id=MRK_ARN),
        "mrk_replica": KeyFactory(name="release-signing-dr", store=replica_store, external_id=MRK_REPLICA_ARN),
        "trail_key": KeyFactory(name="trail-logs", store=store, external_id=TRAIL_KEY_ARN, platform_managed=True),
    }


def other_store() -> KeyStore:
    return KeyStoreFactory(name="kms-other", kind=StoreKind.AWS_KMS, account="444455556666", region="us-west-2")
