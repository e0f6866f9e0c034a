"""Evidence pack benchmark: a full pack for 1k, 10k and 100k keys, against the targets of issue 6.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cek_bench_packs \\
        .venv/bin/python benchmarks/packs.py [--keys 1000,10000,100000] [--sample-size 25] [--force]

Seeds the demo organisation (``inventory.demo.demo_seed``, the builder ``benchmarks/inventory.py`` uses, plus the
demo policies and campaigns of ``evidence.demo``), growing the generated key population to each size in turn
(ascending: the bulk builder only adds the keys missing). For each size, one child process builds one pack
through ``evidence.packs.builder.build_pack`` (the service the Celery task calls: snapshot, content, data files,
PDF, manifest, signature, zip, storage) and reports:

- total: wall-clock time of ``build_pack``;
- PDF: time of ``render_pack_pdf`` (HTML from the templates + WeasyPrint) in the build, and the pages;
- WeasyPrint alone: after the build, WeasyPrint only on the same HTML (``RenderedPdf.html``), the better of two
  runs; the target ratio is the build's own PDF time over it (what the pack build adds to WeasyPrint's work);
- PDF2: ``render_pack_pdf`` again after the build, the better of two runs (shown for reference: the steady
  state of a worker, where only the templates differ from WeasyPrint alone);
- collect: time of ``evidence.packs.content.collect`` inside the build; data: time of the data files
  (``evidence.packs.data.write_data_files``: CSV, XLSX, pack.json);
- HTML: building the PDF's HTML alone (templates), measured again after the build;
- peak RSS of the child process during the build (``ru_maxrss``, read before the WeasyPrint-alone run).

The child renders a one-line HTML first, so that loading fonts (a once-per-process cost of a worker) counts in
neither figure.

It prints a table and flags a row over the targets at 100k keys (smaller sizes must meet them too): 120 s total,
1 GB peak RSS, the build's PDF time at most 1.3x WeasyPrint alone. Above 100,000 keys (``--keys 1000000``, the
target of issue 17) the targets are 600 s total and the same 1 GB; the PDF's ratio is not measured there (the PDF
lists a bounded number of rows, whatever the population). Each row also shows the time of keys.csv + keys.xlsx
(``write_keys``, part of "data") and the CPU seconds of the build, steadier than wall time on a shared machine. Exit status 1 when a row is flagged or a
build fails. A check run is attempted first (``manage.py run_checks``) so the pack has guideline
results; when it fails the pack says no run exists and the benchmark says so.

Database: PostgreSQL when ``DATABASE_URL`` is set (a THROWAWAY database: demo data, demo accounts and packs are
written into it), else SQLite in a temporary ``CEK_DATA_DIR`` (or ``--data-dir``). Without ``CEK_SECRET_KEY``
the script sets ``CEK_DEBUG=1`` for itself; with a production configuration it needs ``--force``.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_SECONDS, TARGET_MB, TARGET_RATIO = 120, 1024, 1.3
# Issue 17: a population over 100,000 keys (the target is set at 1,000,000) within 10 minutes and the same 1 GB.
LARGE_KEYS, TARGET_LARGE_SECONDS = 100_000, 600


def time_target(keys: int) -> int:
    return TARGET_SECONDS if keys <= LARGE_KEYS else TARGET_LARGE_SECONDS


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keys", default="1000,10000,100000", help="population sizes, ascending (default 1k,10k,100k)")
    parser.add_argument("--sample-size", type=int, default=25, help="keys sampled per pack (default 25)")
    parser.add_argument("--seed", type=int, default=2026, help="random seed of the generated keys")
    parser.add_argument("--data-dir", help="SQLite only: keep the database in this folder")
    parser.add_argument("--force", action="store_true", help="seed even though CEK_DEBUG is off")
    parser.add_argument(
        "--no-campaigns",
        action="store_true",
        help="skip the demo campaigns (at 1,000,000 keys their seeding, one campaign over every key confirmed owner "
        "by owner, takes hours); the pack then has no attestations",
    )
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)  # internal: build one pack, print JSON
    return parser.parse_args(argv)


def setup_django(args: argparse.Namespace) -> str | None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cek.settings")
    if not os.environ.get("CEK_SECRET_KEY") and not os.environ.get("CEK_SECRET_KEY_FILE"):
        os.environ["CEK_DEBUG"] = "1"
    temp_dir = None
    if not os.environ.get("DATABASE_URL"):
        os.environ.pop("CEK_SQLITE_PATH", None)  # never the developer's own SQLite file
    if args.data_dir:
        os.environ["CEK_DATA_DIR"] = str(Path(args.data_dir).resolve())
    elif not os.environ.get("CEK_DATA_DIR"):
        # Children inherit it: the same SQLite file, signing key and pack storage.
        temp_dir = tempfile.mkdtemp(prefix="cek-bench-packs-")
        os.environ["CEK_DATA_DIR"] = temp_dir
    import django

    django.setup()
    return temp_dir


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kilobytes


def child(args: argparse.Namespace) -> int:
    """Build one pack over the whole population, print its figures as one JSON line."""
    import datetime as dt

    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from evidence.models import EvidencePack, PackStatus
    from evidence.packs import builder
    from evidence.packs import content as content_module
    from evidence.packs import data as data_module
    from evidence.packs import pdf as pdf_module
    from evidence.packs.fetcher import static_file_url
    from inventory.models import Party

    captured: dict = {}

    def timed(module, name: str, key: str):
        original = getattr(module, name)

        def wrapper(*a, **kw):
            started = time.perf_counter()
            result = original(*a, **kw)
            captured[key] = time.perf_counter() - started
            captured[f"{key}_result"] = result
            return result

        setattr(module, name, wrapper)

    # The builder calls these through their modules, so the wrappers see every call.
    timed(content_module, "collect", "collect")
    timed(data_module, "write_data_files", "data")
    timed(data_module, "write_keys", "keys_files")  # keys.csv + keys.xlsx, inside "data"
    original_render = pdf_module.render_pack_pdf
    timed(pdf_module, "render_pack_pdf", "pdf")
    # A worker renders many packs: load the fonts of the stylesheet once before timing, as a running worker has.
    stylesheet = static_file_url(pdf_module.STYLESHEET)
    pdf_module.html_to_pdf(
        f'<link rel="stylesheet" href="{stylesheet}"><h1>W</h1><p>w <b>b</b> <i>i</i> <span class="mono">m</span></p>'
    )

    today = timezone.localdate()
    grace = get_user_model().objects.get(username="grace")
    pack = EvidencePack.objects.create(
        window_from=today - dt.timedelta(days=90),
        window_to=today,
        party=Party.objects.get(is_us=True),
        sample_size=args.sample_size,
        sample_seed=f"bench-{args.child}",
        requested_by=grace,
    )
    started = time.perf_counter()
    cpu_started = time.process_time()
    built = builder.build_pack(pack.pk)
    total = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    rss = peak_rss_mb()
    if built is None or built.status != PackStatus.READY:
        print(json.dumps({"error": built.last_error if built else "pack vanished"}))
        return 1
    rendered = captured["pdf_result"]
    content = captured["collect_result"]
    digest = built.stats.get("data_digest", "")
    started = time.perf_counter()
    pdf_module.render_pack_html(built, content, data_digest=digest)
    html_seconds = time.perf_counter() - started
    # Steady state, as a worker that has rendered packs before: the better of two runs of the whole PDF step
    # (templates + WeasyPrint) against the better of two runs of WeasyPrint alone on the same HTML.
    again, alone = [], []
    # Above 100,000 keys only the build itself is timed: the PDF lists at most a fixed number of rows, so its
    # ratio to WeasyPrint is measured at the smaller sizes.
    for _ in range(2 if args.child <= LARGE_KEYS else 0):
        again.append(original_render(built, content, data_digest=digest).seconds)
        started = time.perf_counter()
        pdf_module.html_to_pdf(rendered.html)
        alone.append(time.perf_counter() - started)
    print(
        json.dumps(
            {
                "keys": built.stats.get("keys"),
                "total": total,
                "collect": captured.get("collect"),
                "data": captured.get("data"),
                "pdf_build": captured.get("pdf"),
                "pdf": min(again, default=0.0),
                "keys_files": captured.get("keys_files"),
                "cpu": cpu,
                "html": html_seconds,
                "pages": rendered.pages,
                "weasy": min(alone, default=0.0),
                "rss_mb": rss,
                "zip_mb": (built.size or 0) / 1e6,
            }
        )
    )
    return 0


def ensure_population(keys: int, seed: int) -> None:
    from inventory.demo import bulk_keys, demo_seed

    existing = bulk_keys().count()
    if existing >= keys:
        return
    started = time.monotonic()
    report = demo_seed(keys=keys, seed=seed)
    print(f"seed: {report.bulk_created:,} keys added in {time.monotonic() - started:.1f} s (now {report.bulk_total:,})")


def run_benchmark(args: argparse.Namespace) -> int:
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    from cek.demo import demo_allowed_or_refuse
    from evidence.demo import demo_campaigns_seed, demo_policies_seed
    from evidence.packs import signing
    from inventory.models import Key

    demo_allowed_or_refuse(force=args.force, command="benchmarks/packs.py")
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"  # campaign launches mail owners
    sizes = sorted(int(size) for size in args.keys.split(","))
    print(f"Database: {connection.vendor} ({settings.DATABASES['default']['NAME']})")
    call_command("migrate", verbosity=0)
    if not signing.key_path().exists():
        signing.create_key_file()
    rows = []
    for size in sizes:
        ensure_population(size, args.seed)
        demo_policies_seed()
        if not args.no_campaigns:
            demo_campaigns_seed()
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
        note = ""
        try:
            call_command("run_checks", stdout=io.StringIO())
        except Exception as exc:  # the pack is still built; it then says that no run exists
            note = f"no check run ({type(exc).__name__})"
        connection.close()  # the child opens its own
        population = Key.objects.count()
        connection.close()
        process = subprocess.run(
            [sys.executable, __file__, "--child", str(size), "--sample-size", str(args.sample_size)],
            capture_output=True,
            text=True,
            env=os.environ.copy(),
            check=False,
        )
        line = (process.stdout.strip().splitlines() or ["{}"])[-1]
        try:
            figures = json.loads(line)
        except json.JSONDecodeError:
            figures = {"error": (process.stderr or process.stdout).strip()[-500:]}
        figures.update(size=size, population=population, note=note)
        rows.append(figures)
        if "error" in figures:
            print(f"{size:,} keys: FAILED: {figures['error']}")
        else:
            print(f"{size:,} keys: built in {figures['total']:.1f} s")

    print()
    header = (
        f"{'keys':>8} {'total s':>8} {'collect s':>9} {'data s':>7} {'PDF s':>7} {'HTML s':>7} {'pages':>6} "
        f"{'PDF2 s':>7} {'Weasy s':>8} {'PDF/Weasy':>10} {'peak RSS MB':>11} {'zip MB':>7} {'keys files s':>12} "
        f"{'CPU s':>7}"
    )
    print(header)
    print("-" * len(header))
    flagged = 0
    for row in rows:
        if "error" in row:
            print(f"{row['population']:>8,} failed: {row['error'][:100]}")
            flagged += 1
            continue
        # The build's own PDF step (templates + WeasyPrint, fonts already loaded) against WeasyPrint alone.
        ratio = row["pdf_build"] / row["weasy"] if row["weasy"] else None
        flags = []
        if row["total"] > time_target(row["keys"]):
            flags.append(f"total > {time_target(row['keys'])} s")
        if row["rss_mb"] > TARGET_MB:
            flags.append(f"RSS > {TARGET_MB} MB")
        if ratio is not None and ratio > TARGET_RATIO:
            flags.append(f"PDF > {TARGET_RATIO}x WeasyPrint")
        if row["note"]:
            flags.append(row["note"])
        flagged += any(flag != row["note"] for flag in flags)
        print(
            f"{row['keys']:>8,} {row['total']:>8.1f} {row['collect']:>9.2f} {row['data']:>7.1f} "
            f"{row['pdf_build']:>7.1f} {row['html']:>7.2f} {row['pages']:>6} {row['pdf']:>7.1f} {row['weasy']:>8.1f} "
            + (f"{ratio:>9.2f}x" if ratio is not None else f"{'-':>10}")
            + f" {row['rss_mb']:>11.0f} {row['zip_mb']:>7.1f} {row['keys_files']:>12.1f} {row['cpu']:>7.1f}"
            + (f"  <-- {', '.join(flags)}" if flags else "")
        )
    print(
        f"\nTargets at 100k keys: total <= {TARGET_SECONDS} s, peak RSS <= {TARGET_MB} MB, "
        f"the build's PDF <= {TARGET_RATIO}x WeasyPrint alone; above {LARGE_KEYS:,} keys (1,000,000: issue 17) "
        f"total <= {TARGET_LARGE_SECONDS} s and the same RSS. {flagged} row(s) over a target."
    )
    return 1 if flagged else 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    temp_dir = setup_django(args)
    try:
        return child(args) if args.child else run_benchmark(args)
    finally:
        if temp_dir and not args.child:
            shutil.rmtree(temp_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
