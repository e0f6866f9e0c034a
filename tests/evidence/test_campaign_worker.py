"""End to end with a real Celery worker and broker: launching a campaign larger than the inline limit queues
the launch on commit; the worker creates every attestation and mails each owner once."""

from __future__ import annotations

import pytest
from django.core import mail
from django.utils import timezone

from evidence.campaigns import services
from evidence.models import Attestation, Campaign, CampaignStatus
from tests.conftest import wait_for
from tests.factories import UserFactory, keys_bulk

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def short_lived_connections(monkeypatch):
    """The worker thread closes its connection after each task (see test_policy_worker)."""
    from django.db import connections

    monkeypatch.setitem(connections.settings["default"], "CONN_MAX_AGE", 0)


def test_a_worker_launches_a_large_campaign(short_lived_connections, celery_worker, settings):
    settings.CEK_CAMPAIGN_INLINE_KEYS = 50
    grc = UserFactory(username="grace", roles=["grc"])
    owners = [UserFactory(username=f"owner{n}", roles=["key-owners"]) for n in range(3)]
    keys_bulk(count=1200, owners=owners)
    campaign = services.campaign_create(actor=grc, name="Large", due_on=timezone.localdate())
    launched = services.campaign_launch(campaign=campaign, actor=grc)
    assert launched.status == CampaignStatus.LAUNCHING and launched.keys_total == 1200
    wait_for(lambda: Campaign.objects.get(pk=campaign.pk).status == CampaignStatus.LAUNCHED)
    wait_for(lambda: len(mail.outbox) == 3)
    assert Attestation.objects.filter(campaign=campaign).count() == 1200
    assert sorted(m.to[0] for m in mail.outbox) == sorted(o.email for o in owners)
    assert Campaign.objects.get(pk=campaign.pk).keys_done == 1200


def test_a_launch_whose_task_was_lost_is_queued_again_from_the_page_and_finishes(
    short_lived_connections, celery_worker, settings
):
    import datetime as dt

    import time_machine
    from django.urls import reverse

    from tests.conftest import login

    settings.CEK_CAMPAIGN_INLINE_KEYS = 10
    grc = UserFactory(username="grace", roles=["grc"])
    owner = UserFactory(username="olivia", roles=["key-owners"])
    keys_bulk(count=40, owners=[owner])
    campaign = services.campaign_create(actor=grc, name="Lost launch", due_on=timezone.localdate())
    # The launch is requested, but its task never reaches a worker (the commit hook that queues it is dropped).
    from django.db import transaction

    with transaction.atomic():
        launched = services.campaign_launch(campaign=campaign, actor=grc)
        transaction.get_connection().run_on_commit.clear()
    assert launched.status == CampaignStatus.LAUNCHING
    client = login(grc)
    url = reverse("evidence:campaign-detail", args=[campaign.pk])

    assert client.get(url).status_code == 200  # minutes after the launch: nothing to do yet
    assert Campaign.objects.get(pk=campaign.pk).status == CampaignStatus.LAUNCHING
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=16)):
        assert client.get(url).status_code == 200  # the page queues the launch again
        assert services.campaigns_requeue_stalled() == 0  # once per window, not at every view
    wait_for(lambda: Campaign.objects.get(pk=campaign.pk).status == CampaignStatus.LAUNCHED)
    finished = Campaign.objects.get(pk=campaign.pk)
    assert finished.keys_done == 40 and finished.last_error == ""
    assert Attestation.objects.filter(campaign=campaign).count() == 40
    wait_for(lambda: len(mail.outbox) == 1)
