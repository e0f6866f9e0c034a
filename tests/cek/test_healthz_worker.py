"""/healthz and the worker: a real worker's heartbeat makes it "ok"; no worker ever, or one stopped for longer
than CEK_HEALTHZ_WORKER_SECONDS, answers 503 with the worker "none" or "stale"."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.urls import reverse

from cek import workerbeat
from tests.conftest import wait_for


@pytest.fixture
def worker_required(settings):
    settings.CEK_HEALTHZ_WORKER_SECONDS = 30
    cache.delete(workerbeat.heartbeat_key())  # no heartbeat left by another test's worker
    yield
    cache.delete(workerbeat.heartbeat_key())


def _healthz():
    response = Client().get(reverse("healthz"))
    return response.status_code, response.json()


@pytest.mark.django_db
def test_healthz_answers_503_when_no_worker_ever_beat(worker_required):
    status, body = _healthz()
    assert status == 503 and body["status"] == "degraded"
    assert body["worker"] == {"ok": False, "state": "none"}
    assert body["database"]["ok"] and body["broker"]["ok"]  # only the worker is missing


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_healthz_follows_a_real_workers_heartbeat_and_turns_stale_when_it_stops(worker_required, settings):
    settings.CEK_WORKER_HEARTBEAT_SECONDS = 1
    from celery.contrib.testing.worker import start_worker

    from cek.celery import app

    with start_worker(app, pool="solo", perform_ping_check=False, loglevel="WARNING", queues=["cek-healthz-test"]) as w:
        wait_for(lambda: cache.get(workerbeat.heartbeat_key()), timeout=20)
        status, body = _healthz()
        assert status == 200 and body["worker"]["state"] == "ok", body
    # The test worker stops as a cold shutdown does (Celery's "terminate"): its heartbeat stops with it. A beat
    # left running would write the travelled time below and answer 200 (seen once on the full SQLite run).
    (beat,) = [step for step in w.steps if isinstance(step, workerbeat.WorkerHeartbeat)]
    assert beat._thread is not None and not beat._thread.is_alive()
    # The worker stopped (as if killed): the last beat ages past the limit.
    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=31), tick=False):
        status, body = _healthz()
    assert status == 503 and body["worker"]["state"] == "stale" and body["worker"]["age_s"] > 30


@pytest.mark.django_db
def test_a_heartbeat_of_another_installations_worker_does_not_count(worker_required, monkeypatch):
    # A worker of another installation (another database) sharing this cache (one Redis database, or one data
    # folder with another CEK_SQLITE_PATH; parallel test processes on one Redis) beats too: not for us.
    with monkeypatch.context() as other_installation:
        other_installation.setitem(connection.settings_dict, "NAME", "another-installation")
        workerbeat.heartbeat_write(hostname="worker@elsewhere")
    status, body = _healthz()
    assert status == 503 and body["worker"] == {"ok": False, "state": "none"}
    workerbeat.heartbeat_write(hostname="worker@here")
    assert _healthz()[1]["worker"]["state"] == "ok"


@pytest.mark.django_db
def test_with_the_check_off_the_worker_is_reported_but_never_fails_healthz(settings):
    settings.CEK_HEALTHZ_WORKER_SECONDS = 0
    cache.delete(workerbeat.heartbeat_key())
    status, body = _healthz()
    assert status == 200 and body["worker"]["state"] == "none"
