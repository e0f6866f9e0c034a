"""``manage.py demo_users``: one demo account per role (``cek.demo``), with their fixed passwords printed on screen.

DEMO ONLY: it runs only with ``CEK_DEBUG=1`` or an explicit ``--force``; in a production configuration it refuses.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandParser

from cek.demo import demo_allowed_or_refuse, demo_users_ensure, demo_users_table
from cek.models import UserAccess
from cek.templatetags.dates import words_datetime


class Command(BaseCommand):
    help = (
        "Create one demo account per role (grace: GRC, olivia and omar: key owners, audrey: auditor, admin: "
        "superuser) and print their demo passwords. Demo only: needs CEK_DEBUG=1 or --force."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--force", action="store_true", help="Run even though CEK_DEBUG is off (a throwaway demo instance)."
        )
        parser.add_argument(
            "--reset-passwords",
            action="store_true",
            help="Set the demo passwords (and the auditor's 90-day expiry) again on accounts that already exist.",
        )

    def handle(self, *args, force: bool, reset_passwords: bool, **options) -> None:
        demo_allowed_or_refuse(force=force, command="demo_users")
        results = demo_users_ensure(reset_passwords=reset_passwords)
        self.stdout.write(
            self.style.WARNING("DEMO ACCOUNTS - these passwords are public; never use them in production.")
        )
        for line in demo_users_table(results):
            self.stdout.write(f"  {line}")
        audrey = results["audrey"].user
        expiry = UserAccess.objects.filter(user=audrey).values_list("expires_at", flat=True).first()
        if expiry:
            self.stdout.write(f"  audrey's access expires on {words_datetime(expiry)}.")
