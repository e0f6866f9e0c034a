"""Every AI-CAIQ fill rule, checked on answers built in memory (no database needed for the rules)."""

from __future__ import annotations

import datetime as dt

import pytest

from evidence.answers import rules
from evidence.models import AnswerValue, CaiqAnswer, CheckStatus, ControlOwnership

TODAY = dt.date(2026, 11, 29)
LATER = "2027-02-01"


def guidelines(**statuses) -> list[dict]:
    ids = [f"AG-{n}" for n in range(1, 11)] + ["CCM-1", "CCM-2", "CCM-3"]
    return [
        {"id": gid, "status": statuses.get(gid.replace("-", "_"), "pass"), "metric": "", "failing_count": 0}
        for gid in ids
    ]


def answer(value="YES", *, generated=None, ownership="Shared OSP-AP", run=True, **fields) -> CaiqAnswer:
    facts = {"check_run": {"id": 1} if run else None, "guidelines": fields.pop("results", guidelines())}
    return CaiqAnswer(
        answer=value,
        generated_answer=generated or value,
        ownership=ownership,
        implementation=fields.pop("implementation", "We manage keys per purpose."),
        check_run_id=1 if run else None,
        facts=facts,
        **fields,
    )


def found(candidate) -> list[str]:
    return [violation.rule for violation in rules.validate(candidate, today=TODAY)]


def test_a_clean_yes_passes():
    assert found(answer()) == []


def test_yes_needs_an_owner():
    assert found(answer(ownership=ControlOwnership.ND)) == ["owner"]


def test_no_needs_the_owner_of_the_remediation():
    plan = {"owner": "Alice", "milestones": [{"text": "Fix AG-1", "due": LATER}], "due": LATER}
    assert found(answer("NO", corrective_action=plan)) == []
    assert found(answer("NO", ownership="ND", corrective_action=plan)) == ["owner"]


def test_an_override_needs_a_reason():
    assert found(
        answer(
            "NO",
            generated="YES",
            corrective_action={"owner": "A", "milestones": [{"text": "x", "due": LATER}], "due": LATER},
        )
    ) == ["override"]
    assert found(answer("YES", generated="NO", override_reason="False positive: keys are test fixtures.")) == []


def test_minor_gaps_under_yes_must_be_disclosed_with_plan_and_date():
    results = guidelines(AG_2="fail", AG_9="manual")
    assert found(answer(results=results)) == ["disclosure", "disclosure"]
    complete = [
        {"guideline": "AG-2", "gap": "3 keys lack a review.", "remediation": "Review them.", "due": LATER},
        {"guideline": "AG-9", "gap": "No usage logs yet.", "remediation": "Import CloudTrail.", "due": LATER},
    ]
    assert found(answer(results=results, disclosures=complete)) == []
    incomplete = [{**complete[0], "remediation": "", "due": ""}, complete[1]]
    messages = [str(v) for v in rules.validate(answer(results=results, disclosures=incomplete), today=TODAY)]
    assert any("no remediation plan" in m for m in messages)
    assert any("needs a due date" in m for m in messages)


def test_a_disclosure_due_in_the_past_is_refused():
    results = guidelines(AG_2="partial")
    past = [{"guideline": "AG-2", "gap": "g", "remediation": "r", "due": "2026-01-01"}]
    messages = [str(v) for v in rules.validate(answer(results=results, disclosures=past), today=TODAY)]
    assert messages == ["Disclosure 1 (AG-2) is due 2026-01-01, which has passed: set a new date."]


@pytest.mark.parametrize("guideline", ["AG_1", "AG_3", "CCM_1"])
def test_significant_failures_refuse_yes(guideline):
    results = guidelines(**{guideline: "fail"})
    problems = found(answer(results=results, disclosures=[]))
    assert "significant" in problems


def test_a_partial_core_guideline_is_minor():
    assessment = rules.assess(guidelines(AG_1="partial"))
    assert [gap.guideline for gap in assessment.minor] == ["AG-1"] and not assessment.significant


def test_three_failures_are_significant_and_two_are_not():
    two = rules.assess(guidelines(AG_2="fail", AG_4="fail"))
    assert not two.significant and len(two.minor) == 2
    three = rules.assess(guidelines(AG_2="fail", AG_4="fail", AG_5="fail", AG_6="partial"))
    assert [gap.guideline for gap in three.significant] == ["AG-2", "AG-4", "AG-5"]
    assert [gap.guideline for gap in three.minor] == ["AG-6"]


def test_no_needs_a_complete_corrective_action_plan():
    assert set(found(answer("NO"))) == {"corrective-action"}
    messages = [str(v) for v in rules.validate(answer("NO"), today=TODAY)]
    assert "The corrective-action plan needs an owner." in messages
    assert "The corrective-action plan needs at least one milestone." in messages
    late = {"owner": "Alice", "milestones": [{"text": "Fix", "due": "2027-05-01"}], "due": LATER}
    assert [str(v) for v in rules.validate(answer("NO", corrective_action=late), today=TODAY)] == [
        f"Milestone 1 is due 2027-05-01, after the plan's due date {LATER}."
    ]
    blank = {"owner": "Alice", "milestones": [{"text": "", "due": LATER}], "due": LATER}
    assert [str(v) for v in rules.validate(answer("NO", corrective_action=blank), today=TODAY)] == [
        "Milestone 1 has no description."
    ]


def test_na_needs_nd_and_a_justification():
    assert found(answer("NA", ownership="ND", na_justification="We carry no layer.")) == []
    assert found(answer("NA", ownership="ND")) == ["na-justification"]
    assert found(answer("NA", ownership="AP-Owned", na_justification="x")) == ["na-ownership"]


def test_na_does_not_need_a_check_run():
    assert found(answer("NA", ownership="ND", na_justification="x", run=False)) == []


def test_yes_and_no_need_a_check_run():
    assert found(answer(run=False)) == ["evidence"]


def test_an_empty_description_is_refused():
    assert found(answer(implementation="  ")) == ["description"]


def test_the_significance_table_lists_every_condition():
    conditions = [condition for condition, _reason in rules.SIGNIFICANCE_TABLE]
    assert conditions == ["AG-1 fails", "AG-3 fails", "CCM-1 fails", "3 or more guidelines fail"]


def test_effective_status_uses_the_manual_assessment():
    assert rules.effective_status({"status": CheckStatus.MANUAL, "manual_assessment": "pass"}) == "pass"
    assert rules.effective_status({"status": CheckStatus.MANUAL, "manual_assessment": ""}) == "manual"
    assert rules.effective_status({"status": "fail", "manual_assessment": "pass"}) == "fail"


def test_an_unknown_answer_value_is_refused():
    assert found(answer("MAYBE")) == ["answer"]
    assert AnswerValue.values == ["YES", "NO", "NA"]
