"""A campaign that asks only about keys changed since their last confirmed attestation: unchanged keys are carried
over (with the attestation that stands for them), changed ones (purpose, owner, binding, grant, state, labels) are
asked again; the campaign page says how many were carried over and from which attestations."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from evidence.campaigns import services
from evidence.models import Attestation, CampaignStatus, CarriedOver
from inventory.models import KeyState
from tests.factories import AccessGrantFactory, BindingFactory, KeyFactory, PurposeFactory, UserFactory

pytestmark = pytest.mark.django_db


def _campaign(grc_user, name, *, only_changed=False):
    campaign = services.campaign_create(
        actor=grc_user, name=name, due_on=timezone.localdate() + dt.timedelta(days=7), only_changed=only_changed
    )
    return services.campaign_launch(campaign=campaign, actor=grc_user)


def _confirm_all(grc_user, owner, name="Q1"):
    first = _campaign(grc_user, name)
    services.attestation_confirm_all(actor=owner)
    return first


def test_unchanged_keys_are_carried_over_and_changed_ones_asked_again(grc_user, owner, other_owner):
    names = ["same", "purpose", "owner", "binding", "grant", "state", "labels", "grant-deleted"]
    keys = {name: KeyFactory(owner=owner, name=f"k-{name}", labels={"team": "a"}) for name in names}
    grant = AccessGrantFactory(key=keys["grant-deleted"])
    first = _confirm_all(grc_user, owner)
    confirmed = {a.key_id: a.pk for a in Attestation.objects.filter(campaign=first)}

    keys["purpose"].purpose = PurposeFactory()
    keys["purpose"].save()
    keys["owner"].owner = other_owner
    keys["owner"].save()
    BindingFactory(key=keys["binding"])
    AccessGrantFactory(key=keys["grant"])
    grant.delete()
    keys["state"].state = KeyState.SUSPENDED  # suspended and re-activated since: still a change
    keys["state"].save()
    keys["state"].state = KeyState.ACTIVE
    keys["state"].save()
    keys["labels"].labels = {"team": "b"}
    keys["labels"].save()

    second = _campaign(grc_user, "Q2", only_changed=True)
    assert second.status == CampaignStatus.LAUNCHED
    asked = set(Attestation.objects.filter(campaign=second).values_list("key__name", flat=True))
    assert asked == {f"k-{name}" for name in names if name != "same"}
    carried = CarriedOver.objects.get(campaign=second)
    assert carried.key == keys["same"] and carried.attestation_id == confirmed[keys["same"].pk]
    assert second.keys_carried_over == 1 and second.keys_total == 7


def test_only_confirmed_answers_of_launched_or_closed_campaigns_count(grc_user, owner):
    KeyFactory(owner=owner, name="never-confirmed")
    _campaign(grc_user, "Q1")  # launched, never answered
    second = _campaign(grc_user, "Q2", only_changed=True)
    assert second.keys_carried_over == 0 and Attestation.objects.filter(campaign=second).count() == 1


def test_without_the_option_every_key_is_asked(grc_user, owner):
    KeyFactory(owner=owner)
    _confirm_all(grc_user, owner)
    second = _campaign(grc_user, "Q2")
    assert second.keys_carried_over == 0 and Attestation.objects.filter(campaign=second).count() == 1


def test_the_campaign_page_says_what_was_carried_over(grc_user, owner, grc_client):
    key = KeyFactory(owner=owner, name="steady-key")
    KeyFactory(owner=owner, name="moving-key")
    _confirm_all(grc_user, owner, name="Spring review")
    moving = KeyFactory._meta.model.objects.get(name="moving-key")
    moving.labels = {"x": "y"}
    moving.save()
    second = _campaign(grc_user, "Autumn review", only_changed=True)
    page = grc_client.get(reverse("evidence:campaign-detail", args=[second.pk])).content.decode()
    assert "1 key carried over from their confirmed attestations" in page
    assert key.get_absolute_url() in page and "Spring review" in page
    assert "only keys changed since their last confirmed attestation" in page


def test_the_form_offers_the_option(grc_client):
    response = grc_client.post(
        reverse("evidence:campaign-create"),
        {
            "name": "Only changed",
            "due_on": (timezone.localdate() + dt.timedelta(days=3)).isoformat(),
            "reminder_days": 7,
            "only_changed": "on",
        },
    )
    assert response.status_code == 302
    from evidence.models import Campaign

    assert Campaign.objects.get(name="Only changed").only_changed is True


def test_launch_runs_a_fixed_number_of_queries_per_batch(grc_user, owner, settings):
    settings.CEK_CAMPAIGN_INLINE_KEYS = 10_000
    others = [UserFactory(username=f"o{n}", roles=["key-owners"]) for n in range(2)]

    def launch_after_confirming(n: int, tag: str) -> int:
        for i in range(n):
            key = KeyFactory(owner=owner, name=f"{tag}-{i}")
            BindingFactory(key=key)
            AccessGrantFactory(key=key)
        _confirm_all(grc_user, owner, name=f"first-{tag}")
        for key in KeyFactory._meta.model.objects.filter(name__startswith=f"{tag}-")[: n // 2]:
            key.owner = others[0]
            key.save()
        with CaptureQueriesContext(connection) as queries:
            campaign = _campaign(grc_user, f"second-{tag}", only_changed=True)
        assert campaign.keys_carried_over > 0
        return len(queries)

    small = launch_after_confirming(4, "small")
    large = launch_after_confirming(40, "large")
    assert large <= small + 2  # one more addressee e-mailed at most; never one query per key


def test_the_api_drafts_with_the_option_and_reports_the_count(grc_user, owner, grc_client):
    KeyFactory(owner=owner)
    _confirm_all(grc_user, owner)
    body = {"name": "API", "due_on": (timezone.localdate() + dt.timedelta(days=3)).isoformat(), "only_changed": True}
    created = grc_client.post("/api/v1/campaigns/", json.dumps(body), content_type="application/json")
    assert created.status_code == 201 and created.json()["only_changed"] is True
    launched = grc_client.post(f"/api/v1/campaigns/{created.json()['id']}/launch/")
    assert launched.status_code == 200 and launched.json()["keys_carried_over"] == 1


def test_a_second_run_of_the_launch_does_not_ask_a_carried_key(grc_user, owner):
    key = KeyFactory(owner=owner)
    _confirm_all(grc_user, owner)
    second = _campaign(grc_user, "Q2", only_changed=True)
    assert second.keys_carried_over == 1
    key.labels = {"changed": "after"}
    key.save()
    type(second).objects.filter(pk=second.pk).update(status=CampaignStatus.LAUNCHING)
    services.campaign_launch_run(campaign_id=second.pk)
    assert not Attestation.objects.filter(campaign=second).exists()
    assert CarriedOver.objects.filter(campaign=second).count() == 1
