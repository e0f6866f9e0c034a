"""The AI-CAIQ workbook in CSA's layout, CSV and JSON, and "fill my template" on a realistic blank workbook."""

from __future__ import annotations

import csv
import io
import json
import zipfile

import pytest
from openpyxl import load_workbook

from evidence.answers import export, services
from evidence.answers.template import TemplateError, fill_sheet_xml, fill_template
from tests.evidence.caiq import blank_caiq_workbook, key_policy, make_run, us

pytestmark = pytest.mark.django_db


@pytest.fixture
def draft(grc_user):
    key_policy(grc_user)
    make_run({"AG-2": "partial"})
    return services.answer_generate(party=us(), actor=grc_user)


@pytest.fixture
def published(draft, grc_user):
    return services.answer_publish(answer=draft, actor=grc_user)


def test_the_workbook_has_csas_layout(published):
    workbook = load_workbook(io.BytesIO(export.to_xlsx(published)))
    assert workbook.sheetnames == ["AI-CAIQv1.1.0"]
    sheet = workbook["AI-CAIQv1.1.0"]
    assert json.loads(sheet["A1"].value) == {"specification_version": "1.1.0"}
    assert sheet["A1"].value == '{"specification_version": "1.1.0"}'
    headers = [cell.value for cell in sheet[2]]
    assert headers[:6] == [
        "Question ID",
        "Question",
        "Service Provider AI-CAIQ Answer",
        "SSRM Control Ownership",
        "Service Provider Implementation Description",
        "Service Customer Responsibilities",
    ]
    assert headers[6:8] == [None, None]
    assert headers[8:] == ["AICM Control ID", "Control Specification", "Control Title", "Domain"]
    row = [cell.value for cell in sheet[3]]
    assert row[0] == "CEK-11.1"
    assert row[1].startswith("Are cryptographic secrets and private keys")
    assert row[2] == "YES" and row[3] == "Shared OSP-AP"
    assert "Disclosed gaps (remediation planned):\n- AG-2:" in row[4]
    assert row[5] == published.customer_responsibilities
    assert row[6] is None and row[7] is None
    assert row[8:] == [
        "CEK-11",
        "Manage cryptographic secret and private keys that are provisioned for a unique purpose.",
        "Key Purpose",
        "Cryptography, Encryption & Key Management",
    ]
    assert sheet.max_row == 3 and sheet.max_column == 12
    assert published.sha256 in workbook.properties.subject


def test_a_draft_workbook_is_marked(draft):
    workbook = load_workbook(io.BytesIO(export.to_xlsx(draft)))
    assert workbook.properties.subject == export.DRAFT_MARK
    assert workbook["AI-CAIQv1.1.0"].oddHeader.center.text == export.DRAFT_MARK


def test_csv_and_json_carry_the_same_answer(published, draft):
    rows = list(csv.reader(io.StringIO(export.to_csv(published))))
    assert rows[0][:3] == ["Question ID", "Question", "Service Provider AI-CAIQ Answer"]
    assert rows[0][6:8] == ["Column G", "Column H"]
    assert rows[1][0] == "CEK-11.1" and rows[1][2] == "YES" and rows[1][12] == "published"
    assert rows[1][14] == published.sha256
    data = json.loads(export.to_json(published))
    assert data["status"] == "published" and data["sha256"] == published.sha256
    assert data["ssrm_control_ownership"] == "Shared OSP-AP"
    assert data["implementation_description"] == rows[1][4]
    assert data["facts"]["check_run"]["id"] == published.check_run_id


def test_a_draft_csv_and_json_are_marked(grc_user):
    make_run()
    answer = services.answer_generate(party=us(), actor=grc_user)
    assert list(csv.reader(io.StringIO(export.to_csv(answer))))[1][12] == export.DRAFT_MARK
    data = json.loads(export.to_json(answer))
    assert data["status"] == "draft" and data["note"] == export.DRAFT_MARK and data["sha256"] is None


def test_column_e_carries_the_plan_of_a_no_and_the_justification_of_an_na(grc_user):
    make_run({"AG-1": "fail"})
    no = services.answer_generate(party=us(), actor=grc_user)
    assert "Corrective-action plan (owner" in export.column_e(no)
    from tests.factories import PartyFactory

    na = services.answer_generate(party=PartyFactory(roles=["AIC"]), actor=grc_user)
    assert "Not applicable: " in export.column_e(na)


# --- Fill my template ---------------------------------------------------------------------------------------

VALUES = {"C": "YES", "D": "Shared OSP-AP", "E": "Line one & <two>\nline three", "F": "Customers label their keys."}


def members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {info.filename: archive.read(info.filename) for info in archive.infolist()}


def sheet_part(data: bytes) -> str:
    workbook = load_workbook(io.BytesIO(data))
    index = workbook.sheetnames.index("AI-CAIQv1.1.0") + 1
    return f"xl/worksheets/sheet{index}.xml"


def test_the_template_gets_c_to_f_of_the_cek_11_1_row_and_nothing_else():
    blank = blank_caiq_workbook()
    filled = fill_template(blank, question_id="CEK-11.1", values=VALUES)
    before, after = members(blank), members(filled)
    assert list(before) == list(after)
    part = sheet_part(blank)
    for name in before:
        if name != part:
            assert before[name] == after[name], f"{name} changed"
    assert before[part] != after[part]

    original = load_workbook(io.BytesIO(blank))
    result = load_workbook(io.BytesIO(filled))
    assert result.sheetnames == original.sheetnames
    for name in original.sheetnames:
        old, new = original[name], result[name]
        assert (old.max_row, old.max_column) == (new.max_row, new.max_column)
        for old_row, new_row in zip(old.iter_rows(), new.iter_rows(), strict=True):
            for old_cell, new_cell in zip(old_row, new_row, strict=True):
                target = name == "AI-CAIQv1.1.0" and old_cell.row == 4 and old_cell.column_letter in "CDEF"
                if target:
                    assert new_cell.value == VALUES[old_cell.column_letter]
                    assert new_cell.style_id == old_cell.style_id
                    assert new_cell.fill.fgColor.rgb == old_cell.fill.fgColor.rgb
                else:
                    assert new_cell.value == old_cell.value, new_cell.coordinate
                    assert new_cell.style_id == old_cell.style_id, new_cell.coordinate
    sheet = result["AI-CAIQv1.1.0"]
    assert (
        sheet.data_validations.dataValidation[0].sqref
        == original["AI-CAIQv1.1.0"].data_validations.dataValidation[0].sqref
    )
    assert sheet["E4"].value == "Line one & <two>\nline three"
    xml = after[part].decode()
    assert 't="inlineStr"' in xml and "&amp; &lt;two&gt;" in xml


def test_the_other_rows_of_the_sheet_keep_their_xml():
    blank = blank_caiq_workbook()
    part = sheet_part(blank)
    before = members(blank)[part].decode()
    after = members(fill_template(blank, question_id="CEK-11.1", values=VALUES))[part].decode()
    start, end = before.index('<row r="4"'), before.index("</row>", before.index('<row r="4"')) + 6
    assert after.startswith(before[:start])
    assert after.endswith(before[end:])


def test_an_empty_column_keeps_the_cell_and_its_style():
    blank = blank_caiq_workbook()
    filled = fill_template(blank, question_id="CEK-11.1", values={**VALUES, "F": ""})
    sheet = load_workbook(io.BytesIO(filled))["AI-CAIQv1.1.0"]
    assert sheet["F4"].value is None and sheet["F4"].fill.fgColor.rgb.endswith("FFF2CC")


def test_missing_cells_are_inserted_in_column_order():
    xml = (
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
        '<row r="7" spans="1:2"><c r="A7" t="inlineStr"><is><t>CEK-11.1</t></is></c><c r="B7" s="2"><v>1</v></c>'
        '<c r="I7"><v>9</v></c></row></sheetData></worksheet>'
    )
    result = fill_sheet_xml(xml, shared=[], question_id="CEK-11.1", values={"C": "YES", "D": "ND", "E": "e", "F": ""})
    cells = result[result.index("<row") :]
    assert cells.index('r="B7"') < cells.index('r="C7"') < cells.index('r="F7"') < cells.index('r="I7"')
    assert 'spans="1:6"' in result


def test_a_cell_with_a_formula_is_not_overwritten():
    xml = (
        '<worksheet><sheetData><row r="3"><c r="A3" t="s"><v>0</v></c><c r="C3"><f>1+1</f><v>2</v></c></row>'
        "</sheetData></worksheet>"
    )
    with pytest.raises(TemplateError, match="C3 holds a formula"):
        fill_sheet_xml(xml, shared=["CEK-11.1"], question_id="CEK-11.1", values=dict.fromkeys("CDEF", "x"))


def test_not_an_xlsx_is_refused():
    with pytest.raises(TemplateError, match="not a ZIP package"):
        fill_template(b"%PDF-1.4 not a workbook", question_id="CEK-11.1", values=VALUES)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("word/document.xml", "<w/>")
    with pytest.raises(TemplateError, match="no workbook part"):
        fill_template(buffer.getvalue(), question_id="CEK-11.1", values=VALUES)


def test_a_workbook_without_the_sheet_is_refused():
    with pytest.raises(TemplateError, match=r"no sheet “AI-CAIQv1\.1\.0”.*“Introduction”, “CAIQv4\.0\.3”"):
        fill_template(blank_caiq_workbook(sheet="CAIQv4.0.3"), question_id="CEK-11.1", values=VALUES)


def test_a_sheet_without_the_row_is_refused():
    with pytest.raises(TemplateError, match=r"no row whose column A is CEK-11\.1"):
        fill_template(blank_caiq_workbook(with_row=False), question_id="CEK-11.1", values=VALUES)


def test_a_damaged_workbook_part_is_refused():
    blank = members(blank_caiq_workbook())
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in blank.items():
            archive.writestr(name, b"<not xml" if name == "xl/workbook.xml" else data)
    with pytest.raises(TemplateError, match="not valid XML"):
        fill_template(buffer.getvalue(), question_id="CEK-11.1", values=VALUES)
