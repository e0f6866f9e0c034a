"""Two check runs started at the same moment: the database lets one through, the other is told which run is in
progress (real PostgreSQL transactions in two threads, nothing mocked)."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
import time_machine
from django.db import connection, connections, transaction
from django.urls import reverse
from django.utils import timezone

from evidence.checks import services
from evidence.models import CheckRun, RunStatus, RunTrigger
from tests.conftest import login
from tests.factories import UserFactory

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="needs concurrent PostgreSQL transactions")


def _in_thread(target, results: dict, name: str):
    def run():
        try:
            results[name] = target()
        except Exception as exc:  # the test asserts on what each thread got
            results[name] = exc
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_a_run_started_while_another_is_being_started_is_refused_with_the_running_one(transactional_catalog):
    grc = UserFactory(username="race-grc", roles=["grc"])
    inserted, other_started = threading.Event(), threading.Event()
    results: dict = {}

    def first():
        # Queues a run (for a worker; none runs in this test) and keeps its transaction open while the second
        # request reads "none in progress".
        with transaction.atomic():
            run = services.check_run_start(trigger=RunTrigger.COMMAND, background=True)
            inserted.set()
            other_started.wait(10)
            threading.Event().wait(1.0)  # the second insert is now waiting on this transaction
        return run

    def second():
        inserted.wait(10)
        other_started.set()
        return services.check_run_start(trigger=RunTrigger.UI, actor=grc, background=False)

    threads = [_in_thread(first, results, "first"), _in_thread(second, results, "second")]
    for thread in threads:
        thread.join(60)
    assert isinstance(results["first"], CheckRun), results["first"]
    refused = results["second"]
    assert isinstance(refused, services.CheckRunError), f"both runs started: {refused!r}"
    assert f"{results['first'].title} is still queued; only one run may run at a time" in str(refused)
    assert refused.run.pk == results["first"].pk  # the page links to it
    assert CheckRun.objects.count() == 1


@pytest.mark.parametrize("round_", range(5))
def test_of_two_simultaneous_starts_exactly_one_runs(transactional_catalog, round_):
    grc = UserFactory(username=f"race-{round_}", roles=["grc"])
    barrier = threading.Barrier(2)
    results: dict = {}

    def start():
        barrier.wait(10)
        return services.check_run_start(trigger=RunTrigger.UI, actor=grc, background=False)

    threads = [_in_thread(start, results, name) for name in ("a", "b")]
    for thread in threads:
        thread.join(60)
    started = [result for result in results.values() if isinstance(result, CheckRun)]
    refused = [result for result in results.values() if isinstance(result, services.CheckRunError)]
    assert len(started) == 1 and len(refused) == 1, results


def test_the_start_button_leads_to_the_run_in_progress(transactional_catalog):
    client = login(UserFactory(username="race-page", roles=["grc"]))
    busy = CheckRun.objects.create(
        trigger=RunTrigger.UI, status=RunStatus.RUNNING, catalog_version="x", started_at=timezone.now()
    )
    response = client.post(reverse("evidence:checkrun-start"), follow=True)
    assert response.redirect_chain[-1][0] == busy.get_absolute_url()
    assert f"{busy.title} is still running" in response.content.decode()


@pytest.mark.django_db
def test_a_run_whose_worker_died_does_not_block_the_next_start_without_beat():
    with time_machine.travel(timezone.now() - dt.timedelta(hours=2), tick=False):
        dead = CheckRun.objects.create(
            trigger=RunTrigger.UI, status=RunStatus.RUNNING, catalog_version="x", started_at=timezone.now()
        )
    run = services.check_run_start(trigger=RunTrigger.COMMAND, background=False)
    dead.refresh_from_db()
    assert dead.status == RunStatus.FAILED and "retry it" in dead.last_error
    assert run.status == RunStatus.SUCCEEDED
