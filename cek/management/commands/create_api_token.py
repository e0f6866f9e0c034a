"""``manage.py create_api_token USERNAME --name NAME [--expires YYYY-MM-DD] [--scope full|iac-scans]``: issue a
personal API token (``--scope iac-scans``: one that can only record IaC scans, for a CI pipeline; GRC users only).

The token is printed alone on standard output (so ``TOKEN=$(manage.py create_api_token ...)`` works); the
note about it goes to standard error. It is shown only this once: only its digest is stored.
"""

from __future__ import annotations

import datetime as dt

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from cek.apitokens import api_token_issue
from cek.keymaterial import check_text
from cek.models import TokenScope


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise CommandError("--expires must be a date written YYYY-MM-DD, e.g. 2026-12-31.") from None


class Command(BaseCommand):
    help = "Create a personal API token for a user and print it (shown once; only its digest is stored)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--name", required=True, help="What the token is for, e.g. 'CI pipeline'.")
        parser.add_argument("--expires", help="Last day the token works (YYYY-MM-DD). Default: no expiry.")
        parser.add_argument(
            "--scope",
            choices=TokenScope.values,
            default=TokenScope.FULL,
            help="full (default): everything the user's role allows; iac-scans: only record IaC scans (for CI).",
        )

    def handle(self, *args, username: str, name: str, expires: str | None, scope: str = "full", **options) -> None:
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user with the username {username!r}.")
        if not user.is_active:
            raise CommandError(f"The account {username!r} is inactive; activate it first.")
        name = name.strip()
        if not name:
            raise CommandError("--name must not be empty.")
        expires_at = None
        if expires:
            day = _date(expires)
            if day < timezone.localdate():
                raise CommandError("--expires is in the past; choose today or a later date.")
            expires_at = timezone.make_aware(dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min))
        try:
            check_text(name, field="--name")
            token, raw = api_token_issue(user=user, name=name, expires_at=expires_at, scope=scope)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None  # e.g. an IaC-scans token for a non-GRC user
        until = f"until the end of {expires}" if expires else "without expiry"
        self.stderr.write(
            f"Created token {token.name!r} ({token.prefix}…) for {user.username}, valid {until}; it may: "
            f"{token.get_scope_display().lower()}. "
            "It is shown only this once; store it in a secret store."
        )
        self.stdout.write(raw)
