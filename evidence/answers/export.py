"""The CEK-11.1 answer written out: the AI-CAIQ workbook in CSA's layout (openpyxl), CSV and JSON.

The workbook has one sheet ``AI-CAIQv1.1.0``; A1 holds ``{"specification_version": "1.1.0"}``, row 2 the
headers, row 3 the answer: A Question ID · B Question · C answer · D SSRM Control Ownership · E implementation
description · F customer responsibilities · G-H empty · I-L AICM control ID, specification, title, domain.
Column E is composed from the description and the structured parts (disclosed gaps with their remediation and
date, the corrective-action plan, the NA justification), as CSA asks those to appear in E.

Every cell follows the one escaping rule of ``cek.spreadsheet``: CSV text that a spreadsheet would run as a
formula is prefixed with "'", workbook text is typed as text.

A draft is marked as such (workbook properties and the print header in the xlsx, a status column in the CSV,
``status`` in the JSON); only a published answer carries its SHA-256.
"""

from __future__ import annotations

import csv
import io
import json

from django.utils.text import get_valid_filename
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill

from cek.control import load_control
from cek.exportguard import check_tree
from cek.spreadsheet import spreadsheet_safe, xlsx_set
from evidence.models import AnswerStatus, AnswerValue, CaiqAnswer

SHEET = "AI-CAIQv1.1.0"
COMPUTED = frozenset({"sha256"})  # digests the app computed: let through only as 64 hex digits
SPECIFICATION_STAMP = json.dumps({"specification_version": "1.1.0"})
HEADERS = (
    "Question ID",
    "Question",
    "Service Provider AI-CAIQ Answer",
    "SSRM Control Ownership",
    "Service Provider Implementation Description",
    "Service Customer Responsibilities",
    "",
    "",
    "AICM Control ID",
    "Control Specification",
    "Control Title",
    "Domain",
)
COLUMN_WIDTHS = (12, 48, 14, 24, 90, 60, 4, 4, 14, 48, 18, 40)
DRAFT_MARK = "DRAFT — not published"


def column_e(answer: CaiqAnswer) -> str:
    """The implementation description as it goes into column E."""
    parts = [(answer.implementation or "").strip()]
    if answer.answer == AnswerValue.NA and answer.na_justification.strip():
        parts.append(f"Not applicable: {answer.na_justification.strip()}")
    if answer.disclosures:
        lines = ["Disclosed gaps (remediation planned):"]
        for item in answer.disclosures:
            lines.append(
                f"- {item.get('guideline', '')}: {item.get('gap', '')} Remediation: {item.get('remediation', '')} "
                f"(due {item.get('due', '')})"
            )
        parts.append("\n".join(lines))
    plan = answer.corrective_action or {}
    if answer.answer == AnswerValue.NO and plan:
        lines = [f"Corrective-action plan (owner {plan.get('owner', '')}, due {plan.get('due', '')}):"]
        lines += [f"- {item.get('text', '')} (due {item.get('due', '')})" for item in plan.get("milestones", [])]
        parts.append("\n".join(lines))
    return "\n\n".join(part for part in parts if part)


def answer_row(answer: CaiqAnswer) -> list[str]:
    """Columns A-L of the answer's row."""
    control = load_control()
    question = control.question(answer.question_id)
    return [
        answer.question_id,
        question.text,
        answer.answer,
        answer.ownership,
        column_e(answer),
        answer.customer_responsibilities,
        "",
        "",
        control.id,
        control.specification,
        control.title,
        control.domain.title,
    ]


def filename(answer: CaiqAnswer, extension: str) -> str:
    state = "published" if answer.status == AnswerStatus.PUBLISHED else "draft"
    return get_valid_filename(f"AI-CAIQ-{answer.question_id}-{answer.party.name}-{state}-{answer.pk}.{extension}")


def answer_check(answer: CaiqAnswer) -> None:
    """The export guard over everything any format of the answer writes (``to_dict`` holds every value of the
    row and of the JSON): raises ``cek.exportguard.ExportRefused`` naming the field, never the value."""
    check_tree(to_dict(answer), export=f"The answer export of {answer.question_id}", computed=COMPUTED)


def to_xlsx(answer: CaiqAnswer) -> bytes:
    answer_check(answer)
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = SHEET
    sheet["A1"] = SPECIFICATION_STAMP
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="DDE5EE")
    for column, header in enumerate(HEADERS, start=1):
        cell = sheet.cell(row=2, column=column, value=header or None)
        cell.font = bold
        cell.fill = fill
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for column, value in enumerate(answer_row(answer), start=1):
        cell = sheet.cell(row=3, column=column)
        xlsx_set(cell, value or None)  # typed text: column E starting with "=" stays text, never a formula
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for index, width in enumerate(COLUMN_WIDTHS, start=1):
        sheet.column_dimensions[sheet.cell(row=2, column=index).column_letter].width = width
    sheet.freeze_panes = "A3"
    properties = workbook.properties
    properties.creator = "CEK-11 evidence"
    properties.title = f"AI-CAIQ {answer.question_id} answer of {answer.party.name}"
    if answer.status == AnswerStatus.PUBLISHED:
        properties.subject = f"Published {answer.published_at:%Y-%m-%d}; SHA-256 {answer.sha256}"
    else:
        properties.subject = DRAFT_MARK
        properties.keywords = "DRAFT"
        sheet.oddHeader.center.text = DRAFT_MARK
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def to_csv(answer: CaiqAnswer) -> str:
    """A header and one row (A-L, then the answer's status, publication date and digest)."""
    answer_check(answer)
    buffer = io.StringIO()
    # CRLF rows (RFC 4180): with "\n" alone a bare "\r" in a cell is written unquoted and splits the row.
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(
        [header or f"Column {letter}" for header, letter in zip(HEADERS, "ABCDEFGHIJKL", strict=True)]
        + ["Answer status", "Published at", "SHA-256"]
    )
    writer.writerow(
        [
            *(spreadsheet_safe(value) for value in answer_row(answer)),
            "published" if answer.status == AnswerStatus.PUBLISHED else DRAFT_MARK,
            answer.published_at.isoformat(timespec="seconds") if answer.published_at else "",
            answer.sha256,
        ]
    )
    return buffer.getvalue()


def to_dict(answer: CaiqAnswer) -> dict:
    control = load_control()
    row = answer_row(answer)
    return {
        "specification_version": "1.1.0",
        "catalog_version": answer.catalog_version,
        "status": answer.status if answer.status == AnswerStatus.PUBLISHED else "draft",
        "note": "" if answer.status == AnswerStatus.PUBLISHED else DRAFT_MARK,
        "question_id": answer.question_id,
        "question": row[1],
        "party": answer.party.name,
        "answer": answer.answer,
        "generated_answer": answer.generated_answer,
        "override_reason": answer.override_reason,
        "ssrm_control_ownership": answer.ownership,
        "implementation_description": row[4],
        "customer_responsibilities": answer.customer_responsibilities,
        "disclosures": answer.disclosures,
        "corrective_action": answer.corrective_action,
        "na_justification": answer.na_justification,
        "control": {
            "id": control.id,
            "specification": control.specification,
            "title": control.title,
            "domain": control.domain.title,
        },
        "check_run": answer.check_run_id,
        "published_at": answer.published_at.isoformat(timespec="seconds") if answer.published_at else None,
        "sha256": answer.sha256 or None,
        "facts": answer.facts,
    }


def to_json(answer: CaiqAnswer) -> str:
    answer_check(answer)
    return json.dumps(to_dict(answer), indent=2, ensure_ascii=False) + "\n"
