"""The pack services and the build's state machine: request queued on commit, broker down leaves no row,
success, failure with its reason, retry, cancel (queued and mid-build), the stale-build watchdog, expiry and
cleanup, and the task itself."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.utils import timezone
from kombu.exceptions import OperationalError

from cek.jobs.progress import progress_key
from evidence.models import EvidencePack, PackStatus
from evidence.packs import builder, jobs, tasks
from evidence.packs.models import may_manage
from tests.evidence import packs_support
from tests.evidence.packs_support import WINDOW, build, request_pack

pytestmark = pytest.mark.django_db

signing_key, fake_pdf, inventory, us, queued = (
    packs_support.signing_key,
    packs_support.fake_pdf,
    packs_support.inventory,
    packs_support.us,
    packs_support.queued,
)


@pytest.fixture
def broker_down(monkeypatch):
    def send(name, args):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr("cek.jobs.queue.send", send)


def test_a_request_creates_a_queued_pack_and_queues_the_build_on_commit(
    auditor, us, queued, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        pack = jobs.pack_request(actor=auditor, **WINDOW)
    assert pack.status == PackStatus.QUEUED and queued == []
    assert len(callbacks) == 1
    callbacks[0]()
    assert queued == [pack.pk]
    pack.refresh_from_db()
    assert pack.task_id == "task-1" and pack.party == us and len(pack.sample_seed) == 16


def test_the_broker_being_down_leaves_no_pack_and_says_so(
    grc_user, us, broker_down, django_capture_on_commit_callbacks
):
    with pytest.raises(jobs.PackError, match="queue cannot be reached"):
        with django_capture_on_commit_callbacks(execute=True):
            jobs.pack_request(actor=grc_user, **WINDOW)
    assert EvidencePack.objects.count() == 0


@pytest.mark.parametrize("who", ["owner", "outsider"])
def test_only_grc_and_auditors_request_packs(request, who, us):
    with pytest.raises(PermissionDenied):
        jobs.pack_request(actor=request.getfixturevalue(who), **WINDOW)


def test_a_window_in_the_wrong_order_or_the_future_is_refused(grc_user, us):
    with pytest.raises(ValidationError) as wrong:
        jobs.pack_create(actor=grc_user, window_from=dt.date(2026, 5, 1), window_to=dt.date(2026, 4, 1))
    assert "before it starts" in str(wrong.value)
    future = timezone.localdate() + dt.timedelta(days=3)
    with pytest.raises(ValidationError, match="future"):
        jobs.pack_create(actor=grc_user, window_from=dt.date(2026, 1, 1), window_to=future)


def test_a_build_succeeds_and_reports_progress(grc_user, inventory, signing_key, fake_pdf):
    pack = request_pack(grc_user)
    reports: list[tuple[int, str]] = []
    built = builder.build_pack(pack.pk, progress=lambda percent, phase: reports.append((percent, phase)))
    assert built.status == PackStatus.READY and built.attempts == 1
    percents = [percent for percent, _ in reports]
    assert percents == sorted(percents) and percents[-1] >= 90
    assert {"rendering the PDF", "hashing and signing"} <= {phase for _, phase in reports}


def test_a_failure_is_recorded_with_its_reason_and_can_be_retried(
    grc_user, inventory, signing_key, fake_pdf, monkeypatch, queued, django_capture_on_commit_callbacks
):
    def broken_render(pack, content, data_digest, data_manifest, data_rows=None):
        raise RuntimeError("WeasyPrint ran out of memory")

    monkeypatch.setattr(builder, "_render", broken_render)
    pack = request_pack(grc_user)
    failed = builder.build_pack(pack.pk)
    assert failed.status == PackStatus.FAILED
    assert failed.last_error == "RuntimeError: WeasyPrint ran out of memory"
    assert not failed.file and not default_storage.exists(f"packs/{pack.uid}")
    with django_capture_on_commit_callbacks(execute=True):
        retried = jobs.pack_retry(pack=failed, actor=grc_user)
    assert retried.status == PackStatus.QUEUED and retried.last_error == ""


def test_a_retried_pack_builds(grc_user, inventory, signing_key, fake_pdf, queued, django_capture_on_commit_callbacks):
    pack = request_pack(grc_user)
    EvidencePack.objects.filter(pk=pack.pk).update(status=PackStatus.FAILED, last_error="Worker lost")
    pack.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        jobs.pack_retry(pack=pack, actor=grc_user)
    assert queued == [pack.pk]
    built = builder.build_pack(pack.pk)
    assert built.status == PackStatus.READY and built.last_error == ""


def test_only_a_failed_pack_is_retried_and_only_by_its_requester_or_grc(grc_user, auditor, inventory, signing_key):
    pack = request_pack(auditor)
    with pytest.raises(ValidationError, match="Only a failed pack"):
        jobs.pack_retry(pack=pack, actor=auditor)
    other = packs_support.UserFactory(username="other-auditor", roles=["auditors"])
    EvidencePack.objects.filter(pk=pack.pk).update(status=PackStatus.FAILED)
    pack.refresh_from_db()
    with pytest.raises(PermissionDenied):
        jobs.pack_retry(pack=pack, actor=other)


def test_a_retry_with_the_broker_down_leaves_the_pack_failed(
    grc_user, us, broker_down, django_capture_on_commit_callbacks
):
    pack = request_pack(grc_user)
    EvidencePack.objects.filter(pk=pack.pk).update(status=PackStatus.FAILED, last_error="Worker lost")
    pack.refresh_from_db()
    with pytest.raises(jobs.PackError):
        with django_capture_on_commit_callbacks(execute=True):
            jobs.pack_retry(pack=pack, actor=grc_user)
    pack.refresh_from_db()
    assert pack.status == PackStatus.FAILED and "cannot be reached" in pack.last_error


def test_a_cancelled_queued_pack_is_not_built(grc_user, inventory, signing_key, fake_pdf):
    pack = request_pack(grc_user)
    jobs.pack_cancel(pack=pack, actor=grc_user)
    after = builder.build_pack(pack.pk)
    assert after.status == PackStatus.CANCELLED and fake_pdf["collect"] == 0


def test_a_pack_cancelled_mid_build_stops_and_keeps_nothing(grc_user, inventory, signing_key, monkeypatch):
    def collect(pack, progress):
        jobs.pack_cancel(pack=pack, actor=grc_user)  # someone presses Cancel while the worker snapshots
        progress(10, "collecting")
        raise AssertionError("the build should have stopped at the progress report")

    monkeypatch.setattr(builder, "_collect", collect)
    pack = request_pack(grc_user)
    after = builder.build_pack(pack.pk)
    assert after.status == PackStatus.CANCELLED and not after.file and after.last_error == ""


def test_a_pack_cancelled_during_rendering_stops_before_it_is_stored(
    grc_user, inventory, signing_key, fake_pdf, monkeypatch
):
    render = builder._render

    def slow_render(pack, content, data_digest, data_manifest, data_rows=None):
        EvidencePack.objects.filter(pk=pack.pk).update(status=PackStatus.CANCELLED)
        return render(pack, content, data_digest, data_manifest, data_rows)

    monkeypatch.setattr(builder, "_render", slow_render)
    pack = request_pack(grc_user)
    after = builder.build_pack(pack.pk)
    assert after.status == PackStatus.CANCELLED and not after.file
    assert not default_storage.exists(f"packs/{pack.uid}")


def test_only_queued_or_building_packs_are_cancelled(grc_user, inventory, signing_key, fake_pdf):
    pack = build(grc_user)
    with pytest.raises(ValidationError, match="Only a queued or building pack"):
        jobs.pack_cancel(pack=pack, actor=grc_user)


def test_the_watchdog_fails_builds_whose_worker_went_silent(grc_user, us, settings):
    settings.CEK_PACK_STALE_MINUTES = 15
    now = timezone.now()
    silent = request_pack(grc_user)
    alive = request_pack(grc_user)
    queued_pack = request_pack(grc_user)
    EvidencePack.objects.filter(pk=silent.pk).update(
        status=PackStatus.BUILDING, started_at=now - dt.timedelta(hours=1), heartbeat_at=now - dt.timedelta(minutes=20)
    )
    EvidencePack.objects.filter(pk=alive.pk).update(
        status=PackStatus.BUILDING, started_at=now - dt.timedelta(hours=1), heartbeat_at=now - dt.timedelta(minutes=2)
    )
    assert jobs.packs_fail_stale(now=now) == 1
    silent.refresh_from_db()
    assert (
        silent.status == PackStatus.FAILED
        and "stopped while building this pack (no sign of life for over 15 minutes" in silent.last_error
    )
    assert EvidencePack.objects.get(pk=alive.pk).status == PackStatus.BUILDING
    assert EvidencePack.objects.get(pk=queued_pack.pk).status == PackStatus.QUEUED
    # Failed by the watchdog, the pack is retryable.
    assert may_manage(grc_user, silent)


def test_the_watchdog_spares_a_build_still_reporting_from_its_snapshot(grc_user, us, settings):
    now = timezone.now()
    pack = request_pack(grc_user)
    EvidencePack.objects.filter(pk=pack.pk).update(status=PackStatus.BUILDING, heartbeat_at=now - dt.timedelta(hours=1))
    cache.set(progress_key(EvidencePack.job, pack.pk), {"percent": 30, "phase": "collecting", "at": now.timestamp()})
    assert jobs.packs_fail_stale(now=now) == 0
    cache.delete(progress_key(EvidencePack.job, pack.pk))


def test_a_second_delivery_of_the_task_while_its_build_runs_builds_nothing(
    grc_user, inventory, signing_key, fake_pdf, monkeypatch
):
    # Redis redelivers a task still unacknowledged after its visibility timeout (or a worker restores it at a cold
    # shutdown) while the first delivery is still building: the same task id arrives a second time.
    pack = request_pack(grc_user)
    EvidencePack.objects.filter(pk=pack.pk).update(task_id="abc")  # as dispatch records it
    render = builder._render
    second: list[dict] = []

    def render_and_deliver_again(*args):
        second.append(tasks.pack_build.apply(args=[pack.pk], task_id="abc").get())
        return render(*args)

    monkeypatch.setattr(builder, "_render", render_and_deliver_again)
    first = tasks.pack_build.apply(args=[pack.pk], task_id="abc").get()
    assert second == [{"pack": pack.pk, "status": "building", "built": False}]
    assert first == {"pack": pack.pk, "status": "ready", "built": True}
    assert fake_pdf["collect"] == 1 and len(fake_pdf["digests"]) == 1
    assert EvidencePack.objects.get(pk=pack.pk).attempts == 1


def test_a_redelivered_task_takes_over_its_own_build_only_once_it_stalled(
    grc_user, inventory, signing_key, fake_pdf, settings
):
    settings.CEK_PACK_STALE_MINUTES = 15
    pack = request_pack(grc_user)
    now = timezone.now()
    building = EvidencePack.objects.filter(pk=pack.pk)
    building.update(status=PackStatus.BUILDING, task_id="abc", heartbeat_at=now - dt.timedelta(minutes=14), attempts=1)
    assert builder.build_pack(pack.pk, task_id="abc").status == PackStatus.BUILDING  # still alive: left to it
    building.update(heartbeat_at=now - dt.timedelta(minutes=16))
    cache.set(progress_key(EvidencePack.job, pack.pk), {"percent": 30, "phase": "collecting", "at": now.timestamp()})
    assert builder.build_pack(pack.pk, task_id="abc").status == PackStatus.BUILDING  # reporting from its snapshot
    cache.delete(progress_key(EvidencePack.job, pack.pk))
    assert builder.build_pack(pack.pk, task_id="other").status == PackStatus.BUILDING  # another task's build
    assert fake_pdf["collect"] == 0
    rebuilt = builder.build_pack(pack.pk, task_id="abc")  # stalled: its worker died, its task came back
    assert rebuilt.status == PackStatus.READY and rebuilt.attempts == 2 and fake_pdf["collect"] == 1


def test_a_rebuild_replaces_the_file_an_earlier_attempt_stored(grc_user, inventory, signing_key, fake_pdf):
    pack = request_pack(grc_user)
    name = f"packs/{pack.uid}/evidence-pack-{pack.uid.hex[:8]}.zip"
    default_storage.save(name, packs_support.io.BytesIO(b"partial"))
    built = builder.build_pack(pack.pk)
    assert built.file.name == name
    assert default_storage.listdir(f"packs/{pack.uid}")[1] == [name.rsplit("/", 1)[1]]


def test_the_task_builds_the_pack(grc_user, inventory, signing_key, fake_pdf):
    pack = request_pack(grc_user)
    result = tasks.pack_build.apply(args=[pack.pk]).get()
    assert result == {"pack": pack.pk, "status": "ready", "built": True}
    # Delivered again: the pack is taken (ready), this task builds nothing and says so.
    assert tasks.pack_build.apply(args=[pack.pk]).get() == {"pack": pack.pk, "status": "ready", "built": False}
    assert tasks.pack_build.acks_late and tasks.pack_build.reject_on_worker_lost


def test_the_task_returns_quietly_for_a_deleted_pack(db):
    assert tasks.pack_build.apply(args=[987654]).get() == {"pack": 987654, "status": "deleted", "built": False}


def test_expired_packs_are_cleaned_up_and_their_file_deleted(grc_user, inventory, signing_key, fake_pdf):
    old = build(grc_user)
    fresh = build(grc_user)
    name = old.file.name
    EvidencePack.objects.filter(pk=old.pk).update(expires_at=timezone.now() - dt.timedelta(days=1))
    assert tasks.packs_cleanup.apply().get() == 1
    old.refresh_from_db()
    assert old.status == PackStatus.EXPIRED and not old.file and not default_storage.exists(name)
    assert old.sha256  # the digests stay on record
    assert EvidencePack.objects.get(pk=fresh.pk).status == PackStatus.READY


def test_downloads_are_logged_with_who_when_ip_and_agent(grc_user, auditor, inventory, signing_key, fake_pdf):
    pack = build(grc_user)
    logged = jobs.pack_download_log(pack=pack, actor=auditor, ip="203.0.113.9", user_agent="curl/8.5")
    assert (logged.user, logged.ip, logged.user_agent) == (auditor, "203.0.113.9", "curl/8.5")
    assert jobs.pack_download_log(pack=pack, actor=auditor, ip="not-an-ip", user_agent="x" * 500).ip is None


@pytest.mark.django_db(transaction=True)
def test_the_snapshot_is_one_repeatable_read_transaction(transactional_catalog, signing_key, monkeypatch):
    from django.db import connection

    seen: dict = {}
    collect, render = packs_support.make_fakes({})

    def spying_collect(pack, progress):
        seen["in_transaction"] = connection.in_atomic_block
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SHOW transaction_isolation")
                seen["isolation"] = cursor.fetchone()[0]
        return collect(pack, progress)

    monkeypatch.setattr(builder, "_collect", spying_collect)
    monkeypatch.setattr(builder, "_render", render)
    packs_support.PartyFactory(is_us=True)
    pack = request_pack(packs_support.UserFactory(username="grace", roles=["grc"]))
    assert builder.build_pack(pack.pk).status == PackStatus.READY
    assert seen["in_transaction"] is True
    if connection.vendor == "postgresql":
        assert seen["isolation"] == "repeatable read"
