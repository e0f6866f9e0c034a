"""The demo accounts, one per role, with fixed passwords: the one place they are made (``manage.py demo_users``
prints them; ``manage.py seed_demo``, ``inventory.demo`` and ``evidence.demo`` call :func:`demo_users_ensure` so
that the demo records have owners) and the guard every demo command and benchmark runs first.

DEMO ONLY. The passwords below are published in this file and printed by ``demo_users``, so anyone who reads
them can log in. The demo commands therefore run only with ``CEK_DEBUG=1`` or an explicit ``--force``; in a
production configuration they refuse (:func:`demo_allowed_or_refuse`).

Accounts (username, role, password):

- ``admin``  superuser (counts as GRC)   ``demo-admin-2026``
- ``grace``  GRC                         ``demo-grace-2026``
- ``olivia`` key owner                   ``demo-olivia-2026``
- ``omar``   key owner                   ``demo-omar-2026``
- ``audrey`` auditor, access expires 90 days after creation   ``demo-audrey-2026``
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import CommandError
from django.db import transaction
from django.utils import timezone

from cek.models import UserAccess
from cek.roles import Role

AUDITOR_ACCESS_DAYS = 90


@dataclass(frozen=True)
class DemoUser:
    username: str
    role: Role | None  # None: the superuser
    password: str
    first_name: str
    last_name: str

    @property
    def role_label(self) -> str:
        return self.role.label if self.role else "Superuser (GRC)"


DEMO_USERS: tuple[DemoUser, ...] = (
    DemoUser("admin", None, "demo-admin-2026", "Demo", "Administrator"),
    DemoUser("grace", Role.GRC, "demo-grace-2026", "Grace", "Okafor"),
    DemoUser("olivia", Role.KEY_OWNER, "demo-olivia-2026", "Olivia", "Nguyen"),
    DemoUser("omar", Role.KEY_OWNER, "demo-omar-2026", "Omar", "Haddad"),
    DemoUser("audrey", Role.AUDITOR, "demo-audrey-2026", "Audrey", "Martin"),
)

REFUSAL = (
    "{command} creates accounts whose passwords are published in the source code and printed on screen. "
    "It runs only with CEK_DEBUG=1 (a development set-up) or with --force; CEK_DEBUG is off here, which "
    "looks like a production configuration. Create real accounts with 'manage.py createsuperuser' and the "
    "admin instead, or pass --force if this really is a throwaway demo instance."
)


@dataclass(frozen=True)
class DemoUserResult:
    demo: DemoUser
    user: object
    created: bool
    password_set: bool


def demo_allowed_or_refuse(*, force: bool, command: str) -> None:
    """Raise ``CommandError`` unless the settings are a development set-up or ``force`` was given."""
    if not (settings.DEBUG or force):
        raise CommandError(REFUSAL.format(command=command))


def demo_users_ensure(*, reset_passwords: bool = False) -> dict[str, DemoUserResult]:
    """Create the demo accounts that are missing and give each its role group (idempotent).

    Existing accounts keep their password unless ``reset_passwords``; the auditor's access expiry is set
    when the account is created (or reset). Returns the results by username.
    """
    user_model = get_user_model()
    groups = {group.name: group for group in Group.objects.filter(name__in=[r.value for r in Role])}
    missing = [role.value for role in Role if role.value not in groups]
    if missing:
        raise CommandError(f"The role groups {', '.join(missing)} do not exist; run 'manage.py migrate' first.")
    results: dict[str, DemoUserResult] = {}
    with transaction.atomic():
        for demo in DEMO_USERS:
            user, created = user_model.objects.get_or_create(
                username=demo.username,
                defaults={
                    "first_name": demo.first_name,
                    "last_name": demo.last_name,
                    "email": f"{demo.username}@demo.invalid",
                    "is_staff": demo.role is None,
                    "is_superuser": demo.role is None,
                },
            )
            password_set = created or reset_passwords
            if password_set:
                user.set_password(demo.password)
                user.save(update_fields=["password"])
            if demo.role is not None and not user.groups.filter(pk=groups[demo.role.value].pk).exists():
                user.groups.add(groups[demo.role.value])
            if demo.role is Role.AUDITOR:
                expires_at = timezone.now() + dt.timedelta(days=AUDITOR_ACCESS_DAYS)
                access, access_created = UserAccess.objects.get_or_create(
                    user=user, defaults={"expires_at": expires_at, "note": "Demo audit engagement"}
                )
                if reset_passwords and not access_created:
                    access.expires_at = expires_at
                    access.save(update_fields=["expires_at"])
            results[demo.username] = DemoUserResult(demo=demo, user=user, created=created, password_set=password_set)
    return results


def demo_users_table(results: dict[str, DemoUserResult]) -> list[str]:
    """Lines describing the accounts and their demo passwords, for the console."""
    lines = [f"{'username':<8}  {'role':<16}  {'password':<34}  status"]
    for result in results.values():
        status = "created" if result.created else "password reset" if result.password_set else "already existed"
        password = result.demo.password if result.password_set else f"{result.demo.password} (unless changed)"
        lines.append(f"{result.demo.username:<8}  {result.demo.role_label:<16}  {password:<34}  {status}")
    return lines
