"""Stalled and lost pack jobs are settled without beat: viewing the packs runs the watchdog (at most once a
minute). A build whose worker was killed is failed with the reason; a queued pack whose broker message was lost
is queued again, then failed with the reason if still nobody takes it. Time moves with time-machine."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from evidence.models import EvidencePack, PackStatus
from evidence.packs import jobs
from evidence.packs.models import REQUEUED
from tests.evidence import packs_support
from tests.evidence.packs_support import request_pack

pytestmark = pytest.mark.django_db

us, queued = packs_support.us, packs_support.queued


@pytest.fixture(autouse=True)
def _watchdog_due():
    cache.delete(jobs.WATCHDOG_KEY)
    yield
    cache.delete(jobs.WATCHDOG_KEY)


def test_viewing_the_packs_fails_a_build_whose_worker_was_killed(grc_client, grc_user, us):
    pack = request_pack(grc_user)
    now = timezone.now()
    EvidencePack.objects.filter(pk=pack.pk).update(status=PackStatus.BUILDING, started_at=now, heartbeat_at=now)
    # The worker was killed: no heartbeat since. No beat runs in this test; only the page is viewed.
    with time_machine.travel(now + dt.timedelta(minutes=16), tick=False):
        assert grc_client.get(reverse("evidence:pack-list")).status_code == 200
    pack.refresh_from_db()
    assert pack.status == PackStatus.FAILED
    assert "The worker stopped while building this pack" in pack.last_error and "retry" in pack.last_error


def test_the_page_runs_the_watchdog_at_most_once_a_minute(grc_client, grc_user, us):
    pack = request_pack(grc_user)
    now = timezone.now()
    assert grc_client.get(reverse("evidence:pack-status", args=[pack.pk])).status_code == 200  # ran: nothing due
    EvidencePack.objects.filter(pk=pack.pk).update(
        status=PackStatus.BUILDING, started_at=now, heartbeat_at=now - dt.timedelta(hours=1)
    )
    grc_client.get(reverse("evidence:pack-status", args=[pack.pk]))
    assert EvidencePack.objects.get(pk=pack.pk).status == PackStatus.BUILDING  # not again within the minute
    cache.delete(jobs.WATCHDOG_KEY)
    body = grc_client.get(reverse("evidence:pack-status", args=[pack.pk])).json()
    assert EvidencePack.objects.get(pk=pack.pk).status == PackStatus.FAILED and body["status"] == "failed"


def test_a_queued_pack_whose_message_was_lost_is_queued_again_then_failed_with_the_reason(
    grc_client, grc_user, us, queued
):
    pack = request_pack(grc_user)  # saved queued; its message never reached a worker
    now = timezone.now()
    with time_machine.travel(now + dt.timedelta(minutes=14), tick=False):
        assert jobs.packs_watchdog() == {"failed_building": 0, "requeued": 0, "failed_queued": 0}
    with time_machine.travel(now + dt.timedelta(minutes=16), tick=False):
        assert grc_client.get(pack.get_absolute_url()).status_code == 200
    assert queued == [pack.pk]  # queued again, once
    pack.refresh_from_db()
    assert pack.status == PackStatus.QUEUED and pack.phase == REQUEUED
    with time_machine.travel(now + dt.timedelta(minutes=32), tick=False):
        assert jobs.packs_watchdog() == {"failed_building": 0, "requeued": 0, "failed_queued": 1}
    pack.refresh_from_db()
    assert pack.status == PackStatus.FAILED and "No worker took this pack in 30 minutes" in pack.last_error
    assert queued == [pack.pk]


def test_a_requeued_pack_a_worker_claims_is_built_once(grc_user, us, queued):
    from evidence.packs import builder

    pack = request_pack(grc_user)
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=16), tick=False):
        jobs.packs_watchdog()
    # The first message was only slow: its task claims the pack; the second finds it claimed and stops.
    assert builder._claim(pack.pk, "first-task")
    assert not builder._claim(pack.pk, "second-task")


def test_a_build_fails_within_a_minute_or_two_once_every_worker_stopped_beating(grc_user, us, settings):
    from cek import workerbeat

    settings.CEK_HEALTHZ_WORKER_SECONDS = 60
    pack = request_pack(grc_user)
    now = timezone.now()
    EvidencePack.objects.filter(pk=pack.pk).update(status=PackStatus.BUILDING, started_at=now, heartbeat_at=now)
    with time_machine.travel(now, tick=False):
        workerbeat.heartbeat_write(hostname="worker-1")  # its last beat: then it was killed
    try:
        with time_machine.travel(now + dt.timedelta(seconds=50), tick=False):
            assert jobs.packs_fail_stale() == 0  # the worker may still be alive
        with time_machine.travel(now + dt.timedelta(seconds=90), tick=False):
            assert jobs.packs_fail_stale() == 1  # not 15 minutes later
    finally:
        cache.delete(workerbeat.heartbeat_key())
    pack.refresh_from_db()
    assert "no worker has been alive for over 60 seconds" in pack.last_error and "retry" in pack.last_error


def test_a_live_worker_keeps_a_quiet_build_for_the_full_stale_time(grc_user, us, settings):
    from cek import workerbeat

    settings.CEK_HEALTHZ_WORKER_SECONDS = 60
    pack = request_pack(grc_user)
    now = timezone.now()
    EvidencePack.objects.filter(pk=pack.pk).update(status=PackStatus.BUILDING, started_at=now, heartbeat_at=now)
    try:
        with time_machine.travel(now + dt.timedelta(minutes=10), tick=False):
            workerbeat.heartbeat_write(hostname="worker-1")
            assert jobs.packs_fail_stale() == 0
    finally:
        cache.delete(workerbeat.heartbeat_key())
