"""AG-8's figures where they leave the app: the CEK-11.1 answer (facts and text), the evidence pack
(``iac-scans.csv`` in the zip and its manifest, the PDF section read back with pypdf). That every surface shows
the same figures is checked in ``tests/evidence/test_figures_agree.py``."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest
from django.utils import timezone

from evidence.answers import services as answer_services
from evidence.answers.facts import gather_facts
from evidence.answers.generate import draft_from_facts, implementation_text
from evidence.checks.services import check_run_start
from evidence.packs.content import collect
from evidence.packs.data import DATA_FILES
from evidence.packs.pdf import render_pack_pdf
from tests.evidence import packs_support
from tests.evidence.caiq import key_policy
from tests.evidence.caiq import us as our_party
from tests.evidence.iac_evidence_support import recorded_scan
from tests.evidence.packs_data import make_pack
from tests.evidence.packs_support import build, members, zip_bytes
from tests.evidence.test_pack_pdf import flat, pdf_text
from tests.factories import KeyFactory, UserFactory

pytestmark = pytest.mark.django_db

signing_key, fake_pdf, inventory, us = (
    packs_support.signing_key,
    packs_support.fake_pdf,
    packs_support.inventory,
    packs_support.us,
)
COMMIT = "3f786850e387550fdab836ed7e6dc881de23001b"  # a full git SHA: 40 hex digits


def three_repositories(by=None):
    recorded_scan("acme/infra", by=by, commit=COMMIT)
    recorded_scan("acme/payments", violations=2, by=by)
    recorded_scan("acme/legacy", days_ago=60, by=by)


def iac_paragraph(text: str) -> str:
    return next((part for part in text.split("\n\n") if part.startswith("IaC enforcement:")), "")


# --- The CEK-11.1 answer -------------------------------------------------------------------------------------


def test_the_answer_states_the_iac_figures_of_its_run(grc_user):
    party = our_party(["AP"])
    key_policy(grc_user)
    KeyFactory.create_batch(2)
    three_repositories()
    run = check_run_start(trigger="command", background=False)
    answer = answer_services.answer_generate(party=party, actor=grc_user)
    assert answer.check_run == run
    assert answer.facts["iac"] == {
        "repositories": 3,
        "covered": 1,
        "failing": 1,
        "stale": 1,
        "with_open_findings": 0,
        "fresh_days": 30,
        "status": "fail",
        "not_covered": ["acme/legacy", "acme/payments"],
    }
    assert iac_paragraph(answer.implementation) == (
        "IaC enforcement: 1 of 3 repositories with a recorded scan passed the purpose-separation gate (one purpose, "
        "service and tenant per key) within the last 30 days with no open IaC finding; 1 whose newest scan reports "
        "violations, 1 not scanned within the window (acme/legacy, acme/payments)."
    )
    ag8 = run.results.get(guideline_id="AG-8")
    assert f"AG-8 fail ({ag8.metric})" in answer.implementation and ag8.metric == "1 of 3 repositories"
    # AG-8 fails: a gap of the answer (disclosed under YES, or a milestone of the plan under NO).
    gaps = [item["gap"] for item in answer.disclosures] + [
        m["text"] for m in answer.corrective_action.get("milestones", [])
    ]
    assert any(text.startswith("AG-8 fails (1 of 3 repositories)") for text in gaps), gaps


def test_every_repository_covered_is_said_without_a_gap(grc_user):
    party = our_party(["AP"])
    key_policy(grc_user)
    KeyFactory.create_batch(2)
    recorded_scan("acme/infra")
    recorded_scan("acme/ml", days_ago=10)
    check_run_start(trigger="command", background=False)
    answer = answer_services.answer_generate(party=party, actor=grc_user)
    assert iac_paragraph(answer.implementation) == (
        "IaC enforcement: 2 of 2 repositories with a recorded scan passed the purpose-separation gate (one purpose, "
        "service and tenant per key) within the last 30 days with no open IaC finding."
    )
    assert all(item["guideline"] != "AG-8" for item in answer.disclosures)


def test_without_scans_the_answer_says_nothing_of_iac_enforcement(grc_user):
    party = our_party(["AP"])
    key_policy(grc_user)
    KeyFactory.create_batch(2)
    run = check_run_start(trigger="command", background=False)
    facts = gather_facts(party=party, run=run, today=timezone.localdate())
    assert facts["iac"] is None
    assert "IaC enforcement" not in implementation_text(facts)
    assert "AG-8 manual (No manual evidence recorded)" in implementation_text(facts)


def test_facts_stored_before_ag8_was_computed_still_give_a_draft(grc_user):
    party = our_party(["AP"])
    key_policy(grc_user)
    run = check_run_start(trigger="command", background=False)
    facts = gather_facts(party=party, run=run, today=timezone.localdate())
    del facts["iac"]
    draft = draft_from_facts(facts, today=timezone.localdate(), plan_owner="GRC")
    assert "IaC enforcement" not in draft.implementation


def test_the_list_of_named_repositories_is_bounded():
    facts_iac = {
        "repositories": 12,
        "covered": 2,
        "failing": 10,
        "stale": 0,
        "with_open_findings": 0,
        "fresh_days": 14,
        "not_covered": [f"acme/r{n}" for n in range(5)],
    }
    from evidence.answers.generate import _iac_sentence

    sentence = _iac_sentence(facts_iac)
    assert "2 of 12 repositories" in sentence and "within the last 14 days" in sentence
    assert sentence.endswith("(acme/r0, acme/r1, acme/r2, acme/r3, acme/r4 and 5 more).")


# --- The evidence pack ---------------------------------------------------------------------------------------


def test_iac_scans_csv_lists_the_window_s_scans_and_the_manifest_lists_it(grc_user, inventory, signing_key, fake_pdf):
    recorder = UserFactory(username="ci-bot")
    three_repositories(by=recorder)  # acme/legacy's scan is 60 days old: inside the 90-day window
    recorded_scan("acme/ancient", days_ago=200, by=recorder)  # before the window
    today = timezone.localdate()
    pack = build(grc_user, sample_size=1, sample_seed="iac", window_from=today - dt.timedelta(days=90), window_to=today)
    files = members(zip_bytes(pack))
    assert "iac-scans.csv" in DATA_FILES and "iac-scans.csv" in files
    rows = list(csv.DictReader(io.StringIO(files["iac-scans.csv"].decode("utf-8"))))
    assert list(rows[0]) == [
        "id",
        "recorded_at",
        "repository",
        "commit",
        "source",
        "input_sha256",
        "resources",
        "keys",
        "consumers",
        "matched_keys",
        "violations",
        "rules",
        "passed",
        "recorded_by",
        "software_version",
    ]
    by_repository = {row["repository"]: row for row in rows}
    assert set(by_repository) == {"acme/infra", "acme/payments", "acme/legacy"}
    infra, payments = by_repository["acme/infra"], by_repository["acme/payments"]
    assert infra["commit"] == COMMIT[:12]  # git's short form: a full SHA has the shape of a 160-bit secret
    assert infra["passed"] == "true" and infra["violations"] == "0" and infra["rules"] == ""
    assert payments["passed"] == "false" and payments["violations"] == "2" and payments["rules"] == "iac-multi-purpose"
    assert infra["recorded_by"] == "ci-bot" and infra["input_sha256"] == "e" * 64
    assert (infra["resources"], infra["keys"], infra["consumers"], infra["matched_keys"]) == ("12", "3", "5", "2")
    manifest = json.loads(files["manifest.json"])
    listed = {entry["name"] for entry in manifest["files"]}
    assert "iac-scans.csv" in listed
    document = json.loads(files["pack.json"])
    assert document["files"]["iac-scans.csv"]["rows"] == 3


def test_the_pdf_has_the_iac_section_with_the_figures_of_the_pack_s_run():
    three_repositories()
    recorded_scan("acme/infra", violations=1, days_ago=5)  # an older failing scan of a repository now passing
    run = check_run_start(trigger="command", background=False)
    pack = make_pack(sample_size=1)
    content = collect(pack)
    assert content.iac.figures["repositories"] == 3 and content.iac.scans == 4
    rendered = render_pack_pdf(pack, content, data_digest="ab12" * 16)
    text = flat(pdf_text(rendered.data))
    assert "Infrastructure-as-code gate" in text
    assert f"AG-8 in check run #{run.pk}" in text and "1 of 3 repositories" in text
    assert "Repositories with a recorded scan 3" in text
    assert "Passing within 30 days, no open IaC finding 1" in text
    assert "Newest scan reports violations 1" in text and "Newest scan older than 30 days 1" in text
    assert "4 scans of 3 repositories recorded between" in text
    # Per repository: last scan of the window, verdict, scans, failed scans, violations over the window.
    assert "acme/infra" in text and COMMIT[:12] in text and COMMIT not in text.replace(" ", "")
    assert "Passed 2 1 1" in text  # acme/infra: 2 scans, 1 failed, 1 violation
    assert "2 violations 1 1 2" in text  # acme/payments
    assert "iac-scans.csv" in text


def test_the_pdf_section_without_scans_or_run():
    pack = make_pack(sample_size=1)
    text = flat(pdf_text(render_pack_pdf(pack, collect(pack), data_digest="ab12" * 16).data))
    assert "Infrastructure-as-code gate" in text
    assert "No check run had finished by the end of the window, so AG-8's figures are not available" in text
    assert "No IaC scan was recorded in the window." in text


def test_the_pack_lists_repositories_beyond_the_row_limit_in_the_data_file_only(settings):
    settings.CEK_PACK_PDF_MAX_ROWS = 2
    for n in range(3):
        recorded_scan(f"acme/r{n}")
    content = collect(make_pack(sample_size=1))
    assert content.iac.repositories.total == 3 and content.iac.repositories.in_data_file_only
    assert content.iac.scans == 3


def test_scans_outside_the_window_are_not_in_the_section():
    recorded_scan("acme/old", days_ago=200)
    content = collect(make_pack(sample_size=1))
    assert content.iac.repositories.total == 0 and content.iac.scans == 0
