"""Hostile uploads (issue 11, "Abuse, load and faults"): the time and memory a worker spends refusing them.

    .venv/bin/python benchmarks/hostile_uploads.py

Each case runs in its own child process, as a gunicorn worker would handle one request, and calls what the
page calls on the uploaded bytes:

- ``zip-bomb``: the verify page (``evidence.packs.verify.verify_pack_file``) on a ~23 MB "evidence pack" whose
  12 data files, listed in its manifest, inflate to ~2 GB of zeros each (the upload that held a worker until it
  was killed at 30 s);
- ``workbook-cells``: "fill my template" (``evidence.answers.template.fill_template``) on a ~100 KB workbook
  whose AI-CAIQ sheet inflates to 100 MB of empty cells over a whole-grid dimension (drove a worker past 1 GB);
- ``workbook-strings``: the same with 8 million shared strings; ``workbook-styles``: with 2 million styles.

For each: wall-clock seconds of the call, the child's peak RSS (``ru_maxrss``) and how much the call raised it
above the peak before the call (the hostile file is built in memory first), and the start of the refusal. The
targets are 2 s and 200 MB; the script exits 1 when a case misses one, or when a case is not refused.
No database or broker is needed (neither function touches them).
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_SECONDS = 2.0
TARGET_MB = 200.0
CASES = ("zip-bomb", "workbook-cells", "workbook-strings", "workbook-styles")


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KB on Linux


def child(case: str) -> dict:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cek.settings")
    os.environ.setdefault("CEK_DEBUG", "1")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    import io

    from evidence.answers.template import TemplateError, fill_template
    from evidence.packs.verify import verify_pack_file
    from tests.hostile_files import hostile_workbook, zip_bomb_pack

    if case == "zip-bomb":
        data = zip_bomb_pack()
    elif case == "workbook-cells":
        data = hostile_workbook(cells=25_000_000)
    elif case == "workbook-strings":
        data = hostile_workbook(cells=10, shared_strings=8_000_000)
    else:
        data = hostile_workbook(cells=10, styles=2_000_000)
    before = _rss_mb()
    started = time.monotonic()
    if case == "zip-bomb":
        report = verify_pack_file(io.BytesIO(data))
        refused, message = not report.ok and not report.files, " ".join(report.problems)
    else:
        try:
            fill_template(data, question_id="CEK-11.1", values={"C": "YES", "D": "", "E": "", "F": ""})
            refused, message = False, "filled"
        except TemplateError as exc:
            refused, message = True, str(exc)
    seconds = time.monotonic() - started
    peak = _rss_mb()
    return {
        "case": case,
        "upload_bytes": len(data),
        "seconds": round(seconds, 3),
        "peak_rss_mb": round(peak, 1),
        "call_added_mb": round(peak - before, 1),
        "refused": refused,
        "message": message[:150],
    }


def main() -> int:
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        print(json.dumps(child(sys.argv[2])))
        return 0
    missed = False
    print(f"{'case':<18} {'upload':>10} {'seconds':>8} {'peak RSS':>9} {'added':>7}  refusal")
    for case in CASES:
        out = subprocess.run(
            [sys.executable, __file__, "--child", case], capture_output=True, text=True, check=False, cwd=ROOT
        )
        if out.returncode != 0:
            print(f"{case:<18} child failed:\n{out.stderr[-2000:]}")
            missed = True
            continue
        row = json.loads(out.stdout.strip().splitlines()[-1])
        miss = not row["refused"] or row["seconds"] > TARGET_SECONDS or row["call_added_mb"] > TARGET_MB
        missed |= miss
        print(
            f"{case:<18} {row['upload_bytes'] / 1024:>8.0f}KB {row['seconds']:>8.3f} {row['peak_rss_mb']:>7.0f}MB "
            f"{row['call_added_mb']:>5.0f}MB  {'MISS ' if miss else ''}{row['message'][:90]}"
        )
    print(f"targets: refused, under {TARGET_SECONDS} s and {TARGET_MB:.0f} MB added per call")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
