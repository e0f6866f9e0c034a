"""Personal API tokens: ``Authorization: Bearer cek_...`` (or ``Token cek_...``).

The token is random, shown once, and stored only as a SHA-256 digest. Expired accounts (auditor access
limits), revoked or expired tokens, and tokens issued before the user's password last changed are refused.
A request with a token that does not exist counts as a failed login from its address (django-axes), so an
address guessing tokens is locked out like one guessing passwords.

A token's scope narrows it: a scoped token (``TokenScope.IAC_SCANS``, for a CI pipeline) is refused with a 403 by
every endpoint except the actions of views that list the scope in ``token_scopes`` (``{scope: {action, ...}}``),
and then only as far as its user's role allows. The check sits here, in authentication, so that no view or
permission class can forget it.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime
from functools import lru_cache

from axes.handlers.proxy import AxesProxyHandler
from django.contrib.auth.signals import user_login_failed
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from rest_framework import authentication, exceptions, status

from cek.access import ExpiringAccessBackend
from cek.lockout import lockout_ends_at, lockout_message
from cek.models import ApiToken, TokenScope, password_fingerprint
from cek.roles import group_names, is_grc, remember_group_names

TOKEN_PREFIX = "cek_"  # noqa: S105 - a public prefix, not a secret


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def api_token_issue(
    *, user, name: str, expires_at: datetime | None = None, scope: str = TokenScope.FULL
) -> tuple[ApiToken, str]:
    """Create a token for ``user`` and return it with the raw value, which is never stored. A scoped token is
    issued only to a user whose role can do what the scope allows (an IaC-scans token to GRC staff)."""
    if scope == TokenScope.IAC_SCANS and not is_grc(user):
        raise ValidationError({"scope": "Only GRC staff can create a token that records IaC scans."})
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user=user,
        name=name,
        scope=scope,
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


def _require_scope(token: ApiToken, request) -> None:
    """Refuse a scoped token on any endpoint action that does not name its scope."""
    if token.scope == TokenScope.FULL:
        return
    view = (getattr(request, "parser_context", None) or {}).get("view")
    allowed = (getattr(view, "token_scopes", None) or {}).get(token.scope, ())
    if getattr(view, "action", None) in allowed:
        return
    raise exceptions.PermissionDenied(
        f"This token may only {_SCOPE_ALLOWS.get(token.scope, 'do its one task')}; it is refused here. "
        "Use a token with full scope for other requests."
    )


_SCOPE_ALLOWS = {TokenScope.IAC_SCANS: "record IaC scans (POST /api/v1/iac-scans/)"}


@lru_cache(maxsize=1)
def _tokens_with_users() -> QuerySet:
    """Tokens with their user, its access limit and its group names (the roles), as the session's user is read
    (``cek.access``): one query a request instead of two, built once, never evaluated itself. The names are read
    on every request, so a role given or taken away counts from the next one."""
    return ApiToken.objects.select_related("user", "user__access").annotate(cek_group_names=group_names("user"))


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
        token = _tokens_with_users().filter(digest=_digest(raw)).first()
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
        remember_group_names(token.user, token.cek_group_names)
        _require_scope(token, request)
        if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return token.user, token

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="api"'
