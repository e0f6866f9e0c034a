"""A campaign's attestation list (filters, reassigning any pending attestation, a fixed number of queries),
the launch-progress JSON and the statement-set choice of the campaign form."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from evidence.campaigns import services
from evidence.models import DEFAULT_STATEMENT_VERSION, STATEMENT_SETS, Attestation, Campaign, CampaignStatus
from tests.conftest import login
from tests.evidence.test_campaign_pages import _query_count
from tests.factories import KeyFactory, UserFactory, keys_bulk

pytestmark = pytest.mark.django_db


@pytest.fixture
def launched(grc_user, owner, other_owner):
    for n in range(3):
        KeyFactory(owner=owner, name=f"bob-key-{n}")
    KeyFactory(owner=other_owner, name="carol-key")
    KeyFactory(owner=None, name="orphan-key")
    campaign = services.campaign_create(
        actor=grc_user, name="Q1 attestation", due_on=timezone.localdate() + dt.timedelta(days=7)
    )
    return services.campaign_launch(campaign=campaign, actor=grc_user)


def _list(client, campaign, **params):
    return client.get(reverse("evidence:campaign-attestations", args=[campaign.pk]), params)


def test_the_list_filters_by_addressee_status_unaddressed_and_key_name(launched, grc_client, owner):
    page = _list(grc_client, launched).content.decode()
    assert all(name in page for name in ("bob-key-0", "carol-key", "orphan-key"))
    by_owner = _list(grc_client, launched, addressed_to=owner.pk).content.decode()
    assert "bob-key-2" in by_owner and "carol-key" not in by_owner
    nobody = _list(grc_client, launched, unaddressed="on").content.decode()
    assert "orphan-key" in nobody and "bob-key-0" not in nobody
    assert "carol" in _list(grc_client, launched, q="carol").content.decode()
    services.attestation_confirm(attestations=Attestation.objects.filter(key__name="bob-key-0"), actor=owner)
    confirmed = _list(grc_client, launched, status="confirmed").content.decode()
    assert "bob-key-0" in confirmed and "bob-key-1" not in confirmed


def test_grc_reassigns_any_pending_attestation_and_returns_to_the_list(launched, grc_client, other_owner):
    attestation = Attestation.objects.get(key__name="bob-key-1")
    back = reverse("evidence:campaign-attestations", args=[launched.pk]) + "?q=bob"
    response = grc_client.post(
        reverse("evidence:attestation-reassign", args=[attestation.pk]), {"to": other_owner.pk, "next": back}
    )
    assert response.status_code == 302 and response["Location"] == back
    attestation.refresh_from_db()
    assert attestation.addressed_to == other_owner and attestation.reassigned_from is not None
    page = _list(grc_client, launched, addressed_to=other_owner.pk).content.decode()
    assert "bob-key-1" in page and "reassigned from" in page


def test_reassign_refuses_an_off_site_next(launched, grc_client, other_owner):
    attestation = Attestation.objects.get(key__name="bob-key-1")
    response = grc_client.post(
        reverse("evidence:attestation-reassign", args=[attestation.pk]),
        {"to": other_owner.pk, "next": "https://evil.example/"},
    )
    assert response["Location"] == launched.get_absolute_url()


def test_only_grc_sees_reassign_forms_and_auditors_read(launched, grc_client, auditor_client, owner_client):
    assert "reassign-form" in _list(grc_client, launched).content.decode()
    auditor_page = _list(auditor_client, launched)
    assert auditor_page.status_code == 200 and "reassign-form" not in auditor_page.content.decode()
    assert _list(owner_client, launched).status_code == 403
    attestation = Attestation.objects.get(key__name="carol-key")
    assert (
        owner_client.post(reverse("evidence:attestation-reassign", args=[attestation.pk]), {"to": 1}).status_code == 403
    )
    assert (
        auditor_client.post(reverse("evidence:attestation-reassign", args=[attestation.pk]), {"to": 1}).status_code
        == 403
    )


def test_answered_attestations_cannot_be_reassigned(launched, grc_client, owner, other_owner):
    attestation = Attestation.objects.get(key__name="bob-key-0")
    services.attestation_report_discrepancy(attestation=attestation, actor=owner, comment="Also used for backups")
    response = grc_client.post(
        reverse("evidence:attestation-reassign", args=[attestation.pk]), {"to": other_owner.pk}, follow=True
    )
    assert "can be reassigned" in response.content.decode()
    attestation.refresh_from_db()
    assert attestation.addressed_to == owner
    assert "reassign-form" not in _list(grc_client, launched, q="bob-key-0").content.decode()


def test_the_attestation_list_runs_a_fixed_number_of_queries(grc_user, owner, settings):
    settings.CEK_CAMPAIGN_INLINE_KEYS = 10_000
    owners = [owner] + [UserFactory(username=f"o{n}", roles=["key-owners"]) for n in range(3)]
    grc = login(grc_user)

    def launch(n: int) -> str:
        keys_bulk(count=n, owners=owners)
        campaign = services.campaign_create(actor=grc_user, name=f"c{n}", due_on=timezone.localdate())
        services.campaign_launch(campaign=campaign, actor=grc_user)
        return reverse("evidence:campaign-attestations", args=[campaign.pk])

    small = launch(6)
    large = launch(60)
    assert Attestation.objects.count() == 6 + 66
    assert _query_count(grc, large) == _query_count(grc, small)


def test_the_status_json_reports_launch_progress(grc_user, auditor_client, owner_client):
    campaign = services.campaign_create(actor=grc_user, name="c", due_on=timezone.localdate())
    Campaign.objects.filter(pk=campaign.pk).update(status=CampaignStatus.LAUNCHING, keys_total=400, keys_done=100)
    url = reverse("evidence:campaign-status", args=[campaign.pk])
    assert auditor_client.get(url).json() == {
        "status": "launching",
        "done": 100,
        "total": 400,
        "percent": 25,
        "error": "",
    }
    assert owner_client.get(url).status_code == 403
    detail = auditor_client.get(campaign.get_absolute_url()).content.decode()
    assert 'data-progress-url="' + url in detail and "progress.js" in detail


def test_the_form_offers_the_statement_sets(grc_client):
    page = grc_client.get(reverse("evidence:campaign-create")).content.decode()
    assert all(f'value="{version}"' in page for version in STATEMENT_SETS)
    response = grc_client.post(
        reverse("evidence:campaign-create"),
        {
            "name": "Annual",
            "due_on": (timezone.localdate() + dt.timedelta(days=30)).isoformat(),
            "reminder_days": 7,
            "statement_version": DEFAULT_STATEMENT_VERSION,
        },
    )
    assert response.status_code == 302
    assert Campaign.objects.get().statements == list(STATEMENT_SETS[DEFAULT_STATEMENT_VERSION])
    bad = grc_client.post(
        reverse("evidence:campaign-create"),
        {"name": "x", "due_on": timezone.localdate().isoformat(), "reminder_days": 7, "statement_version": "v0"},
    )
    assert bad.status_code == 200 and "Select a valid choice" in bad.content.decode()
