"""Logging in and out, password change and reset, auditor access expiry, health check, production settings."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from cek.models import UserAccess
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def logs_in(username: str, password: str) -> bool:
    """Through the login page (the throttling backend needs the request that ``Client.login`` does not pass)."""
    response = Client().post(reverse("login"), {"username": username, "password": password})
    return response.status_code == 302


def test_every_page_requires_login():
    response = Client().get(reverse("inventory:key-list"))
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={reverse('inventory:key-list')}"


def test_a_user_logs_in_and_out(grc_user):
    client = Client()
    response = client.post(reverse("login"), {"username": "alice", "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == reverse("home")
    assert client.get(reverse("home")).status_code == 200
    client.post(reverse("logout"))
    assert client.get(reverse("home")).status_code == 302


def test_a_wrong_password_rerenders_the_form_with_a_message(grc_user):
    response = Client().post(reverse("login"), {"username": "alice", "password": "nope"})
    assert response.status_code == 200
    assert b"Please enter a correct username and password" in response.content


def test_an_expired_auditor_cannot_log_in_and_is_told_why(expired_auditor):
    response = Client().post(reverse("login"), {"username": "erin", "password": PASSWORD})
    assert response.status_code == 200
    assert b"Your access ended on" in response.content


def test_an_auditors_session_ends_when_the_access_expires(auditor):
    UserAccess.objects.create(user=auditor, expires_at=timezone.now() + dt.timedelta(hours=1))
    client = Client()
    client.post(reverse("login"), {"username": "dave", "password": PASSWORD})
    assert client.get(reverse("home")).status_code == 200
    with time_machine.travel(timezone.now() + dt.timedelta(hours=2)):
        assert client.get(reverse("home")).status_code == 302


def test_a_user_without_a_role_is_refused(outsider):
    client = Client()
    client.force_login(outsider)
    assert client.get(reverse("inventory:key-list")).status_code == 403


def test_password_change(grc_client):
    response = grc_client.post(
        reverse("password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "a-much-longer-passphrase-2026",
            "new_password2": "a-much-longer-passphrase-2026",
        },
    )
    assert response.status_code == 302
    assert logs_in("alice", "a-much-longer-passphrase-2026")


def test_password_reset_by_email(grc_user):
    client = Client()
    response = client.post(reverse("password_reset"), {"email": grc_user.email})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    link = next(line for line in mail.outbox[0].body.splitlines() if "/accounts/reset/" in line)
    path = link.split("testserver", 1)[1]
    form_page = client.get(path, follow=True)
    assert b"Choose a new password" in form_page.content
    response = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": "reset-passphrase-for-alice", "new_password2": "reset-passphrase-for-alice"},
    )
    assert response.status_code == 302
    assert logs_in("alice", "reset-passphrase-for-alice")


def test_healthz_reports_database_and_broker_without_login():
    response = Client().get(reverse("healthz"))
    body = response.json()
    assert response.status_code == 200, body
    assert body["status"] == "ok" and body["database"]["ok"] and body["broker"]["ok"]


def test_production_settings_pass_the_deploy_check(tmp_path):
    test_only = {"DJANGO_ALLOW_ASYNC_UNSAFE", "CEK_SSL_REDIRECT"}
    env = {
        **{name: value for name, value in os.environ.items() if name not in test_only},
        "CEK_DEBUG": "0",
        "CEK_SECRET_KEY": "x" * 20 + "-production-secret-key-with-enough-entropy-9f8e7d6c5b4a",
        "CEK_ALLOWED_HOSTS": "cek.example.com",
        "CEK_DATA_DIR": str(tmp_path),
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_production_settings_refuse_to_start_without_a_secret_key(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "CEK_SECRET_KEY"} | {
        "CEK_DEBUG": "0",
        "CEK_DATA_DIR": str(tmp_path),
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode != 0 and "CEK_SECRET_KEY" in result.stderr


def test_a_misspelt_boolean_stops_start_up(tmp_path):
    env = {**os.environ, "CEK_DEBUG": "yse", "CEK_DATA_DIR": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode != 0 and "CEK_DEBUG='yse' is not a boolean" in result.stderr


def test_role_groups_exist_after_migrations():
    from django.contrib.auth.models import Group

    assert set(Group.objects.values_list("name", flat=True)) >= {"grc", "key-owners", "auditors"}


def test_auditor_user_factory_roles(auditor):
    assert list(auditor.groups.values_list("name", flat=True)) == ["auditors"]
    assert UserFactory(username="x", roles=["grc"]).groups.filter(name="grc").exists()


def test_the_admin_is_for_superusers_only(grc_client):
    from django.contrib.auth import get_user_model

    assert grc_client.get("/admin/").status_code == 302  # GRC staff use the app, not the admin
    admin_user = get_user_model().objects.create_superuser("root", "root@example.com", "x" * 16)
    client = Client()
    client.force_login(admin_user)
    for path in (
        "/admin/",
        "/admin/inventory/key/",
        "/admin/auth/user/",
        "/admin/cek/apitoken/",
        f"/admin/auth/user/{admin_user.pk}/change/",
    ):
        assert client.get(path).status_code == 200, path
