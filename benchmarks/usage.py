"""Usage-log benchmark: generated CloudTrail KMS events through ``manage.py ingest_usage --format cloudtrail``.

    .venv/bin/python benchmarks/usage.py [--records 1000000] [--scale 3] [--skip-python] [--data-dir DIR]

Generates ``--records`` CloudTrail KMS events of one account and region as JSON lines, gzip (about 1 KB each
uncompressed, as AWS writes them: assumed-role identities with their session context, request parameters with an
encryption context, ``resources``, TLS details): 600 principals using 2 of 300 keys each (30 of the keys not in
the inventory), Decrypt / GenerateDataKey / Encrypt mostly, 1 % failed calls, over two days. Then it times, each
in a child process with its peak resident memory (``wait4``):

1. the ingestion (``manage.py ingest_usage``: DuckDB reads and aggregates, the merge into the database);
2. DuckDB's raw aggregation of the same file (``read_json`` and one ``GROUP BY`` on the same five dimensions,
   nothing else): the floor the ingestion is compared with (the ratio printed is ingestion / raw);
3. a plain-Python streaming aggregation of the same file (``gzip`` + ``json.loads`` per line + a dict), the
   alternative the engine was chosen against (``--skip-python`` leaves it out);

and with ``--scale`` > 1 the ingestion again for a file ``--scale`` times larger (linear growth: a time ratio
near ``--scale``). Targets (issue 13): 1,000,000 records in at most 20 s and at most 500 MB peak RSS; exit
status 1 when one is missed.

Database: PostgreSQL when ``DATABASE_URL`` is set (use a THROWAWAY database: it is migrated, and its usage
aggregates and ingestions are deleted first), else a throwaway SQLite under a temporary ``CEK_DATA_DIR``.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ACCOUNT, REGION = "111122223333", "eu-west-1"
TARGET_SECONDS, TARGET_MB, TARGET_RECORDS = 20, 500, 1_000_000
KEYS, KNOWN_KEYS, PRINCIPALS = 300, 270, 600
OPERATIONS = ["Decrypt"] * 6 + ["GenerateDataKey"] * 3 + ["Encrypt"]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=TARGET_RECORDS, help="events in the file (default 1,000,000)")
    parser.add_argument("--scale", type=int, default=1, help="also ingest a file this many times larger (e.g. 3)")
    parser.add_argument("--skip-python", action="store_true", help="leave out the plain-Python aggregation")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--data-dir", help="SQLite only: keep the database in this folder")
    return parser.parse_args(argv)


def key_arn(k: int) -> str:
    return f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{k:08x}-1111-2222-3333-{k:012x}"


TEMPLATE = json.dumps(
    {
        "eventVersion": "1.09",
        "userIdentity": {
            "type": "AssumedRole",
            "principalId": "AROAEXAMPLEID@P@:session-@S@",
            "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/service-role-@P@/session-@S@",
            "accountId": ACCOUNT,
            "accessKeyId": "ASIAEXAMPLE@S@",
            "sessionContext": {
                "sessionIssuer": {
                    "type": "Role",
                    "principalId": "AROAEXAMPLEID@P@",
                    "arn": f"arn:aws:iam::{ACCOUNT}:role/service-role-@P@",
                    "accountId": ACCOUNT,
                    "userName": "service-role-@P@",
                },
                "attributes": {"creationDate": "@D@T00:00:00Z", "mfaAuthenticated": "false"},
            },
        },
        "eventTime": "@D@T@T@Z",
        "eventSource": "kms.amazonaws.com",
        "eventName": "@O@",
        "awsRegion": REGION,
        "sourceIPAddress": "10.0.@S@.1",
        "userAgent": "aws-sdk-java/2.20.0 Linux/5.10 OpenJDK_64-Bit_Server_VM/17.0.8 Java/17.0.8 vendor/Amazon.com_Inc.",
        "requestParameters": {
            "keyId": "@K@",
            "encryptionAlgorithm": "SYMMETRIC_DEFAULT",
            "encryptionContext": {"service": "service-@P@", "tenant": "tenant-@N@"},
        },
        "responseElements": None,
        "requestID": "@I@-req",
        "eventID": "@I@",
        "readOnly": True,
        "resources": [{"accountId": ACCOUNT, "type": "AWS::KMS::Key", "ARN": "@K@"}],
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": ACCOUNT,
        "eventCategory": "Management",
        "tlsDetails": {
            "tlsVersion": "TLSv1.3",
            "cipherSuite": "TLS_AES_128_GCM_SHA256",
            "clientProvidedHostHeader": f"kms.{REGION}.amazonaws.com",
        },
    },
    separators=(",", ":"),
)
FAILED = ',"errorCode":"AccessDeniedException","errorMessage":"User is not authorized to perform: kms:@O@"'


def generate(path: Path, records: int, seed: int) -> None:
    """JSON lines, gzip level 1 (fast to write; CloudTrail's own files are gzip too)."""
    rng = random.Random(seed)
    uses = [(p, [rng.randrange(KEYS), rng.randrange(KEYS)]) for p in range(PRINCIPALS)]
    head, tail = TEMPLATE.rsplit("}", 1)
    with gzip.open(path, "wt", compresslevel=1, encoding="utf-8") as out:
        batch = []
        for n in range(records):
            p, keys = uses[rng.randrange(PRINCIPALS)]
            k = keys[rng.randrange(2)]
            operation = OPERATIONS[rng.randrange(len(OPERATIONS))]
            day = "2026-11-01" if n % 2 else "2026-11-02"
            second = rng.randrange(86400)
            line = (
                head.replace("@P@", str(p))
                .replace("@S@", str(n % 250))
                .replace("@D@", day)
                .replace("@T@", f"{second // 3600:02d}:{second // 60 % 60:02d}:{second % 60:02d}")
                .replace("@O@", operation)
                .replace("@K@", key_arn(k))
                .replace("@N@", str(p % 40))
                .replace("@I@", f"{n:08x}-aaaa-4bbb-8ccc-{seed:04x}{n:08x}")
            )
            if rng.random() < 0.01:
                line += FAILED.replace("@O@", operation)
            batch.append(line + "}" + tail + "\n")
            if len(batch) == 10000:
                out.write("".join(batch))
                batch.clear()
        out.write("".join(batch))


def prepare_database(env: dict[str, str]) -> None:
    keys = [key_arn(k) for k in range(KNOWN_KEYS)]
    script = f"""
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from evidence.usage.models import UsageAggregate, UsageIngestion
from inventory.models import Key, KeyStore, Purpose
UsageAggregate.objects.all().delete(); UsageIngestion.objects.all().delete()
grc, _ = get_user_model().objects.get_or_create(username="bench-grc")
grc.groups.add(Group.objects.get(name="grc"))
store, _ = KeyStore.objects.get_or_create(name="bench-aws", defaults={{"kind": "aws-kms", "account": "{ACCOUNT}", "region": "{REGION}"}})
purpose = Purpose.objects.get(slug="data-encryption")
have = set(Key.objects.filter(store=store).values_list("external_id", flat=True))
Key.objects.bulk_create([Key(name=f"bench-{{n}}", store=store, external_id=arn, purpose=purpose) for n, arn in enumerate({keys!r}) if arn not in have])
"""
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "--no-input", "-v", "0"], env=env, check=True, cwd=ROOT)
    subprocess.run([*manage, "shell", "-c", script], env=env, check=True, cwd=ROOT)


def child(command: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """Run ``command``: (seconds, peak RSS in MB, its last output line). Exits when it fails."""
    started = time.perf_counter()
    with tempfile.TemporaryFile() as out:
        process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        out.seek(0)
        lines = [line for line in out.read().decode(errors="replace").splitlines() if line.strip()]
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{command[1:3]} failed:\n" + "\n".join(lines[-20:]))
    return seconds, usage.ru_maxrss / 1024, lines[-1] if lines else ""


RAW_DUCKDB = """
import sys, duckdb
con = duckdb.connect(config={"memory_limit": "256MB", "threads": 2, "preserve_insertion_order": False})
rows = con.execute('''
SELECT count(*), sum(n) FROM (
  SELECT userIdentity.sessionContext.sessionIssuer.arn AS principal, eventName, errorCode,
         resources[1]."ARN" AS key, eventTime[1:10] AS day, count(*) AS n, min(eventID) AS sample
  FROM read_json(?, format='newline_delimited', compression='gzip', columns={
    'eventID': 'VARCHAR', 'eventName': 'VARCHAR', 'eventTime': 'VARCHAR', 'errorCode': 'VARCHAR',
    'userIdentity': 'STRUCT(sessionContext STRUCT(sessionIssuer STRUCT(arn VARCHAR)))',
    'resources': 'STRUCT("ARN" VARCHAR)[]'})
  GROUP BY ALL)''', [sys.argv[1]]).fetchall()
print(f"raw DuckDB aggregation: {rows[0][0]} aggregates of {rows[0][1]} events")
"""
PLAIN_PYTHON = """
import gzip, json, sys
counts = {}
with gzip.open(sys.argv[1], "rt", encoding="utf-8") as lines:
    for line in lines:
        e = json.loads(line)
        if e.get("eventSource") != "kms.amazonaws.com":
            continue
        ui = e.get("userIdentity") or {}
        principal = ((ui.get("sessionContext") or {}).get("sessionIssuer") or {}).get("arn") or ui.get("arn")
        key = (e.get("resources") or [{}])[0].get("ARN") or (e.get("requestParameters") or {}).get("keyId")
        dims = (key, principal, e["eventName"], e.get("errorCode") or "", e["eventTime"][:10])
        counts[dims] = counts.get(dims, 0) + 1
print(f"plain Python aggregation: {len(counts)} aggregates of {sum(counts.values())} events")
"""


def ingest(path: Path, env: dict[str, str]) -> tuple[float, float, str]:
    command = [sys.executable, str(ROOT / "manage.py"), "ingest_usage", "--format", "cloudtrail", str(path)]
    return child([*command, "--user", "bench-grc", "--store", "bench-aws"], env)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    env = dict(os.environ)
    env.setdefault("DJANGO_SETTINGS_MODULE", "cek.settings")
    if not env.get("CEK_SECRET_KEY") and not env.get("CEK_SECRET_KEY_FILE"):
        env["CEK_DEBUG"] = "1"
    temp_dir = None
    if not env.get("DATABASE_URL"):
        env.pop("CEK_SQLITE_PATH", None)
        temp_dir = None if args.data_dir else tempfile.mkdtemp(prefix="cek-bench-")
        env["CEK_DATA_DIR"] = str(Path(args.data_dir).resolve()) if args.data_dir else temp_dir
    work = Path(tempfile.mkdtemp(prefix="cek-bench-usage-"))
    results: list[tuple[str, tuple[float, float, str]]] = []
    try:
        database = "PostgreSQL" if env.get("DATABASE_URL") else "SQLite"
        path = work / "cloudtrail.jsonl.gz"
        started = time.perf_counter()
        generate(path, args.records, args.seed)
        raw_mb = args.records * len(TEMPLATE) / 1048576
        print(
            f"Generated {args.records:,} events (about {raw_mb:,.0f} MB of JSON, {path.stat().st_size / 1048576:,.0f} "
            f"MB gzip) in {time.perf_counter() - started:.1f} s; {database}."
        )
        prepare_database(env)
        ingestion = ingest(path, env)
        results.append(("ingestion", ingestion))
        raw = child([sys.executable, "-c", RAW_DUCKDB, str(path)], env)
        results.append(("raw DuckDB aggregation", raw))
        if not args.skip_python:
            results.append(("plain-Python aggregation", child([sys.executable, "-c", PLAIN_PYTHON, str(path)], env)))
        larger = None
        if args.scale > 1:
            path.unlink()
            path = work / "cloudtrail-larger.jsonl.gz"
            generate(path, args.records * args.scale, args.seed + 1)
            larger = ingest(path, env)
            results.append((f"ingestion x{args.scale}", larger))
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if temp_dir:
            shutil.rmtree(temp_dir, ignore_errors=True)
    print()
    print(f"{'step':<28}{'seconds':>9}{'records/s':>12}{'peak RSS MB':>13}  result")
    for label, (seconds, peak, result) in results:
        records = args.records * (args.scale if label.startswith("ingestion x") else 1)
        print(f"{label:<28}{seconds:>9.1f}{records / seconds:>12,.0f}{peak:>13.0f}  {result[:110]}")
    print(f"\ningestion / raw DuckDB aggregation: {ingestion[0] / raw[0]:.2f}")
    if not args.skip_python:
        print(f"plain Python / ingestion: {results[2][1][0] / ingestion[0]:.2f}")
    if larger is not None:
        print(f"x{args.scale} ingestion / ingestion: {larger[0] / ingestion[0]:.2f} (linear: about {args.scale})")
    scale = args.records / TARGET_RECORDS
    verdicts = [
        (
            f"ingestion <= {TARGET_SECONDS * scale:.0f} s for {args.records:,} records",
            ingestion[0] <= TARGET_SECONDS * scale,
        ),
        (f"ingestion <= {TARGET_MB} MB peak RSS", ingestion[1] <= TARGET_MB),
    ]
    if larger is not None:
        verdicts.append((f"x{args.scale} ingestion <= {TARGET_MB} MB peak RSS", larger[1] <= TARGET_MB))
        verdicts.append(
            (
                f"x{args.scale} time grows linearly (ratio <= {args.scale * 1.25:.2f})",
                larger[0] / ingestion[0] <= args.scale * 1.25,
            )
        )
    print()
    for label, ok in verdicts:
        print(f"{'met' if ok else 'NOT MET':>8}  {label}")
    return 0 if all(ok for _, ok in verdicts) else 1


if __name__ == "__main__":
    raise SystemExit(main())
