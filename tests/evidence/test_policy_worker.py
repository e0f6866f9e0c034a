"""End to end with a real Celery worker and broker: sending a policy queues its e-mails on commit, the worker
sends each recipient one e-mail, and the sweep finds nothing left to send."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.utils import timezone

from evidence.models import PolicyDelivery
from evidence.policies import services
from tests.conftest import wait_for
from tests.evidence.policies import policy_in_force
from tests.factories import UserFactory

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def short_lived_connections(monkeypatch):
    """The worker thread closes its database connection after each task, so none outlives the test (a
    persistent one would keep PostgreSQL from dropping the test database at the end of the run)."""
    from django.db import connections

    monkeypatch.setitem(connections.settings["default"], "CONN_MAX_AGE", 0)


def test_a_worker_emails_each_recipient_once(short_lived_connections, celery_worker):
    grc = UserFactory(username="grace", roles=["grc"])
    owners = [UserFactory(username=f"owner{n}", roles=["key-owners"]) for n in range(3)]
    version = policy_in_force(grc=grc, approved_on=timezone.localdate()).current_version
    result = services.communication_send(version=version, audiences=[Group.objects.get(name="key-owners")], actor=grc)
    assert result.emailed == 3
    wait_for(lambda: PolicyDelivery.objects.filter(emailed_at__isnull=False).count() == 3)
    assert sorted(m.to[0] for m in mail.outbox) == sorted(o.email for o in owners)
    assert services.policy_emails_send() == 0
    assert len(mail.outbox) == 3
