"""Tables of the project package: account access expiry and hashed API tokens; and ``TimeStamped``, the abstract
base of the inventory's and the evidence's records that keep when they were created and last updated."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.db import models
from django.utils import timezone


class TimeStamped(models.Model):
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class UserAccess(models.Model):
    """Access limits of one account. Auditor engagements end: after ``expires_at`` the user cannot log
    in, and existing sessions and API tokens stop working."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="access")
    expires_at = models.DateTimeField(null=True, blank=True, help_text="After this moment the account cannot log in.")
    note = models.CharField(max_length=200, blank=True, help_text="E.g. the audit engagement this access is for.")

    class Meta:
        verbose_name = "user access limit"

    def __str__(self) -> str:
        return f"Access of {self.user}"

    def is_expired(self, *, now=None) -> bool:
        return self.expires_at is not None and self.expires_at <= (now or timezone.now())


def password_fingerprint(encoded_password: str) -> str:
    """SHA-256 of the user's stored password hash (not of the password). A token carries the fingerprint of
    the password its user had when it was issued; any change of password (the password pages, a reset, the
    admin, ``manage.py changepassword``, the shell) changes it, and the token stops working."""
    return hashlib.sha256(f"cek.apitoken:{encoded_password}".encode()).hexdigest()


class TokenScope(models.TextChoices):
    """What a token may do. A full token acts as its user with the user's role; a scoped token is refused by
    every endpoint except the ones that name its scope (``token_scopes`` on the view), whatever the user's role."""

    FULL = "full", "Everything your role allows"
    IAC_SCANS = "iac-scans", "Record IaC scans only (for a CI pipeline)"


class ApiToken(models.Model):
    """A personal API token. Only its SHA-256 digest is stored; the token is shown once when issued."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=12, help_text="First characters of the token, to recognise it.")
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    scope = models.CharField(
        max_length=20,
        choices=TokenScope.choices,
        default=TokenScope.FULL,
        help_text="What the token may do: everything its user's role allows, or only one narrow task.",
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    password_fingerprint = models.CharField(
        max_length=64,
        help_text="Fingerprint of the user's password when the token was issued (see password_fingerprint).",
    )

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    def is_usable(self, *, now=None) -> bool:
        now = now or timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)

    def outlived_password(self, *, encoded_password: str) -> bool:
        """True when the user's password changed after this token was issued (the token no longer works)."""
        return self.password_fingerprint != password_fingerprint(encoded_password)
