"""Personal API tokens: ``Authorization: Bearer cek_...`` (or ``Token cek_...``).

The token is random, shown once, and stored only as a SHA-256 digest. Expired accounts (auditor access
limits), revoked or expired tokens, and tokens issued before the user's password last changed are refused.
A request with a token that does not exist counts as a failed login from its address (django-axes), so an
address guessing tokens is locked out like one guessing passwords.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from axes.handlers.proxy import AxesProxyHandler
from django.contrib.auth.signals import user_login_failed
from django.db import transaction
from django.utils import timezone
from rest_framework import authentication, exceptions, status

from cek.access import ExpiringAccessBackend
from cek.lockout import lockout_ends_at, lockout_message
from cek.models import ApiToken, password_fingerprint

TOKEN_PREFIX = "cek_"  # noqa: S105 - a public prefix, not a secret


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def api_token_issue(*, user, name: str, expires_at: datetime | None = None) -> tuple[ApiToken, str]:
    """Create a token for ``user`` and return it with the raw value, which is never stored."""
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user=user,
        name=name,
        prefix=raw[:10],
        digest=_digest(raw),
        expires_at=expires_at,
        password_fingerprint=password_fingerprint(user.password),
    )
    token.full_clean()
    with transaction.atomic():
        token.save()
    return token, raw


def api_token_revoke(*, token: ApiToken) -> None:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])


def api_tokens_follow_rehash(*, user, encoded_before: str) -> int:
    """The user logged in and Django re-encoded the same password (a stronger hasher or more iterations):
    tokens issued under the old encoding stay valid. Returns how many tokens were carried over."""
    return ApiToken.objects.filter(user=user, password_fingerprint=password_fingerprint(encoded_before)).update(
        password_fingerprint=password_fingerprint(user.password)
    )


class LockedOut(exceptions.APIException):
    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_code = "locked_out"


class ApiTokenAuthentication(authentication.BaseAuthentication):
    keywords = ("bearer", "token")

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].decode(errors="replace").lower() not in self.keywords:
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Malformed Authorization header: expected 'Bearer <token>'.")
        raw = header[1].decode(errors="replace")
        http_request = request._request
        if not AxesProxyHandler.is_allowed(http_request, {"username": None}):
            raise LockedOut(lockout_message(lockout_ends_at(http_request, {"username": None})))
        token = ApiToken.objects.select_related("user", "user__access").filter(digest=_digest(raw)).first()
        now = timezone.now()
        if token is None:
            # A guess: counted against the address. A known token that is revoked or expired is not (a forgotten
            # CI job must not lock its whole office out of the login page).
            user_login_failed.send(sender=__name__, credentials={"username": None}, request=http_request)
            raise exceptions.AuthenticationFailed("Invalid, expired or revoked API token.")
        if token.revoked_at is None and token.outlived_password(encoded_password=token.user.password):
            api_token_revoke(token=token)
            raise exceptions.AuthenticationFailed(
                "This API token was revoked because the account's password changed after it was issued; "
                "create a new token on the API tokens page."
            )
        if not token.is_usable(now=now):
            raise exceptions.AuthenticationFailed("Invalid, expired or revoked API token.")
        if not ExpiringAccessBackend().user_can_authenticate(token.user):
            raise exceptions.AuthenticationFailed("This account is inactive or its access has expired.")
        if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return token.user, token

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="api"'
