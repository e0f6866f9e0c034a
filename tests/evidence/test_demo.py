"""The demo policies and attestation campaigns: a realistic set with deliberate gaps, created once."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import Counter
from io import StringIO

import pytest
from django.utils import timezone

from evidence.campaigns.results import campaign_results_csv
from evidence.campaigns.services import DISCREPANCY_RULE
from evidence.demo import (
    CLOSED_CAMPAIGN,
    DISCREPANCY_KEY,
    KEY_POLICY,
    POLICY_GAPS,
    PURPOSE_PROCEDURE,
    RUNNING_CAMPAIGN,
    SIGNING_PROCEDURE,
    demo_assessment_seed,
    demo_campaigns_seed,
    demo_iac_seed,
    demo_policies_seed,
)
from evidence.models import (
    AnswerStatus,
    AttestationStatus,
    CaiqAnswer,
    Campaign,
    CampaignStatus,
    ChangeEvent,
    CheckRun,
    CheckStatus,
    EffectivenessEvaluation,
    Finding,
    Policy,
    PolicyVersion,
)
from evidence.policies import selectors
from inventory.demo import demo_seed
from inventory.models import IN_USE_STATES, Key, KeyState

pytestmark = pytest.mark.django_db


def test_the_demo_policies_are_created_once_with_their_gaps(settings):
    today = timezone.localdate()
    assert demo_policies_seed() == {"policies": 3, "changes": 1, "evaluations": 2}
    assert demo_policies_seed() == {}
    assert Policy.objects.count() == 3 and ChangeEvent.objects.count() == 1
    assert EffectivenessEvaluation.objects.count() == 2

    key_policy = Policy.objects.get(title=KEY_POLICY)
    assert key_policy.current_version.label == "2.0"
    assert PolicyVersion.objects.get(policy=key_policy, label="1.0").status == "superseded"
    assert key_policy.next_review_due_on == today + dt.timedelta(days=settings.CEK_CHANGE_REVIEW_DAYS)
    row = selectors.policy_list(user=key_policy.owner, today=today).get(pk=key_policy.pk)
    assert (row.acknowledged, row.recipients) == (1, 2)

    procedure = Policy.objects.get(title=PURPOSE_PROCEDURE)
    assert procedure.is_review_overdue(today)
    assert list(selectors.policy_reviews_overdue(today=today)) == [procedure]
    assert Policy.objects.get(title=SIGNING_PROCEDURE).versions.get().status == "in-approval"


def test_the_demo_campaigns_are_created_once_one_closed_with_a_finding_one_running():
    assert demo_campaigns_seed() == {}  # no demo inventory yet: nothing to attest, no draft left behind
    assert not Campaign.objects.exists()
    demo_seed()

    assert demo_campaigns_seed() == {"campaigns": 2}
    assert demo_campaigns_seed() == {}
    assert Campaign.objects.count() == 2

    closed = Campaign.objects.get(name=CLOSED_CAMPAIGN)
    assert closed.status == CampaignStatus.CLOSED and closed.scope_store is None  # every active key
    assert closed.attestations.count() == Key.objects.filter(state=KeyState.ACTIVE).count()
    answers = Counter(closed.attestations.values_list("status", flat=True))
    # One discrepancy, the key nobody owns unanswered (a deliberate problem), every other key confirmed.
    assert answers == {
        AttestationStatus.DISCREPANCY: 1,
        AttestationStatus.PENDING: 1,
        AttestationStatus.CONFIRMED: closed.attestations.count() - 2,
    }
    assert closed.attestations.get(status=AttestationStatus.PENDING).key.name == "orphan-webhook-secret"
    assert not closed.attestations.filter(status=AttestationStatus.PENDING, addressed_to__isnull=False).exists()
    reported = closed.attestations.get(status=AttestationStatus.DISCREPANCY)
    assert reported.key.name == DISCREPANCY_KEY and reported.responded_by.username == "omar"
    finding = Finding.objects.get()
    assert (finding.rule, finding.subject_id, finding.status) == (DISCREPANCY_RULE, reported.key_id, "open")
    body = b"".join(campaign_results_csv(closed))
    assert closed.results_sha256 == hashlib.sha256(body).hexdigest()
    assert closed.results_rows == closed.attestations.count()

    running = Campaign.objects.get(name=RUNNING_CAMPAIGN)
    assert running.status == CampaignStatus.LAUNCHED and running.due_on > timezone.localdate()
    answers = Counter(running.attestations.values_list("status", flat=True))
    assert answers[AttestationStatus.CONFIRMED] == 1 and answers[AttestationStatus.PENDING] >= 2
    assert running.results_sha256 == "" and running.results_rows is None


def test_the_demo_campaigns_do_not_wait_for_a_worker_when_the_inventory_is_large(settings):
    settings.CEK_CAMPAIGN_INLINE_KEYS = 0  # every launch goes over the inline limit
    demo_seed()
    assert demo_campaigns_seed() == {"campaigns": 2}
    statuses = dict(Campaign.objects.values_list("name", "status"))
    assert statuses == {CLOSED_CAMPAIGN: CampaignStatus.CLOSED, RUNNING_CAMPAIGN: CampaignStatus.LAUNCHED}


def test_the_demo_assessment_runs_the_checks_and_publishes_an_answer_once():
    assert demo_assessment_seed() == {}  # no inventory, no "us" party: nothing to assess
    demo_seed()
    demo_policies_seed()
    demo_campaigns_seed()
    assert demo_assessment_seed() == {"check runs": 1, "CEK-11.1 answers": 1}
    assert demo_assessment_seed() == {}
    run = CheckRun.objects.get()
    statuses = set(run.results.values_list("status", flat=True))
    assert CheckStatus.FAIL in statuses and CheckStatus.MANUAL in statuses  # the demo's deliberate gaps
    answer = CaiqAnswer.objects.get()
    assert answer.check_run == run and answer.party.is_us
    assert answer.status == AnswerStatus.PUBLISHED and answer.sha256


def test_the_demo_records_a_passing_and_a_violating_iac_scan_before_its_check_run():
    from evidence.iac.models import IacScan

    assert demo_iac_seed() == {}  # no demo inventory yet
    demo_seed()
    assert demo_iac_seed() == {"IaC scans": 2}
    assert demo_iac_seed() == {}
    verdicts = dict(IacScan.objects.values_list("repository", "passed"))
    assert verdicts == {"northwind/platform-infra": True, "northwind/ml-serving": False}
    finding = Finding.objects.get(rule__startswith="iac-")
    assert finding.rule == "iac-multi-purpose" and finding.details["repository"] == "northwind/ml-serving"
    demo_policies_seed()
    assert demo_assessment_seed()["check runs"] == 1
    ag8 = CheckRun.objects.get().results.get(guideline_id="AG-8")
    assert (ag8.status, ag8.metric) == (CheckStatus.FAIL, "1 of 2 repositories")
    assert [subject["label"] for subject in ag8.failing] == ["northwind/ml-serving"]
    assert "IaC enforcement: 1 of 2 repositories" in CaiqAnswer.objects.get().implementation


def test_the_demo_check_run_counts_the_app_signing_key_like_the_dashboard(settings, tmp_path):
    """scripts/run creates the signing key file before seed_demo: the demo's first check run must then count the
    app's own signing key, so the dashboard's live "keys in use" and the run's metrics agree from the first page."""
    from django.core.management import call_command

    from evidence.packs import signing
    from inventory.selectors import key_breakdowns

    settings.CEK_EVIDENCE_SIGNING_KEY = tmp_path / "evidence-signing-key.pem"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    signing.create_key_file()
    call_command("seed_demo", force=True, stdout=StringIO())

    run = CheckRun.objects.get()
    live = key_breakdowns(Key.objects.all(), today=timezone.localdate()).figures.in_use
    assert Key.objects.filter(name=signing.INVENTORY_KEY_NAME, state=KeyState.ACTIVE).exists()
    assert run.keys_evaluated == live
    assert live == Key.objects.filter(state__in=IN_USE_STATES).count()


def test_the_demo_shows_its_deliberate_problems_and_nothing_else(settings, tmp_path):
    """``inventory.demo.PROBLEMS`` is the one list of what the demo gets wrong, printed by ``seed_demo``: after the
    seed (as ``scripts/run`` does it: signing key file first) the first check run's open findings are exactly the
    findings the problems declare, by rule and subject, and the guidelines that do not pass exactly theirs. A demo
    change that adds noise (a store nobody confirmed, a key outside the closed campaign, a usage log naming a
    principal without grant) or loses a problem fails here."""
    from django.core.management import call_command

    from evidence.packs import signing
    from evidence.usage.models import UsageIngestion
    from inventory.demo import PROBLEMS

    settings.CEK_EVIDENCE_SIGNING_KEY = tmp_path / "evidence-signing-key.pem"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    signing.create_key_file()
    out = StringIO()
    call_command("seed_demo", force=True, stdout=out)

    expected_findings = Counter(finding for problem in PROBLEMS for finding in problem.findings)
    assert max(expected_findings.values()) == 1  # one finding per rule and subject, as the findings app keeps them
    found = Counter(Finding.objects.filter(status="open").values_list("rule", "subject_label"))
    assert found == expected_findings
    assert Finding.objects.count() == len(expected_findings)  # none resolved or accepted either

    run = CheckRun.objects.get()
    not_passing = dict(run.results.exclude(status=CheckStatus.PASS).values_list("guideline_id", "status"))
    assert set(not_passing) == {guideline for problem in PROBLEMS for guideline in problem.guidelines}
    assert CheckStatus.MANUAL not in not_passing.values()  # AG-8 and AG-9 are computed from the demo's scans, logs
    assert not run.results.filter(status=CheckStatus.NOT_APPLICABLE).exists()
    for problem in PROBLEMS:  # each problem shows in each guideline it names, on its own subject
        for guideline in problem.guidelines:
            failing = run.results.get(guideline_id=guideline).failing
            assert any(problem.key in subject["label"] for subject in failing), (problem.code, guideline)

    assert UsageIngestion.objects.get().status == "succeeded"
    signing_key = Key.objects.get(name=signing.INVENTORY_KEY_NAME)
    assert signing_key.owner is not None and signing_key.store.inventory_confirmed_at is not None

    printed = out.getvalue()
    assert f"The demo's {len(PROBLEMS)} deliberate problems, which the checks find as {found.total()} open" in printed
    for number, problem in enumerate(PROBLEMS, start=1):
        assert f"{number:>2}. [{', '.join(problem.guidelines)}] {problem.code}: {problem.subject}" in printed
    assert all(gap in printed for gap in POLICY_GAPS)


def test_the_demo_started_again_later_still_shows_its_problems_and_nothing_else(settings, tmp_path):
    """``scripts/run`` runs ``seed_demo`` at every start: days later the demo's usage log carries on from its last
    day and weeks later its repositories are scanned again, then a new check run judges them, so the demo does not
    grow stale findings (AG-9 after CEK_USAGE_FRESH_DAYS without logs, AG-8 after CEK_IAC_FRESH_DAYS)."""
    import time_machine
    from django.core.management import call_command

    from evidence.iac.models import IacScan
    from evidence.packs import signing
    from evidence.usage.models import UsageAggregate, UsageIngestion
    from inventory.demo import PROBLEMS

    settings.CEK_EVIDENCE_SIGNING_KEY = tmp_path / "evidence-signing-key.pem"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    signing.create_key_file()
    expected_findings = Counter(finding for problem in PROBLEMS for finding in problem.findings)
    expected_guidelines = {guideline for problem in PROBLEMS for guideline in problem.guidelines}
    start = timezone.now()
    call_command("seed_demo", force=True, stdout=StringIO())
    first_day = timezone.localdate()

    first = CheckRun.objects.get().results
    field_results = {r.guideline_id: (r.status, r.metric) for r in first.filter(guideline_id__in=("AG-8", "AG-9"))}
    for days, ingestions, scans in ((10, 2, 4), (2, 3, 4), (0, 3, 4), (20, 4, 6)):
        start += dt.timedelta(days=days)
        with time_machine.travel(start, tick=False):
            call_command("seed_demo", force=True, stdout=StringIO())
            today = timezone.localdate()
        run = CheckRun.objects.first()  # the newest
        assert timezone.localdate(run.created_at) == today
        assert UsageIngestion.objects.filter(status="succeeded").count() == ingestions
        assert IacScan.objects.count() == scans
        newest = UsageAggregate.objects.order_by("-day").values_list("day", flat=True).first()
        assert newest == today - dt.timedelta(days=1) and today - first_day >= dt.timedelta(days=10)
        results = run.results.filter(guideline_id__in=("AG-8", "AG-9"))
        assert {r.guideline_id: (r.status, r.metric) for r in results} == field_results, days
        if today - first_day > dt.timedelta(days=30):
            break  # from here the demo's calendar moves on: a policy review falls due (CCM-1), as it would
        not_passing = set(run.results.exclude(status=CheckStatus.PASS).values_list("guideline_id", flat=True))
        assert not_passing == expected_guidelines, days
        found = Counter(Finding.objects.filter(status="open").values_list("rule", "subject_label"))
        assert found == expected_findings, days
