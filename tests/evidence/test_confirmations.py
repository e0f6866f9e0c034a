"""Irreversible steps ask first: launching and closing a campaign and publishing a CEK-11.1 answer open a page that
says, from the data, what will happen, with the one button that does it; nothing happens until it is pressed.
Resolving a finding needs a note (tested with the findings pages) and confirming attestations the reviewed
statement (tested with the inbox)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from evidence.answers import services as answer_services
from evidence.campaigns import services as campaign_services
from evidence.models import AnswerStatus, Attestation, CaiqAnswer, Campaign, CampaignStatus
from tests.evidence.caiq import key_policy, make_run, us
from tests.factories import KeyFactory, KeyStoreFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def draft_campaign(grc_user):
    olivia = UserFactory(username="olivia", roles=["key-owners"])
    store = KeyStoreFactory(name="prod-kms")
    KeyFactory.create_batch(2, owner=olivia, store=store)
    KeyFactory(owner=None, backup_owner=olivia, store=store)
    KeyFactory(owner=None, backup_owner=None, store=store)
    return campaign_services.campaign_create(
        actor=grc_user, name="Q1 attestation", due_on=timezone.localdate() + dt.timedelta(days=14), store=store
    )


def test_launch_asks_first_with_figures_from_the_scope(draft_campaign, grc_client):
    url = reverse("evidence:campaign-launch", args=[draft_campaign.pk])
    detail = grc_client.get(draft_campaign.get_absolute_url()).content.decode()
    assert f'href="{url}"' in detail and "Launch…" in detail

    page = grc_client.get(url).content.decode()

    assert "Launch “Q1 attestation”?" in page
    assert "4 attestations will be created, one for each key in scope (all active keys of store prod-kms)." in page
    assert "(1 owner for 2 keys, and the backup owners of 1 key without an owner)" in page
    assert "1 key has neither an owner nor a backup owner" in page
    assert "Launch and e-mail the owners of 4 keys" in page and f'action="{url}"' in page
    assert Campaign.objects.get(pk=draft_campaign.pk).status == CampaignStatus.DRAFT
    assert not Attestation.objects.exists()

    grc_client.post(url)
    assert Campaign.objects.get(pk=draft_campaign.pk).status == CampaignStatus.LAUNCHED


def test_an_empty_scope_cannot_be_launched_from_the_page(grc_user, grc_client):
    campaign = campaign_services.campaign_create(
        actor=grc_user, name="Empty", due_on=timezone.localdate(), store=KeyStoreFactory(name="empty")
    )
    page = grc_client.get(reverse("evidence:campaign-launch", args=[campaign.pk])).content.decode()
    assert "No active key is in the scope of this campaign" in page and " disabled>" in page
    assert "Nothing can be launched: the scope holds no active key." in page


def test_close_asks_first_and_counts_what_stays_pending(draft_campaign, grc_user, grc_client):
    campaign = campaign_services.campaign_launch(campaign=draft_campaign, actor=grc_user)
    url = reverse("evidence:campaign-close", args=[campaign.pk])

    page = grc_client.get(url).content.decode()

    assert "Close “Q1 attestation”?" in page and "0 % answered" in page
    assert "The 0 answers (0 confirmed, 0 discrepancies) are frozen as evidence" in page
    assert "4 attestations are still pending" in page and "btn-danger" in page
    assert Campaign.objects.get(pk=campaign.pk).status == CampaignStatus.LAUNCHED
    # Asking again about a step already done goes back to the campaign.
    assert grc_client.get(reverse("evidence:campaign-launch", args=[campaign.pk])).status_code == 302


@pytest.mark.parametrize("who", ["auditor", "owner"])
def test_only_grc_sees_the_confirmation_pages(draft_campaign, request, who):
    from tests.conftest import login

    client = login(request.getfixturevalue(who))
    assert client.get(reverse("evidence:campaign-launch", args=[draft_campaign.pk])).status_code == 403
    assert client.get(reverse("evidence:campaign-close", args=[draft_campaign.pk])).status_code == 403


@pytest.fixture
def draft_answer(grc_user):
    key_policy(grc_user)
    make_run()
    return answer_services.answer_generate(party=us(), actor=grc_user)


def test_publish_asks_first(draft_answer, grc_client):
    url = reverse("evidence:answer-publish", args=[draft_answer.pk])
    detail = grc_client.get(reverse("evidence:answer-detail", args=[draft_answer.pk])).content.decode()
    assert f'href="{url}"' in detail

    page = grc_client.get(url).content.decode()

    assert f"Publish the {draft_answer.title}?" in page and "is frozen: it can no longer be edited" in page
    assert "Publish and freeze" in page and " disabled>" not in page
    assert CaiqAnswer.objects.get(pk=draft_answer.pk).status == AnswerStatus.DRAFT
    grc_client.post(url)
    assert CaiqAnswer.objects.get(pk=draft_answer.pk).status == AnswerStatus.PUBLISHED
    assert grc_client.get(url).status_code == 302  # already published: back to the answer


def test_publish_is_disabled_while_a_fill_rule_is_broken(draft_answer, grc_client):
    CaiqAnswer.objects.filter(pk=draft_answer.pk).update(implementation="")

    page = grc_client.get(reverse("evidence:answer-publish", args=[draft_answer.pk])).content.decode()

    assert "It cannot be published yet: 1 fill rule is not met" in page and " disabled>" in page
