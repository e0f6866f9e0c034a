"""Campaign services against the real database: launch, answers, frozen records, reassign, reminders and
escalation, close."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from evidence.campaigns import services
from evidence.models import (
    Attestation,
    AttestationStatus,
    Campaign,
    CampaignStatus,
    FindingStatus,
    FrozenRecordError,
    statements_digest,
)
from tests.factories import BindingFactory, KeyFactory, KeyStoreFactory, UserFactory, keys_bulk

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 3, 2)


def new_campaign(grc, **kwargs) -> Campaign:
    kwargs.setdefault("name", "Q1 key purpose attestation")
    kwargs.setdefault("due_on", timezone.localdate() + dt.timedelta(days=14))
    return services.campaign_create(actor=grc, **kwargs)


def launched(grc, **kwargs) -> Campaign:
    return services.campaign_launch(campaign=new_campaign(grc, **kwargs), actor=grc)


def test_it_records_the_default_statement_set_with_its_digest(grc_user):
    campaign = new_campaign(grc_user)
    assert campaign.statement_version == "cek-11-v1"
    assert len(campaign.statements) == 5 and "The key serves only its recorded purpose." in campaign.statements
    assert campaign.statements_sha256 == statements_digest(campaign.statements)
    assert campaign.status == CampaignStatus.DRAFT


def test_only_grc_creates_launches_and_closes(grc_user, owner, auditor):
    for user in (owner, auditor):
        with pytest.raises(PermissionDenied):
            new_campaign(user)
    campaign = new_campaign(grc_user)
    KeyFactory(owner=owner)
    with pytest.raises(PermissionDenied):
        services.campaign_launch(campaign=campaign, actor=auditor)
    services.campaign_launch(campaign=campaign, actor=grc_user)
    with pytest.raises(PermissionDenied):
        services.campaign_close(campaign=campaign, actor=owner)


def test_launching_an_empty_scope_is_refused(grc_user):
    with pytest.raises(ValidationError, match="No active key"):
        launched(grc_user)


def test_launch_addresses_owner_else_backup_and_lists_keys_without_either(grc_user, owner, other_owner):
    owned = KeyFactory(owner=owner, backup_owner=other_owner)
    backed = KeyFactory(owner=None, backup_owner=other_owner)
    orphan = KeyFactory(owner=None, backup_owner=None)
    KeyFactory(owner=owner, state="deactivated")
    campaign = launched(grc_user)
    assert campaign.status == CampaignStatus.LAUNCHED and campaign.keys_done == 3
    addressed = dict(Attestation.objects.filter(campaign=campaign).values_list("key_id", "addressed_to_id"))
    assert addressed == {owned.pk: owner.pk, backed.pk: other_owner.pk, orphan.pk: None}
    assert sorted(m.to[0] for m in mail.outbox) == sorted([owner.email, other_owner.email])
    assert "https://cek.example.com/evidence/attestations/" in mail.outbox[0].body


def test_scope_filters_by_store_purpose_tenant_and_service(grc_user, owner):
    store = KeyStoreFactory()
    in_store = KeyFactory(owner=owner, store=store)
    KeyFactory(owner=owner)
    bound = BindingFactory(key=KeyFactory(owner=owner))
    assert list(services.campaign_keys(new_campaign(grc_user, store=store))) == [in_store]
    assert list(services.campaign_keys(new_campaign(grc_user, service=bound.service))) == [bound.key]


def test_launching_ten_thousand_keys_mails_each_owner_once(grc_user, settings):
    settings.CEK_CAMPAIGN_INLINE_KEYS = 20_000
    owners = [UserFactory(username=f"owner{n}", roles=["key-owners"]) for n in range(7)]
    keys_bulk(count=10_000, owners=owners)
    campaign = new_campaign(grc_user)
    with CaptureQueriesContext(connection) as queries:
        services.campaign_launch(campaign=campaign, actor=grc_user)
    assert Attestation.objects.filter(campaign=campaign).count() == 10_000
    assert sorted(m.to[0] for m in mail.outbox) == sorted(o.email for o in owners)
    assert "1429 keys" in mail.outbox[0].subject or "1428 keys" in mail.outbox[0].subject
    # Batches of 1000 keys, each a fixed number of queries (SQLite splits an insert by its variable limit):
    # a few hundred queries at most, never one per key.
    assert len(queries) < 400
    services.campaign_launch_run(campaign_id=campaign.pk)  # a second run is a no-op
    assert len(mail.outbox) == 7


def test_a_large_scope_is_launched_on_a_worker_after_commit(
    grc_user, owner, settings, django_capture_on_commit_callbacks
):
    settings.CEK_CAMPAIGN_INLINE_KEYS = 2
    keys_bulk(count=3, owners=[owner])
    campaign = new_campaign(grc_user)
    from cek.jobs import queue
    from evidence.campaigns import tasks

    queued = []
    send = queue.send
    queue.send = lambda name, args: queued.append((name, args[0]))
    try:
        with django_capture_on_commit_callbacks(execute=True):
            result = services.campaign_launch(campaign=campaign, actor=grc_user)
    finally:
        queue.send = send
    assert result.status == CampaignStatus.LAUNCHING and result.keys_total == 3
    assert queued == [("evidence.tasks.campaign_launch_run", campaign.pk)] and not mail.outbox
    tasks.campaign_launch_run(campaign.pk)
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.LAUNCHED and campaign.keys_done == 3
    assert [m.to for m in mail.outbox] == [[owner.email]]


def test_bulk_confirm_records_who_when_and_the_statement_digest(grc_user, owner):
    keys = [KeyFactory(owner=owner) for _ in range(3)]
    campaign = launched(grc_user)
    ids = list(Attestation.objects.filter(campaign=campaign, key__in=keys[:2]).values_list("pk", flat=True))
    assert services.attestation_confirm(attestations=ids, actor=owner) == 2
    answered = Attestation.objects.get(pk=ids[0])
    assert answered.status == AttestationStatus.CONFIRMED and answered.responded_by == owner
    assert answered.statement_version == "cek-11-v1" and answered.statements_sha256 == campaign.statements_sha256
    assert services.attestation_confirm_all(actor=owner) == 1
    assert not Attestation.objects.filter(campaign=campaign, status=AttestationStatus.PENDING).exists()


def test_owners_cannot_answer_for_keys_of_others(grc_user, owner, other_owner):
    theirs = KeyFactory(owner=other_owner)
    campaign = launched(grc_user)
    attestation = Attestation.objects.get(campaign=campaign, key=theirs)
    with pytest.raises(PermissionDenied):
        services.attestation_confirm(attestations=[attestation.pk], actor=owner)
    with pytest.raises(PermissionDenied):
        services.attestation_report_discrepancy(attestation=attestation, actor=owner, comment="Not mine")
    assert Attestation.objects.get(pk=attestation.pk).status == AttestationStatus.PENDING


def test_the_backup_owner_may_answer_for_the_owner(grc_user, owner, other_owner):
    key = KeyFactory(owner=owner, backup_owner=other_owner)
    campaign = launched(grc_user)
    attestation = Attestation.objects.get(campaign=campaign, key=key)
    assert attestation.addressed_to == owner
    services.attestation_confirm(attestations=[attestation], actor=other_owner)
    assert Attestation.objects.get(pk=attestation.pk).responded_by == other_owner


def test_a_discrepancy_needs_a_comment_and_opens_a_finding(grc_user, owner):
    key = KeyFactory(owner=owner)
    campaign = launched(grc_user)
    attestation = Attestation.objects.get(campaign=campaign, key=key)
    with pytest.raises(ValidationError, match="Describe the discrepancy"):
        services.attestation_report_discrepancy(attestation=attestation, actor=owner, comment="  ")
    answered, finding = services.attestation_report_discrepancy(
        attestation=attestation, actor=owner, comment="Also used by the billing service."
    )
    assert answered.status == AttestationStatus.DISCREPANCY and answered.comment.startswith("Also used")
    assert finding.rule == "attestation-discrepancy" and finding.subject_id == key.pk
    assert finding.status == FindingStatus.OPEN and finding.details["campaign_id"] == campaign.pk
    assert finding.details["reported_by"] == owner.get_full_name()  # the finding page shows it: a name


def test_answers_are_frozen_through_every_path(grc_user, owner, other_owner):
    key = KeyFactory(owner=owner)
    campaign = launched(grc_user)
    attestation = Attestation.objects.get(campaign=campaign, key=key)
    services.attestation_confirm(attestations=[attestation], actor=owner)
    with pytest.raises(ValidationError, match="frozen"):
        services.attestation_confirm(attestations=[attestation], actor=owner)
    with pytest.raises(ValidationError, match="frozen"):
        services.attestation_report_discrepancy(attestation=attestation, actor=owner, comment="Changed my mind")
    with pytest.raises(ValidationError, match="Only a pending"):
        services.attestation_reassign(attestation=attestation, actor=grc_user, to=other_owner)
    answered = Attestation.objects.get(pk=attestation.pk)
    answered.comment = "edited"
    with pytest.raises(FrozenRecordError):
        answered.save()
    assert Attestation.objects.filter(pk=attestation.pk).update(status=AttestationStatus.PENDING) == 0
    with pytest.raises(FrozenRecordError):
        answered.delete()
    with pytest.raises(FrozenRecordError):
        Attestation.objects.filter(pk=attestation.pk).delete()
    assert Attestation.objects.get(pk=attestation.pk).status == AttestationStatus.CONFIRMED


def test_grc_reassigns_a_pending_attestation(grc_user, owner, other_owner):
    key = KeyFactory(owner=owner)
    campaign = launched(grc_user)
    attestation = Attestation.objects.get(campaign=campaign, key=key)
    with pytest.raises(PermissionDenied):
        services.attestation_reassign(attestation=attestation, actor=owner, to=other_owner)
    moved = services.attestation_reassign(attestation=attestation, actor=grc_user, to=other_owner)
    assert moved.addressed_to == other_owner and moved.reassigned_from == owner and moved.reassigned_by == grc_user
    services.attestation_confirm(attestations=[moved], actor=other_owner)


def test_closing_freezes_pending_attestations_as_not_answered(grc_user, owner):
    keys = [KeyFactory(owner=owner) for _ in range(2)]
    campaign = launched(grc_user)
    services.attestation_confirm(attestations=Attestation.objects.filter(key=keys[0]), actor=owner)
    closed = services.campaign_close(campaign=campaign, actor=grc_user)
    assert closed.status == CampaignStatus.CLOSED and closed.closed_by == grc_user
    pending = Attestation.objects.get(key=keys[1])
    assert pending.status == AttestationStatus.PENDING
    with pytest.raises(ValidationError, match="frozen"):
        services.attestation_confirm(attestations=[pending], actor=owner)
    assert Attestation.objects.filter(pk=pending.pk).update(comment="late") == 0
    pending.comment = "late"
    with pytest.raises(FrozenRecordError):
        pending.save()
    with pytest.raises(ValidationError, match="only a launched campaign"):
        services.campaign_close(campaign=campaign, actor=grc_user)


def test_reminders_follow_the_cadence_and_escalate_once_overdue(grc_user, owner, other_owner):
    with time_machine.travel(dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC), tick=False):
        KeyFactory(owner=owner)
        KeyFactory(owner=owner)
        done = KeyFactory(owner=other_owner)
        launched(grc_user, due_on=dt.date(2026, 3, 9), reminder_days=3)
        services.attestation_confirm(attestations=Attestation.objects.filter(key=done), actor=other_owner)
    mail.outbox.clear()
    sent_by_day = {}
    for offset in range(0, 10):
        day = TODAY + dt.timedelta(days=offset)
        with time_machine.travel(dt.datetime.combine(day, dt.time(7), tzinfo=dt.UTC), tick=False):
            result = services.campaign_remind(today=day)
            again = services.campaign_remind(today=day)  # idempotent per day
        assert again == {"reminded": [], "escalated": []}
        if result["reminded"] or result["escalated"]:
            sent_by_day[day] = result
    assert sent_by_day == {
        dt.date(2026, 3, 5): {"reminded": [owner.email], "escalated": []},
        dt.date(2026, 3, 8): {"reminded": [owner.email], "escalated": []},
        dt.date(2026, 3, 11): {"reminded": [owner.email], "escalated": [grc_user.email]},
    }
    escalation = mail.outbox[-1]
    assert escalation.to == [grc_user.email] and "Overdue attestations" in escalation.subject
    assert owner.email in escalation.body and other_owner.email not in escalation.body
    assert "2 keys" in escalation.body


def test_no_reminders_once_everything_is_answered_or_closed(grc_user, owner):
    with time_machine.travel(dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC), tick=False):
        KeyFactory(owner=owner)
        campaign = launched(grc_user, due_on=dt.date(2026, 3, 9), reminder_days=1)
        services.campaign_close(campaign=campaign, actor=grc_user)
    assert services.campaign_remind(today=dt.date(2026, 3, 3)) == {"reminded": [], "escalated": []}
