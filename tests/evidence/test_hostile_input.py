"""Regression tests from the review of issue 5: uploads and query parameters that used to answer 500 or to
tie up a worker ("fill my template" with a damaged or hostile workbook, non-ASCII digits in ids)."""

from __future__ import annotations

import datetime as dt
import io
import struct
import time
import tracemalloc
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from evidence.answers import services
from evidence.answers.template import TemplateError, column_letters, fill_sheet_xml, fill_template
from evidence.findings.selectors import FindingFilters
from tests.evidence.caiq import blank_caiq_workbook, key_policy, make_run, us
from tests.hostile_files import hostile_workbook

VALUES = {"C": "YES", "D": "Shared OSP-AP", "E": "Described.", "F": ""}


def _patch_central_directory(data: bytes, member: str, patch) -> bytes:
    """``data`` with ``patch(raw, offset)`` applied to ``member``'s central directory record."""
    raw = bytearray(data)
    position = 0
    while (position := raw.find(b"PK\x01\x02", position)) >= 0:
        length = struct.unpack("<H", raw[position + 28 : position + 30])[0]
        if raw[position + 46 : position + 46 + length].decode() == member:
            patch(raw, position)
        position += 46
    return bytes(raw)


def _bad_crc(raw, at):
    raw[at + 16] ^= 0xFF


def _encrypted(raw, at):
    raw[at + 8] |= 1


def _unknown_compression(raw, at):
    raw[at + 10] = 99


def _understated_size(raw, at):  # a "zip bomb" header: the member inflates past its declared size
    raw[at + 24 : at + 28] = struct.pack("<I", 10)


@pytest.mark.parametrize("patch", [_bad_crc, _encrypted, _unknown_compression, _understated_size])
@pytest.mark.parametrize("member", ["xl/workbook.xml", "xl/styles.xml"])
def test_an_unreadable_member_is_a_template_error_not_a_crash(patch, member):
    damaged = _patch_central_directory(blank_caiq_workbook(), member, patch)
    with pytest.raises(TemplateError, match="cannot be read"):
        fill_template(damaged, question_id="CEK-11.1", values=VALUES)


def _with_sheets(xml: str) -> bytes:
    """The blank workbook with every worksheet part replaced by ``xml``."""
    source = zipfile.ZipFile(io.BytesIO(blank_caiq_workbook()))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as result:
        for info in source.infolist():
            is_sheet = info.filename.startswith("xl/worksheets/") and info.filename.endswith(".xml")
            result.writestr(info, xml if is_sheet else source.read(info.filename))
    return buffer.getvalue()


HOSTILE = {
    "unclosed rows": "<worksheet><sheetData>" + '<row r="1">' * 50_000 + "</sheetData></worksheet>",
    "nested cells": "<worksheet><sheetData><row>" + "<c>" * 50_000 + "<row/>" + "</c>" * 50_000 + "</row>"
    "</sheetData></worksheet>",
    "look-alike cells": "<worksheet><sheetData><row>" + "<c-x/>" * 50_000 + "</row></sheetData></worksheet>",
    "markup in a comment": "<worksheet><sheetData><!--" + "<row " * 50_000 + "--></sheetData></worksheet>",
    "markup in a PI": "<worksheet><sheetData><?x " + "<row " * 50_000 + "?></sheetData></worksheet>",
}


@pytest.mark.parametrize("xml", HOSTILE.values(), ids=HOSTILE.keys())
def test_a_hostile_sheet_is_refused_at_once(xml):
    started = time.monotonic()
    with pytest.raises(TemplateError):
        fill_template(_with_sheets(xml), question_id="CEK-11.1", values=VALUES)
    assert time.monotonic() - started < 3  # was quadratic or worse: 88 kB of unclosed rows took 10 s


def _fill_measured(data: bytes):
    """(error message, seconds, tracemalloc peak bytes) of filling ``data``."""
    tracemalloc.start()
    started = time.monotonic()
    try:
        with pytest.raises(TemplateError) as refused:
            fill_template(data, question_id="CEK-11.1", values=VALUES)
        return str(refused.value), time.monotonic() - started, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


HOSTILE_WORKBOOKS = {
    # ~100 KB; the sheet inflates to 100 MB of empty cells over a whole-grid dimension (drove a worker past 1 GB).
    "100 MB of empty cells": dict(cells=25_000_000),
    "8 million shared strings": dict(cells=10, shared_strings=8_000_000),
    "2 million styles": dict(cells=10, styles=2_000_000),
}


@pytest.mark.parametrize("shape", HOSTILE_WORKBOOKS.values(), ids=HOSTILE_WORKBOOKS.keys())
def test_a_small_hostile_workbook_is_refused_in_bounded_time_and_memory(shape):
    data = hostile_workbook(**shape)
    assert len(data) < 200 * 1024
    message, elapsed, peak = _fill_measured(data)
    assert "Nothing was unpacked" in message and "Upload the blank official AI-CAIQ workbook" in message
    assert elapsed < 5, f"took {elapsed:.1f} s"  # the target is 2 s; loose for a busy test machine
    assert peak < 200 * 1024 * 1024, f"peak {peak / 2**20:.0f} MB"


def test_a_sheet_of_too_many_cells_under_the_ratio_cap_is_refused_in_bounded_memory():
    # 250,000 cells with distinct references: compresses ~10:1, so only the cap on tags stops it.
    cells = "".join(f'<c r="{column_letters(1 + n % 16000)}{n}"/>' for n in range(1, 250_001))
    xml = f'<worksheet><sheetData><row r="1">{cells}</row></sheetData></worksheet>'
    assert 1024 * 1024 < len(xml) < 8 * 1024 * 1024
    message, elapsed, peak = _fill_measured(_with_sheets(xml))
    assert "XML tags" in message
    assert elapsed < 5 and peak < 200 * 1024 * 1024, (elapsed, peak)


def test_a_well_formed_sheet_with_a_declaration_is_still_filled():
    xml = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
        '<row r="4"><c r="A4" t="inlineStr"><is><t>CEK-11.1</t></is></c></row></sheetData></worksheet>'
    )
    result = fill_sheet_xml(xml, shared=[], question_id="CEK-11.1", values=VALUES)
    assert 'r="C4"' in result and "YES" in result


def test_a_row_number_in_non_ascii_digits_does_not_crash():
    xml = '<worksheet><sheetData><row r="²"><c t="inlineStr"><is><t>CEK-11.1</t></is></c></row></sheetData></worksheet>'
    assert 'r="C1"' in fill_sheet_xml(xml, shared=[], question_id="CEK-11.1", values=VALUES)


@pytest.mark.django_db
def test_the_upload_page_shows_a_damaged_workbook_as_a_form_error(grc_user, auditor_client):
    key_policy(grc_user)
    make_run()
    answer = services.answer_generate(party=us(), actor=grc_user)
    damaged = _patch_central_directory(blank_caiq_workbook(), "xl/styles.xml", _bad_crc)
    upload = SimpleUploadedFile("AI-CAIQ.xlsx", damaged)
    response = auditor_client.post(reverse("evidence:answer-template", args=[answer.pk]), {"workbook": upload})
    assert response.status_code == 400 and "cannot be read" in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("value", ["²", "١٢", "99999999999999999999999", "-1", "1.5"])
def test_odd_ids_in_query_strings_are_ignored(grc_client, value):
    us()
    assert grc_client.get(reverse("evidence:answer-list"), {"party": value}).status_code == 200
    assert grc_client.get(reverse("evidence:finding-list"), {"key": value}).status_code == 200
    assert FindingFilters.from_query({"key": value}).key is None


@pytest.mark.django_db
def test_ccm3_survives_a_rotation_period_past_the_calendar():
    """A rotation period is a PositiveIntegerField (up to 2^31 - 1 days); adding it to a date overflowed and
    failed the whole check run. Such a key is simply not due for rotation."""
    from evidence.checks.base import CheckContext
    from evidence.checks.registry import BY_GUIDELINE
    from tests.evidence.test_checks_rules import good_key

    today = dt.date.today()
    far = good_key(rotation_period_days=2_000_000_000, activated_on=today - dt.timedelta(days=20))
    late = good_key(rotation_period_days=7, activated_on=today - dt.timedelta(days=20))
    outcome = BY_GUIDELINE["CCM-3"].evaluate(CheckContext())
    assert {subject.id for subject in outcome.failing} == {late.pk}
    assert far.pk not in {subject.id for subject in outcome.failing}
