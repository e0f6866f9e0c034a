"""One user per role plus an outsider, and a parametrized role fixture for permission matrices."""

from __future__ import annotations

import datetime as dt
import importlib

import pytest
from django.test import Client
from django.utils import timezone

from cek.models import UserAccess
from tests.factories import PASSWORD, UserFactory


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


def reseed_catalog() -> None:
    """Re-create what data migrations seed (role groups, default purposes): a transactional test's flush
    (live server, real Celery worker) empties every table, migration data included."""
    from django.apps import apps

    importlib.import_module("cek.migrations.0002_role_groups").create_groups(apps, None)
    importlib.import_module("inventory.migrations.0002_default_purposes").seed(apps, None)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """The test database as migrations leave it, whatever the last run did to it: ``--reuse-db`` keeps the database
    between runs, and that run's transactional tests flushed it last (no role groups: ``Group.DoesNotExist``)."""
    with django_db_blocker.unblock():
        reseed_catalog()


@pytest.fixture
def transactional_catalog(transactional_db):
    reseed_catalog()


@pytest.fixture
def celery_worker(transactional_catalog):
    """A real Celery worker (in a thread of this process) consuming from the real broker: Redis in CI, the
    file broker otherwise. Its queue is private to this test run, so no other worker can take the tasks."""
    import uuid

    from celery.contrib.testing.worker import start_worker
    from celery.signals import task_postrun
    from django.db import connections

    from cek.celery import app

    def close_connections(**kwargs) -> None:
        # The worker thread's own database connection: closed after each task, so none is left open when the
        # test database is dropped at the end of the run.
        connections.close_all()

    queue = f"cek-test-{uuid.uuid4().hex[:12]}"
    previous = app.conf.task_default_queue
    app.conf.task_default_queue = queue
    task_postrun.connect(close_connections, weak=False)
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, loglevel="WARNING", queues=[queue]):
            yield app
    finally:
        task_postrun.disconnect(close_connections)
        app.conf.task_default_queue = previous


def wait_for(predicate, *, timeout: float = 60.0, interval: float = 0.2):
    """Poll ``predicate`` until it returns something truthy (returned), or fail after ``timeout`` seconds."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(interval)
    raise AssertionError(f"Gave up waiting after {timeout:.0f} s.")


@pytest.fixture
def grc_user(db):
    return UserFactory(username="alice", roles=["grc"])


@pytest.fixture
def owner(db):
    return UserFactory(username="bob", roles=["key-owners"])


@pytest.fixture
def other_owner(db):
    return UserFactory(username="carol", roles=["key-owners"])


@pytest.fixture
def auditor(db):
    return UserFactory(username="dave", roles=["auditors"])


@pytest.fixture
def expired_auditor(db):
    user = UserFactory(username="erin", roles=["auditors"])
    UserAccess.objects.create(user=user, expires_at=timezone.now() - dt.timedelta(days=1), note="FY25 audit")
    return user


@pytest.fixture
def outsider(db):
    return UserFactory(username="mallory", roles=[])


def login(user) -> Client:
    client = Client()
    client.force_login(user, backend="cek.access.ExpiringAccessBackend")
    return client


@pytest.fixture
def grc_client(grc_user):
    return login(grc_user)


@pytest.fixture
def owner_client(owner):
    return login(owner)


@pytest.fixture
def auditor_client(auditor):
    return login(auditor)


ROLES = ["anonymous", "grc", "owner", "other_owner", "auditor", "expired_auditor", "outsider"]


@pytest.fixture(params=ROLES)
def role(request, db):
    """Parametrized: yields (role name, user or None, client) for a role x endpoint matrix."""
    name = request.param
    if name == "anonymous":
        return name, None, Client()
    user = request.getfixturevalue(name if name != "grc" else "grc_user")
    return name, user, login(user)


__all__ = ["PASSWORD", "login"]


@pytest.fixture(autouse=True)
def _fresh_dashboard_snapshot():
    """The dashboard's snapshot and the key list's cached drop-downs live in the cache, which outlives each test's
    rolled-back database: each test starts with neither (cek/snapshot.py,
    inventory/filter_choices.py)."""
    from django.core.cache import cache

    from cek import snapshot
    from inventory.filter_choices import CACHE_KEY

    snapshot.invalidate()
    cache.delete(CACHE_KEY)
