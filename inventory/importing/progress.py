"""Progress of an import being applied, in rows written of rows to write (the import's words for the shared job
progress, ``cek.jobs.progress``).

An import is applied inside one database transaction, so progress written to the database would not be visible
to anyone until the end. It goes to the cache only (Redis in production, files in the embedded default), which
web and worker processes share. It is advisory: losing it loses the bar, not the import; with the cache down an
import applied in the request still works, the bar just shows nothing."""

from __future__ import annotations

from typing import Any

from cek.jobs import progress as job_progress
from inventory.models import KeyImport


def percent_of(done: int, total: int) -> int:
    return min(100, int(100 * done / total)) if total else 0


def progress_reporter(import_id: int) -> job_progress.Progress:
    """The reporter an apply calls: ``reporter(percent_of(done, total), phase, done=done, total=total)``."""
    return job_progress.Progress(KeyImport.job, import_id, row=False)


def progress_report(import_id: int, done: int, total: int, *, phase: str) -> None:
    progress_reporter(import_id).report(percent_of(done, total), phase, done=done, total=total)


def progress_read(import_id: int) -> dict[str, Any] | None:
    """``{"percent", "phase", "done", "total", "at"}`` as last reported, or None (also when the cache is
    unavailable)."""
    return job_progress.progress_read(KeyImport.job, import_id)


def progress_clear(import_id: int) -> None:
    job_progress.progress_clear(KeyImport.job, import_id)


def progress_percent(progress: dict[str, Any] | None) -> int:
    if not progress:
        return 0
    return min(100, int(progress.get("percent") or 0))
