"""Personal API tokens: ``Authorization: Bearer cek_...`` (or ``Token cek_...``).

The token is random, shown once, and stored only as a SHA-256 digest. Expired accounts (auditor access
limits) and revoked or expired tokens are refused.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from django.db import transaction
from django.utils import timezone
from rest_framework import authentication, exceptions

from cek.access import ExpiringAccessBackend
from cek.models import ApiToken

TOKEN_PREFIX = "cek_"  # noqa: S105 - a public prefix, not a secret


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def api_token_issue(*, user, name: str, expires_at: datetime | None = None) -> tuple[ApiToken, str]:
    """Create a token for ``user`` and return it with the raw value, which is never stored."""
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user=user, name=name, prefix=raw[:10], digest=_digest(raw), expires_at=expires_at)
    token.full_clean()
    with transaction.atomic():
        token.save()
    return token, raw


def api_token_revoke(*, token: ApiToken) -> None:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])


class ApiTokenAuthentication(authentication.BaseAuthentication):
    keywords = ("bearer", "token")

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].decode(errors="replace").lower() not in self.keywords:
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Malformed Authorization header: expected 'Bearer <token>'.")
        raw = header[1].decode(errors="replace")
        token = ApiToken.objects.select_related("user", "user__access").filter(digest=_digest(raw)).first()
        now = timezone.now()
        if token is None or not token.is_usable(now=now):
            raise exceptions.AuthenticationFailed("Invalid, expired or revoked API token.")
        if not ExpiringAccessBackend().user_can_authenticate(token.user):
            raise exceptions.AuthenticationFailed("This account is inactive or its access has expired.")
        if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return token.user, token

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="api"'
