"""Import memory per format: generated exports of 10,000 and 100,000 keys of each format imported through
``manage.py import_keys``, the peak memory of each import compared between the sizes.

    .venv/bin/python benchmarks/import_formats.py [--formats gcp-kms,azure-kv,vault-transit,vault-kv,cbom]
        [--sizes 10000,100000] [--dry-run] [--data-dir DIR]

For each format and size it writes an export (``tests/export_files.py``: ``gcloud kms keys list``, ``az keyvault
key show`` results, ``vault read transit/keys/NAME`` and ``vault kv metadata get`` envelopes, a CycloneDX 1.6 CBOM
with its algorithm components and the dependencies of this app's own export) and imports the file once into a
store of its own (so every key is new and nothing has to be deleted first) with ``manage.py import_keys --format F
FILE --user bench-grc --store NAME`` in a child process (``--dry-run``: the file is read and planned, nothing
written). It prints the wall-clock time, the child's CPU
seconds (user + system) and its peak resident memory (``wait4``: that child alone), and the load average.

Targets (issue 17: memory must not grow with the file; exit status 1 when one is missed): for each format, the
peak memory of the import of the largest size is at most 1.3 times that of the smallest size, and under 300 MB.
The AWS KMS export is measured by ``benchmarks/imports.py``.

Database: PostgreSQL when ``DATABASE_URL`` is set (use a THROWAWAY database: it is migrated and keys are written
into it; a run adds 110,000 per format), else a throwaway SQLite under a temporary ``CEK_DATA_DIR`` (or ``--data-dir``).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.imports import import_env, load, run_import  # noqa: E402  (the project root on the path first)
from tests.export_files import FORMATS, STORES, write_export  # noqa: E402

TARGET_MB, TARGET_GROWTH = 300, 1.3


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--formats", default=",".join(FORMATS), help="comma-separated (default: all five)")
    parser.add_argument("--sizes", default="10000,100000", help="keys in each export, comma-separated")
    parser.add_argument("--seed", type=int, default=2026, help="random seed of the generated keys")
    parser.add_argument("--dry-run", action="store_true", help="read and plan the files only; write nothing")
    parser.add_argument("--data-dir", help="SQLite only: keep the database in this folder")
    return parser.parse_args(argv)


def prepare_database(env: dict[str, str], stores: list[tuple[str, str, str, str]]) -> None:
    """Migrate, and create the GRC user, the owners and the stores (name, kind, account, region)."""
    script = f"""
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from inventory.models import KeyStore
User = get_user_model()
grc, _ = User.objects.get_or_create(username="bench-grc")
grc.groups.add(Group.objects.get(name="grc"))
for n in range(20):
    User.objects.get_or_create(username=f"owner{{n:02d}}")
for name, kind, account, region in {stores!r}:
    KeyStore.objects.get_or_create(name=name, defaults={{"kind": kind, "account": account, "region": region}})
"""
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "--no-input", "-v", "0"], env=env, check=True, cwd=ROOT)
    subprocess.run([*manage, "shell", "-c", script], env=env, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)


def store_of(format: str, count: int) -> tuple[str, str, str, str]:
    """The run's own store: the format's kind, account and region (what the file says) under a name of its own."""
    name, kind, account, region = STORES[format]
    return f"{name}-{count}-{os.getpid()}", kind, account, region


def timed_import(
    path: Path, format: str, store: str, env: dict[str, str], *, dry_run: bool
) -> tuple[float, float, float, str]:
    """One import in a child process: (seconds, CPU seconds, peak RSS in MB, its last output line)."""
    command = ["import_keys", str(path), "--format", format, "--store", store]
    command += ["--dry-run"] if dry_run else ["--user", "bench-grc"]
    return run_import(command, env, f"The {format} import")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    formats = [name.strip() for name in args.formats.split(",") if name.strip()]
    unknown = [name for name in formats if name not in FORMATS]
    if unknown:
        raise SystemExit(f"Unknown format(s): {', '.join(unknown)}; expected some of: {', '.join(FORMATS)}.")
    sizes = sorted({int(size) for size in args.sizes.split(",") if size.strip()})
    env, temp_dir = import_env(args.data_dir)
    work = Path(tempfile.mkdtemp(prefix="cek-bench-formats-"))
    results: dict[tuple[str, int], tuple] = {}
    try:
        prepare_database(env, [store_of(format, count) for format in formats for count in sizes])
        for format in formats:
            for count in sizes:
                path = work / f"{format}-{count}.json"
                store = store_of(format, count)[0]
                with path.open("w") as out:
                    write_export(out, format, count, seed=args.seed, store=store)
                size_mb = path.stat().st_size / 1048576
                seconds, cpu, peak, result = timed_import(path, format, store, env, dry_run=args.dry_run)
                results[format, count] = (size_mb, seconds, cpu, peak, load(), result)
                print(f"{format:<14}{count:>8,} keys {size_mb:6.1f} MB  {seconds:7.1f} s  {cpu:6.1f} CPU s  "
                      f"{peak:5.0f} MB peak  load {load()}", flush=True)  # fmt: skip
                path.unlink()
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if temp_dir:
            shutil.rmtree(temp_dir, ignore_errors=True)
    print()
    what = "dry run (read and planned)" if args.dry_run else "import (written)"
    print(
        f"{'format':<14}{'keys':>9}{'file MB':>9}{'seconds':>9}{'CPU s':>7}{'peak RSS MB':>13}  load average      {what}"
    )
    for (format, count), (size_mb, seconds, cpu, peak, loadavg, result) in results.items():
        print(f"{format:<14}{count:>9,}{size_mb:>9.1f}{seconds:>9.1f}{cpu:>7.1f}{peak:>13.0f}  {loadavg:<16}  {result}")
    verdicts = []
    small, large = sizes[0], sizes[-1]
    for format in formats:
        peak_small, peak_large = results[format, small][3], results[format, large][3]
        if large != small:
            verdicts.append(
                (
                    f"{format}: peak RSS at {large:,} keys <= {TARGET_GROWTH}x that at {small:,} "
                    f"({peak_large / peak_small:.2f}x)",
                    peak_large <= TARGET_GROWTH * peak_small,
                )
            )
        verdicts.append((f"{format}: peak RSS at {large:,} keys < {TARGET_MB} MB", peak_large < TARGET_MB))
    print()
    for label, ok in verdicts:
        print(f"{'met' if ok else 'NOT MET':>8}  {label}")
    return 0 if all(ok for _, ok in verdicts) else 1


if __name__ == "__main__":
    raise SystemExit(main())
