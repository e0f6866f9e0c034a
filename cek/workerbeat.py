"""Worker liveness for ``/healthz``: every Celery worker writes a heartbeat to the shared cache (Redis in
production, files in the embedded default) every ``CEK_WORKER_HEARTBEAT_SECONDS``; ``/healthz`` reads it with
one cache lookup. A worker killed without a word stops beating, so ``/healthz`` turns "stale" and answers 503
once the last beat is older than ``CEK_HEALTHZ_WORKER_SECONDS``.

The heartbeat is a worker bootstep (not a ``worker_ready`` handler): it runs in every worker, including the
one the tests start in a thread, and stops with it, on a warm shutdown and on a cold one alike.

The key names the installation (its database): a worker of another installation sharing the cache (one Redis
database, one data folder with another ``CEK_SQLITE_PATH``, parallel test runs on one Redis) does not make this
one's workers look alive.
"""

from __future__ import annotations

import datetime as dt
import logging
import socket
import threading
import time

from celery import bootsteps
from django.conf import settings
from django.core.cache import cache

logger = logging.getLogger(__name__)

KEY = "worker-heartbeat"


def heartbeat_key() -> str:
    """The heartbeat's cache key. Per installation: the cache names every key by its installation
    (``cek.installation.cache_key``), so a worker of another installation sharing the cache does not make this
    one's look alive."""
    return KEY


def heartbeat_write(*, hostname: str) -> None:
    """Record that a worker (``hostname``) is alive now. Any live worker of the installation keeps its key fresh."""
    cache.set(heartbeat_key(), {"at": time.time(), "hostname": hostname}, timeout=None)


def worker_health() -> dict:
    """``{"ok", "state", "age_s"}``: state "ok" (a beat within ``CEK_HEALTHZ_WORKER_SECONDS``), "stale" (the last
    beat is older), "none" (no worker ever beat) or "unknown" (the cache cannot be read). With the setting at 0 the
    worker is reported but never makes the check fail."""
    limit = settings.CEK_HEALTHZ_WORKER_SECONDS
    try:
        beat = cache.get(heartbeat_key())
    except Exception as exc:  # the cache's server is down: said, not raised (the broker check says why)
        return {"ok": not limit, "state": "unknown", "error": exc.__class__.__name__}
    if not isinstance(beat, dict) or not isinstance(beat.get("at"), int | float):
        return {"ok": not limit, "state": "none"}
    age = max(0.0, time.time() - beat["at"])
    fresh = not limit or age <= limit
    return {"ok": fresh, "state": "ok" if age <= (limit or age) else "stale", "age_s": round(age, 1)}


def workers_stopped_since(now: dt.datetime) -> dt.datetime | None:
    """When the last worker heartbeat was written, if it is older than ``CEK_HEALTHZ_WORKER_SECONDS`` (every
    worker stopped); None when a worker is alive, none was ever seen, the check is off or the cache is down."""
    if not settings.CEK_HEALTHZ_WORKER_SECONDS:
        return None
    try:
        beat = cache.get(heartbeat_key())
    except Exception:  # the cache's server is down: nothing is known
        return None
    if not isinstance(beat, dict) or not isinstance(beat.get("at"), int | float):
        return None
    last = dt.datetime.fromtimestamp(beat["at"], tz=dt.UTC)
    return last if (now - last).total_seconds() > settings.CEK_HEALTHZ_WORKER_SECONDS else None


class WorkerHeartbeat(bootsteps.StartStopStep):
    """Beats from a daemon thread of the worker's main process, so a long task does not silence it."""

    def __init__(self, parent, **kwargs):
        super().__init__(parent, **kwargs)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, parent) -> None:
        hostname = getattr(parent, "hostname", None) or socket.gethostname()
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, args=(hostname,), name="cek-heartbeat", daemon=True)
        self._thread.start()

    def stop(self, parent) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)

    # A cold shutdown calls ``terminate``, whose default does nothing for a step without an ``obj``: the thread
    # beat on for a worker that had stopped (how every test worker stops), so /healthz said "ok" without one.
    terminate = stop

    def _run(self, hostname: str) -> None:
        interval = settings.CEK_WORKER_HEARTBEAT_SECONDS
        while True:
            try:
                heartbeat_write(hostname=hostname)
            except Exception as exc:  # the cache is down: try again at the next beat
                logger.warning("Could not write the worker heartbeat: %s", exc)
            finally:
                from django.db import connections  # a cache in the database would leave a connection open

                connections.close_all()
            if self._stop.wait(interval):
                return
