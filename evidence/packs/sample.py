"""The reproducible random sample of keys an evidence pack offers the auditor for their own testing.

The method is deliberately simple so that an auditor can re-draw the same sample from the pack's data files
with a few lines of Python, without this application:

1. take the ids of the pack's key population (the ``id`` column of ``keys.csv``) and sort them ascending;
2. seed Python's ``random.Random`` with the integer whose big-endian bytes are the SHA-256 of the seed text
   (UTF-8);
3. call ``.sample(ids, size)`` on it (the whole population when it has no more than ``size`` keys);
4. sort the drawn ids ascending.

``random.Random`` is the Mersenne Twister, whose ``sample`` has produced the same draw for the same seed since
Python 3.2 (CPython keeps it stable for reproducibility); the pack records the Python version beside the seed.
"""

from __future__ import annotations

import hashlib
import platform
import random
from collections.abc import Iterable

METHOD_NAME = "sha256-seeded Python random.Random.sample over ids sorted ascending"


def seed_number(seed: str) -> int:
    """The integer a seed text stands for: its SHA-256 read as a big-endian number."""
    return int.from_bytes(hashlib.sha256(seed.encode("utf-8")).digest(), "big")


def draw_sample(population_ids: Iterable[int], size: int, seed: str) -> list[int]:
    """``size`` ids drawn from ``population_ids`` by the method above, sorted ascending.

    The order in which ids are given does not matter (they are sorted first); duplicates count once. A size
    of zero or less draws nothing; a size at least as large as the population returns all of it."""
    ids = sorted(set(int(pk) for pk in population_ids))
    if size <= 0 or not ids:
        return []
    if size >= len(ids):
        return ids
    return sorted(random.Random(seed_number(seed)).sample(ids, size))


def describe_method(seed: str | None = None, size: int | None = None) -> str:
    """How the sample was drawn, in words and as code an auditor can run against ``keys.csv``."""
    seed_repr = repr(seed) if seed is not None else "SEED"
    size_repr = str(size) if size is not None else "SIZE"
    return (
        "Simple random sample without replacement. Take the ids of every key in the pack's population (the id "
        "column of keys.csv) sorted ascending; seed Python's random.Random (Mersenne Twister) with the SHA-256 of "
        "the seed text (UTF-8) read as a big-endian integer; draw with .sample(ids, size) (the whole population "
        "when it is not larger than size); sort the drawn ids ascending. In Python "
        f"{platform.python_version()}: "
        f"ids = sorted(int(row['id']) for row in csv.DictReader(open('keys.csv'))); "
        f"rng = random.Random(int.from_bytes(hashlib.sha256({seed_repr}.encode()).digest(), 'big')); "
        f"sample = sorted(rng.sample(ids, min({size_repr}, len(ids))))"
    )
