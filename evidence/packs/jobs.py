"""Evidence-pack services: request (queued on commit), retry, cancel, the watchdog of stalled and lost builds,
expiry and cleanup, and the download log. Views, the API, commands and tasks call these; none of them write packs
directly. Building a pack is a background job (``cek.jobs``): queued through ``cek.jobs.enqueue``, cancelled
through ``cek.jobs.cancel``, watched by the shared watchdog as ``EvidencePack.job`` declares.

GRC and auditors request, download and verify packs; a pack's requester (or GRC) cancels or retries it. Key
owners and anyone else are refused. A ready pack is immutable: the only change left to it is expiring (its file
deleted by the cleanup task).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import logging
import secrets

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from cek.jobs import enqueue
from cek.jobs.cancel import CancelNotDelivered, job_cancel
from cek.jobs.kinds import State
from cek.jobs.watchdog import soon_key, sweep, watchdog_soon
from cek.keymaterial import find_key_material, message_for
from cek.roles import can_read_all
from evidence.models import EvidencePack, PackDownload, PackStatus
from evidence.packs.models import may_manage
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


class PackError(Exception):
    """A pack could not be queued (the message is for the user)."""


def require_pack_role(actor, what: str) -> None:
    if not can_read_all(actor):
        raise PermissionDenied(f"Only GRC staff and auditors can {what}.")


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


def _enqueue(pack: EvidencePack, *, on_failure: str) -> None:
    """Queue the build when the transaction commits. When the broker cannot be reached, undo (``on_failure``:
    "delete" the new row, or "fail" a retried one back to failed) and raise :class:`PackError`."""

    def broker_down() -> PackError:
        if on_failure == "delete":
            EvidencePack.objects.filter(pk=pack.pk, status=PackStatus.QUEUED).delete()
        else:
            EvidencePack.objects.filter(pk=pack.pk, status=PackStatus.QUEUED).update(
                status=PackStatus.FAILED, last_error=BROKER_DOWN
            )
        return PackError(BROKER_DOWN)

    enqueue(pack, on_broker_down=broker_down)


def pack_request(*, actor, **fields) -> EvidencePack:
    """GRC or an auditor requests a pack: the row is created queued and the build is queued when the transaction
    commits. If the broker is down the row is removed again and :class:`PackError` says so (no orphan row)."""
    with transaction.atomic():
        pack = pack_create(actor=actor, **fields)
        _enqueue(pack, on_failure="delete")
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
        _enqueue(locked, on_failure="fail")
    pack.refresh_from_db()
    return pack


def pack_cancel(*, pack: EvidencePack, actor) -> EvidencePack:
    """Cancel a queued or building pack. A building worker notices at its next progress report or phase and
    stops, discarding what it wrote."""
    if not may_manage(actor, pack):
        raise PermissionDenied("Only GRC staff or the auditor who requested this pack can cancel it.")
    try:
        cancelled = job_cancel(pack)
    except CancelNotDelivered:
        raise PackError(WORKER_UNREACHABLE) from None
    pack.refresh_from_db()
    if not cancelled:
        raise ValidationError(
            f"Only a queued or building pack can be cancelled; this one is {pack.get_status_display().lower()}."
        )
    return pack


def packs_fail_stale(*, now: dt.datetime | None = None) -> int:
    """Builds with no sign of life (heartbeat, or progress while snapshotting) for ``CEK_PACK_STALE_MINUTES``
    (sooner once every worker stopped beating) are marked failed, so they can be retried: their worker was
    killed and the task not redelivered, or lost."""
    return sweep(EvidencePack.job, now=now, states=(State.RUNNING,))["running_failed"]


def packs_requeue_lost(*, now: dt.datetime | None = None) -> tuple[int, int]:
    """Queued packs no worker took for ``CEK_PACK_STALE_MINUTES`` (the broker lost the message, or no worker
    runs) are queued once more; still queued as long again, they are failed with the reason. Returns
    (requeued, failed)."""
    done = sweep(EvidencePack.job, now=now, states=(State.QUEUED,))
    return done["queued_requeued"], done["queued_failed"]


WATCHDOG_KEY = soon_key(EvidencePack.job)


def packs_watchdog(*, now: dt.datetime | None = None) -> dict:
    """Fail stalled builds and requeue (or fail) lost queued packs: the shared watchdog for this kind. Run by
    beat (for every kind) and, at most once a minute, by the pack pages (:func:`packs_watchdog_soon`), so it
    works without beat."""
    done = sweep(EvidencePack.job, now=now)
    return {
        "failed_building": done["running_failed"],
        "requeued": done["queued_requeued"],
        "failed_queued": done["queued_failed"],
    }


def packs_watchdog_soon() -> None:
    """The watchdog from a page view: at most once a minute across web processes; never fails the page."""
    watchdog_soon(EvidencePack.job)


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
