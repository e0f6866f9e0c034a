"""The finding upsert (idempotent per rule and subject) and GRC's resolve / accept-risk."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from evidence import services
from evidence.models import Finding, FindingStatus
from tests.factories import KeyFactory

pytestmark = pytest.mark.django_db


def upsert(key, when, severity="high"):
    return services.finding_upsert(rule="multi-purpose", subject=key, severity=severity, details={"n": 1}, seen_at=when)


def test_the_upsert_keeps_one_row_per_rule_and_subject():
    key = KeyFactory()
    first = timezone.now() - dt.timedelta(days=2)
    finding, created = upsert(key, first)
    assert created and finding.subject_type == "inventory.key" and finding.subject_label == str(key)
    again, created = upsert(key, timezone.now(), severity="critical")
    assert not created and again.pk == finding.pk and again.severity == "critical"
    assert again.first_seen == first and again.last_seen > first
    assert Finding.objects.count() == 1


def test_a_resolved_finding_reopens_when_seen_again(grc_user):
    key = KeyFactory()
    finding, _ = upsert(key, timezone.now())
    services.finding_resolve(finding=finding, actor=grc_user)
    assert Finding.objects.get().status == FindingStatus.RESOLVED
    reopened, _ = upsert(key, timezone.now())
    assert reopened.status == FindingStatus.OPEN and reopened.resolved_at is None


def test_a_risk_acceptance_stands_until_its_end_date(grc_user):
    key = KeyFactory()
    finding, _ = upsert(key, timezone.now())
    until = timezone.localdate() + dt.timedelta(days=30)
    services.finding_accept_risk(finding=finding, actor=grc_user, until=until, reason="Migration planned in Q3.")
    kept, _ = upsert(key, timezone.now())
    assert kept.status == FindingStatus.RISK_ACCEPTED and kept.accepted_by == grc_user
    expired, _ = upsert(key, timezone.now() + dt.timedelta(days=31))
    assert expired.status == FindingStatus.OPEN


def test_accepting_risk_needs_grc_a_future_date_and_a_reason(grc_user, owner, auditor):
    finding, _ = upsert(KeyFactory(), timezone.now())
    future = timezone.localdate() + dt.timedelta(days=5)
    for user in (owner, auditor):
        with pytest.raises(PermissionDenied):
            services.finding_accept_risk(finding=finding, actor=user, until=future, reason="x")
        with pytest.raises(PermissionDenied):
            services.finding_resolve(finding=finding, actor=user)
    with pytest.raises(ValidationError) as exc:
        services.finding_accept_risk(finding=finding, actor=grc_user, until=timezone.localdate(), reason=" ")
    assert set(exc.value.error_dict) == {"until", "reason"}


def test_the_database_refuses_an_incomplete_risk_acceptance():
    finding, _ = upsert(KeyFactory(), timezone.now())
    with pytest.raises(IntegrityError), transaction.atomic():
        Finding.objects.filter(pk=finding.pk).update(status=FindingStatus.RISK_ACCEPTED)
