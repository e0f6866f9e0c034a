"""Key-material detection speed: a megabyte of adversarial input, and typical field values.

    .venv/bin/python benchmarks/keymaterial_speed.py [--size BYTES] [--fields N]

Every value that enters the app (form fields, API bodies, every string of an imported file) goes through
``cek.keymaterial.find_key_material``, so its cost bounds what an upload can make a worker spend. Prints, for each
input of ``tests/corpus/adversarial.py`` (built to make a pattern backtrack) at ``--size`` bytes (1,000,000), the
wall and CPU seconds of one check, and for ``--fields`` (100,000) checks of typical 40-character field values the
microseconds a field. Targets, exit status 1 when one is missed (CPU time, which the machine's other jobs change
much less than wall time): a megabyte of any adversarial input in under 1 s; a typical field in under 30 us
(100,000 rows of ten fields in under 30 s of checking; about 6 us on the development machine).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cek.keymaterial import find_key_material  # noqa: E402
from tests.corpus.adversarial import ADVERSARIAL, TYPICAL_FIELDS  # noqa: E402

MAX_SECONDS_PER_INPUT = 1.0
MAX_MICROSECONDS_PER_FIELD = 30.0


def timed(call) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    call()
    return time.perf_counter() - wall, time.process_time() - cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1_000_000, help="bytes of each adversarial input")
    parser.add_argument("--fields", type=int, default=100_000, help="typical field values checked")
    args = parser.parse_args()

    print("load average at start: " + " ".join(f"{value:.2f}" for value in os.getloadavg()))
    print(f"{'input':<24} {'wall s':>8} {'cpu s':>8}")
    missed = []
    for name, build in ADVERSARIAL.items():
        text = build(args.size)
        wall, cpu = timed(lambda text=text: find_key_material(text))
        flag = ""
        if cpu > MAX_SECONDS_PER_INPUT:
            flag = f"  <-- over {MAX_SECONDS_PER_INPUT:.0f} s"
            missed.append(name)
        print(f"{name:<24} {wall:>8.3f} {cpu:>8.3f}{flag}")

    values = [(text * 2)[:40] for text in TYPICAL_FIELDS]

    def check_fields() -> None:
        for i in range(args.fields):
            find_key_material(values[i % len(values)])

    wall, cpu = timed(check_fields)
    per_field = cpu / max(args.fields, 1) * 1_000_000
    flag = ""
    if per_field > MAX_MICROSECONDS_PER_FIELD:
        flag = f"  <-- over {MAX_MICROSECONDS_PER_FIELD:.0f} us"
        missed.append("typical fields")
    print(f"{args.fields:,} typical fields: {wall:.2f} s wall, {cpu:.2f} s CPU, {per_field:.1f} us a field{flag}")
    if missed:
        print(f"missed: {', '.join(missed)}")
        return 1
    print("every target met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
