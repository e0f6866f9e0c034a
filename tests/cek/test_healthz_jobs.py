"""/healthz and stalled jobs: a job silent for longer than its kind's threshold plus the grace the watchdog needs
(beat runs it every minute) means the watchdog is not doing its work. /healthz then says "degraded" and names the
kind, but answers 200: the web process serves as well as ever, a load balancer must not take it out."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from cek.jobs.watchdog import HEALTH_GRACE_MINUTES
from evidence.models import CheckRun, RunStatus

pytestmark = pytest.mark.django_db


def silent_run(minutes: int) -> CheckRun:
    run = CheckRun.objects.create(trigger="command", status=RunStatus.RUNNING, catalog_version="AICM 1.1.0")
    then = timezone.now() - dt.timedelta(minutes=minutes)
    CheckRun.objects.filter(pk=run.pk).update(created_at=then, started_at=then, heartbeat_at=then)
    return run


def healthz() -> tuple[int, dict]:
    response = Client().get(reverse("healthz"))
    return response.status_code, response.json()


def test_no_stalled_job_is_ok():
    status, body = healthz()
    assert status == 200 and body["status"] == "ok"
    assert body["jobs"] == {"ok": True, "stalled": {}}


def test_a_job_past_its_watchdog_makes_healthz_degraded_but_200(settings):
    settings.CEK_CHECKS_STALE_MINUTES = 30
    silent_run(30 + HEALTH_GRACE_MINUTES + 1)
    status, body = healthz()
    assert status == 200
    assert body["status"] == "degraded"
    assert body["jobs"] == {"ok": False, "stalled": {"check-run": 1}}


def test_a_job_the_watchdog_still_has_time_to_settle_is_not_reported(settings):
    settings.CEK_CHECKS_STALE_MINUTES = 30
    silent_run(30 + HEALTH_GRACE_MINUTES - 1)  # stale, but beat's next sweeps settle it
    status, body = healthz()
    assert status == 200 and body["status"] == "ok" and body["jobs"]["stalled"] == {}


def test_a_settled_job_is_not_reported(settings):
    settings.CEK_CHECKS_STALE_MINUTES = 30
    run = silent_run(60)
    CheckRun.objects.filter(pk=run.pk).update(status=RunStatus.FAILED)  # what the watchdog does
    assert healthz()[1]["jobs"]["ok"]
