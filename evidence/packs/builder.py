"""Building an evidence pack: the one service the Celery task and ``manage.py build_pack`` call.

1. Claim the pack (queued -> building; or a redelivery of the same task once the build stalled: its worker died),
   record the signing public key and software version, keep the signing key in the inventory.
2. Snapshot: inside one transaction (REPEATABLE READ on PostgreSQL, set as its first statement; SQLite's
   transactions are serializable) collect the PDF's content and write every data file, so both agree.
3. Render the PDF with the data manifest digest on its cover; write ``manifest.json`` (every file with its
   SHA-256 and size) and ``manifest.sig`` (Ed25519, base64); zip; store through Django's storage API.
4. Mark the pack ready with the zip's and the manifest's SHA-256, its size and when it expires.

Progress goes to the cache (the status view reads it) and, outside the snapshot, to the row with a heartbeat
(the watchdog fails builds whose heartbeat stopped). Between phases, and at each progress report, the builder
checks whether the pack was cancelled and stops. Everything is written in a private temporary folder first, and
the stored zip replaces any earlier file of the same pack, so a rebuild never leaves partial files behind. A
ready pack is never rebuilt. Every write of a build is conditioned on its attempt number (``attempts`` as its
claim set it): a slow build the watchdog failed, whose pack was retried and claimed again, changes nothing of
the attempt that replaced it.
"""

from __future__ import annotations

import base64
import datetime as dt
import logging
import tempfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.utils import timezone

import cek
from cek.exportguard import ExportRefused, check_html_text
from cek.jobs import progress as job_progress
from cek.jobs.progress import JobStopped
from evidence.models import EvidencePack, PackStatus
from evidence.packs import data as data_files
from evidence.packs import manifest as mf
from evidence.packs import signing
from evidence.packs.models import pack_upload_path
from evidence.packs.scope import scope_label

logger = logging.getLogger(__name__)

Progress = Callable[[int, str], None]
SOFTWARE_NAME = "cek-11-key-purpose"


def software_version() -> str:
    return f"{SOFTWARE_NAME} {cek.__version__}"


class Tracker(job_progress.Progress):
    """The shared job progress (``cek.jobs.progress``): the cache always, the row with a heartbeat when not
    inside the snapshot transaction; it stops the build (:class:`JobStopped`) when the pack was cancelled or is
    no longer this attempt's. A build reports at most 99% until it is ready."""

    def __init__(self, pack_id: int, external: Progress | None, attempt: int | None = None) -> None:
        super().__init__(EvidencePack.job, pack_id, attempt=attempt)
        self.external = external

    @property
    def in_snapshot(self) -> bool:
        return not self.row

    @in_snapshot.setter
    def in_snapshot(self, value: bool) -> None:
        self.row = not value

    def report(self, percent: int, phase: str, *, done: int | None = None, total: int | None = None) -> None:
        super().report(min(int(percent), 99), phase, done=done, total=total)
        if self.external:
            self.external(self.percent, phase)

    def scaled(self, start: int, end: int, label: str) -> Progress:
        """A progress callback for a phase that reports 0-100 of its own, mapped onto start..end overall."""

        def report(percent: int, phase: str) -> None:
            self(start + (end - start) * max(0, min(int(percent), 100)) // 100, phase or label)

        return report


def _mine(pack_id: int, attempt: int | None):
    """The pack's row while it is building *by this attempt*. A build the watchdog failed may still be running
    (slow, not dead) when the pack is retried and claimed again: it must then neither report progress, nor mark
    the pack ready or failed, nor touch the new attempt's file."""
    return job_progress.running_rows(EvidencePack.job, pack_id, attempt)


def _claim(pack_id: int, task_id: str) -> bool:
    # acks_late redelivers the task of a worker that died mid-build: the same task takes the pack over once the
    # build is stalled; a duplicate delivery while the build still reports finds it claimed.
    return job_progress.job_claim(EvidencePack.job, pack_id, task_id=task_id)


def _snapshot_isolation(outermost: bool) -> None:
    # Only the first statement of a transaction may set its isolation. Inside a caller's transaction (a test's)
    # the snapshot is that transaction's.
    if outermost and connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")


def _collect(pack: EvidencePack, progress: Progress):
    from evidence.packs import content as content_module

    return content_module.collect(pack, progress=progress)


def _render(
    pack: EvidencePack, content, data_digest: str, data_manifest: bytes, data_rows: dict[str, int] | None = None
):
    from evidence.packs import pdf as pdf_module

    return pdf_module.render_pack_pdf(
        pack, content, data_digest=data_digest, data_manifest=data_manifest, data_rows=data_rows
    )


def build_pack(pack_id: int, *, progress: Progress | None = None, task_id: str = "") -> EvidencePack | None:
    """Build the pack ``pack_id`` (see the module docstring). Returns the pack as it ends (ready, failed with its
    reason, or cancelled), or None when it no longer exists. A pack that is not queued (ready, failed,
    cancelled, or being built by another worker) is returned untouched: building twice is harmless."""
    if not _claim(pack_id, task_id):
        return EvidencePack.objects.filter(pk=pack_id).first()
    # Left over from an earlier attempt or a cancel that lost the race with this claim (the row then says
    # "cancelled", which the first checkpoint sees).
    job_progress.progress_clear(EvidencePack.job, pack_id, cancel=True)
    attempt = EvidencePack.objects.filter(pk=pack_id).values_list("attempts", flat=True).first()
    tracker = Tracker(pack_id, progress, attempt)
    started = time.monotonic()
    stored_name = ""
    try:
        info = signing.app_public_key()
        EvidencePack.objects.filter(pk=pack_id).update(
            signing_public_key=info.public_key, software_version=software_version()[:40]
        )
        inventoried = _inventory_signing_key(info)
        pack = EvidencePack.objects.select_related("party", "requested_by").get(pk=pack_id)
        tracker.checkpoint(2, "snapshotting the data")
        with tempfile.TemporaryDirectory(prefix="cek-pack-") as folder:
            directory = Path(folder)
            generated_at = timezone.now()
            tracker.in_snapshot = True
            outermost = not connection.in_atomic_block
            with transaction.atomic():
                _snapshot_isolation(outermost)
                content = _collect(pack, tracker.scaled(3, 40, "collecting the evidence"))
                written = data_files.write_data_files(
                    pack,
                    content,
                    directory,
                    generated_at=generated_at,
                    progress=tracker.scaled(40, 60, "writing the data files"),
                )
            tracker.in_snapshot = False
            data_digest = mf.data_digest(written.entries)
            tracker.checkpoint(60, "rendering the PDF")
            render_started = time.monotonic()
            rendered = _render(pack, content, data_digest, mf.data_manifest_bytes(written.entries), written.counts)
            render_seconds = time.monotonic() - render_started
            # Every value of the PDF passed the guard in pack.json; its text is checked once more as rendered.
            check_html_text(
                rendered.html, export=mf.PDF_NAME, allowed=[pack.signing_public_key, info.public_key, data_digest]
            )
            (directory / mf.PDF_NAME).write_bytes(rendered.data)
            tracker.checkpoint(90, "hashing and signing")
            entries = [*written.entries, mf.file_entry(directory / mf.PDF_NAME)]
            manifest_bytes = mf.build_manifest(
                files=entries,
                pack={
                    **data_files.pack_metadata(pack),
                    "generated_at": generated_at.isoformat(),
                    "pages": rendered.pages,
                },
                software={"name": SOFTWARE_NAME, "version": cek.__version__},
                signing={
                    "algorithm": signing.ALGORITHM,
                    "public_key": info.public_key,
                    "fingerprint": info.fingerprint,
                },
                data_digest_value=data_digest,
            )
            signature = base64.b64encode(signing.sign(manifest_bytes)) + b"\n"
            archive = directory / f"evidence-pack-{pack.uid.hex[:8]}.zip"
            _zip(
                archive,
                directory,
                [mf.MANIFEST_NAME, mf.SIGNATURE_NAME, mf.PDF_NAME, *data_files.DATA_FILES],
                manifest_bytes=manifest_bytes,
                signature=signature,
                when=generated_at,
            )
            zip_entry = mf.file_entry(archive)
            tracker.checkpoint(95, "storing the pack")
            stored_name = _store(pack, archive)
            stats = {
                "keys": written.population,
                "sampled": len(written.sample_ids),
                "rows": written.counts,
                "data_digest": data_digest,
                "render_seconds": round(render_seconds, 3),
                "pdf_bytes": len(rendered.data),
                "total_seconds": round(time.monotonic() - started, 3),
                "signing_key_fingerprint": info.fingerprint,
                "signing_key_inventoried": inventoried,
                "generated_at": generated_at.isoformat(),
                "scope": scope_label(pack),
            }
            _mark_ready(
                pack_id,
                stored_name,
                zip_entry,
                mf.bytes_entry(mf.MANIFEST_NAME, manifest_bytes),
                rendered,
                stats,
                attempt=attempt,
            )
            stored_name = ""
    except JobStopped:
        if job_progress.cancel_requested(EvidencePack.job, pack_id):
            _mine(pack_id, attempt).update(status=PackStatus.CANCELLED, finished_at=timezone.now(), phase="cancelled")
        logger.info("Evidence pack %s: build stopped (%s)", pack_id, _status_of(pack_id))
    except Exception as exc:
        logger.exception("Evidence pack %s failed", pack_id)
        known = (signing.SigningKeyError, ExportRefused)  # their messages are written for the pack page
        reason = str(exc) if isinstance(exc, known) else f"{type(exc).__name__}: {exc}"
        _mine(pack_id, attempt).update(
            status=PackStatus.FAILED, finished_at=timezone.now(), last_error=reason[:2000], phase="failed"
        )
    finally:
        # Never delete the file a pack (ready by another attempt) now names.
        if stored_name and not EvidencePack.objects.filter(pk=pack_id, file=stored_name).exists():
            default_storage.delete(stored_name)
        # A later attempt now building the pack owns its progress and cancel flag.
        if not EvidencePack.objects.filter(pk=pack_id, status=PackStatus.BUILDING).exclude(attempts=attempt).exists():
            job_progress.progress_clear(EvidencePack.job, pack_id, cancel=True)
    pack = EvidencePack.objects.filter(pk=pack_id).first()
    if pack is not None:
        pack.built_now = True  # this call claimed and built it (the task's result says so)
    return pack


def _status_of(pack_id: int) -> str:
    return EvidencePack.objects.filter(pk=pack_id).values_list("status", flat=True).first() or "deleted"


def _inventory_signing_key(info: signing.PublicKeyInfo) -> bool:
    try:
        signing.signing_key_inventory_ensure(info)
    except Exception:  # the pack is still worth building; the failure is logged and recorded in its stats
        logger.exception("The evidence-signing key could not be recorded in the inventory")
        return False
    return True


def _zip(archive: Path, directory: Path, names: list[str], *, manifest_bytes: bytes, signature: bytes, when) -> None:
    stamp = timezone.localtime(when).timetuple()[:6]
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as bundle:
        for name in names:
            member = zipfile.ZipInfo(name, date_time=stamp)
            member.compress_type = zipfile.ZIP_DEFLATED
            member.external_attr = 0o644 << 16
            if name == mf.MANIFEST_NAME:
                bundle.writestr(member, manifest_bytes)
            elif name == mf.SIGNATURE_NAME:
                bundle.writestr(member, signature)
            else:
                with (directory / name).open("rb") as source, bundle.open(member, "w", force_zip64=True) as target:
                    while chunk := source.read(1024 * 1024):
                        target.write(chunk)


def _store(pack: EvidencePack, archive: Path) -> str:
    """Save the zip through the storage API, replacing a file a previous attempt may have left."""
    name = pack_upload_path(pack, archive.name)
    if default_storage.exists(name):
        default_storage.delete(name)
    with archive.open("rb") as handle:
        return default_storage.save(name, File(handle, name=archive.name))


def _mark_ready(pack_id, stored_name, zip_entry, manifest_entry, rendered, stats, *, attempt=None) -> None:
    now = timezone.now()
    days = settings.CEK_PACK_RETENTION_DAYS
    with transaction.atomic():
        locked = EvidencePack.objects.select_for_update().filter(pk=pack_id).first()
        if (
            locked is None
            or locked.status != PackStatus.BUILDING
            or (attempt is not None and locked.attempts != attempt)
        ):
            raise JobStopped("no longer building")
        EvidencePack.objects.filter(pk=pack_id).update(
            status=PackStatus.READY,
            progress=100,
            phase="ready",
            heartbeat_at=now,
            finished_at=now,
            file=stored_name,
            size=zip_entry.size,
            sha256=zip_entry.sha256,
            manifest_sha256=manifest_entry.sha256,
            pages=rendered.pages,
            stats=stats,
            expires_at=now + dt.timedelta(days=days) if days else None,
            last_error="",
        )
