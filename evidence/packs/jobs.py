"""Evidence-pack services: request (queued on commit), retry, cancel, the stale-build watchdog, expiry and
cleanup, and the download log. Views, the API, commands and tasks call these; none of them write packs directly.

GRC and auditors request, download and verify packs; a pack's requester (or GRC) cancels or retries it. Key
owners and anyone else are refused. A ready pack is immutable: the only change left to it is expiring (its file
deleted by the cleanup task).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import logging
import secrets

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from kombu.exceptions import OperationalError

from cek.keymaterial import find_key_material, message_for
from cek.roles import can_read_all, is_grc
from evidence.models import EvidencePack, PackDownload, PackStatus
from evidence.packs import builder
from inventory.models import KeyStore, Party, Tenant

logger = logging.getLogger(__name__)

MAX_SAMPLE = 500
BROKER_DOWN = (
    "The background worker queue cannot be reached, so the evidence pack was not requested and nothing was "
    "recorded. Try again in a few minutes, or ask an administrator to check the broker (REDIS_URL)."
)
WORKER_UNREACHABLE = (
    "The background worker queue cannot be reached, so the pack was not cancelled and nothing changed. Try again "
    "in a few minutes, or ask an administrator to check the broker (REDIS_URL)."
)
RUNNING = (PackStatus.QUEUED, PackStatus.BUILDING)


class PackError(Exception):
    """A pack could not be queued (the message is for the user)."""


def require_pack_role(actor, what: str) -> None:
    if not can_read_all(actor):
        raise PermissionDenied(f"Only GRC staff and auditors can {what}.")


def may_manage(actor, pack: EvidencePack) -> bool:
    """GRC manages every pack; an auditor the packs they requested."""
    return is_grc(actor) or (can_read_all(actor) and pack.requested_by_id == actor.pk)


def new_seed() -> str:
    return secrets.token_hex(8)


def pack_create(
    *,
    actor,
    window_from: dt.date,
    window_to: dt.date,
    party: Party | None = None,
    stores: list[KeyStore] | tuple = (),
    tenants: list[Tenant] | tuple = (),
    sample_size: int = 25,
    sample_seed: str = "",
) -> EvidencePack:
    """Validate and save a queued pack (no task is queued: :func:`pack_request` does, the build command builds
    it inline). The party defaults to "us"; the seed to a random one (printed in the pack)."""
    require_pack_role(actor, "request evidence packs")
    errors: dict[str, str] = {}
    if window_from and window_to and window_from > window_to:
        errors["window_to"] = f"The window ends ({window_to:%Y-%m-%d}) before it starts ({window_from:%Y-%m-%d})."
    if window_to and window_to > timezone.localdate():
        errors["window_to"] = f"The window cannot end in the future ({window_to:%Y-%m-%d} is after today)."
    seed_material = find_key_material(sample_seed)
    if seed_material:  # the seed is printed in the signed PDF and pack.json: never a token or key
        errors["sample_seed"] = message_for("The sample seed", seed_material)
    if not 1 <= int(sample_size) <= MAX_SAMPLE:
        errors["sample_size"] = f"The sample size must be between 1 and {MAX_SAMPLE} keys."
    party = party or Party.objects.filter(is_us=True).first()
    if party is None:
        errors["party"] = "No party is marked as “us”; choose the party whose perspective the pack takes."
    if errors:
        raise ValidationError(errors)
    pack = EvidencePack(
        window_from=window_from,
        window_to=window_to,
        party=party,
        sample_size=sample_size,
        sample_seed=(sample_seed or "").strip() or new_seed(),
        requested_by=actor,
        status=PackStatus.QUEUED,
    )
    pack.full_clean()
    with transaction.atomic():
        pack.save()
        pack.stores.set(stores)
        pack.tenants.set(tenants)
    return pack


def _enqueue(pack_id: int, *, on_failure: str) -> None:
    """Queue the build. When the broker cannot be reached, undo (``on_failure``: "delete" the new row, or
    "fail" a retried one back to failed) and raise :class:`PackError`."""
    from evidence.packs.tasks import pack_build  # tasks import this module

    try:
        result = pack_build.apply_async(args=[pack_id], retry=False)
    except OperationalError as exc:
        logger.warning("Could not queue evidence pack %s: %s", pack_id, exc)
        if on_failure == "delete":
            EvidencePack.objects.filter(pk=pack_id, status=PackStatus.QUEUED).delete()
        else:
            EvidencePack.objects.filter(pk=pack_id, status=PackStatus.QUEUED).update(
                status=PackStatus.FAILED, last_error=BROKER_DOWN
            )
        raise PackError(BROKER_DOWN) from None
    EvidencePack.objects.filter(pk=pack_id).update(task_id=result.id or "")


def pack_request(*, actor, **fields) -> EvidencePack:
    """GRC or an auditor requests a pack: the row is created queued and the build is queued when the transaction
    commits. If the broker is down the row is removed again and :class:`PackError` says so (no orphan row)."""
    with transaction.atomic():
        pack = pack_create(actor=actor, **fields)
        transaction.on_commit(lambda: _enqueue(pack.pk, on_failure="delete"))
    pack.refresh_from_db()
    return pack


def pack_retry(*, pack: EvidencePack, actor) -> EvidencePack:
    """A failed pack is queued again (same window, scope and seed); it keeps its attempts count."""
    if not may_manage(actor, pack):
        raise PermissionDenied("Only GRC staff or the auditor who requested this pack can retry it.")
    with transaction.atomic():
        locked = EvidencePack.objects.select_for_update().get(pk=pack.pk)
        if locked.status != PackStatus.FAILED:
            raise ValidationError(
                f"Only a failed pack can be retried; this one is {locked.get_status_display().lower()}."
            )
        EvidencePack.objects.filter(pk=locked.pk).update(
            status=PackStatus.QUEUED,
            progress=0,
            phase="",
            last_error="",
            task_id="",
            started_at=None,
            heartbeat_at=timezone.now(),  # queued since (the watchdog's clock for a queued pack)
            finished_at=None,
        )
        transaction.on_commit(lambda: _enqueue(locked.pk, on_failure="fail"))
    pack.refresh_from_db()
    return pack


def pack_cancel(*, pack: EvidencePack, actor) -> EvidencePack:
    """Cancel a queued or building pack. A building worker notices at its next progress report or phase and
    stops, discarding what it wrote."""
    if not may_manage(actor, pack):
        raise PermissionDenied("Only GRC staff or the auditor who requested this pack can cancel it.")
    # The flag first: a worker inside its snapshot transaction sees the cache, not the row (and on SQLite the
    # update below may wait for that transaction to end).
    # Without the flag a building worker would go on (and could mark the pack ready): refuse instead.
    try:
        cache.set(builder.cancel_key(pack.pk), True, builder.CACHE_SECONDS)
    except builder.CACHE_ERRORS as exc:
        logger.warning("Could not cancel evidence pack %s: %s", pack.pk, exc)
        raise PackError(WORKER_UNREACHABLE) from None
    updated = EvidencePack.objects.filter(pk=pack.pk, status__in=RUNNING).update(
        status=PackStatus.CANCELLED, finished_at=timezone.now(), phase="cancelled", last_error=""
    )
    if not updated:
        try:
            cache.delete(builder.cancel_key(pack.pk))
        except builder.CACHE_ERRORS:
            pass  # the flag expires on its own; a pack that is not running ignores it
        pack.refresh_from_db()
        raise ValidationError(
            f"Only a queued or building pack can be cancelled; this one is {pack.get_status_display().lower()}."
        )
    pack.refresh_from_db()
    return pack


def packs_fail_stale(*, now: dt.datetime | None = None) -> int:
    """Builds with no sign of life (heartbeat, or progress while snapshotting) for ``CEK_PACK_STALE_MINUTES``
    are marked failed, so they can be retried: their worker was killed and the task not redelivered, or lost."""
    now = now or timezone.now()
    minutes = settings.CEK_PACK_STALE_MINUTES
    limit = now - dt.timedelta(minutes=minutes)
    silence = f"no sign of life for over {minutes} minutes"
    if _workers_dead_since(now) is not None:
        # Every worker stopped beating (cek/workerbeat.py): a build silent for as long has nobody running it, so
        # it fails now rather than after CEK_PACK_STALE_MINUTES. (With no heartbeat ever seen, nothing changes.)
        seconds = settings.CEK_HEALTHZ_WORKER_SECONDS
        limit = max(limit, now - dt.timedelta(seconds=seconds))
        silence = f"no worker has been alive for over {seconds} seconds"
    failed = 0
    stale = EvidencePack.objects.filter(status=PackStatus.BUILDING).filter(
        Q(heartbeat_at__lt=limit) | Q(heartbeat_at__isnull=True, started_at__lt=limit)
    )
    for pack_id in list(stale.values_list("pk", flat=True)):
        progress = builder.progress_read(pack_id)
        if progress and progress.get("at", 0) >= limit.timestamp():
            continue  # still reporting from inside its snapshot
        # Still stale when updated: a heartbeat (or a new claim) since the query above spares the build.
        failed += stale.filter(pk=pack_id).update(
            status=PackStatus.FAILED,
            finished_at=now,
            phase="failed",
            last_error=f"The worker stopped while building this pack ({silence}: it was stopped, killed or lost "
            "the task). Nothing was kept; retry the pack.",
        )
    return failed


def _workers_dead_since(now: dt.datetime) -> dt.datetime | None:
    """When the last worker heartbeat was written, if it is older than ``CEK_HEALTHZ_WORKER_SECONDS`` (every
    worker stopped); None when a worker is alive, none was ever seen, the check is off or the cache is down."""
    from cek.workerbeat import KEY

    if not settings.CEK_HEALTHZ_WORKER_SECONDS:
        return None
    try:
        beat = cache.get(KEY)
    except builder.CACHE_ERRORS:
        return None
    if not isinstance(beat, dict) or not isinstance(beat.get("at"), int | float):
        return None
    last = dt.datetime.fromtimestamp(beat["at"], tz=dt.UTC)
    return last if (now - last).total_seconds() > settings.CEK_HEALTHZ_WORKER_SECONDS else None


REQUEUED = "queued again"


def packs_requeue_lost(*, now: dt.datetime | None = None) -> tuple[int, int]:
    """Queued packs no worker took for ``CEK_PACK_STALE_MINUTES`` (the broker lost the message, or no worker
    runs) are queued once more; still queued as long again, they are failed with the reason. A second message
    for a pack whose first one was only slow is harmless: the first task to claim the pack builds it, the other
    finds it claimed and stops. Returns (requeued, failed)."""
    now = now or timezone.now()
    minutes = settings.CEK_PACK_STALE_MINUTES
    limit = now - dt.timedelta(minutes=minutes)
    waiting = EvidencePack.objects.filter(status=PackStatus.QUEUED).filter(
        Q(heartbeat_at__lt=limit) | Q(heartbeat_at__isnull=True, requested_at__lt=limit)
    )
    failed = waiting.filter(phase=REQUEUED).update(
        status=PackStatus.FAILED,
        finished_at=now,
        last_error=f"No worker took this pack in {2 * minutes} minutes, even queued a second time: no worker is "
        "running, or the queue lost it. Retry it once a worker runs (see /healthz).",
    )
    requeued = 0
    for pack_id in list(waiting.exclude(phase=REQUEUED).values_list("pk", flat=True)):
        if not waiting.filter(pk=pack_id).exclude(phase=REQUEUED).update(phase=REQUEUED, heartbeat_at=now):
            continue  # claimed meanwhile
        from evidence.packs.tasks import pack_build  # tasks import this module

        try:
            pack_build.apply_async(args=[pack_id], retry=False)
        except OperationalError as exc:  # the broker is down: the next watchdog run tries again
            logger.warning("Could not queue evidence pack %s again: %s", pack_id, exc)
            EvidencePack.objects.filter(pk=pack_id, status=PackStatus.QUEUED).update(phase="")
            continue
        requeued += 1
    return requeued, failed


WATCHDOG_KEY = "packs-watchdog"
WATCHDOG_EVERY_SECONDS = 60


def packs_watchdog(*, now: dt.datetime | None = None) -> dict:
    """Fail stalled builds and requeue (or fail) lost queued packs. Run by beat and, at most once a minute, by
    the pack pages (:func:`packs_watchdog_soon`), so it works without beat."""
    failed = packs_fail_stale(now=now)
    requeued, lost = packs_requeue_lost(now=now)
    return {"failed_building": failed, "requeued": requeued, "failed_queued": lost}


def packs_watchdog_soon() -> None:
    """The watchdog from a page view: at most once a minute across web processes; never fails the page."""
    try:
        if not cache.add(WATCHDOG_KEY, True, WATCHDOG_EVERY_SECONDS):
            return
        packs_watchdog()
    except Exception:  # the page matters more than this sweep; beat (or the next page) runs it again
        logger.exception("The evidence-pack watchdog failed")


def packs_cleanup(*, now: dt.datetime | None = None) -> int:
    """Ready packs past their expiry become "expired" and their file is deleted from storage. Returns the
    number of packs expired."""
    now = now or timezone.now()
    expired = 0
    for pack in EvidencePack.objects.filter(status=PackStatus.READY, expires_at__lt=now).only("pk", "file"):
        name = pack.file.name
        updated = EvidencePack.objects.filter(pk=pack.pk, status=PackStatus.READY).update(
            status=PackStatus.EXPIRED, file="", phase="expired"
        )
        if updated and name:
            try:
                default_storage.delete(name)
            except OSError:
                logger.exception("Could not delete the file %s of expired evidence pack %s", name, pack.pk)
        expired += updated
    return expired


def pack_download_log(*, pack: EvidencePack, actor, ip: str | None, user_agent: str) -> PackDownload:
    """Record one download (who, when, IP, user agent). Only ready packs are downloadable."""
    require_pack_role(actor, "download evidence packs")
    if pack.status != PackStatus.READY or not pack.file:
        raise ValidationError(f"This pack is {pack.get_status_display().lower()}; only a ready pack can be downloaded.")
    try:
        address = str(ipaddress.ip_address((ip or "").strip()))
    except ValueError:
        address = None
    return PackDownload.objects.create(pack=pack, user=actor, ip=address, user_agent=(user_agent or "")[:300])
