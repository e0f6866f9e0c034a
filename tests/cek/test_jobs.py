"""cek.jobs, the one background-job model: the four long jobs are declared kinds; enqueue sends a task by its name
when the transaction commits and says when the broker is down; progress writes are bounded; one watchdog settles
every kind as it declares (fail, or queue again at most once per threshold); one status view answers every kind
with that kind's permissions."""

from __future__ import annotations

import ast
import datetime as dt
import importlib
import types
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from kombu.exceptions import OperationalError

from cek.jobs import JobStopped, Progress, enqueue, job_claim, send_on_commit
from cek.jobs.cancel import job_cancel
from cek.jobs.kinds import State, all_kinds, kind_named
from cek.jobs.progress import cancel_key, progress_clear, progress_key, progress_read
from cek.jobs.watchdog import soon_key, sweep, watchdog_run
from evidence.models import Campaign, CheckRun, EvidencePack
from inventory.models import KeyImport
from tests.factories import PartyFactory, UserFactory

pytestmark = pytest.mark.django_db

KINDS = ("campaign-launch", "check-run", "import", "pack")
ROOT = Path(__file__).resolve().parents[2]
NOW = dt.datetime(2026, 11, 30, 12, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _no_leftovers():
    """Reports, cancel flags and page watchdog throttles are keyed by kind and id: none leaks between tests."""
    yield
    for kind in all_kinds():
        cache.delete(soon_key(kind))
        for pk in kind.model.objects.values_list("pk", flat=True):
            progress_clear(kind, pk, cancel=True)


@pytest.fixture
def sent(monkeypatch):
    """The tasks sent to the broker, as (name, args); each gets the id task-N."""
    calls: list[tuple[str, list]] = []

    def send(name, args):
        calls.append((name, args))
        return types.SimpleNamespace(id=f"task-{len(calls)}")

    monkeypatch.setattr("cek.jobs.queue.send", send)
    return calls


@pytest.fixture
def broker_down(monkeypatch):
    def send(name, args):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr("cek.jobs.queue.send", send)


@pytest.fixture
def grc(db):
    return UserFactory(username="grace", roles=["grc"])


def _new(job):
    """A new job without a report another test left under the same id (SQLite may reuse ids)."""
    progress_clear(type(job).job, job.pk, cancel=True)
    return job


def an_import(user, **fields) -> KeyImport:
    values = {"format": "csv", "file_name": "keys.csv", "sha256": "0" * 64, "size": 10, "created_by": user}
    return _new(KeyImport.objects.create(**{**values, **fields}))


def a_run(**fields) -> CheckRun:
    return _new(CheckRun.objects.create(**{"trigger": "ui", "catalog_version": "AICM 1.1.0", **fields}))


def a_pack(user, **fields) -> EvidencePack:
    party = PartyFactory(name=f"Party {EvidencePack.objects.count()}", is_us=not EvidencePack.objects.exists())
    values = {"window_from": dt.date(2026, 1, 1), "window_to": dt.date(2026, 6, 30), "party": party}
    return _new(EvidencePack.objects.create(**{**values, "sample_seed": "seed", "requested_by": user, **fields}))


def a_campaign(user, **fields) -> Campaign:
    values = {"name": "Q4 attestation", "statements_sha256": "0" * 64, "due_on": dt.date(2026, 12, 31)}
    return _new(Campaign.objects.create(**{**values, "created_by": user, **fields}))


def a_running_job(kind: str, user):
    """One job of ``kind`` that is running (so its status has progress to show)."""
    if kind == "import":
        return an_import(user, status="applying", started_at=timezone.now())
    if kind == "check-run":
        return a_run(status="running", started_at=timezone.now())
    if kind == "pack":
        return a_pack(user, status="building", started_at=timezone.now(), heartbeat_at=timezone.now())
    return a_campaign(user, status="launching", launched_at=timezone.now(), keys_total=10)


# --- The kinds ------------------------------------------------------------------------------------------------


def _import_task_modules() -> None:
    """The modules a worker's autodiscovery imports (without the worker's Django set-up, which would configure
    logging a second time for the tests that follow)."""
    for module in ("cek.jobs.tasks", "inventory.tasks", "evidence.tasks"):
        importlib.import_module(module)


def test_the_four_long_jobs_are_declared_kinds_with_their_own_statuses_and_settings():
    from cek.celery import app

    _import_task_modules()
    assert {kind.name for kind in all_kinds()} >= set(KINDS)
    for name in KINDS:
        kind = kind_named(name)
        statuses = {value for value, _ in kind.model._meta.get_field("status").choices}
        declared = [*kind.queued, *kind.running, *kind.succeeded, *kind.failed, *kind.cancelled]
        assert set(declared) <= statuses and len(declared) == len(set(declared)), name
        assert kind.running and kind.succeeded, name
        assert kind.task in app.tasks, f"{name}: no task is registered as {kind.task}"
        assert isinstance(getattr(settings, kind.stale_setting), int), name
        assert kind.model._meta.get_field(kind.since), name
    assert kind_named("import").state_of("previewed") == State.IDLE
    assert kind_named("pack").state_of("expired") == State.SUCCEEDED
    assert kind_named("campaign-launch").state_of("launching") == State.RUNNING


def test_beat_runs_the_one_watchdog_and_the_old_watchdog_task_names_still_answer():
    from cek.celery import app

    _import_task_modules()
    scheduled = {entry["task"]: entry["schedule"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert scheduled["cek.jobs.watchdog"] == 60.0
    assert "cek.jobs.watchdog" in app.tasks
    for old in (
        "inventory.tasks.fail_stale_imports",
        "evidence.tasks.checks_fail_stale",
        "evidence.tasks.packs_fail_stale",
        "evidence.tasks.campaigns_requeue_stalled",
    ):
        assert old in app.tasks and old not in scheduled  # messages already queued under the old names still run
    assert set(app.tasks["cek.jobs.watchdog"].apply().get()) >= set(KINDS)


def _imported_modules(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def test_no_module_but_a_task_module_imports_a_task_module():
    """Services queue through cek.jobs by task name, so tasks -> services is the only direction: no import circles."""
    offenders = []
    for app_dir in ("cek", "inventory", "evidence"):
        for path in (ROOT / app_dir).rglob("*.py"):
            if path.name in ("tasks.py", "celery.py") or "migrations" in path.parts:
                continue
            if any(name == "tasks" or name.endswith(".tasks") for name in _imported_modules(path)):
                offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


# --- Enqueue ----------------------------------------------------------------------------------------------------


def test_enqueue_sends_the_task_by_name_when_the_transaction_commits_and_records_its_id(
    grc, sent, django_capture_on_commit_callbacks
):
    pack = a_pack(grc)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        with transaction.atomic():
            enqueue(pack)
    assert sent == [] and len(callbacks) == 1  # nothing leaves before the commit
    callbacks[0]()
    assert sent == [("evidence.tasks.pack_build", [pack.pk])]
    pack.refresh_from_db()
    assert pack.task_id == "task-1"


def test_enqueue_at_once_sends_now_with_the_given_arguments(grc, sent, django_capture_on_commit_callbacks):
    record = an_import(grc, status="applying")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        enqueue(record, args=[record.pk, grc.pk], at_once=True)
    assert callbacks == [] and sent == [("inventory.tasks.apply_key_import", [record.pk, grc.pk])]
    assert KeyImport.objects.get(pk=record.pk).task_id == "task-1"


def test_a_broker_that_is_down_runs_the_undo_and_raises_what_it_returns(grc, broker_down):
    run = a_run(status="queued")

    def undo():
        CheckRun.objects.filter(pk=run.pk).delete()
        return RuntimeError("The background worker queue cannot be reached.")

    with pytest.raises(RuntimeError, match="cannot be reached"):
        enqueue(run, on_broker_down=undo, at_once=True)
    assert not CheckRun.objects.exists()


def test_without_an_undo_a_broker_that_is_down_leaves_the_job_for_the_watchdog(
    grc, broker_down, caplog, django_capture_on_commit_callbacks
):
    campaign = a_campaign(grc, status="launching", launched_at=timezone.now())
    with caplog.at_level("WARNING", logger="cek.jobs.queue"), django_capture_on_commit_callbacks(execute=True):
        enqueue(campaign, robust=True)
        send_on_commit("evidence.tasks.policy_communication_emails", [1], what="the e-mails of communication 1")
    campaign.refresh_from_db()
    assert campaign.status == "launching" and campaign.task_id == ""
    assert "Could not queue campaign-launch" in caplog.text and "communication 1" in caplog.text


# --- Progress ---------------------------------------------------------------------------------------------------


def test_progress_writes_the_row_at_most_once_a_second_and_the_cache_only_when_it_changes(
    grc, django_assert_max_num_queries, monkeypatch
):
    pack = a_pack(grc, status="building", started_at=timezone.now())
    writes = []
    set_ = cache.set
    monkeypatch.setattr(cache, "set", lambda *a, **k: writes.append(a[1]) or set_(*a, **k))
    reporter = Progress(EvidencePack.job, pack.pk)
    with django_assert_max_num_queries(1):  # the first report writes the row; the next 200 within a second do not
        for n in range(200):
            reporter.report(n // 10, "collecting the evidence", done=n, total=200)
    assert len(writes) == 20  # once per percent
    assert progress_read(EvidencePack.job, pack.pk)["percent"] == 19
    pack.refresh_from_db()
    assert pack.progress == 0 and pack.phase == "collecting the evidence" and pack.heartbeat_at is not None
    reporter.checkpoint(50, "rendering the PDF")  # between phases: written at once
    pack.refresh_from_db()
    assert pack.progress == 50 and pack.phase == "rendering the PDF"
    reporter.report(10, "")
    assert reporter.percent == 50  # never back


def test_a_running_job_is_claimed_again_by_its_own_task_only_once_stalled_and_only_once(grc, settings):
    settings.CEK_PACK_STALE_MINUTES = 15
    now = timezone.now()
    pack = a_pack(grc, status="building", task_id="abc", attempts=1, heartbeat_at=now - dt.timedelta(minutes=5))
    assert not job_claim(EvidencePack.job, pack.pk, task_id="abc")  # alive: a duplicate delivery
    EvidencePack.objects.filter(pk=pack.pk).update(heartbeat_at=None, started_at=now - dt.timedelta(minutes=5))
    assert not job_claim(EvidencePack.job, pack.pk, task_id="abc")  # started 5 minutes ago, no report yet
    EvidencePack.objects.filter(pk=pack.pk).update(heartbeat_at=now - dt.timedelta(minutes=16))
    assert not job_claim(EvidencePack.job, pack.pk)  # without a task id, only a queued job is claimed
    assert not job_claim(EvidencePack.job, pack.pk, task_id="other")
    # Stalled: the task redelivered after its worker died claims it, once (a second redelivery finds it claimed).
    assert job_claim(EvidencePack.job, pack.pk, task_id="abc")
    assert not job_claim(EvidencePack.job, pack.pk, task_id="abc")
    assert EvidencePack.objects.get(pk=pack.pk).attempts == 2


def test_a_worker_stops_when_its_job_is_cancelled_or_no_longer_running(grc):
    pack = a_pack(grc, status="building", started_at=timezone.now())
    reporter = Progress(EvidencePack.job, pack.pk)
    reporter.report(5, "starting")
    assert job_cancel(pack) and EvidencePack.objects.get(pk=pack.pk).status == "cancelled"
    with pytest.raises(JobStopped, match="cancelled"):
        reporter.report(6, "collecting")
    run = a_run(status="running", started_at=timezone.now())
    reporter = Progress(CheckRun.job, run.pk)
    CheckRun.objects.filter(pk=run.pk).update(status="failed")  # the watchdog failed it meanwhile
    with pytest.raises(JobStopped, match="no longer running"):
        reporter.checkpoint(50, "evaluating AG-5")
    with pytest.raises(ValueError, match="cannot be cancelled"):
        job_cancel(run)
    assert cache.get(cancel_key(EvidencePack.job, pack.pk)) is True


# --- The watchdog, kind by kind ------------------------------------------------------------------------------


def test_the_watchdog_fails_an_import_that_stopped_reporting_unless_its_cache_report_is_recent(grc, settings):
    settings.CEK_IMPORT_STALE_MINUTES = 30
    silent = an_import(grc, status="applying", started_at=NOW - dt.timedelta(minutes=45))
    reporting = an_import(grc, status="applying", started_at=NOW - dt.timedelta(minutes=45))
    recent = an_import(grc, status="applying", started_at=NOW - dt.timedelta(minutes=5))
    cache.set(
        progress_key(KeyImport.job, reporting.pk), {"percent": 40, "at": (NOW - dt.timedelta(minutes=1)).timestamp()}
    )
    assert sweep(KeyImport.job, now=NOW)["running_failed"] == 1
    silent.refresh_from_db()
    assert silent.status == "failed" and silent.finished_at == NOW
    assert silent.last_error.startswith("The worker applying this import stopped reporting for over 30 minutes.")
    assert KeyImport.objects.get(pk=reporting.pk).status == KeyImport.objects.get(pk=recent.pk).status == "applying"


def test_the_watchdog_fails_queued_and_running_check_runs_that_went_silent(grc, settings):
    settings.CEK_CHECKS_STALE_MINUTES = 30
    queued = a_run(status="queued")
    CheckRun.objects.filter(pk=queued.pk).update(created_at=NOW - dt.timedelta(hours=1))
    assert sweep(CheckRun.job, now=NOW) == {
        "running_failed": 0,
        "running_requeued": 0,
        "queued_failed": 1,
        "queued_requeued": 0,
    }
    running = a_run(
        status="running", started_at=NOW - dt.timedelta(hours=1), heartbeat_at=NOW - dt.timedelta(minutes=31)
    )
    assert sweep(CheckRun.job, now=NOW)["running_failed"] == 1
    for run in (queued, running):
        run.refresh_from_db()
        assert run.status == "failed" and "did not finish within 30 minutes" in run.last_error


def test_the_watchdog_fails_a_silent_build_and_queues_a_lost_pack_again_once_then_fails_it(grc, sent, settings):
    settings.CEK_PACK_STALE_MINUTES = 15
    building = a_pack(
        grc, status="building", started_at=NOW - dt.timedelta(hours=1), heartbeat_at=NOW - dt.timedelta(minutes=20)
    )
    lost = a_pack(grc, status="queued")
    EvidencePack.objects.filter(pk=lost.pk).update(requested_at=NOW - dt.timedelta(minutes=16))
    assert sweep(EvidencePack.job, now=NOW) == {
        "running_failed": 1,
        "running_requeued": 0,
        "queued_failed": 0,
        "queued_requeued": 1,
    }
    building.refresh_from_db()
    assert building.status == "failed" and "no sign of life for over 15 minutes" in building.last_error
    assert sent == [("evidence.tasks.pack_build", [lost.pk])]
    lost.refresh_from_db()
    assert lost.status == "queued" and lost.phase == "queued again" and lost.task_id == "task-1"
    assert sweep(EvidencePack.job, now=NOW + dt.timedelta(minutes=14))["queued_failed"] == 0  # its clock was reset
    assert sweep(EvidencePack.job, now=NOW + dt.timedelta(minutes=16))["queued_failed"] == 1
    lost.refresh_from_db()
    assert lost.status == "failed" and "No worker took this pack in 30 minutes" in lost.last_error
    assert len(sent) == 1


def test_the_watchdog_queues_a_stalled_campaign_launch_again_at_most_once_per_threshold(grc, sent, settings):
    settings.CEK_CAMPAIGN_LAUNCH_STALE_MINUTES = 15
    stalled = a_campaign(grc, status="launching", launched_at=NOW - dt.timedelta(minutes=16))
    reporting = a_campaign(
        grc, name="Alive", status="launching", launched_at=NOW - dt.timedelta(hours=1), heartbeat_at=NOW
    )
    assert sweep(Campaign.job, now=NOW)["running_requeued"] == 1
    assert sent == [("evidence.tasks.campaign_launch_run", [stalled.pk])]
    stalled.refresh_from_db()
    assert stalled.status == "launching" and stalled.last_error.startswith("The launch had not finished 15 minutes")
    assert sweep(Campaign.job, now=NOW + dt.timedelta(minutes=5))["running_requeued"] == 0  # not at every sweep
    assert sweep(Campaign.job, now=NOW + dt.timedelta(minutes=16))["running_requeued"] == 2  # both silent by now
    assert Campaign.objects.get(pk=reporting.pk).status == "launching"  # a launch is never failed


def test_a_requeue_the_broker_refuses_is_tried_again_at_the_next_sweep(grc, monkeypatch, settings):
    settings.CEK_CAMPAIGN_LAUNCH_STALE_MINUTES = 15
    campaign = a_campaign(grc, status="launching", launched_at=NOW - dt.timedelta(minutes=16))
    monkeypatch.setattr("cek.jobs.queue.send", lambda name, args: (_ for _ in ()).throw(OperationalError("down")))
    assert sweep(Campaign.job, now=NOW)["running_requeued"] == 0
    campaign.refresh_from_db()
    assert campaign.heartbeat_at is None and campaign.last_error == ""  # as it was
    sent = []
    monkeypatch.setattr("cek.jobs.queue.send", lambda name, args: sent.append(args) or types.SimpleNamespace(id="t"))
    assert sweep(Campaign.job, now=NOW + dt.timedelta(minutes=1))["running_requeued"] == 1 and sent == [[campaign.pk]]


def test_one_watchdog_run_settles_every_kind(grc, sent, settings):
    an_import(grc, status="applying", started_at=NOW - dt.timedelta(hours=2))
    a_run(status="running", started_at=NOW - dt.timedelta(hours=2))
    a_pack(grc, status="building", started_at=NOW - dt.timedelta(hours=2), heartbeat_at=NOW - dt.timedelta(hours=2))
    a_campaign(grc, status="launching", launched_at=NOW - dt.timedelta(hours=2))
    done = watchdog_run(now=NOW)
    assert done["import"]["running_failed"] == 1 and done["check-run"]["running_failed"] == 1
    assert done["pack"]["running_failed"] == 1 and done["campaign-launch"]["running_requeued"] == 1
    assert KeyImport.objects.get().status == CheckRun.objects.get().status == EvidencePack.objects.get().status
    assert watchdog_run(now=NOW) == {name: dict.fromkeys(done["pack"], 0) for name in done}


# --- The status view --------------------------------------------------------------------------------------------

# Who sees a job's status, per kind: exactly who saw its page before (imports: GRC only).
SEES = {
    "import": {"grc"},
    "check-run": {"grc", "auditor"},
    "pack": {"grc", "auditor"},
    "campaign-launch": {"grc", "auditor"},
}


@pytest.mark.parametrize("kind", KINDS)
def test_the_status_view_answers_each_kind_to_the_roles_that_see_it(kind, role, grc):
    role_name, _, client = role
    job = a_running_job(kind, grc)
    url = reverse("job-status", kwargs={"kind": kind, "pk": job.pk})
    response = client.get(url)
    if role_name in ("anonymous", "expired_auditor"):  # an expired auditor's session ends: back to log in
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    elif role_name in SEES[kind]:
        assert response.status_code == 200 and response["Cache-Control"] == "no-store"
        body = response.json()
        assert body["kind"] == kind and body["id"] == job.pk and body["state"] == "running"
        assert body["finished"] is False and body["retry_allowed"] is False
    else:
        assert response.status_code == 403


def test_the_status_view_says_progress_phase_reason_and_whether_the_user_may_retry(grc, auditor, auditor_client):
    other = login_as(UserFactory(username="otto", roles=["auditors"]))
    pack = a_pack(auditor, status="building", started_at=timezone.now(), progress=20, phase="starting")
    cache.set(progress_key(EvidencePack.job, pack.pk), {"percent": 37, "phase": "collecting the evidence", "at": 0})
    url = reverse("job-status", kwargs={"kind": "pack", "pk": pack.pk})
    assert auditor_client.get(url).json() == {
        "kind": "pack",
        "id": pack.pk,
        "status": "building",
        "label": "Building",
        "state": "running",
        "progress": 37,
        "phase": "collecting the evidence",
        "done": None,
        "total": None,
        "reason": "",
        "finished": False,
        "retry_allowed": False,
        "cancel_allowed": True,
    }
    EvidencePack.objects.filter(pk=pack.pk).update(status="failed", last_error="WeasyPrint ran out of memory.")
    mine = auditor_client.get(url).json()
    assert mine["finished"] and mine["retry_allowed"] and mine["reason"] == "WeasyPrint ran out of memory."
    assert not other.get(url).json()["retry_allowed"]  # an auditor retries only the packs they requested
    # The kind's own status URL gives the same with ?shape=job, and what it always answered without.
    legacy = reverse("evidence:pack-status", args=[pack.pk])
    assert auditor_client.get(f"{legacy}?shape=job").json() == mine
    assert auditor_client.get(legacy).json()["error"] == "WeasyPrint ran out of memory."


def test_the_status_of_an_unknown_kind_or_job_is_a_404(grc_client):
    assert grc_client.get(reverse("job-status", kwargs={"kind": "nothing", "pk": 1})).status_code == 404
    assert grc_client.get(reverse("job-status", kwargs={"kind": "pack", "pk": 987654})).status_code == 404


def login_as(user):
    from tests.conftest import login

    return login(user)
