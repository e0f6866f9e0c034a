"""Generating the CEK-11.1 draft: ownership per party role, the answer from the guideline results, the facts
and figures the description is written from."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from cek.templatetags.dates import words_date
from evidence.answers import rules, services
from evidence.answers.facts import guideline_of_rule
from evidence.answers.ownership import derive_ownership, party_ownership
from evidence.campaigns.services import attestation_confirm_all, campaign_close, campaign_create, campaign_launch
from evidence.models import AnswerValue, CheckStatus, ControlOwnership, RunStatus
from inventory.models import KeyState, SsrmAssignment
from tests.evidence.caiq import key_policy, make_run, manual_evidence, us
from tests.factories import FindingFactory, KeyFactory, PartyFactory

pytestmark = pytest.mark.django_db


# --- Ownership ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("roles", "expected"),
    [
        (["AP"], "Shared OSP-AP"),
        (["CSP"], "Shared CSP-MP"),
        (["MP"], "Shared Across the Supply Chain"),  # PI (CSP-MP), Model (MP), Orchestrated (MP-OSP)
        (["OSP"], "Shared Across the Supply Chain"),  # Orchestrated (MP-OSP) and Application (OSP-AP)
        (["AIC"], "ND"),
        ([], "ND"),
        (["AP", "AIC"], "Shared OSP-AP"),
    ],
)
def test_ownership_follows_the_catalog_layers_the_roles_carry(roles, expected):
    assert derive_ownership(roles=roles, assignments=None).ownership == expected


def test_assignments_narrow_the_layers_a_party_carries():
    result = derive_ownership(roles=["MP"], assignments={"model": {"MP"}})
    assert result.ownership == ControlOwnership.MP
    assert [layer.layer for layer in result.carried_layers] == ["model"]
    assert result.source == "assignments"
    shared = derive_ownership(roles=["CSP"], assignments={"pi": {"CSP"}})
    assert shared.ownership == ControlOwnership.SHARED_CSP_MP
    assert shared.layers[0].others == ("MP",)


def test_party_ownership_reads_the_ssrm_assignments():
    party = PartyFactory(roles=["MP", "OSP"])
    SsrmAssignment.objects.create(layer="orchestrated", party=party, role="OSP")
    result = party_ownership(party)
    assert result.ownership == ControlOwnership.SHARED_MP_OSP
    assert "Orchestrated" in result.explanation()


# --- The generated answer -----------------------------------------------------------------------------------


def test_an_application_provider_with_passing_guidelines_answers_yes(grc_user):
    party = us(["AP"])
    key_policy(grc_user)
    KeyFactory.create_batch(3)
    run = make_run()
    answer = services.answer_generate(party=party, actor=grc_user)
    assert answer.check_run == run
    assert (answer.answer, answer.generated_answer) == (AnswerValue.YES, AnswerValue.YES)
    assert answer.ownership == answer.generated_ownership == ControlOwnership.SHARED_OSP_AP
    assert answer.disclosures == [] and answer.corrective_action == {}
    text = answer.implementation
    assert "Acme AI answers CEK-11.1" in text
    assert "“Key management policy” version 1.0, approved by Security committee" in text
    assert "3 keys and secrets in use (active or suspended)" in text
    assert f"Auditing guidelines (check run of {words_date(run.finished_at)}): " in text and "#" not in text
    assert "Passing: AG-1, " in text and "\n- AG-1" not in text  # one paragraph, not a line per guideline
    assert not re.search(r"\d{4}-\d{2}-\d{2}", text)  # dates as people write them: "5 Dec 2026"
    assert f"Figures as of {timezone.localdate().day} {timezone.localdate():%b %Y}." in text
    assert "OSP" in answer.customer_responsibilities
    assert rules.validate(answer, today=timezone.localdate()) == []


def test_a_model_provider_and_a_cloud_provider_get_their_ownership(grc_user):
    key_policy(grc_user)
    make_run()
    mp = services.answer_generate(party=PartyFactory(name="Model Co", roles=["MP"]), actor=grc_user)
    csp = services.answer_generate(party=PartyFactory(name="Cloud Co", roles=["CSP"]), actor=grc_user)
    assert (mp.answer, mp.ownership) == ("YES", "Shared Across the Supply Chain")
    assert (csp.answer, csp.ownership) == ("YES", "Shared CSP-MP")
    assert mp.facts["party"]["name"] == "Model Co"


def test_an_ai_customer_only_answers_na_with_a_justification(grc_user):
    party = PartyFactory(name="Customer Co", roles=["AIC"])
    make_run({"AG-1": CheckStatus.FAIL})
    answer = services.answer_generate(party=party, actor=grc_user)
    assert answer.answer == AnswerValue.NA
    assert answer.ownership == ControlOwnership.ND
    assert "carries none of these layers" in answer.na_justification
    assert rules.validate(answer, today=timezone.localdate()) == []


@pytest.mark.parametrize("guideline", ["AG-1", "AG-3", "CCM-1"])
def test_a_failing_core_guideline_gives_no_with_a_corrective_action_plan(grc_user, guideline):
    grc_user.first_name, grc_user.last_name = "Alice", "Grc"
    grc_user.save()
    key_policy(grc_user)
    make_run({guideline: CheckStatus.FAIL, "AG-7": CheckStatus.PARTIAL})
    answer = services.answer_generate(party=us(), actor=grc_user)
    assert answer.answer == AnswerValue.NO
    plan = answer.corrective_action
    assert plan["owner"] == "Alice Grc"
    texts = [milestone["text"] for milestone in plan["milestones"]]
    assert any(text.startswith(f"{guideline} fails") for text in texts)
    assert any(text.startswith("AG-7 partially passes") for text in texts)
    assert texts[-1].startswith("Re-run the checks")
    assert plan["due"] == plan["milestones"][-1]["due"]
    assert rules.validate(answer, today=timezone.localdate()) == []


def test_three_failures_are_significant_together(grc_user):
    key_policy(grc_user)
    make_run({"AG-2": CheckStatus.FAIL, "AG-5": CheckStatus.FAIL, "AG-7": CheckStatus.FAIL})
    answer = services.answer_generate(party=us(), actor=grc_user)
    assert answer.answer == AnswerValue.NO
    assessment = rules.assess(answer.facts["guidelines"])
    assert {gap.guideline for gap in assessment.significant} == {"AG-2", "AG-5", "AG-7"}


def test_minor_gaps_stay_yes_and_are_disclosed_with_the_findings_remediation_date(grc_user):
    key_policy(grc_user)
    due = timezone.localdate() + dt.timedelta(days=45)
    FindingFactory(rule="ag-2-mapping", remediation_due=due)
    FindingFactory(rule="ag-2-mapping", remediation_due=None)
    make_run({"AG-2": CheckStatus.FAIL, "AG-9": CheckStatus.MANUAL, "AG-1": CheckStatus.PARTIAL})
    answer = services.answer_generate(party=us(), actor=grc_user)
    assert answer.answer == AnswerValue.YES
    by_guideline = {item["guideline"]: item for item in answer.disclosures}
    assert set(by_guideline) == {"AG-1", "AG-2", "AG-9"}
    assert by_guideline["AG-2"]["due"] == due.isoformat()
    assert "2 open findings (ag-2-mapping)" in by_guideline["AG-2"]["remediation"]
    assert by_guideline["AG-9"]["due"] == (timezone.localdate() + dt.timedelta(days=90)).isoformat()
    assert "Record evidence for AG-9" in by_guideline["AG-9"]["remediation"]
    assert "The key's purpose mapping is not documented or not reviewed in time: 2, remediation due by " in (
        answer.implementation
    )
    assert "ag-2-mapping" not in answer.implementation
    assert "1 without a remediation date" in answer.implementation
    assert rules.validate(answer, today=timezone.localdate()) == []


def test_a_manual_guideline_counts_with_its_manual_assessment(grc_user):
    key_policy(grc_user)
    passed = manual_evidence("AG-8", assessment=CheckStatus.PASS, by=grc_user)
    failed = manual_evidence("AG-9", assessment=CheckStatus.FAIL, by=grc_user)
    make_run({"AG-8": CheckStatus.MANUAL, "AG-9": CheckStatus.MANUAL}, manual={"AG-8": passed, "AG-9": failed})
    answer = services.answer_generate(party=us(), actor=grc_user)
    assert [item["guideline"] for item in answer.disclosures] == ["AG-9"]


def test_without_a_check_run_the_draft_says_so_and_cannot_be_published(grc_user):
    key_policy(grc_user)
    make_run({"AG-1": CheckStatus.FAIL}, status=RunStatus.FAILED)  # not a succeeded run: ignored
    answer = services.answer_generate(party=us(), actor=grc_user)
    assert answer.check_run is None and answer.facts["check_run"] is None
    assert answer.answer == AnswerValue.YES
    assert "no check run has evaluated" in answer.implementation
    assert answer.disclosures[-1]["gap"] == "No check run has evaluated the auditing guidelines yet."
    problems = [v.rule for v in rules.validate(answer, today=timezone.localdate())]
    assert problems == ["evidence"]


def test_without_a_check_run_or_a_policy_the_draft_answers_no(grc_user):
    answer = services.answer_generate(party=us(), actor=grc_user)
    assert answer.answer == AnswerValue.NO
    assert "no approved policy covering key management" in answer.implementation
    assert answer.corrective_action["milestones"][0]["text"].startswith("CCM-1 fails")


def test_an_unfinished_run_cannot_be_answered_from(grc_user):
    run = make_run(status=RunStatus.RUNNING)
    with pytest.raises(ValidationError, match="succeeded run"):
        services.answer_generate(party=us(), actor=grc_user, run=run)


def test_only_grc_generates(auditor, owner):
    party = us()
    for user in (auditor, owner):
        with pytest.raises(PermissionDenied):
            services.answer_generate(party=party, actor=user)


def test_the_facts_carry_policy_inventory_campaign_and_findings(grc_user):
    policy = key_policy(grc_user, approved_on=timezone.localdate() - dt.timedelta(days=400))
    KeyFactory.create_batch(2)
    KeyFactory(state=KeyState.DESTROYED)
    KeyFactory(owner=None)
    FindingFactory(rule="ag-3-single-purpose", remediation_due=timezone.localdate() + dt.timedelta(days=10))
    make_run()
    facts = services.answer_generate(party=us(), actor=grc_user).facts
    assert facts["policy"]["policies"][0]["title"] == policy.title
    assert facts["policy"]["policies"][0]["review_overdue"] is True
    assert facts["inventory"]["keys_in_use"] == 3 + 1  # FindingFactory made one key too
    assert facts["inventory"]["destroyed"] == 1
    assert facts["inventory"]["in_use_without_owner"] == 4  # the factory's keys have no owner
    assert facts["campaign"] is None
    assert facts["findings"]["open"] == 1
    assert facts["findings"]["rules"][0]["guideline"] == "AG-3"
    assert facts["question"]["id"] == "CEK-11.1"
    assert facts["catalog_version"] == "AICM 1.1.0"


def test_a_closed_campaign_is_cited_with_a_fingerprint_of_its_results_digest(grc_user, owner):
    key_policy(grc_user)
    KeyFactory(owner=owner)
    campaign = campaign_create(actor=grc_user, name="Annual", due_on=timezone.localdate())
    campaign_launch(campaign=campaign, actor=grc_user)
    attestation_confirm_all(actor=owner, campaign=campaign)
    closed = campaign_close(campaign=campaign, actor=grc_user)
    make_run()
    answer = services.answer_generate(party=us(["AP"]), actor=grc_user)
    assert answer.facts["campaign"]["results_sha256"] == closed.results_sha256
    assert f"results SHA-256 {closed.results_sha256[:16]}…" in answer.implementation
    assert closed.results_sha256 not in answer.implementation


def _rules_of_every_check():
    from evidence.campaigns.services import DISCREPANCY_RULE
    from evidence.checks.registry import CHECKS
    from evidence.iac.result import RULES as IAC_RULES

    owned = [(check.rule, check.guideline_id) for check in CHECKS if check.rule]
    return owned + [(DISCREPANCY_RULE, "CCM-3")] + [(rule, "AG-8") for rule in IAC_RULES]  # the IaC gate's rules


@pytest.mark.parametrize(("rule", "guideline"), _rules_of_every_check())
def test_findings_of_every_rule_the_app_raises_are_attributed_to_their_guideline(rule, guideline):
    assert guideline_of_rule(rule) == guideline


def test_a_rule_of_no_guideline_is_attributed_to_none():
    assert guideline_of_rule("agile") == ""


# --- Every sentence of the description is one of the figures --------------------------------------------------


def _inventory_paragraph(answer) -> str:
    return next(part for part in answer.implementation.split("\n\n") if part.startswith("Inventory:"))


def test_it_claims_exactly_one_purpose_per_key_only_when_every_key_in_use_has_one(grc_user):
    key_policy(grc_user)
    KeyFactory.create_batch(2)
    make_run()
    text = _inventory_paragraph(services.answer_generate(party=us(), actor=grc_user))
    assert text.startswith(
        "Inventory: 2 keys and secrets in use (active or suspended) of 2 recorded (0 destroyed) in 2 key stores, "
    )
    assert "each recorded with exactly one purpose (1 purpose in use)" in text


def test_it_counts_the_keys_in_use_without_a_purpose_instead_of_claiming_one_each(grc_user):
    key_policy(grc_user)
    KeyFactory.create_batch(2)
    KeyFactory(purpose=None, purpose_justification="", purpose_reviewed_on=None)
    KeyFactory(purpose=None, purpose_justification="", purpose_reviewed_on=None, state=KeyState.DESTROYED)
    make_run()
    answer = services.answer_generate(party=us(), actor=grc_user)
    text = _inventory_paragraph(answer)
    assert answer.facts["inventory"]["in_use_without_purpose"] == 1
    assert "exactly one purpose" not in text.replace("the other 2 each exactly one", "")
    assert "1 key in use has no recorded purpose, the other 2 each exactly one (1 purpose in use)" in text


def test_it_says_no_key_in_use_has_a_purpose_when_none_has(grc_user):
    key_policy(grc_user)
    KeyFactory.create_batch(2, purpose=None, purpose_justification="", purpose_reviewed_on=None)
    make_run()
    text = _inventory_paragraph(services.answer_generate(party=us(), actor=grc_user))
    assert "none of them with a recorded purpose" in text
    assert "exactly one" not in text


def test_it_makes_no_purpose_claim_over_an_inventory_without_keys_in_use(grc_user):
    key_policy(grc_user)
    KeyFactory(state=KeyState.DESTROYED)
    make_run()
    text = _inventory_paragraph(services.answer_generate(party=us(), actor=grc_user))
    assert text == "Inventory: no key or secret in use (1 recorded, 1 destroyed) in 1 key store."


def test_it_claims_a_recorded_exposure_scope_only_when_every_shared_key_has_one(grc_user):
    key_policy(grc_user)
    partner = PartyFactory()
    scoped = KeyFactory(exposure_scope="Verifies webhooks only.", exposure_contract="MSA-12")
    scoped.exposed_to.add(partner)
    make_run()
    party = us()
    customers = services.answer_generate(party=party, actor=grc_user).customer_responsibilities
    assert "1 key is shared with other parties under a recorded scope and contract reference" in customers
    bare = KeyFactory(exposure_scope="Verifies webhooks only.", exposure_contract="  ")
    bare.exposed_to.add(partner)
    customers = services.answer_generate(party=party, actor=grc_user).customer_responsibilities
    assert "under a recorded scope" not in customers
    assert "2 keys are shared with other parties; 1 of them has no recorded exposure scope or contract" in customers
