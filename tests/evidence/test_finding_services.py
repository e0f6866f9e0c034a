"""The finding upsert (idempotent per rule and subject) and GRC's resolve / accept-risk."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from evidence.findings import services, tasks
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


# --- Assignment and expiry of risk acceptances --------------------------------------------------------------


def test_grc_assigns_a_finding_with_a_remediation_date(grc_user, owner, auditor):
    finding, _ = upsert(KeyFactory(), timezone.now())
    due = timezone.localdate() + dt.timedelta(days=14)
    for user in (owner, auditor):
        with pytest.raises(PermissionDenied):
            services.finding_assign(finding=finding, actor=user, assignee=owner, remediation_due=due)
    assigned = services.finding_assign(finding=finding, actor=grc_user, assignee=owner, remediation_due=due)
    assert assigned.assigned_to == owner and assigned.remediation_due == due and assigned.status == FindingStatus.OPEN
    latest = assigned.history.latest()
    assert latest.history_user == grc_user and latest.history_change_reason.startswith(
        f"Assigned to {owner.get_full_name()}, due "
    )


def test_an_assignment_needs_an_active_user_and_a_date_not_in_the_past(grc_user, owner):
    finding, _ = upsert(KeyFactory(), timezone.now())
    with pytest.raises(ValidationError) as exc:
        services.finding_assign(finding=finding, actor=grc_user, assignee=None, remediation_due=None)
    assert set(exc.value.error_dict) == {"assigned_to", "remediation_due"}
    owner.is_active = False
    owner.save()
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    with pytest.raises(ValidationError) as exc:
        services.finding_assign(finding=finding, actor=grc_user, assignee=owner, remediation_due=yesterday)
    assert set(exc.value.error_dict) == {"assigned_to", "remediation_due"}
    services.finding_resolve(finding=finding, actor=grc_user)
    with pytest.raises(ValidationError, match="resolved"):
        services.finding_assign(
            finding=finding, actor=grc_user, assignee=grc_user, remediation_due=timezone.localdate()
        )


def test_expired_acceptances_reopen_the_day_after_their_end(grc_user):
    today = timezone.localdate()
    short, _ = upsert(KeyFactory(), timezone.now())
    long, _ = upsert(KeyFactory(), timezone.now())
    services.finding_accept_risk(finding=short, actor=grc_user, until=today + dt.timedelta(days=3), reason="Short.")
    services.finding_accept_risk(finding=long, actor=grc_user, until=today + dt.timedelta(days=30), reason="Long.")

    assert services.finding_acceptances_expire(today=today + dt.timedelta(days=3)) == 0  # the last accepted day
    with time_machine.travel(timezone.now() + dt.timedelta(days=4), tick=False):
        result = tasks.finding_acceptances_expire()
        assert result["reopened"] == 1
        assert tasks.finding_acceptances_expire()["reopened"] == 0  # idempotent
    short.refresh_from_db()
    long.refresh_from_db()
    assert short.status == FindingStatus.OPEN and short.accepted_until == today + dt.timedelta(days=3)
    assert short.history.latest().history_change_reason.startswith("Reopened: risk acceptance ended")
    assert long.status == FindingStatus.RISK_ACCEPTED


def test_the_expiry_task_is_scheduled_daily(settings):
    entry = next(e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"].endswith("finding_acceptances_expire"))
    assert entry["task"] == "evidence.tasks.finding_acceptances_expire"
    assert entry["schedule"].hour == {0}
