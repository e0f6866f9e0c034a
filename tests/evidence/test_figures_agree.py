"""One data set, every surface that shows a figure: the dashboard, the inventory overview, the evidence pack, the
CEK-11.1 answer's facts, a check run and the campaign page must report the same number for each figure.

The data set has keys in every state (with and without an owner, a purpose, an AI-specific purpose, an exposure,
a cryptoperiod that has passed), a campaign with answers in every status, and findings open, risk accepted and
whose acceptance has ended (open again, whether or not the daily task has reopened it yet). Each surface's figures are read into
``{figure: value}``; a figure shown by several surfaces must have one value everywhere, and that value must be the
one the definitions give (``inventory.models.IN_USE_STATES``: a key is *in use* when active or suspended).
AG-8's IaC figures (repositories scanned, covered, failing, stale) agree on the check run, the dashboard, the
answer's facts, the pack and the scans page.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from html import unescape

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from evidence.answers.facts import gather_facts
from evidence.campaigns.selectors import campaign_progress
from evidence.checks.services import check_run_start
from evidence.dashboard.selectors import dashboard
from evidence.models import (
    Attestation,
    AttestationStatus,
    Campaign,
    CampaignStatus,
    FindingStatus,
    statements_digest,
)
from evidence.packs.content import collect
from inventory.models import KeyState
from tests.evidence.iac_evidence_support import recorded_scan
from tests.evidence.packs_data import make_pack
from tests.evidence.usage_figures_support import aggregate
from tests.factories import FindingFactory, KeyFactory, KeyStoreFactory, PartyFactory, purpose

pytestmark = pytest.mark.django_db
IN_USE_LINK = "Keys in use (active or suspended)"

# What the data set below holds, figure by figure.
EXPECTED = {
    "total": 10,
    "in_use": 6,  # active or suspended
    "by_state": {"active": 4, "suspended": 2, "pre-activation": 1, "deactivated": 1, "compromised": 1, "destroyed": 1},
    "without_purpose": 2,  # every state
    "in_use_without_purpose": 1,
    "unowned": 2,  # keys in use without an owner
    "cryptoperiod_passed": 1,  # keys in state active past their cryptoperiod
    "ai": 2,  # keys in use with an AI-specific purpose
    "exposed": 2,  # keys in use exposed to another party
    "exposed_without_scope": 1,
    "by_purpose": {"data-encryption": 4, "training-data-encryption": 3, "digital-signature": 1, "": 2},
    "by_purpose_in_use": {"data-encryption": 3, "training-data-encryption": 2, "": 1},
    "by_function": {"encryption": 7, "signing": 1, "": 2},
    "by_function_in_use": {"encryption": 5, "": 1},
    "campaign_total": 3,
    "campaign_confirmed": 1,
    "campaign_discrepancies": 1,
    "campaign_pending": 1,
    "campaign_percent": 66,  # 2 of 3 answered: 66 %, never rounded up to a completion not reached
    "findings_open": 2,  # one open, one whose acceptance ended yesterday
    "findings_risk_accepted": 1,
}


@pytest.fixture
def world(grc_user, owner):
    today = timezone.localdate()
    us = PartyFactory(name="Acme AI", is_us=True)
    customer = PartyFactory(name="Customer Co")
    store = KeyStoreFactory(name="aws-prod")
    enc, ai, sign = purpose("data-encryption"), purpose("training-data-encryption"), purpose("digital-signature")

    def key(name, state, *, owned=True, purpose=enc, ends=None, exposed=None):
        k = KeyFactory(
            name=name,
            store=store,
            state=state,
            owner=owner if owned else None,
            purpose=purpose,
            purpose_justification="Why." if purpose else "",
            purpose_reviewed_on=today if purpose else None,
            cryptoperiod_ends_on=ends,
            exposure_scope=(exposed or {}).get("scope", ""),
            exposure_contract=(exposed or {}).get("contract", ""),
        )
        if exposed is not None:
            k.exposed_to.add(customer)
        return k

    keys = {
        "a1": key("a1", KeyState.ACTIVE, ends=today - dt.timedelta(days=5)),
        "a2": key("a2", KeyState.ACTIVE, owned=False, ends=today + dt.timedelta(days=10)),
        "a3": key("a3", KeyState.ACTIVE, purpose=ai, exposed={"scope": "Inference only.", "contract": "MSA-7"}),
        "a4": key("a4", KeyState.ACTIVE, purpose=None),
        "s1": key("s1", KeyState.SUSPENDED, owned=False, exposed={"scope": "Inference only."}),
        "s2": key("s2", KeyState.SUSPENDED, purpose=ai, ends=today - dt.timedelta(days=1)),
        "p1": key("p1", KeyState.PRE_ACTIVATION),
        "d1": key("d1", KeyState.DEACTIVATED, purpose=ai),
        "c1": key("c1", KeyState.COMPROMISED, owned=False, purpose=sign),
        "x1": key("x1", KeyState.DESTROYED, owned=False, purpose=None, exposed={}),
    }

    now = timezone.now()
    campaign = Campaign.objects.create(
        name="Q2 attestation",
        statements=["s"],
        statements_sha256=statements_digest(["s"]),
        due_on=today - dt.timedelta(days=3),
        status=CampaignStatus.LAUNCHED,
        created_by=grc_user,
        launched_at=now - dt.timedelta(days=10),
        launched_by=grc_user,
    )
    answered = {"responded_by": owner, "responded_at": now - dt.timedelta(days=5), "statements_sha256": "x"}
    Attestation.objects.create(campaign=campaign, key=keys["a1"], status=AttestationStatus.CONFIRMED, **answered)
    Attestation.objects.create(campaign=campaign, key=keys["a2"], status=AttestationStatus.DISCREPANCY, **answered)
    Attestation.objects.create(campaign=campaign, key=keys["a3"])  # never answered
    Campaign.objects.filter(pk=campaign.pk).update(status=CampaignStatus.CLOSED, closed_at=now - dt.timedelta(days=1))
    campaign.refresh_from_db()

    def finding(subject, until=None):
        accepted = {}
        if until is not None:
            accepted = {
                "status": FindingStatus.RISK_ACCEPTED,
                "accepted_until": until,
                "accepted_by": grc_user,
                "accepted_reason": "Retired next quarter.",
            }
        # A rule no check owns, so the check run below leaves these findings alone.
        FindingFactory(rule="manual-review", subject_id=subject.pk, subject_label=subject.name, **accepted)

    finding(keys["a1"])
    finding(keys["a2"], until=today - dt.timedelta(days=1))
    finding(keys["a3"], until=today + dt.timedelta(days=30))
    return {"today": today, "us": us, "campaign": campaign, "keys": keys}


# --- Each surface, read into {figure: value} --------------------------------------------------------------------


def _nonzero(pairs) -> dict:
    return {value: n for value, n in pairs if n}


def dashboard_figures(user, today) -> dict:
    board = dashboard(user=user, today=today)
    keys, campaign = board.keys, board.campaign
    return {
        "total": keys.total,
        "in_use": keys.in_use,
        "by_state": {b.value: b.count for b in board.keys_by_state},
        "without_purpose": keys.without_purpose,
        "unowned": keys.unowned,
        "cryptoperiod_passed": keys.cryptoperiod_passed,
        "by_purpose_in_use": _nonzero((b.value, b.in_use) for b in board.keys_by_purpose),
        "by_function_in_use": _nonzero((b.value, b.in_use) for b in board.keys_by_function),
        "campaign_total": campaign.total,
        "campaign_confirmed": campaign.confirmed,
        "campaign_discrepancies": campaign.discrepancies,
        "campaign_pending": campaign.pending,
        "campaign_percent": campaign.percent,
        "findings_open": board.findings.open,
        "findings_risk_accepted": board.findings.risk_accepted,
    }


def overview_figures(client) -> dict:
    context = client.get(reverse("inventory:overview")).context
    counts = context["counts"]
    return {
        "total": counts.total,
        "in_use": counts.in_use,
        "by_state": {b.value: b.count for b in context["by_state"]},
        "without_purpose": counts.without_purpose,
        "unowned": counts.unowned,
        "cryptoperiod_passed": counts.cryptoperiod_passed,
        "ai": counts.ai,
        "by_purpose": {b.value: b.count for b in context["top_purposes"]},
        "by_function": {b.value: b.count for b in context["by_function"]},
    }


def pack_figures() -> dict:
    content = collect(make_pack())
    inventory = content.inventory
    (campaign,) = content.campaigns
    return {
        "total": inventory.total,
        "in_use": inventory.in_use,
        "by_state": {b.value: b.count for b in inventory.by_state},
        "without_purpose": inventory.unassigned,
        "by_purpose": {b.value: b.count for b in inventory.by_purpose},
        "by_purpose_in_use": _nonzero((b.value, b.in_use) for b in inventory.by_purpose),
        "by_function": {b.value: b.count for b in inventory.by_function},
        "by_function_in_use": _nonzero((b.value, b.in_use) for b in inventory.by_function),
        "campaign_total": campaign.total,
        "campaign_confirmed": campaign.confirmed,
        "campaign_discrepancies": campaign.discrepancies,
        "campaign_pending": campaign.pending,
        "campaign_percent": campaign.percent,
    }


def answer_figures(party, today) -> dict:
    facts = gather_facts(party=party, run=None, today=today)
    inventory, campaign = facts["inventory"], facts["campaign"]
    return {
        "total": inventory["keys"],
        "in_use": inventory["keys_in_use"],
        "by_state": inventory["by_state"],
        "in_use_without_purpose": inventory["in_use_without_purpose"],
        "unowned": inventory["in_use_without_owner"],
        "exposed": inventory["exposed_keys"],
        "exposed_without_scope": inventory["exposed_without_scope"],
        "campaign_total": campaign["keys"],
        "campaign_confirmed": campaign["confirmed"],
        "campaign_discrepancies": campaign["discrepancies"],
        "campaign_pending": campaign["unanswered"],
        "findings_open": facts["findings"]["open"],
        "findings_risk_accepted": facts["findings"]["risk_accepted"],
    }


def finding_list_figures(client) -> dict:
    def listed(status: str) -> int:
        return client.get(reverse("evidence:finding-list"), {"status": status}).context["paginator"].count

    return {"findings_open": listed("open"), "findings_risk_accepted": listed("risk-accepted")}


def check_figures() -> dict:
    run = check_run_start(trigger="command", background=False)
    results = {r.guideline_id: r for r in run.results.all()}
    owner_failures = [s for s in results["CCM-2"].failing if s["type"] == "inventory.key"]
    return {
        "in_use": run.keys_evaluated,
        "in_use (AG-1)": results["AG-1"].denominator,
        "in_use (AG-2)": results["AG-2"].denominator,
        "in_use (AG-3)": results["AG-3"].denominator,
        "in_use (AG-7)": results["AG-7"].denominator,
        "ai": results["AG-6"].denominator,  # no binding to an AI service: the AI keys are those of AI purposes
        "exposed": results["AG-10"].denominator,
        "exposed_without_scope": results["AG-10"].failing_count,
        "unowned": len(owner_failures),  # no key is platform-managed or missing from its store here
        "active (CCM-3)": results["CCM-3"].denominator,
    }


def campaign_page_figures(campaign, today) -> dict:
    progress = campaign_progress(campaign=campaign, today=today)
    return {
        "campaign_total": progress.total,
        "campaign_confirmed": progress.confirmed,
        "campaign_discrepancies": progress.discrepancies,
        "campaign_pending": progress.pending,
        "campaign_percent": progress.percent,
    }


# --- The test ----------------------------------------------------------------------------------------------------


def test_every_surface_reports_the_same_figures(world, grc_user, grc_client):
    today = world["today"]
    surfaces = {
        "dashboard": dashboard_figures(grc_user, today),
        "overview": overview_figures(grc_client),
        "pack": pack_figures(),
        "answer facts": answer_figures(world["us"], today),
        "campaign page": campaign_page_figures(world["campaign"], today),
        "findings list": finding_list_figures(grc_client),
        "check run": check_figures(),
    }
    by_figure: dict[str, dict[str, object]] = defaultdict(dict)
    for surface, figures in surfaces.items():
        for figure, value in figures.items():
            by_figure[figure.split(" (")[0]][surface] = value  # "in_use (AG-1)" is the figure "in_use"
    disagreements = {
        figure: values
        for figure, values in by_figure.items()
        if any(value != EXPECTED.get(figure) for value in values.values())
    }
    disagreements.pop("active", None)  # CCM-3's population, checked below
    assert not disagreements, "\n".join(
        f"{figure}: expected {EXPECTED.get(figure)!r}, got {values!r}" for figure, values in disagreements.items()
    )
    shown_twice = {figure for figure, values in by_figure.items() if len(values) > 1}
    assert shown_twice >= {
        "total",
        "in_use",
        "by_state",
        "unowned",
        "campaign_total",
        "campaign_percent",
        "findings_open",
    }
    # CCM-3's cryptoperiod and rotation rules apply to keys in state active only: the state count says how many.
    assert by_figure["active"]["check run"] == EXPECTED["by_state"]["active"]


def test_the_words_match_the_numbers(world, grc_user, grc_client):
    """The pages name the figure as it is counted: "in use (active or suspended)", never "active" for it."""
    in_use = EXPECTED["in_use"]
    run = check_run_start(trigger="command", background=False)
    assert run.results.get(guideline_id="AG-1").metric.endswith(f"of {in_use} keys in use")
    board = " ".join(unescape(grc_client.get(reverse("home")).content.decode()).split())
    assert re.search(rf"Keys in use</h2>\s*<div class=\"stat\">{in_use}<", board)
    overview = " ".join(grc_client.get(reverse("inventory:overview")).content.decode().split())
    assert re.search(rf">{in_use}</div><div class=\"stat-label\">in use \(active or suspended\)<", overview)


def test_each_overview_card_counts_the_keys_of_the_list_it_links_to(world, grc_client):
    html = grc_client.get(reverse("inventory:overview")).content.decode()
    cards = re.findall(
        r'<a class="card" href="([^"]+)"><div class="stat[^"]*">(\d+)</div><div class="stat-label">([^<]+)</div>', html
    )
    assert len(cards) >= 5
    for url, number, label in cards:
        listed = grc_client.get(unescape(url)).context["paginator"].count
        assert listed == int(number), f"{label}: the card says {number}, its list ({url}) has {listed}"


def test_each_check_evidence_link_to_the_keys_in_use_lists_them(world, grc_client):
    run = check_run_start(trigger="command", background=False)
    links = [e for r in run.results.filter(guideline_id__in=["AG-1", "AG-2", "AG-3"]) for e in r.evidence]
    in_use_links = [e["url"] for e in links if e["label"] == IN_USE_LINK]
    assert in_use_links
    for url in in_use_links:
        assert grc_client.get(url).context["paginator"].count == EXPECTED["in_use"], url


# --- AG-8's figures ------------------------------------------------------------------------------------------


def test_the_iac_figures_agree_everywhere(grc_user, grc_client):
    recorded_scan("acme/infra")
    recorded_scan("acme/payments", violations=2)
    recorded_scan("acme/legacy", days_ago=60)
    today = timezone.localdate()
    run = check_run_start(trigger="command", background=False)
    ag8 = run.results.get(guideline_id="AG-8")
    board = dashboard(user=grc_user, today=today).iac
    facts = gather_facts(party=PartyFactory(name="Us", is_us=True, roles=["AP"]), run=run, today=today)["iac"]
    pack = collect(make_pack(sample_size=1)).iac.figures
    listed = grc_client.get(reverse("evidence:iacscan-list")).context["paginator"].count
    failing_listed = grc_client.get(reverse("evidence:iacscan-list"), {"verdict": "fail"}).context["paginator"].count
    surfaces = {
        "check run": (ag8.denominator, ag8.numerator, ag8.details["iac"]["failing"], ag8.details["iac"]["stale"]),
        "dashboard": (board.scanned, len(board.covered), board.failing, board.stale),
        "answer facts": (facts["repositories"], facts["covered"], facts["failing"], facts["stale"]),
        "pack": (pack["repositories"], pack["covered"], pack["failing"], pack["stale"]),
    }
    assert set(surfaces.values()) == {(3, 1, 1, 1)}, surfaces
    assert (listed, failing_listed) == (3, 1)  # the scans page the figures link to lists the same repositories
    assert ag8.failing_count == 2 == len(ag8.failing)
    # The day the window passes for acme/infra too, the check and the dashboard agree on the new figures.
    later = timezone.now() + dt.timedelta(days=31)
    with time_machine.travel(later, tick=False):
        run = check_run_start(trigger="command", background=False)
        ag8 = run.results.get(guideline_id="AG-8")
        board = dashboard(user=grc_user, today=timezone.localdate()).iac
        assert (ag8.numerator, ag8.denominator) == (len(board.covered), board.scanned) == (0, 3)


# --- AG-9's usage figures --------------------------------------------------------------------------------------


def test_the_usage_figures_count_the_keys_in_use_as_everywhere(world, grc_user, grc_client):
    """The dashboard's usage card and the pack's usage section divide by the keys in use as every surface counts
    them, and count the same keys in use with recorded use."""
    keys = world["keys"]
    aggregate(key=keys["a1"], count=5)
    aggregate(key=keys["s1"], count=3, days_ago=20)
    aggregate(key=keys["d1"], count=7)  # deactivated: used, but not a key in use
    aggregate(store=keys["a1"].store, key_ref="alias/unknown", count=1)
    board = dashboard(user=grc_user, today=world["today"])
    section = collect(make_pack(sample_size=1)).usage
    assert board.keys.in_use == sum(row["keys_in_use"] for row in section.stores.rows) == EXPECTED["in_use"]
    assert board.usage.keys_used == sum(row["keys_used"] for row in section.stores.rows) == 2
    assert board.usage.unknown_refs == section.unknown_refs == 1
    text = " ".join(unescape(re.sub(r"<[^>]+>", " ", grc_client.get(reverse("home")).content.decode())).split())
    assert f"2 of {EXPECTED['in_use']} keys in use with recorded use (90 days)" in text
