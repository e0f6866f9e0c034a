"""Import benchmark: generated AWS KMS exports of 10,000 and 100,000 keys imported through ``manage.py import_keys``.

    .venv/bin/python benchmarks/imports.py [--sizes 10000,100000] [--data-dir DIR]

Generates ``aws kms describe-key`` results for N keys of one account and region (tags: purposes from the
catalog, owners, services, tenants; some keys untagged, some with a purpose that contradicts their usage,
some naming unknown owners), writes them as one JSON array, and, for each size, imports the file twice with
``manage.py import_keys --format aws-kms FILE --user bench-grc --full`` in a child process each time: the
first import creates every key, the second finds every key unchanged. For each it prints the wall-clock
time and the child's peak resident memory (``wait4``'s rusage of that child alone), and the load average.

Targets (exit status 1 when one is missed), the import streaming its file (issue 17):

- the peak memory of each import of the largest size is at most 1.3 times that of the same import of the
  smallest size, and under 300 MB;
- the first import of 100,000 keys takes under 40 s and the unchanged re-import under 15 s (at normal load:
  the load average is printed beside them).

Database: PostgreSQL when ``DATABASE_URL`` is set (use a THROWAWAY database: it is migrated and keys are
written into it, and its keys are deleted before each size), else a throwaway SQLite under a temporary
``CEK_DATA_DIR`` (or ``--data-dir``).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ACCOUNT, REGION = "111122223333", "eu-west-1"
TARGET_FIRST_SECONDS, TARGET_AGAIN_SECONDS, TARGET_MB, TARGET_GROWTH = 40, 15, 300, 1.3
TIMED_KEYS = 100_000  # the size the time targets are for
USAGES = [
    ("ENCRYPT_DECRYPT", "SYMMETRIC_DEFAULT"),
    ("SIGN_VERIFY", "ECC_NIST_P256"),
    ("GENERATE_VERIFY_MAC", "HMAC_256"),
]
PURPOSES = {
    "ENCRYPT_DECRYPT": ["data-encryption", "inference-log-encryption", "training-data-encryption", "key-wrapping"],
    "SIGN_VERIFY": ["model-artifact-signing", "digital-signature"],
    "GENERATE_VERIFY_MAC": ["webhook-signing"],
}
STATES = ["Enabled"] * 90 + ["Disabled"] * 6 + ["PendingDeletion"] * 4


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sizes", default="10000,100000", help="keys in each generated export, comma-separated (default 10000,100000)"
    )
    parser.add_argument("--seed", type=int, default=2026, help="random seed of the generated keys")
    parser.add_argument("--data-dir", help="SQLite only: keep the database in this folder")
    return parser.parse_args(argv)


def generate(count: int, seed: int) -> Iterator[dict]:
    """``count`` describe-key results with tags, aliases and rotation status, as the README's loop writes them."""
    rng = random.Random(seed)
    owners = [f"owner{n:02d}" for n in range(20)]
    services = [f"service-{n:02d}" for n in range(40)]
    for n in range(count):
        key_id = f"{rng.getrandbits(32):08x}-{rng.getrandbits(16):04x}-4{rng.getrandbits(12):03x}-a{rng.getrandbits(12):03x}-{n:012x}"
        usage, spec = USAGES[0] if rng.random() < 0.8 else rng.choice(USAGES[1:])
        tags = [{"TagKey": "env", "TagValue": rng.choice(["prod", "staging", "dev"])}]
        roll = rng.random()
        if roll < 0.85:
            tags.append({"TagKey": "purpose", "TagValue": rng.choice(PURPOSES[usage])})
        elif roll < 0.88:
            tags.append({"TagKey": "purpose", "TagValue": "data-encryption"})  # may contradict the usage
        if rng.random() < 0.9:
            tags.append({"TagKey": "owner", "TagValue": rng.choice(owners) if rng.random() < 0.98 else "ex-employee"})
        if rng.random() < 0.7:
            tags.append({"TagKey": "service", "TagValue": rng.choice(services)})
        state = rng.choice(STATES)
        created = f"20{rng.randint(21, 26)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T10:{rng.randint(0, 59):02d}:00+00:00"
        yield (
            {
                "KeyMetadata": {
                    "AWSAccountId": ACCOUNT,
                    "KeyId": key_id,
                    "Arn": f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{key_id}",
                    "CreationDate": created,
                    "Enabled": state == "Enabled",
                    "Description": f"Generated key {n} for the import benchmark",
                    "KeyUsage": usage,
                    "KeyState": state,
                    "Origin": "AWS_KMS",
                    "KeyManager": "CUSTOMER" if rng.random() < 0.97 else "AWS",
                    "KeySpec": spec,
                    "MultiRegion": False,
                    **({"DeletionDate": "2026-12-31T00:00:00+00:00"} if state == "PendingDeletion" else {}),
                },
                "Tags": tags,
                "Aliases": [
                    {"AliasName": f"alias/bench-{n}", "AliasArn": f"arn:aws:kms:{REGION}:{ACCOUNT}:alias/bench-{n}"}
                ],
                "KeyRotationEnabled": usage == "ENCRYPT_DECRYPT",
                **({"RotationPeriodInDays": 365} if usage == "ENCRYPT_DECRYPT" else {}),
            }
        )


def prepare_database(env: dict[str, str]) -> None:
    """Migrate, and create the GRC user, the store, owners, services (and no keys) the import refers to."""
    script = """
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from inventory.models import Binding, Key, KeyImport, KeyStore, Service
Binding.objects.all().delete(); Key.history.all().delete(); Key.objects.all().delete(); KeyImport.objects.all().delete()
User = get_user_model()
grc, _ = User.objects.get_or_create(username="bench-grc")
grc.groups.add(Group.objects.get(name="grc"))
for n in range(20):
    User.objects.get_or_create(username=f"owner{n:02d}")
for n in range(40):
    Service.objects.get_or_create(slug=f"service-{n:02d}", defaults={"name": f"Service {n}", "environment": "prod"})
KeyStore.objects.get_or_create(name="bench-aws", defaults={"kind": "aws-kms", "account": "111122223333", "region": "eu-west-1"})
"""
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "--no-input", "-v", "0"], env=env, check=True, cwd=ROOT)
    subprocess.run([*manage, "shell", "-c", script], env=env, check=True, cwd=ROOT)


def run_import(command: list[str], env: dict[str, str], what: str) -> tuple[float, float, float, str]:
    """Run ``manage.py`` ``command`` (an import) in a child process: (seconds, CPU seconds, peak RSS in MB, its last
    output line); its own peak and CPU time, read by ``wait4``. Shared with ``import_formats.py``."""
    started = time.perf_counter()
    with tempfile.TemporaryFile() as out:
        child = subprocess.Popen(
            [sys.executable, str(ROOT / "manage.py"), *command], env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT
        )
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - started
        out.seek(0)
        lines = [line for line in out.read().decode(errors="replace").splitlines() if not line.startswith("Warning")]
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{what} failed:\n" + "\n".join(lines[-20:]))
    return seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, lines[-1] if lines else ""


def import_env(data_dir: str | None) -> tuple[dict[str, str], str | None]:
    """The environment of the import children: this one's, with the development settings unless a production
    configuration is given, imports up to 1 GB, and without ``DATABASE_URL`` a throwaway SQLite folder (or
    ``data_dir``). Returns it and the throwaway folder to remove (None when there is none)."""
    env = dict(os.environ)
    env.setdefault("DJANGO_SETTINGS_MODULE", "cek.settings")
    if not env.get("CEK_SECRET_KEY") and not env.get("CEK_SECRET_KEY_FILE"):
        env["CEK_DEBUG"] = "1"
    env["CEK_IMPORT_MAX_BYTES"] = str(1024 * 1024 * 1024)
    temp_dir = None
    if not env.get("DATABASE_URL"):
        env.pop("CEK_SQLITE_PATH", None)
        temp_dir = None if data_dir else tempfile.mkdtemp(prefix="cek-bench-")
        env["CEK_DATA_DIR"] = str(Path(data_dir).resolve()) if data_dir else temp_dir
    return env, temp_dir


def timed_import(path: Path, env: dict[str, str]) -> tuple[float, float, str, float]:
    """Run one import in a child process: (seconds, peak RSS in MB, its last output line, its CPU seconds)."""
    command = ["import_keys", str(path), "--format", "aws-kms", "--user", "bench-grc", "--full"]
    seconds, cpu, rss, last = run_import(command, env, "The import")
    return seconds, rss, last, cpu


def load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def write_export(path: Path, count: int, seed: int) -> float:
    """The export as one JSON array, written item by item; its size in MB."""
    with path.open("w") as out:
        out.write("[")
        for index, item in enumerate(generate(count, seed)):
            out.write(("," if index else "") + json.dumps(item))
        out.write("]")
    return path.stat().st_size / 1048576


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    sizes = sorted({int(size) for size in args.sizes.split(",") if size.strip()})
    env, temp_dir = import_env(args.data_dir)
    work = Path(tempfile.mkdtemp(prefix="cek-bench-import-"))
    results: dict[int, dict[str, tuple]] = {}
    try:
        database = "PostgreSQL" if env.get("DATABASE_URL") else "SQLite"
        for count in sizes:
            started = time.perf_counter()
            path = work / f"aws-kms-export-{count}.json"
            size_mb = write_export(path, count, args.seed)
            print(f"Generated {count:,} keys ({size_mb:.0f} MB) in {time.perf_counter() - started:.1f} s; {database}.")
            prepare_database(env)
            first = (*timed_import(path, env), load())
            again = (*timed_import(path, env), load())
            results[count] = {"first": first, "again": again}
            path.unlink()
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if temp_dir:
            shutil.rmtree(temp_dir, ignore_errors=True)
    print()
    # CPU seconds: the import process's own (user + system), which the machine's load changes much less than the
    # wall-clock time; the database server's work is not in them.
    print(f"{'keys':>8}  {'import':<24}{'seconds':>9}{'CPU s':>7}{'peak RSS MB':>13}  {'load average':<16}  result")
    for count, runs in results.items():
        for label, (seconds, peak, result, cpu, loadavg) in (
            ("first (all new)", runs["first"]),
            ("again (all unchanged)", runs["again"]),
        ):
            print(f"{count:>8,}  {label:<24}{seconds:>9.1f}{cpu:>7.1f}{peak:>13.0f}  {loadavg:<16}  {result}")
    small, large = sizes[0], sizes[-1]
    verdicts = []
    for run, label in (("first", "first import"), ("again", "re-import")):
        peak_small, peak_large = results[small][run][1], results[large][run][1]
        if large != small:
            verdicts.append(
                (
                    f"{label}: peak RSS at {large:,} keys <= {TARGET_GROWTH}x that at {small:,} "
                    f"({peak_large / peak_small:.2f}x)",
                    peak_large <= TARGET_GROWTH * peak_small,
                )
            )
        verdicts.append((f"{label}: peak RSS at {large:,} keys < {TARGET_MB} MB", peak_large < TARGET_MB))
    if TIMED_KEYS in results:
        verdicts.append(
            (
                f"first import of {TIMED_KEYS:,} keys < {TARGET_FIRST_SECONDS} s",
                results[TIMED_KEYS]["first"][0] < TARGET_FIRST_SECONDS,
            )
        )
        verdicts.append(
            (
                f"re-import of {TIMED_KEYS:,} unchanged keys < {TARGET_AGAIN_SECONDS} s",
                results[TIMED_KEYS]["again"][0] < TARGET_AGAIN_SECONDS,
            )
        )
    print()
    for label, ok in verdicts:
        print(f"{'met' if ok else 'NOT MET':>8}  {label}")
    return 0 if all(ok for _, ok in verdicts) else 1


if __name__ == "__main__":
    raise SystemExit(main())
