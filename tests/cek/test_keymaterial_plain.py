"""The validator's shortcut for plain identifiers (``cek.keymaterial.detect._PLAIN_VALUE``) accepts only what the
full scan accepts too: it saves time (exports check millions of ids, dates and bom-refs) and never a verdict.

Random values of every shape the shortcut takes, alone and behind the CBOM bom-ref's "key:<store id>:", are
judged with the shortcut switched off: the full scan must find nothing in any of them either."""

from __future__ import annotations

import random
import re
import string

import pytest

from cek.keymaterial import detect, find_key_material

HEX = "0123456789abcdef"


def _hex(rng: random.Random, n: int, alphabet: str = HEX) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


def _uuid(rng: random.Random, alphabet: str = HEX) -> str:
    return "-".join(_hex(rng, n, alphabet) for n in (8, 4, 4, 4, 12))


def plain_values(rng: random.Random) -> list[str]:
    mixed = HEX + "ABCDEF"
    region = rng.choice(["us-east-1", "eu-west-3", "ap-southeast-2", "us-gov-west-1"])
    account = "".join(rng.choice(string.digits) for _ in range(12))
    partition = rng.choice(["aws", "aws-us-gov", "aws-cn"])
    return [
        f"{rng.randint(1970, 2099)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
        f"2026-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}T{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:"
        f"{rng.randint(0, 59):02d}.{rng.randint(0, 999999):06d}+00:00",
        _uuid(rng),
        _uuid(rng, mixed),
        "mrk-" + _uuid(rng),
        "mrk-" + _hex(rng, 32),
        f"arn:{partition}:kms:{region}:{account}:key/{_uuid(rng)}",
        f"arn:{partition}:kms:{region}:{account}:key/mrk-{_hex(rng, 32)}",
    ]


def test_every_shape_is_taken_by_the_shortcut():
    rng = random.Random(17)
    for value in plain_values(rng):
        assert detect._PLAIN_VALUE.fullmatch(value), value
        assert detect._PLAIN_VALUE.fullmatch(f"key:{rng.randint(1, 10**6)}:{value}"), value


def test_the_shortcut_accepts_nothing_the_full_scan_refuses(monkeypatch):
    rng = random.Random(2026)
    values = []
    for _ in range(300):
        for value in plain_values(rng):
            values += [value, f"key:{rng.randint(1, 10**18)}:{value}"]
    assert all(detect._PLAIN_VALUE.fullmatch(value) for value in values)
    monkeypatch.setattr(detect, "_PLAIN_VALUE", re.compile(r"(?!)"))  # matches nothing: every value fully scanned
    refused = [(value, find_key_material(value)) for value in values if find_key_material(value)]
    assert refused == []


@pytest.mark.parametrize(
    "value",
    [
        "key:2:" + "9f86d081884c7d659a2feaa0c55ad015",  # a bare 128-bit hex string is not one of the shapes
        "key:2:arn:aws:kms:us-east-1:444455556666:key/" + "A" * 8 + "-1234-1234-1234-123456789012x",
        "key:x:2026-01-01",
    ],
)
def test_anything_else_behind_the_prefix_is_not_taken(value):
    assert not detect._PLAIN_VALUE.fullmatch(value)


def test_a_hex_key_behind_the_bom_ref_prefix_is_still_refused():
    assert find_key_material("key:2:9f86d081884c7d659a2feaa0c55ad0159f86d081884c7d659a2feaa0c55ad015")
