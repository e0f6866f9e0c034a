"""AG-8 computed from the recorded IaC scans: pass, partial, fail, stale (time_machine), the newest scan decides,
open IaC findings, manual evidence while no scan is recorded, a constant number of queries, the result page and
the dashboard's IaC card."""

from __future__ import annotations

import datetime as dt
import re
from html import unescape

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from evidence.answers.rules import effective_status
from evidence.checks import registry
from evidence.checks.base import CheckContext
from evidence.checks.services import check_run_start
from evidence.dashboard.selectors import dashboard
from evidence.iac.history import iac_coverage
from evidence.models import CheckStatus, Finding, FindingStatus, ManualEvidence
from tests.evidence.iac_evidence_support import recorded_scan
from tests.factories import FindingFactory, UserFactory

_subjects = iter(range(1, 1_000_000))

pytestmark = pytest.mark.django_db


def evaluate(**context):
    return registry.get("AG-8").evaluate(CheckContext(**context))


def iac_finding(repository: str, *, rule: str = "iac-multi-purpose", **fields) -> Finding:
    return FindingFactory(
        rule=rule,
        subject_type="evidence.iacaddress",
        subject_id=next(_subjects),
        subject_label=f"aws_kms_key.shared in {repository}",
        details={"repository": repository, "scan": 1},
        **fields,
    )


def accepted(*, until: dt.date) -> dict:
    return {
        "status": FindingStatus.RISK_ACCEPTED,
        "accepted_until": until,
        "accepted_by": UserFactory(),
        "accepted_reason": "Migration planned.",
    }


def words(html: bytes) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html.decode())).split())


# --- The registry ----------------------------------------------------------------------------------------------


def test_ag8_is_computed_owns_no_rule_and_still_takes_manual_evidence():
    check = registry.get("AG-8")
    assert not check.manual and check.accepts_manual_evidence
    assert check.rule == "" and not any(rule.startswith("iac-") for rule in registry.OWNED_RULES)
    assert "AG-8" in registry.MANUAL_GUIDELINES


# --- Without any recorded scan ---------------------------------------------------------------------------------


def test_without_scans_ag8_is_manual_and_says_how_to_record_one():
    outcome = evaluate()
    assert outcome.status == CheckStatus.MANUAL and outcome.metric == "No manual evidence recorded"
    assert "No infrastructure-as-code scan is recorded yet" in outcome.explanation
    assert "manage.py check_iac" in outcome.explanation and "--record" in outcome.explanation
    assert "/api/v1/iac-scans/" in outcome.explanation
    assert {"label": "IaC scans", "url": "/evidence/iac/"} in outcome.evidence
    assert effective_status({"status": outcome.status, "manual_assessment": ""}) == CheckStatus.MANUAL  # no pass


def test_without_scans_the_manual_evidence_counts_with_its_assessment():
    grace = UserFactory(username="ghopper42", first_name="Grace", last_name="Hopper")
    ManualEvidence.objects.create(
        guideline_id="AG-8", note="Sentinel policy rejects shared keys.", assessment="pass", created_by=grace
    )
    outcome = evaluate()
    assert outcome.status == CheckStatus.MANUAL and outcome.manual_evidence is not None
    assert outcome.metric.startswith("Assessed pass by Grace Hopper on ")  # the person, not their username
    assert "recorded by Grace Hopper on " in outcome.explanation and "ghopper42" not in outcome.explanation
    assert "Sentinel policy rejects shared keys." in outcome.explanation
    assert effective_status({"status": outcome.status, "manual_assessment": outcome.details["assessment"]}) == "pass"


def test_once_a_scan_is_recorded_the_manual_evidence_no_longer_counts():
    ManualEvidence.objects.create(guideline_id="AG-8", note="Reviewed.", assessment="pass", created_by=UserFactory())
    recorded_scan("acme/infra", violations=2)
    outcome = evaluate()
    assert outcome.status == CheckStatus.FAIL and outcome.manual_evidence is None
    assert "Manual evidence for AG-8 no longer counts once a scan is recorded." in outcome.explanation


# --- Pass, partial, fail -----------------------------------------------------------------------------------------


def test_every_repository_passing_within_the_window_passes():
    recorded_scan("acme/infra", days_ago=1)
    recorded_scan("acme/ml-platform", days_ago=29)
    outcome = evaluate()
    assert outcome.status == CheckStatus.PASS
    assert (outcome.numerator, outcome.denominator) == (2, 2)
    assert outcome.metric == "2 of 2 repositories"
    assert outcome.explanation.startswith(
        "2 of 2 repositories with a recorded IaC scan passed the purpose-separation gate within the last 30 days"
    )
    assert "Not covered" not in outcome.explanation and "Newest scan reports" not in outcome.explanation
    assert outcome.failing == []
    assert outcome.details["iac"] == {
        "repositories": 2,
        "covered": 2,
        "failing": 0,
        "stale": 0,
        "with_open_findings": 0,
        "fresh_days": 30,
    }


def test_a_failing_repository_fails_ag8_and_is_named_with_its_scan():
    recorded_scan("acme/infra")
    bad = recorded_scan("acme/payments", violations=3)
    outcome = evaluate()
    assert outcome.status == CheckStatus.FAIL and outcome.metric == "1 of 2 repositories"
    (subject,) = outcome.failing
    assert (subject.type, subject.id, subject.label) == ("evidence.iacscan", bad.pk, "acme/payments")
    assert "reports 3 violation(s)" in subject.reason
    assert "Newest scan reports violations: 1 repository." in outcome.explanation
    assert "Not covered: acme/payments." in outcome.explanation
    urls = [ref["url"] for ref in outcome.evidence]
    assert "/evidence/iac/?verdict=fail" in urls
    assert reverse("evidence:iacscan-repository", args=["acme/payments"]) in urls


def test_at_least_95_percent_covered_is_partial():
    for n in range(19):
        recorded_scan(f"acme/service-{n:02d}")
    recorded_scan("acme/legacy", violations=1)
    outcome = evaluate()
    assert outcome.status == CheckStatus.PARTIAL and outcome.metric == "19 of 20 repositories"


def test_the_newest_scan_of_a_repository_decides():
    recorded_scan("acme/infra", violations=2, days_ago=5)
    recorded_scan("acme/infra", days_ago=1)
    assert evaluate().status == CheckStatus.PASS
    recorded_scan("acme/infra", violations=1, days_ago=0.5)
    outcome = evaluate()
    assert outcome.status == CheckStatus.FAIL and outcome.metric == "0 of 1 repositories"


def test_no_repository_covered_fails():
    recorded_scan("acme/a", violations=1)
    recorded_scan("acme/b", days_ago=90)
    outcome = evaluate()
    assert outcome.status == CheckStatus.FAIL and outcome.numerator == 0


# --- Freshness -----------------------------------------------------------------------------------------------


def test_a_scan_older_than_the_window_is_stale():
    start = timezone.now()
    recorded_scan("acme/infra", days_ago=0, now=start)
    with time_machine.travel(start + dt.timedelta(days=29), tick=False):
        assert evaluate().status == CheckStatus.PASS
    with time_machine.travel(start + dt.timedelta(days=31), tick=False):
        outcome = evaluate()
        assert outcome.status == CheckStatus.FAIL
        assert "Newest scan older than 30 days: 1 repository." in outcome.explanation
        assert "before the window" in outcome.failing[0].reason
        assert outcome.details["iac"]["stale"] == 1


def test_the_window_is_the_setting(settings):
    recorded_scan("acme/infra", days_ago=45)
    assert evaluate().status == CheckStatus.FAIL
    settings.CEK_IAC_FRESH_DAYS = 60
    outcome = evaluate()
    assert outcome.status == CheckStatus.PASS and "within the last 60 days" in outcome.explanation


# --- Open IaC findings ---------------------------------------------------------------------------------------


def test_an_open_iac_finding_of_the_repository_fails_it():
    recorded_scan("acme/infra")
    recorded_scan("acme/other")
    iac_finding("acme/infra")
    outcome = evaluate()
    assert outcome.status == CheckStatus.FAIL
    assert [s.label for s in outcome.failing] == ["acme/infra"]
    assert "1 open IaC finding(s)" in outcome.failing[0].reason
    assert "Open IaC findings: 1 repository." in outcome.explanation


def test_accepted_resolved_and_unrelated_findings_do_not_fail_a_repository():
    today = timezone.localdate()
    recorded_scan("acme/infra")
    iac_finding("acme/infra", **accepted(until=today + dt.timedelta(days=30)))
    iac_finding("acme/infra", status=FindingStatus.RESOLVED, resolved_at=timezone.now(), resolved_by=UserFactory())
    iac_finding("acme/elsewhere")  # another repository
    FindingFactory(rule="ag-3-single-purpose", details={"repository": "acme/infra"})  # not an IaC rule
    assert evaluate().status == CheckStatus.PASS


def test_an_acceptance_that_has_ended_counts_as_open():
    recorded_scan("acme/infra")
    iac_finding("acme/infra", **accepted(until=timezone.localdate() - dt.timedelta(days=1)))
    assert evaluate().status == CheckStatus.FAIL


# --- The explanation names a bounded list ---------------------------------------------------------------------


def test_the_explanation_names_five_repositories_and_counts_the_rest():
    for n in range(8):
        recorded_scan(f"acme/bad-{n}", violations=1)
    outcome = evaluate()
    assert "Not covered: acme/bad-0, acme/bad-1, acme/bad-2, acme/bad-3, acme/bad-4 and 3 more." in outcome.explanation
    assert len(outcome.failing) == 8
    repository_links = [ref for ref in outcome.evidence if ref["label"].startswith("Scans of ")]
    assert len(repository_links) == 5


# --- Queries -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("repositories", [1, 15])
def test_ag8_reads_the_scans_in_one_query(repositories, django_assert_num_queries):
    for n in range(repositories):
        recorded_scan(f"acme/r{n}", violations=n % 3 == 0)
        recorded_scan(f"acme/r{n}", days_ago=3)
        iac_finding(f"acme/r{n}")
    ctx = CheckContext()
    with django_assert_num_queries(1):
        outcome = registry.get("AG-8").evaluate(ctx)
    assert outcome.denominator == repositories


def test_a_whole_check_run_stays_at_a_constant_number_of_queries(django_assert_max_num_queries):
    def evaluate_all() -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        ctx = CheckContext()
        with CaptureQueriesContext(connection) as captured:
            for check in registry.CHECKS:
                check.evaluate(ctx)
        return len(captured)

    recorded_scan("acme/r0")
    few = evaluate_all()
    for n in range(1, 20):
        recorded_scan(f"acme/r{n}", violations=n % 2)
        iac_finding(f"acme/r{n}")
    assert evaluate_all() == few


# --- A stored run, its result page ---------------------------------------------------------------------------


def test_a_check_run_leaves_the_iac_findings_to_the_gate():
    recorded_scan("acme/infra", violations=1)
    finding = iac_finding("acme/infra")
    run = check_run_start(trigger="command", background=False)
    result = run.results.get(guideline_id="AG-8")
    assert result.status == CheckStatus.FAIL and result.details["iac"]["repositories"] == 1
    finding.refresh_from_db()
    assert finding.status == FindingStatus.OPEN  # no check owns iac-* rules: the next scan resolves it


def test_the_result_page_links_the_failing_repository_to_its_scan(grc_client, auditor_client):
    bad = recorded_scan("acme/payments", violations=2)
    run = check_run_start(trigger="command", background=False)
    result = run.results.get(guideline_id="AG-8")
    url = reverse("evidence:checkresult-detail", args=[result.pk])
    html = grc_client.get(url).content.decode()
    assert f'href="{reverse("evidence:iacscan-detail", args=[bad.pk])}"' in html
    assert "counts only while the data cannot decide it" in html
    assert "Record evidence" in html  # GRC may still record manual evidence for AG-8
    assert "Record evidence" not in auditor_client.get(url).content.decode()


# --- Dashboard -----------------------------------------------------------------------------------------------


def test_the_dashboard_shows_the_iac_figures(grc_client, grc_user):
    recorded_scan("acme/infra")
    recorded_scan("acme/payments", violations=1)
    recorded_scan("acme/legacy", days_ago=60)
    board = dashboard(user=grc_user, today=timezone.localdate())
    iac = board.iac
    assert (iac.scanned, len(iac.covered), iac.failing, iac.stale) == (3, 1, 1, 1)
    text = words(grc_client.get(reverse("home")).content)
    assert "IaC gate (AG-8)" in text
    assert "3 repositories scanned 1 passing within 30 days 1 newest scan failed 1 stale" in text
    assert f'href="{reverse("evidence:iacscan-list")}"' in grc_client.get(reverse("home")).content.decode()


def test_the_dashboard_without_scans_says_how_to_record_one(grc_client):
    text = words(grc_client.get(reverse("home")).content)
    assert "No IaC scan recorded yet." in text and "check_iac --record" in text


def test_a_key_owner_sees_no_iac_card(owner_client, owner):
    recorded_scan("acme/infra")
    assert dashboard(user=owner, today=timezone.localdate()).iac is None
    assert "IaC gate" not in owner_client.get(reverse("home")).content.decode()


def test_the_dashboard_shows_ag8_as_computed_with_its_failing_repository(grc_client):
    recorded_scan("acme/infra")
    bad = recorded_scan("acme/payments", violations=1)
    check_run_start(trigger="command", background=False)
    html = grc_client.get(reverse("home")).content.decode()
    row = re.search(r">AG-8</a>.*?</tr>", html, re.S).group(0)
    assert "1 of 2 repositories" in row
    assert f'<a href="{reverse("evidence:iacscan-detail", args=[bad.pk])}">acme/payments</a>' in row


@pytest.mark.parametrize("repositories", [1, 12])
def test_the_iac_card_is_one_query(repositories, django_assert_num_queries):
    for n in range(repositories):
        recorded_scan(f"acme/r{n}", violations=n % 2)
    with django_assert_num_queries(1):
        coverage = iac_coverage(now=timezone.now(), fresh_days=30)
        assert coverage.scanned == repositories and coverage.as_dict()["repositories"] == repositories
