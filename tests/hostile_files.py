"""Hostile uploads built in a few hundred milliseconds: a zip bomb shaped like an evidence pack and a small
workbook that inflates to a huge sheet. Used by the regression tests and ``benchmarks/hostile_uploads.py``.

The archives are written by hand (local headers, central directory, end record) so a member can hold a deflate
stream of gigabytes without compressing gigabytes: after a full flush a deflate compressor forgets its history,
so every further megabyte of zeros compresses to the same bytes, which are repeated.
"""

from __future__ import annotations

import hashlib
import json
import struct
import zlib

_CHUNK = 1024 * 1024


def deflate_zeros(size: int, *, fill: bytes = b"\0") -> bytes:
    """A raw deflate stream that inflates to ``size`` bytes of ``fill`` (about 1,000 times smaller)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = compressor.compress(fill * _CHUNK) + compressor.flush(zlib.Z_FULL_FLUSH)
    repeated = compressor.compress(fill * _CHUNK) + compressor.flush(zlib.Z_FULL_FLUSH)
    whole, rest = divmod(size, _CHUNK)
    parts = [first] if whole else []
    parts.append(repeated * max(whole - 1, 0))
    parts.append(compressor.compress(fill * rest) + compressor.flush())
    return b"".join(parts)


def raw_zip(members: list[tuple[str, bytes, int, int, int]]) -> bytes:
    """A ZIP from (name, compressed bytes, method 0/8, inflated size, CRC-32) without ZIP64 (sizes < 4 GiB)."""
    body, directory = bytearray(), bytearray()
    for name, data, method, size, crc in members:
        encoded = name.encode()
        offset = len(body)
        body += struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, method, 0, 0x21, crc, len(data), size, len(encoded), 0)
        body += encoded + data
        directory += struct.pack(
            "<4s6H3L5H2L", b"PK\x01\x02", 20, 20, 0, method, 0, 0x21, crc, len(data), size, len(encoded), 0, 0, 0, 0,
            0, offset,
        )  # fmt: skip
        directory += encoded
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(members), len(members), len(directory), len(body), 0)
    return bytes(body + directory + end)


def stored(name: str, data: bytes) -> tuple[str, bytes, int, int, int]:
    return (name, data, 0, len(data), zlib.crc32(data))


def zip_bomb_pack(*, members: int = 12, member_bytes: int = 2_000_000_000) -> bytes:
    """An "evidence pack" of ``members`` data files, each inflating to ``member_bytes`` of zeros, listed in its
    manifest.json with that size (so a verifier that trusts the manifest reads each to the end): ~23 MB that
    unpacks to ~24 GB with the defaults."""
    stream = deflate_zeros(member_bytes)
    names = [f"data-{index:02d}.csv" for index in range(members)]
    manifest = {
        "pack": {"uid": "0" * 32},
        "files": [{"name": name, "size": member_bytes, "sha256": hashlib.sha256(b"").hexdigest()} for name in names],
        "data_digest": "0" * 64,
    }
    entries = [stored("manifest.json", json.dumps(manifest).encode()), stored("manifest.sig", b"AAAA")]
    # The CRC is not that of the zeros (computing it would inflate them): a reader finds out only at the end.
    entries += [(name, stream, 8, member_bytes, 0) for name in names]
    return raw_zip(entries)


SHEET_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG = "http://schemas.openxmlformats.org/package/2006/relationships"


def _deflated(name: str, data: bytes) -> tuple[str, bytes, int, int, int]:
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    return (name, compressor.compress(data) + compressor.flush(), 8, len(data), zlib.crc32(data))


def _deflated_repeat(name: str, head: bytes, unit: bytes, count: int, tail: bytes) -> tuple[str, bytes, int, int, int]:
    """``head + unit * count + tail`` deflated without holding it whole (the CRC is computed in pieces)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = unit * max(1, _CHUNK // len(unit))
    parts, crc, size = [compressor.compress(head)], zlib.crc32(head), len(head)
    blocks, rest = divmod(count, len(block) // len(unit))
    block_crc_parts = []
    for _ in range(blocks):
        block_crc_parts.append(compressor.compress(block))
        crc = zlib.crc32(block, crc)
        size += len(block)
    parts += block_crc_parts
    remainder = unit * rest + tail
    parts.append(compressor.compress(remainder) + compressor.flush())
    crc = zlib.crc32(remainder, crc)
    size += len(remainder)
    return (name, b"".join(parts), 8, size, crc)


def hostile_workbook(*, cells: int = 25_000_000, shared_strings: int = 0, styles: int = 0) -> bytes:
    """A workbook of ~80 KB whose AI-CAIQ sheet holds ``cells`` empty cells (``<c/>``, ~100 MB of XML) in one
    row, with a dimension of the whole grid; optionally ``shared_strings`` empty shared strings and ``styles``
    cell formats. It has no CEK-11.1 row: a reader that survives must still refuse it."""
    workbook = (
        f'<workbook xmlns="{SHEET_NS}" xmlns:r="{_REL}"><sheets>'
        '<sheet name="AI-CAIQv1.1.0" sheetId="1" r:id="rId1"/></sheets></workbook>'
    ).encode()
    rels = (
        f'<Relationships xmlns="{_PKG}"><Relationship Id="rId1" '
        'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
        'Target="worksheets/sheet1.xml"/>'
        '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
        'sharedStrings" Target="sharedStrings.xml"/></Relationships>'
    ).encode()
    root_rels = (
        f'<Relationships xmlns="{_PKG}"><Relationship Id="rId1" '
        'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
        'Target="xl/workbook.xml"/></Relationships>'
    ).encode()
    sheet_head = (f'<worksheet xmlns="{SHEET_NS}"><dimension ref="A1:XFD1048576"/><sheetData><row r="1">').encode()
    members = [
        _deflated(
            "[Content_Types].xml", b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>'
        ),
        _deflated("_rels/.rels", root_rels),
        _deflated("xl/workbook.xml", workbook),
        _deflated("xl/_rels/workbook.xml.rels", rels),
        _deflated_repeat("xl/worksheets/sheet1.xml", sheet_head, b"<c/>", cells, b"</row></sheetData></worksheet>"),
        _deflated_repeat(
            "xl/sharedStrings.xml", f'<sst xmlns="{SHEET_NS}">'.encode(), b"<si><t/></si>", shared_strings, b"</sst>"
        ),
    ]
    if styles:
        members.append(
            _deflated_repeat(
                "xl/styles.xml",
                f'<styleSheet xmlns="{SHEET_NS}"><cellXfs count="{styles}">'.encode(),
                b'<xf numFmtId="0" fontId="0"/>',
                styles,
                b"</cellXfs></styleSheet>",
            )
        )
    return raw_zip(members)
