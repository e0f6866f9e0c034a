"""Campaign, inbox and finding pages: who may see and do what (role x endpoint), the forms and actions, the
CSV export, and a fixed number of queries on list pages whatever the data size."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from evidence.campaigns import services
from evidence.findings.services import finding_upsert
from evidence.models import Attestation, AttestationStatus, Campaign, CampaignStatus, Finding, FindingStatus
from tests.conftest import login
from tests.factories import KeyFactory, UserFactory, keys_bulk

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(grc_user, owner, other_owner):
    mine = [KeyFactory(owner=owner, name=f"bob-key-{n}") for n in range(3)]
    theirs = KeyFactory(owner=other_owner, name="carol-key")
    orphan = KeyFactory(owner=None, name="orphan-key")
    campaign = services.campaign_create(
        actor=grc_user, name="Q1 attestation", due_on=timezone.localdate() + dt.timedelta(days=7)
    )
    services.campaign_launch(campaign=campaign, actor=grc_user)
    finding_mine = finding_upsert(
        rule="multi-purpose", subject=mine[0], severity="high", details={}, seen_at=timezone.now()
    )[0]
    finding_theirs = finding_upsert(
        rule="multi-purpose", subject=theirs, severity="low", details={}, seen_at=timezone.now()
    )[0]
    return {
        "campaign": campaign,
        "mine": [Attestation.objects.get(key=k) for k in mine],
        "theirs": Attestation.objects.get(key=theirs),
        "orphan": Attestation.objects.get(key=orphan),
        "finding_mine": finding_mine,
        "finding_theirs": finding_theirs,
    }


# role -> status code of each GET
READ_MATRIX = {
    # name: (campaign list, campaign detail, csv, create form, inbox, finding list, own finding, other's finding)
    "anonymous": (302, 302, 302, 302, 302, 302, 302, 302),
    "grc": (200, 200, 200, 200, 200, 200, 200, 200),
    "owner": (403, 403, 403, 403, 200, 200, 200, 404),
    "other_owner": (403, 403, 403, 403, 200, 200, 404, 200),
    "auditor": (200, 200, 200, 403, 200, 200, 200, 200),
    "expired_auditor": (403, 403, 403, 403, 403, 403, 403, 403),
    "outsider": (403, 403, 403, 403, 403, 403, 403, 403),
}


def test_who_may_read_what(role, world):
    name, _user, client = role
    c = world["campaign"]
    urls = [
        reverse("evidence:campaign-list"),
        reverse("evidence:campaign-detail", args=[c.pk]),
        reverse("evidence:campaign-export", args=[c.pk]),
        reverse("evidence:campaign-create"),
        reverse("evidence:attestation-inbox"),
        reverse("evidence:finding-list"),
        reverse("evidence:finding-detail", args=[world["finding_mine"].pk]),
        reverse("evidence:finding-detail", args=[world["finding_theirs"].pk]),
    ]
    got = tuple(client.get(url).status_code for url in urls)
    expected = READ_MATRIX[name]
    if name == "expired_auditor" and got[0] == 302:  # an expired account is logged out
        expected = (302,) * len(urls)
    assert got == expected


@pytest.mark.parametrize("who", ["owner", "other_owner", "auditor", "outsider"])
def test_only_grc_launches_closes_reassigns_and_judges_findings(who, world, request, owner):
    client = login(request.getfixturevalue(who))
    c = world["campaign"]
    posts = [
        (reverse("evidence:campaign-create"), {"name": "x", "due_on": "2099-01-01", "reminder_days": 7}),
        (reverse("evidence:campaign-close", args=[c.pk]), {}),
        (reverse("evidence:attestation-reassign", args=[world["orphan"].pk]), {"to": owner.pk}),
        (reverse("evidence:finding-resolve", args=[world["finding_mine"].pk]), {}),
        (
            reverse("evidence:finding-accept-risk", args=[world["finding_mine"].pk]),
            {"until": "2099-01-01", "reason": "x"},
        ),
    ]
    for url, data in posts:
        assert client.post(url, data).status_code == 403, url
    c.refresh_from_db()
    assert c.status == CampaignStatus.LAUNCHED and Campaign.objects.count() == 1
    assert Attestation.objects.get(pk=world["orphan"].pk).addressed_to is None
    assert Finding.objects.get(pk=world["finding_mine"].pk).status == FindingStatus.OPEN


def test_an_owner_sees_only_their_attestations_and_findings(world, owner_client):
    inbox = owner_client.get(reverse("evidence:attestation-inbox")).content.decode()
    assert "bob-key-0" in inbox and "carol-key" not in inbox and "orphan-key" not in inbox
    findings = owner_client.get(reverse("evidence:finding-list")).content.decode()
    assert "bob-key-0" in findings and "carol-key" not in findings


def test_an_owner_confirms_selected_then_all(world, owner_client, owner):
    first, second, third = world["mine"]
    response = owner_client.post(
        reverse("evidence:attestation-confirm"), {"attestation": [first.pk, second.pk], "reviewed": "1"}
    )
    assert response.status_code == 302
    assert Attestation.objects.filter(status=AttestationStatus.CONFIRMED, responded_by=owner).count() == 2
    owner_client.post(reverse("evidence:attestation-confirm"), {"all": "1", "reviewed": "1"})
    assert Attestation.objects.get(pk=third.pk).status == AttestationStatus.CONFIRMED
    assert Attestation.objects.get(pk=world["theirs"].pk).status == AttestationStatus.PENDING


@pytest.mark.parametrize("data", [{"all": "1"}, {"all": "1", "reviewed": "yes"}])
def test_nothing_is_confirmed_without_the_reviewed_statement(world, owner_client, data):
    first = world["mine"][0]
    response = owner_client.post(
        reverse("evidence:attestation-confirm"), {"attestation": [first.pk], **data}, follow=True
    )
    assert "Nothing was confirmed: tick “I have reviewed these keys”" in response.content.decode()
    assert not Attestation.objects.filter(status=AttestationStatus.CONFIRMED).exists()
    inbox = owner_client.get(reverse("evidence:attestation-inbox")).content.decode()
    assert 'name="reviewed" value="1" form="confirm-form" required' in inbox and "Confirm all 3" in inbox


def test_an_owner_cannot_confirm_someone_elses_attestation(world, owner_client):
    response = owner_client.post(
        reverse("evidence:attestation-confirm"), {"attestation": [world["theirs"].pk], "reviewed": "1"}
    )
    assert response.status_code == 403
    assert Attestation.objects.get(pk=world["theirs"].pk).status == AttestationStatus.PENDING


def test_a_discrepancy_without_comment_is_refused_and_with_one_opens_a_finding(world, owner_client):
    attestation = world["mine"][1]
    url = reverse("evidence:attestation-discrepancy", args=[attestation.pk])
    response = owner_client.post(url, {"comment": ""}, follow=True)
    assert "Describe the discrepancy" in response.content.decode()
    owner_client.post(url, {"comment": "Also used for signing."})
    assert Attestation.objects.get(pk=attestation.pk).status == AttestationStatus.DISCREPANCY
    finding = Finding.objects.get(rule="attestation-discrepancy")
    assert finding.subject_id == attestation.key_id and finding.details["comment"] == "Also used for signing."


def test_grc_creates_launches_reassigns_exports_and_closes(grc_client, grc_user, owner, other_owner):
    form = grc_client.get(reverse("evidence:campaign-create")).content.decode()
    assert all(f'id="id_{name}"' in form for name in ("name", "due_on", "reminder_days", "store", "service"))
    KeyFactory(owner=owner, name="alpha")
    orphan = KeyFactory(owner=None, name="beta")
    response = grc_client.post(
        reverse("evidence:campaign-create"),
        {
            "name": "Annual 2026",
            "due_on": (timezone.localdate() + dt.timedelta(days=10)).isoformat(),
            "reminder_days": 5,
        },
    )
    campaign = Campaign.objects.get(name="Annual 2026")
    assert response.status_code == 302 and response["Location"] == campaign.get_absolute_url()
    assert "Keys in scope" in grc_client.get(campaign.get_absolute_url()).content.decode()
    grc_client.post(reverse("evidence:campaign-launch", args=[campaign.pk]))
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.LAUNCHED
    pending_orphan = Attestation.objects.get(key=orphan)
    page = grc_client.get(campaign.get_absolute_url()).content.decode()
    assert "Keys without an addressee" in page and "beta" in page
    grc_client.post(reverse("evidence:attestation-reassign", args=[pending_orphan.pk]), {"to": other_owner.pk})
    assert Attestation.objects.get(pk=pending_orphan.pk).addressed_to == other_owner
    services.attestation_confirm_all(actor=owner)
    grc_client.post(reverse("evidence:campaign-close", args=[campaign.pk]))
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.CLOSED
    body = b"".join(grc_client.get(reverse("evidence:campaign-export", args=[campaign.pk])).streaming_content)
    rows = list(csv.DictReader(io.StringIO(body.decode())))
    by_key = {r["key"]: r for r in rows}
    assert (
        by_key["alpha"]["status"] == "confirmed" and by_key["alpha"]["statements_sha256"] == campaign.statements_sha256
    )
    assert by_key["beta"]["status"] == "not answered" and by_key["beta"]["addressed_to"] == other_owner.username


def test_grc_resolves_and_accepts_risk_on_findings(world, grc_client):
    finding = world["finding_mine"]
    url = reverse("evidence:finding-accept-risk", args=[finding.pk])
    page = grc_client.post(url, {"until": "2000-01-01", "reason": "x"}, follow=True).content.decode()
    assert "must end after today" in page
    grc_client.post(url, {"until": (timezone.localdate() + dt.timedelta(days=30)).isoformat(), "reason": "Planned."})
    assert Finding.objects.get(pk=finding.pk).status == FindingStatus.RISK_ACCEPTED
    refused = grc_client.post(reverse("evidence:finding-resolve", args=[finding.pk]))
    assert refused.status_code == 400 and "Say what was done before resolving" in refused.content.decode()
    assert Finding.objects.get(pk=finding.pk).status == FindingStatus.RISK_ACCEPTED
    grc_client.post(reverse("evidence:finding-resolve", args=[finding.pk]), {"note": "Key split in two."})
    assert Finding.objects.get(pk=finding.pk).status == FindingStatus.RESOLVED


def test_findings_filter_through_the_url(world, auditor_client):
    page = auditor_client.get(reverse("evidence:finding-list"), {"severity": "low"}).content.decode()
    assert "carol-key" in page and "bob-key-0" not in page


def _query_count(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_list_pages_run_a_fixed_number_of_queries(grc_user, owner, settings):
    settings.CEK_CAMPAIGN_INLINE_KEYS = 10_000
    owners = [owner] + [UserFactory(username=f"o{n}", roles=["key-owners"]) for n in range(3)]
    grc = login(grc_user)
    mine = login(owner)

    def grow(n: int) -> None:
        keys = keys_bulk(count=n, owners=owners)
        campaign = services.campaign_create(actor=grc_user, name=f"c{n}", due_on=timezone.localdate())
        services.campaign_launch(campaign=campaign, actor=grc_user)
        for key in keys[:n:4]:
            finding_upsert(rule="r", subject=key, severity="low", details={}, seen_at=timezone.now())

    grow(8)
    campaign = Campaign.objects.get()
    urls = [
        reverse("evidence:campaign-list"),
        reverse("evidence:campaign-detail", args=[campaign.pk]),
        reverse("evidence:finding-list"),
    ]
    small = [_query_count(grc, url) for url in urls] + [_query_count(mine, reverse("evidence:attestation-inbox"))]
    grow(80)
    large = [_query_count(grc, url) for url in urls] + [_query_count(mine, reverse("evidence:attestation-inbox"))]
    assert large == small
