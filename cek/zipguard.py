"""Refusing hostile ZIP archives from their central directory, before a byte is inflated.

An uploaded ZIP (an evidence pack to verify, an Excel workbook to fill) is judged on what its central directory
declares: how many members, how large each inflates, how much larger than its compressed bytes (a deflate "zip
bomb" reaches ~1000:1; real packs and workbooks stay far below 100:1), and whether two members share the same
compressed bytes (the overlapping-member bomb). Python's ``zipfile`` stops inflating a member at the size its
central directory declares, so once the declared sizes pass these checks, inflating is bounded by them.
"""

from __future__ import annotations

import itertools
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass

# Members smaller than this are not judged on their ratio: a 1 MB member costs nothing to inflate, and a small
# blank sheet or a manifest of repeated entries can compress very well.
RATIO_FLOOR_BYTES = 1024 * 1024
_LOCAL_HEADER_BYTES = 30


@dataclass(frozen=True)
class ZipLimits:
    max_members: int
    max_total_bytes: int  # the sum of what every member inflates to
    max_member_bytes: int
    max_ratio: int  # inflated / compressed, per member of at least RATIO_FLOOR_BYTES


class ZipRefused(ValueError):
    """The archive's directory declares more than it may (the message says what, for the user)."""


def _mb(size: int) -> str:
    return f"{size / (1024 * 1024):,.1f} MB"


def _name_bytes(info: zipfile.ZipInfo) -> int:
    # The name as stored: UTF-8 when the archive flags it so, else code page 437 (one byte a character).
    if info.flag_bits & 0x800:
        return len(info.orig_filename.encode("utf-8", errors="surrogatepass"))
    return len(info.orig_filename)


def zip_check(infos: Sequence[zipfile.ZipInfo], limits: ZipLimits, *, what: str) -> None:
    """Raise :class:`ZipRefused` when the directory entries ``infos`` of ``what`` ("the archive") declare more
    members, more inflated bytes, a higher compression ratio or overlapping members than ``limits`` allow."""
    if len(infos) > limits.max_members:
        raise ZipRefused(f"{what} holds {len(infos):,} files; at most {limits.max_members:,} are accepted.")
    total = 0
    for info in infos:
        size, packed = info.file_size, info.compress_size
        if size > limits.max_member_bytes:
            raise ZipRefused(
                f"{what} holds {info.filename}, which unpacks to {_mb(size)}; at most "
                f"{_mb(limits.max_member_bytes)} per file is accepted. Nothing was unpacked."
            )
        if size >= RATIO_FLOOR_BYTES and size > limits.max_ratio * max(packed, 1):
            raise ZipRefused(
                f"{what} holds {info.filename}, which unpacks to {_mb(size)} from {packed:,} bytes "
                f"({size // max(packed, 1):,} times smaller): a zip bomb, not a real file. Nothing was unpacked."
            )
        total += size
    if total > limits.max_total_bytes:
        raise ZipRefused(
            f"{what} unpacks to {_mb(total)} in all; at most {_mb(limits.max_total_bytes)} is accepted. "
            "Nothing was unpacked."
        )
    # Members whose compressed bytes overlap (several directory entries pointing into one deflate stream)
    # multiply what a small file inflates to without any single ratio looking odd.
    ordered = sorted(infos, key=lambda info: info.header_offset)
    for current, following in itertools.pairwise(ordered):
        end = current.header_offset + _LOCAL_HEADER_BYTES + _name_bytes(current) + current.compress_size
        if end > following.header_offset:
            raise ZipRefused(
                f"{what} has files that share their compressed bytes ({current.filename}, {following.filename}): "
                "it was crafted, not written by a ZIP tool. Nothing was unpacked."
            )
