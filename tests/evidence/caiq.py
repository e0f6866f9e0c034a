"""Helpers of the CEK-11.1 answer tests: check runs with crafted statuses, the "us" party, a policy in force,
and a realistic blank AI-CAIQ workbook built with openpyxl (styles, other rows, other sheets)."""

from __future__ import annotations

import datetime as dt
import io

from django.utils import timezone
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.worksheet.datavalidation import DataValidation

from cek.control import load_control
from evidence.models import CheckResult, CheckRun, CheckStatus, ManualEvidence, RunStatus, RunTrigger
from tests.evidence.policies import policy_in_force
from tests.factories import PartyFactory


def make_run(statuses: dict[str, str] | None = None, *, status: str = RunStatus.SUCCEEDED, manual=None) -> CheckRun:
    """A run with one result per guideline: pass unless ``statuses`` says otherwise."""
    statuses = statuses or {}
    manual = manual or {}
    control = load_control()
    now = timezone.now()
    run = CheckRun.objects.create(
        trigger=RunTrigger.UI,
        status=status,
        catalog_version=control.version,
        started_at=now,
        finished_at=now,
        duration_ms=120,
        keys_evaluated=415,
    )
    for position, guideline in enumerate(control.auditing_guidelines):
        result_status = statuses.get(guideline.id, CheckStatus.PASS)
        failing = 3 if result_status in (CheckStatus.FAIL, CheckStatus.PARTIAL) else 0
        CheckResult.objects.create(
            run=run,
            guideline_id=guideline.id,
            position=position,
            status=result_status,
            metric=f"{415 - failing} of 415 keys in use",
            numerator=415 - failing,
            denominator=415,
            failing_count=failing,
            explanation=f"{guideline.id} evaluated on crafted data.",
            manual_evidence=manual.get(guideline.id),
        )
    return run


def manual_evidence(guideline: str, *, assessment: str, by) -> ManualEvidence:
    return ManualEvidence.objects.create(guideline_id=guideline, assessment=assessment, note="Reviewed.", created_by=by)


def us(roles=("AP",), name: str = "Acme AI"):
    return PartyFactory(name=name, roles=list(roles), is_us=True)


def key_policy(grc, *, approved_on: dt.date | None = None):
    return policy_in_force(
        grc=grc,
        approved_on=approved_on or timezone.localdate() - dt.timedelta(days=40),
        title="Key management policy",
        areas=["key-management", "key-purpose"],
    )


SHEET = "AI-CAIQv1.1.0"


def blank_caiq_workbook(*, with_row: bool = True, sheet: str = SHEET) -> bytes:
    """A workbook shaped like CSA's: an intro sheet, the AI-CAIQ sheet (A1 stamp, header, questions of several
    controls with I-L on the first row, styles, a data validation on C), and a trailing sheet."""
    workbook = Workbook()
    intro = workbook.active
    intro.title = "Introduction"
    intro["A1"] = "Consensus Assessments Initiative Questionnaire for AI"
    intro["A1"].font = Font(bold=True, size=14)
    caiq = workbook.create_sheet(sheet)
    caiq["A1"] = '{"specification_version": "1.1.0"}'
    headers = [
        "Question ID", "Question", "Service Provider AI-CAIQ Answer", "SSRM Control Ownership",
        "Service Provider Implementation Description", "Service Customer Responsibilities", None, None,
        "AICM Control ID", "Control Specification", "Control Title", "Domain",
    ]  # fmt: skip
    header_fill = PatternFill("solid", fgColor="1F4E78")
    for column, header in enumerate(headers, start=1):
        cell = caiq.cell(row=2, column=column, value=header)
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = header_fill
    answer_fill = PatternFill("solid", fgColor="FFF2CC")
    questions = [
        ("CEK-10.1", "Are cryptographic keys generated using industry-accepted libraries?", "CEK-10"),
        ("CEK-11.1", "Are cryptographic secrets and private keys that are provisioned for a unique purpose properly managed?", "CEK-11"),
        ("CEK-12.1", "Are cryptographic keys rotated based on a cryptoperiod?", "CEK-12"),
    ]  # fmt: skip
    if not with_row:
        questions = [q for q in questions if q[0] != "CEK-11.1"]
    for row, (qid, text, control) in enumerate(questions, start=3):
        caiq.cell(row=row, column=1, value=qid)
        caiq.cell(row=row, column=2, value=text).alignment = Alignment(wrap_text=True)
        for column in range(3, 7):
            cell = caiq.cell(row=row, column=column)
            cell.fill = answer_fill
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        caiq.cell(row=row, column=9, value=control)
        caiq.cell(row=row, column=10, value=f"Specification of {control}.")
        caiq.cell(row=row, column=11, value=f"Title of {control}")
        caiq.cell(row=row, column=12, value="Cryptography, Encryption & Key Management")
    validation = DataValidation(type="list", formula1='"YES,NO,NA"', allow_blank=True)
    caiq.add_data_validation(validation)
    validation.add("C3:C5")
    caiq.column_dimensions["E"].width = 80
    caiq.freeze_panes = "A3"
    trailer = workbook.create_sheet("Version history")
    trailer["A1"] = "1.1.0"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
