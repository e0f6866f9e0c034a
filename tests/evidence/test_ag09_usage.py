"""AG-9 computed from the ingested usage logs: keys in use in stores with fresh logs and no open misuse finding;
manual until logs exist, and manual evidence shown as such afterwards; a fixed number of queries."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from evidence.checks.base import CheckContext
from evidence.checks.registry import BY_GUIDELINE
from evidence.models import CheckStatus, Finding, FindingStatus, ManualEvidence
from evidence.usage.findings import usage_misuse_evaluate
from inventory.models import KeyState
from tests.evidence.test_usage_misuse import usage
from tests.factories import KeyFactory, KeyStoreFactory, UserFactory

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)


def evaluate():
    with time_machine.travel(NOW, tick=False):
        return BY_GUIDELINE["AG-9"].evaluate(CheckContext())


@pytest.fixture(autouse=True)
def quiet(settings):
    settings.CEK_ALERT_WEBHOOKS = []
    settings.CEK_USAGE_FRESH_DAYS = 7


def test_without_usage_logs_it_is_manual_with_the_newest_manual_evidence():
    KeyFactory()
    outcome = evaluate()
    assert outcome.status == CheckStatus.MANUAL
    assert "No key usage log is ingested yet" in outcome.explanation
    ManualEvidence.objects.create(
        guideline_id="AG-9", note="SIEM rules reviewed.", assessment="pass", created_by=UserFactory()
    )
    outcome = evaluate()
    assert outcome.status == CheckStatus.MANUAL and outcome.details["assessment"] == "pass"


def test_it_counts_keys_in_stores_with_fresh_logs_and_no_open_misuse():
    logged, stale, unlogged = (
        KeyStoreFactory(name="kms-prod"),
        KeyStoreFactory(name="kms-old"),
        KeyStoreFactory(name="hsm"),
    )
    good = [KeyFactory(store=logged) for _ in range(17)]
    misused = KeyFactory(name="misused", store=logged)
    old = KeyFactory(name="old", store=stale)
    KeyFactory(name="dark", store=unlogged)
    KeyFactory(store=unlogged, state=KeyState.DESTROYED)  # not in use: not counted
    for key in good:
        usage(key, day=NOW.date() - dt.timedelta(days=1))
    usage(misused, operation="Sign", day=NOW.date())
    usage(old, day=NOW.date() - dt.timedelta(days=20))
    with time_machine.travel(NOW, tick=False):
        usage_misuse_evaluate(source="test")

    outcome = evaluate()

    assert outcome.metric == "17 of 20 keys in use"
    assert outcome.status == CheckStatus.FAIL  # 85 % < 95 %
    reasons = {subject.label: subject.reason for subject in outcome.failing}
    assert reasons["misused"] == "open usage finding: usage-purpose-mismatch"
    assert "older than 7 days" in reasons["old"]
    assert reasons["dark"] == "no usage log of its store hsm is ingested"
    assert (
        "17 of 20 keys in use are in stores whose usage logs were ingested within the last 7 days"
        in outcome.explanation
    )
    assert "Stores with usage logs: 2 (1 fresh)." in outcome.explanation
    assert "Keys with an open misuse finding: 1." in outcome.explanation
    assert any("operation outside its purpose (1)" in ref["label"] for ref in outcome.evidence)


def test_a_resolved_or_accepted_finding_does_not_fail_the_key_but_an_ended_acceptance_does():
    key = KeyFactory()
    usage(key, operation="Sign", day=NOW.date())
    with time_machine.travel(NOW, tick=False):
        usage_misuse_evaluate(source="test")
    finding = Finding.objects.get(rule="usage-purpose-mismatch")
    Finding.objects.filter(pk=finding.pk).update(
        status=FindingStatus.RISK_ACCEPTED,
        accepted_until=NOW.date() + dt.timedelta(days=5),
        accepted_by=UserFactory(),
        accepted_reason="Migration.",
    )
    assert evaluate().status == CheckStatus.PASS
    Finding.objects.filter(pk=finding.pk).update(accepted_until=NOW.date() - dt.timedelta(days=1))
    assert evaluate().status == CheckStatus.FAIL


def test_logs_age_out_of_freshness():
    key = KeyFactory()
    usage(key, day=NOW.date())
    assert evaluate().status == CheckStatus.PASS
    with time_machine.travel(NOW + dt.timedelta(days=8), tick=False):
        outcome = BY_GUIDELINE["AG-9"].evaluate(CheckContext())
    assert outcome.status == CheckStatus.FAIL


def test_manual_evidence_is_shown_as_such_once_logs_exist():
    key = KeyFactory()
    usage(key, day=NOW.date())
    ManualEvidence.objects.create(
        guideline_id="AG-9",
        note="The HSM writes no usage log; reviewed its syslog.",
        assessment="fail",
        created_by=UserFactory(username="ghopper42", first_name="Grace", last_name="Hopper"),
    )
    outcome = evaluate()
    assert outcome.status == CheckStatus.PASS
    assert "Manual evidence (not counted in the figures), recorded by Grace Hopper on " in outcome.explanation


def test_it_runs_a_fixed_number_of_queries(django_assert_num_queries):
    store = KeyStoreFactory()

    def build(n):
        for _ in range(n):
            key = KeyFactory(store=store)
            usage(key, operation="Sign", day=NOW.date())
        with time_machine.travel(NOW, tick=False):
            usage_misuse_evaluate(source="test")

    build(2)
    ctx = CheckContext()
    _ = ctx.keys, ctx.stores, ctx.manual_evidence
    with django_assert_num_queries(3):
        BY_GUIDELINE["AG-9"].evaluate(ctx)
    build(10)
    ctx = CheckContext()
    _ = ctx.keys, ctx.stores, ctx.manual_evidence
    with django_assert_num_queries(3):
        outcome = BY_GUIDELINE["AG-9"].evaluate(ctx)
    assert outcome.metric == "0 of 12 keys in use"
    assert timezone.now()


def test_usage_findings_count_for_their_guideline_in_the_answer():
    from evidence.answers.facts import guideline_of_rule
    from evidence.usage.misuse import MISUSE_RULES, RULES

    assert {guideline_of_rule(rule) for rule in MISUSE_RULES} == {"AG-9"}
    assert guideline_of_rule("usage-unknown-key") == "CCM-2"
    assert guideline_of_rule("usage-dormant-key") == ""
    assert set(MISUSE_RULES) < set(RULES)
