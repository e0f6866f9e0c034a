"""The dashboard (the landing page): what each role sees and must not see, the CEK-11.1 answer's states, the
figures, and a constant number of queries whatever the number of keys, findings, runs and policies."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from cek.templatetags.dates import words_datetime
from evidence.dashboard.selectors import dashboard
from evidence.dashboard.views import optional_reverse
from evidence.models import (
    AnswerStatus,
    CaiqAnswer,
    CheckResult,
    CheckRun,
    CheckStatus,
    Finding,
    FindingStatus,
    RunStatus,
)
from tests.conftest import login
from tests.evidence.policies import policy_in_force
from tests.factories import FindingFactory, KeyFactory, PartyFactory, UserFactory, purpose

pytestmark = pytest.mark.django_db

GUIDELINES = [
    "AG-1",
    "AG-2",
    "AG-3",
    "AG-4",
    "AG-5",
    "AG-6",
    "AG-7",
    "AG-8",
    "AG-9",
    "AG-10",
    "CCM-1",
    "CCM-2",
    "CCM-3",
]


def check_run(*, passing: int, failing_key=None, when=None) -> CheckRun:
    """A stored run: the first ``passing`` guidelines pass, AG-3 fails on ``failing_key``, the rest are manual."""
    run = CheckRun.objects.create(trigger="command", status=RunStatus.SUCCEEDED, catalog_version="AICM 1.1.0")
    counts: dict[str, int] = {}
    for position, guideline in enumerate(GUIDELINES):
        if guideline == "AG-3" and failing_key is not None:
            status = CheckStatus.FAIL
        elif position < passing:
            status = CheckStatus.PASS
        else:
            status = CheckStatus.MANUAL
        counts[status] = counts.get(status, 0) + 1
        failing = []
        if status == CheckStatus.FAIL:
            failing = [
                {"type": "inventory.key", "id": failing_key.pk, "label": failing_key.name, "reason": "2 purposes"}
            ]
        CheckResult.objects.create(
            run=run,
            guideline_id=guideline,
            position=position,
            status=status,
            metric=f"{guideline} metric figure",
            failing=failing,
            failing_count=len(failing),
        )
    CheckRun.objects.filter(pk=run.pk).update(counts=counts, created_at=when or timezone.now())
    run.refresh_from_db()
    return run


def answer(*, party, actor, status=AnswerStatus.DRAFT, value="YES", when=None) -> CaiqAnswer:
    fields = {}
    if status == AnswerStatus.PUBLISHED:
        fields = {"published_at": when or timezone.now(), "published_by": actor, "sha256": "ab" * 32}
    return CaiqAnswer.objects.create(
        party=party,
        catalog_version="AICM 1.1.0",
        status=status,
        generated_answer=value,
        answer=value,
        ownership="Shared OSP-AP",
        implementation="Keys are provisioned for one purpose.",
        created_by=actor,
        **fields,
    )


@pytest.fixture
def world(grc_user, owner, other_owner):
    today = timezone.localdate()
    us = PartyFactory(name="Acme AI", is_us=True)
    signing = purpose("digital-signature")
    bobs = [
        KeyFactory(name="bob-orders-dek", owner=owner, cryptoperiod_ends_on=today + dt.timedelta(days=10)),
        KeyFactory(name="bob-invoices-dek", owner=owner, cryptoperiod_ends_on=today + dt.timedelta(days=60)),
    ]
    carols = KeyFactory(
        name="carol-secret-signer",
        owner=other_owner,
        purpose=signing,
        cryptoperiod_ends_on=today - dt.timedelta(days=3),
    )
    unmapped = KeyFactory(
        name="carol-unmapped", owner=other_owner, purpose=None, purpose_justification="", purpose_reviewed_on=None
    )
    FindingFactory(rule="ag-3-single-purpose", subject_id=bobs[0].pk, subject_label=bobs[0].name, severity="high")
    FindingFactory(rule="ag-7-purpose-tag", subject_id=carols.pk, subject_label=carols.name, severity="critical")
    FindingFactory(
        rule="ag-7-purpose-tag",
        subject_id=unmapped.pk,
        subject_label=unmapped.name,
        severity="low",
        status=FindingStatus.RISK_ACCEPTED,
        accepted_until=today - dt.timedelta(days=1),
        accepted_by=grc_user,
        accepted_reason="Legacy system, retired soon.",
    )
    policy_in_force(grc=grc_user, approved_on=today - dt.timedelta(days=400), title="Key purpose policy")
    check_run(passing=5, when=timezone.now() - dt.timedelta(days=1))
    run = check_run(passing=9, failing_key=carols)
    return {"us": us, "bobs": bobs, "carols": carols, "unmapped": unmapped, "run": run}


def _plain(html: str) -> str:
    """The page's text, tags removed (a date is in a <time> element)."""
    return re.sub(r"<[^>]+>", "", html)


def page(client) -> str:
    response = client.get(reverse("home"))
    assert response.status_code == 200
    return response.content.decode()


# --- Who sees what ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["grc_user", "auditor"])
def test_grc_and_auditors_see_the_organisation_view(who, world, request):
    html = page(login(request.getfixturevalue(who)))
    assert "CEK-11 Key Purpose posture" in html
    assert f"From the check run of {words_datetime(world['run'].created_at)}" in _plain(html)
    # Each guideline with its status and metric, and the failing subject linked to its key.
    assert html.count('data-guideline="') == 13
    assert "AG-3 metric figure" in html and 'class="badge status-fail"' in html
    assert f'href="{world["carols"].get_absolute_url()}">carol-secret-signer</a>' in html
    result = world["run"].results.get(guideline_id="AG-3")
    assert f'href="{reverse("evidence:checkresult-detail", args=[result.pk])}"' in html
    # Findings by severity and rule: two open plus one whose acceptance has ended.
    assert 'aria-labelledby="' in html and "Open findings by severity" in html
    assert "1 risk acceptance expired: open again" in html
    assert "The key&#x27;s label does not carry its purpose: 2" in html  # the rule chart's description, by title
    # Keys: without purpose, cryptoperiods, by state / purpose / function.
    assert "1 without a purpose" in html and "Keys in use by purpose" in html and "Encryption" in html
    # Policy overdue, trend over two runs, the inventory overview link.
    assert "Key purpose policy" in html and "review overdue" in html
    assert "Passing guidelines, last 2 runs" in html
    assert f'href="{reverse("inventory:overview")}"' in html


def test_a_key_owner_sees_only_their_keys_findings_and_attestations(world, owner_client):
    html = page(owner_client)
    assert "Your keys and CEK-11" in html
    assert "bob-orders-dek" in html  # their finding
    # Nothing organisation-wide: no other owner's keys or findings, no guideline results, answer or policies.
    for hidden in (
        "carol-secret-signer",
        "carol-unmapped",
        "AG-3 metric figure",
        "CEK-11.1 answer",
        "Key purpose policy",
    ):
        assert hidden not in html, hidden
    assert 'data-guideline="' not in html


def test_the_owner_card_names_the_assignee_by_their_full_name(world, owner_client, grc_user):
    grc_user.first_name, grc_user.last_name = "Alice", "Martin"
    grc_user.save()
    Finding.objects.filter(subject_label="bob-orders-dek").update(assigned_to=grc_user)
    html = page(owner_client)
    assert "<td>Alice Martin</td>" in html and "<td>alice</td>" not in html


def test_the_owner_figures_count_only_their_keys(world, owner):
    board = dashboard(user=owner, today=timezone.localdate())
    assert not board.organisation
    assert (board.keys.total, board.keys.expiring_30, board.keys.expiring_90, board.keys.cryptoperiod_passed) == (
        2,
        1,
        2,
        0,
    )
    assert board.findings.open == 1 and [f.subject_label for f in board.my_findings] == ["bob-orders-dek"]
    assert board.answer is None and board.run is None and board.guidelines == [] and board.policies is None
    assert board.campaign is None


def test_the_organisation_figures(world, auditor):
    board = dashboard(user=auditor, today=timezone.localdate())
    assert board.keys.total == 4 and board.keys.without_purpose == 1 and board.keys.cryptoperiod_passed == 1
    assert board.keys.expiring_30 == 1 and board.keys.expiring_90 == 2
    assert {b.value: b.count for b in board.findings.by_severity} == {"critical": 1, "high": 1, "medium": 0, "low": 1}
    assert [(b.value, b.count) for b in board.findings.by_rule] == [("ag-7-purpose-tag", 2), ("ag-3-single-purpose", 1)]
    assert board.findings.open == 3 and board.findings.acceptance_expired == 1 and board.findings.risk_accepted == 0
    assert [p.passing for p in board.trend] == [5, 8]
    assert board.guideline_counts["fail"] == 1 and board.guideline_counts["pass"] == 8
    assert board.policies["overdue"] == 1 and [p.title for p in board.policies_overdue] == ["Key purpose policy"]
    states = {b.value: b.count for b in board.keys_by_state}
    assert states == {"active": 4}


def test_a_user_without_a_role_is_refused_and_anonymous_users_log_in(outsider, client):
    assert login(outsider).get(reverse("home")).status_code == 403
    assert client.get(reverse("home")).status_code == 302


# --- The CEK-11.1 answer -------------------------------------------------------------------------------------


def test_the_newest_published_answer_wins_over_a_newer_draft(world, grc_user, grc_client):
    answer(party=world["us"], actor=grc_user, status=AnswerStatus.PUBLISHED, value="NO")
    answer(party=world["us"], actor=grc_user, status=AnswerStatus.DRAFT, value="YES")
    answer(party=PartyFactory(name="Elsewhere"), actor=grc_user, status=AnswerStatus.PUBLISHED, value="NA")
    board = dashboard(user=grc_user, today=timezone.localdate())
    assert board.answer.status == AnswerStatus.PUBLISHED and board.answer.answer == "NO"
    html = page(grc_client)
    assert 'class="answer-value answer-no"' in html and "Published" in html and "Shared OSP-AP" in html


def test_a_draft_is_shown_as_a_draft_and_no_answer_is_a_call_to_action(world, grc_user, grc_client, auditor_client):
    html = page(grc_client)
    assert "No CEK-11.1 answer yet." in html and "Generate a draft" in html
    assert "GRC generates it" in page(auditor_client)
    answer(party=world["us"], actor=grc_user)
    html = page(grc_client)
    assert 'class="answer-value answer-yes"' in html and ">Draft</span> not published yet" in html


def test_a_page_that_is_not_installed_gives_no_link():
    assert optional_reverse("evidence:no-such-page", 1) == ""


def test_without_any_run_the_page_says_what_to_do(grc_client):
    html = page(grc_client)
    assert "No check run yet" in html and "No guideline results yet." in html and "No runs yet" in html


# --- Queries --------------------------------------------------------------------------------------------------


def grow(world, grc_user, n: int) -> None:
    owners = [UserFactory(roles=["key-owners"]) for _ in range(2)]
    for i in range(n):
        key = KeyFactory(owner=owners[i % 2], cryptoperiod_ends_on=timezone.localdate() + dt.timedelta(days=i))
        FindingFactory(rule=f"rule-{i % 5}", subject_id=key.pk, subject_label=key.name, severity="medium")
        policy_in_force(grc=grc_user, approved_on=timezone.localdate() - dt.timedelta(days=380 + i), title=f"P{i}")
    for _ in range(n // 3):
        check_run(passing=7)


@pytest.mark.parametrize("who", ["grc_user", "auditor", "owner"])
def test_the_dashboard_runs_a_constant_number_of_queries(who, world, grc_user, request, django_assert_max_num_queries):
    user = request.getfixturevalue(who)
    client = login(user)
    today = timezone.localdate()
    budget = (14 if who != "owner" else 4) + 1  # + reading the user's roles, once (14: 11 + the usage card's 3)
    with django_assert_max_num_queries(budget):
        dashboard(user=user, today=today)
    with django_assert_max_num_queries(budget + 6) as small:  # + session, user, groups, messages
        page(client)
    grow(world, grc_user, 12)
    with django_assert_max_num_queries(budget):
        dashboard(user=user, today=today)
    with django_assert_max_num_queries(len(small)) as large:
        page(client)
    assert len(large) == len(small)


def test_old_finding_rows_resolved_or_accepted_do_not_count_as_open(world, grc_user):
    Finding.objects.update(status=FindingStatus.RESOLVED, accepted_until=None, accepted_by=None, accepted_reason="")
    board = dashboard(user=grc_user, today=timezone.localdate())
    assert board.findings.open == 0 and all(b.count == 0 for b in board.findings.by_severity)
