from __future__ import annotations

import time

from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from drf_spectacular.views import SpectacularSwaggerSplitView
from rest_framework.renderers import JSONRenderer

from cek import __version__
from cek.celery import app as celery_app
from cek.workerbeat import worker_health


def _check_database() -> dict:
    started = time.monotonic()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:
        return {"ok": False, "error": exc.__class__.__name__}
    return {"ok": True, "ms": round((time.monotonic() - started) * 1000, 1), "vendor": connection.vendor}


def _check_broker() -> dict:
    started = time.monotonic()
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
            transport = conn.transport_cls
    except Exception as exc:
        return {"ok": False, "error": exc.__class__.__name__}
    return {"ok": True, "ms": round((time.monotonic() - started) * 1000, 1), "transport": str(transport)}


def _check_jobs() -> dict:
    from cek.jobs.watchdog import stalled_jobs

    try:
        stalled = stalled_jobs()
    except Exception as exc:
        return {"ok": False, "error": exc.__class__.__name__}
    return {"ok": not stalled, "stalled": stalled}


def version_context(request: HttpRequest) -> dict:
    """The app's version for every page (the footer)."""
    return {"app_version": __version__}


@login_not_required
@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness for load balancers: database and broker reachability, whether a worker is alive (its heartbeat, one
    cache read) and the app's version (what a report or an upgrade needs), no details that help an attacker."""
    checks = {"database": _check_database(), "broker": _check_broker(), "worker": worker_health()}
    serving = all(check["ok"] for check in checks.values())
    # Jobs past their watchdog say beat (or the watchdog) is not doing its work: "degraded" for monitoring, but
    # still 200, since this process serves pages as well as ever and a load balancer must not take it out.
    jobs = _check_jobs() if checks["database"]["ok"] else {"ok": False, "error": "database"}
    healthy = serving and jobs["ok"]
    body = {"status": "ok" if healthy else "degraded", "version": __version__, **checks, "jobs": jobs}
    return JsonResponse(body, status=200 if serving else 503)


class ApiDocsView(SpectacularSwaggerSplitView):
    """The Swagger page (``/api/docs/``). Its init script is a separate request (``?script``), not inline,
    so the page works under the Content-Security-Policy.

    Errors (no role, a bad token) are JSON like every API answer. drf-spectacular's view renders only HTML:
    a request accepting only JSON was refused as "not acceptable" before authentication, and rendering that
    refusal through the HTML templates authenticated the bad token there, outside DRF's handling: a 500.
    Now the page is the page whatever the Accept header says, so a bad token is a 401 for every client.
    """

    def perform_content_negotiation(self, request, force=False):
        return super().perform_content_negotiation(request, force=True)

    def handle_exception(self, exc):
        response = super().handle_exception(exc)
        self.request.accepted_renderer = JSONRenderer()
        self.request.accepted_media_type = JSONRenderer.media_type
        return response
