"""Login throttling with django-axes: who is counted, the client's address, and what a locked-out user sees.

Failed logins are counted per username and per client address (django-axes keeps them in the database, so
every web process sees the same counts). The lockout tells the user until when logging in is refused; it
says the same for a username that exists and one that does not, so it tells a guesser nothing.
"""

from __future__ import annotations

import ipaddress
from datetime import datetime

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_cool_off, get_failure_limit
from django.conf import settings
from django.db.models import Max, Sum
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import formats, timezone

LOCKOUT_MESSAGE = (
    "Too many failed log-in attempts for this username or from this address: logging in is refused until "
    "{until}, even with the right password. Try again after that time, or ask a GRC administrator to unlock it."
)


def client_ip(request: HttpRequest) -> str | None:
    """The client's address: the connection's, or behind ``CEK_TRUSTED_PROXY_COUNT`` proxies the one the
    outermost proxy appended to X-Forwarded-For. Entries left of it were written by the client and are ignored;
    a header shorter than the proxy count (a request that did not pass all proxies) is not trusted at all."""
    remote = request.META.get("REMOTE_ADDR") or None
    count = settings.CEK_TRUSTED_PROXY_COUNT
    if not count:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [part for part in forwarded if part]
    if len(forwarded) < count:
        return remote
    candidate = forwarded[-count]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote


def lockout_parameters(request, credentials: dict | None = None) -> list[str]:
    """Count failures per username and per address. Without a username (an unknown API token) only the
    address is counted: every such attempt would otherwise share one "no username" counter."""
    if credentials and credentials.get("username"):
        return ["username", "ip_address"]
    return ["ip_address"]


def lockout_ends_at(request: HttpRequest, credentials: dict | None = None) -> datetime | None:
    """When the lockout of this username or address ends: the last failure that counts plus the cool-off
    (failures during a lockout are not recorded, so this does not move while it lasts)."""
    cool_off = get_cool_off(request)
    if cool_off is None:
        return None
    limit = get_failure_limit(request, credentials)
    ends = None
    for attempts in AxesDatabaseHandler().get_user_attempts(request, credentials):
        figures = attempts.aggregate(failures=Sum("failures_since_start"), last=Max("attempt_time"))
        if (figures["failures"] or 0) >= limit and figures["last"] is not None:
            candidate = figures["last"] + cool_off
            ends = candidate if ends is None else max(ends, candidate)
    return ends


def lockout_message(ends: datetime | None) -> str:
    until = "a GRC administrator unlocks it"
    if ends is not None:
        until = formats.date_format(timezone.localtime(ends), "DATETIME_FORMAT")  # names its time zone
    return LOCKOUT_MESSAGE.format(until=until)


def lockout_response(request: HttpRequest, original_response=None, credentials: dict | None = None) -> HttpResponse:
    """What django-axes answers to a locked-out login: the login page with the reason (429), or JSON for
    the API. ``Retry-After`` gives the seconds left."""
    from cek.forms import LoginForm  # cek.forms imports the auth machinery; settings import this module

    ends = lockout_ends_at(request, credentials)
    message = lockout_message(ends)
    if request.path_info.startswith("/api/"):
        response: HttpResponse = JsonResponse({"detail": message}, status=429)
    else:
        response = render(
            request,
            "registration/login.html",
            {"form": LoginForm(request), "lockout_message": message, "next": ""},
            status=429,
        )
    if ends is not None:
        response["Retry-After"] = str(max(1, int((ends - timezone.now()).total_seconds()) + 1))
    return response
