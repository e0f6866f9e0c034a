"""Past one machine: two real Celery worker *processes* on one queue (the real Redis broker, the test database
through DATABASE_URL, the same media folder and signing key) take the evidence-pack builds between them, and each
pack is built exactly once even when its task reaches the queue twice (as when the watchdog queues a slow job
again): the second task finds the pack claimed (``cek.jobs.job_claim``, one conditional UPDATE) and does nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections import Counter
from pathlib import Path

import pytest
from django.db import connection

from cek.jobs.queue import dispatch
from evidence.models import EvidencePack, PackStatus
from evidence.packs import jobs
from tests.conftest import wait_for
from tests.evidence import packs_support
from tests.evidence.packs_support import WINDOW
from tests.factories import BindingFactory, KeyFactory, KeyStoreFactory, PartyFactory, UserFactory

pytestmark = [
    pytest.mark.worker,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs the Redis broker (REDIS_URL)"),
    pytest.mark.skipif(not os.environ.get("DATABASE_URL"), reason="needs PostgreSQL (DATABASE_URL)"),
]

ROOT = Path(__file__).resolve().parents[2]
PACKS = 3
signing_key = packs_support.signing_key


def database_url() -> str:
    """The test database (not the one DATABASE_URL names: pytest-django made ``test_<name>``) as a URL."""
    s = connection.settings_dict
    password = f":{s['PASSWORD']}" if s.get("PASSWORD") else ""
    return f"postgres://{s['USER']}{password}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


@pytest.fixture
def two_workers(transactional_catalog, signing_key, settings, tmp_path):
    """Two `celery -A cek worker` processes consuming one private queue, one task at a time each."""
    from cek.celery import app

    queue = f"cek-test-two-{uuid.uuid4().hex[:10]}"
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "CEK_DEBUG": "1",
        "CEK_MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "CEK_EVIDENCE_SIGNING_KEY": str(settings.CEK_EVIDENCE_SIGNING_KEY),
        "CEK_LOG_LEVEL": "WARNING",
    }
    names = [f"w{n}-{queue}@localhost" for n in (1, 2)]
    processes = [
        subprocess.Popen(
            [
                *(sys.executable, "-m", "celery", "-A", "cek", "worker", "-Q", queue, "-n", name),
                *("--concurrency", "1", "--prefetch-multiplier", "1", "--without-gossip", "--without-mingle"),
                *("--loglevel", "WARNING"),
            ],
            cwd=ROOT,
            env=env,
            stdout=(tmp_path / f"{name}.log").open("w"),
            stderr=subprocess.STDOUT,
        )
        for name in names
    ]
    previous = app.conf.task_default_queue
    app.conf.task_default_queue = queue
    try:
        wait_for(lambda: len(app.control.ping(destination=names, timeout=1.0) or []) == 2, timeout=120)
        yield names
    finally:
        app.conf.task_default_queue = previous
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


def test_two_worker_processes_build_each_pack_exactly_once(two_workers):
    from django_celery_results.models import TaskResult

    auditor = UserFactory(username="audrey", roles=["auditors"])
    PartyFactory(name="Example AI Ltd", is_us=True, roles=["AP"])
    store = KeyStoreFactory(name="prod-kms")
    for n in range(6):
        BindingFactory(key=KeyFactory(name=f"orders-dek-{n}", store=store))

    packs = [jobs.pack_request(actor=auditor, sample_size=3, sample_seed=f"two-{n}", **WINDOW) for n in range(PACKS)]
    first_tasks = {EvidencePack.objects.get(pk=p.pk).task_id for p in packs}
    for pack in packs:  # each build queued a second time, as the watchdog does for a job it thinks lost
        dispatch(EvidencePack.job, pack.pk)

    def finished():
        return all(
            status in (PackStatus.READY, PackStatus.FAILED)
            for status in EvidencePack.objects.filter(pk__in=[p.pk for p in packs]).values_list("status", flat=True)
        )

    wait_for(finished, timeout=300)
    for pack in EvidencePack.objects.filter(pk__in=[p.pk for p in packs]):
        assert pack.status == PackStatus.READY, pack.last_error
        assert pack.attempts == 1  # claimed once: the duplicate task found it taken
        assert pack.file and pack.file.storage.exists(pack.file.name)
    # Both tasks of every pack ran, spread over both processes: one built it, the other found it taken.
    wait_for(lambda: TaskResult.objects.filter(task_name="evidence.tasks.pack_build").count() == 2 * PACKS, timeout=60)
    results = TaskResult.objects.filter(task_name="evidence.tasks.pack_build")
    assert {r.status for r in results} == {"SUCCESS"}
    assert first_tasks <= {r.task_id for r in results}
    assert {r.worker for r in results} == set(two_workers)
    built = Counter(json.loads(r.result)["pack"] for r in results if json.loads(r.result)["built"])
    assert built == {p.pk: 1 for p in packs}
