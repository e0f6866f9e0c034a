"""The webhook request: a JSON body, signed so the receiver can tell it came from this app and is fresh.

Headers: ``X-CEK-Event`` (``finding.opened``), ``X-CEK-Delivery`` (the delivery's id, the same on every attempt,
so a receiver can drop duplicates), ``X-CEK-Timestamp`` (Unix seconds of this attempt) and ``X-CEK-Signature``:
``sha256=`` and the hex HMAC-SHA256, keyed with ``CEK_ALERT_WEBHOOK_SECRET``, of ``<timestamp>.<body>``. A
receiver recomputes it over the raw body, compares in constant time and refuses timestamps older than a few
minutes (a replayed request)::

    expected = hmac.new(secret, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    ok = hmac.compare_digest(f"sha256={expected}", signature) and abs(time.time() - int(timestamp)) < 300
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass

import cek


@dataclass(frozen=True)
class Outcome:
    delivered: bool
    status: int | None  # the HTTP status, None when no answer came
    error: str  # why it failed, for people ("" when delivered)


def body_of(payload: dict) -> bytes:
    return json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()


def signature(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def post(*, url: str, payload: dict, event: str, delivery_id: int, secret: str, timeout: float) -> Outcome:
    """One attempt. Any 2xx answer is delivered; anything else (an error status, a timeout, a refused connection)
    is a failure whose reason says what happened, without the response body (a receiver's page is not ours to
    store)."""
    if not url.startswith(("https://", "http://")):
        return Outcome(False, None, "The webhook URL is not http(s); fix CEK_ALERT_WEBHOOKS.")
    body = body_of(payload)
    timestamp = int(time.time())
    request = urllib.request.Request(  # noqa: S310 - http(s) only, checked above; the URL comes from settings
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": f"cek-alerts/{cek.__version__}",
            "X-CEK-Event": event,
            "X-CEK-Delivery": str(delivery_id),
            "X-CEK-Timestamp": str(timestamp),
            "X-CEK-Signature": signature(secret, timestamp, body),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - see above
            return Outcome(True, response.status, "")
    except urllib.error.HTTPError as exc:
        return Outcome(False, exc.code, f"The webhook answered {exc.code} {exc.reason}.")
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        return Outcome(False, None, f"The webhook could not be reached: {reason}.")
