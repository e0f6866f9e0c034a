"""Policy services against the real database: versions, approval and supersession, the freeze through every
path, communication once per recipient, acknowledgements, changes and reviews moving the due date."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.utils import timezone

from evidence.models import (
    Acknowledgement,
    ChangeEvent,
    Communication,
    FrozenRecordError,
    Policy,
    PolicyApproval,
    PolicyDelivery,
    PolicyVersion,
    ReviewOutcome,
    VersionStatus,
)
from evidence.policies import selectors
from evidence.policies.services import (
    acknowledgement_record,
    communication_send,
    policy_create,
    policy_emails_send,
    policy_version_approve,
    policy_version_delete,
    policy_version_save,
    policy_version_submit,
    policy_version_withdraw,
)
from evidence.reviews.services import (
    change_event_save,
    evaluation_save,
    policy_review_due_refresh,
    policy_review_record,
)
from tests.evidence.policies import MARKDOWN, approve, draft, markdown_document, policy_in_force
from tests.factories import PolicyFactory, UserFactory

pytestmark = pytest.mark.django_db
D = dt.date
PEM = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7\n-----END PRIVATE KEY-----"


def at(day: dt.date):
    return time_machine.travel(dt.datetime(day.year, day.month, day.day, 9, 0, tzinfo=dt.UTC), tick=False)


def key_owners_group():
    return Group.objects.get(name="key-owners")


# --- Versions ----------------------------------------------------------------------------------------


def test_an_uploaded_document_is_stored_under_its_sha256(grc_user):
    policy = PolicyFactory(owner=grc_user)
    version = draft(policy, actor=grc_user, document=markdown_document())
    digest = hashlib.sha256(MARKDOWN.encode()).hexdigest()
    assert version.status == VersionStatus.DRAFT and version.created_by == grc_user
    assert version.document_sha256 == digest and version.document_kind == "markdown"
    assert version.document_name == "policy.md" and version.document_size == len(MARKDOWN.encode())
    assert version.document.name == f"policy-documents/{digest[:2]}/{digest}.md"
    with default_storage.open(version.document.name, "rb") as handle:
        assert handle.read() == MARKDOWN.encode()
    assert version.link == ""


def test_two_versions_with_the_same_file_share_it_and_a_deleted_draft_keeps_the_other(
    grc_user, django_capture_on_commit_callbacks
):
    policy = PolicyFactory(owner=grc_user)
    first = draft(policy, actor=grc_user, label="1.0", document=markdown_document())
    second = draft(policy, actor=grc_user, label="1.1", document=markdown_document())
    assert first.document.name == second.document.name
    with django_capture_on_commit_callbacks(execute=True):
        policy_version_delete(version=second, actor=grc_user)
    assert default_storage.exists(first.document.name)
    with django_capture_on_commit_callbacks(execute=True):
        policy_version_delete(version=first, actor=grc_user)
    assert not default_storage.exists(first.document.name)


def test_a_draft_switched_from_its_document_to_a_link_releases_the_file(grc_user, django_capture_on_commit_callbacks):
    version = draft(PolicyFactory(owner=grc_user), actor=grc_user, document=markdown_document())
    stored = version.document.name
    version.link = "https://intranet.example.com/policies/key-management"
    with django_capture_on_commit_callbacks(execute=True):
        policy_version_save(version=version, actor=grc_user)
    version.refresh_from_db()
    assert not version.document and version.document_sha256 == "" and version.link.endswith("/key-management")
    assert not default_storage.exists(stored)


def test_a_version_needs_a_document_or_a_link_but_not_both(grc_user):
    policy = PolicyFactory(owner=grc_user)
    with pytest.raises(ValidationError) as neither:
        policy_version_save(version=PolicyVersion(policy=policy, label="1.0", summary="First."), actor=grc_user)
    assert "Attach the document" in str(neither.value.message_dict["document"])
    with pytest.raises(ValidationError) as both:
        policy_version_save(
            version=PolicyVersion(policy=policy, label="1.0", summary="First.", link="https://example.com/p"),
            actor=grc_user,
            document=markdown_document(),
        )
    assert "not both" in str(both.value.message_dict["link"])
    assert not PolicyVersion.objects.exists()


def test_a_link_must_be_https_and_labels_are_unique_per_policy(grc_user):
    policy = PolicyFactory(owner=grc_user)
    with pytest.raises(ValidationError) as plain_http:
        draft(policy, actor=grc_user, link="http://intranet.example.com/policy")
    assert "https://" in str(plain_http.value.message_dict["link"])
    draft(policy, actor=grc_user, label="1.0")
    with pytest.raises(ValidationError) as duplicate:
        draft(policy, actor=grc_user, label="1.0")
    assert "already has a version with this label" in str(duplicate.value)


def test_free_text_refuses_key_material(grc_user):
    policy = PolicyFactory(owner=grc_user)
    version = PolicyVersion(policy=policy, label="1.0", summary=f"Rotated key:\n{PEM}", link="https://example.com/p")
    with pytest.raises(ValidationError) as refused:
        policy_version_save(version=version, actor=grc_user)
    assert "PEM private key" in str(refused.value.message_dict["summary"])
    with pytest.raises(ValidationError) as in_policy:
        policy_create(
            actor=grc_user,
            title="Secrets",
            owner=grc_user,
            scope="AWS_SECRET_ACCESS_KEY=" + "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY",
        )
    assert "scope" in in_policy.value.message_dict


def test_a_draft_is_edited_then_submitted_and_its_content_is_fixed(grc_user):
    policy = PolicyFactory(owner=grc_user)
    version = draft(policy, actor=grc_user)
    version.summary = "Adds the AI signing keys."
    policy_version_save(version=version, actor=grc_user)
    policy_version_submit(version=version, actor=grc_user)
    version.refresh_from_db()
    assert version.status == VersionStatus.IN_APPROVAL and version.submitted_by == grc_user
    version.summary = "Changed after submission."
    with pytest.raises(FrozenRecordError):
        policy_version_save(version=version, actor=grc_user)
    policy_version_withdraw(version=version, actor=grc_user)
    version.refresh_from_db()
    assert version.status == VersionStatus.DRAFT and version.submitted_at is None
    version.summary = "Changed after withdrawal."
    policy_version_save(version=version, actor=grc_user)
    assert PolicyVersion.objects.get(pk=version.pk).summary == "Changed after withdrawal."


# --- Approval ------------------------------------------------------------------------------------------


@at(D(2026, 3, 10))
def test_approval_puts_the_version_in_force_and_sets_the_next_review(grc_user):
    policy = PolicyFactory(owner=grc_user)
    version = draft(policy, actor=grc_user)
    approval = approve(version, by=grc_user, on=D(2026, 3, 9), body="Security committee")
    policy.refresh_from_db()
    assert version.status == VersionStatus.APPROVED
    assert policy.current_version == version
    assert approval.governance_body == "Security committee" and approval.recorded_by == grc_user
    assert policy.next_review_due_on == D(2027, 3, 9)
    reasons = list(version.history.values_list("history_change_reason", flat=True))
    assert "Approved by Security committee" in reasons


@at(D(2026, 9, 1))
def test_approving_a_new_version_supersedes_the_one_in_force(grc_user):
    policy = policy_in_force(grc=grc_user, approved_on=D(2026, 1, 15))
    first = policy.current_version
    second = draft(policy, actor=grc_user, label="2.0")
    approve(second, by=grc_user, on=D(2026, 8, 31))
    first.refresh_from_db()
    policy.refresh_from_db()
    assert first.status == VersionStatus.SUPERSEDED and first.superseded_by == second and first.superseded_at
    assert second.status == VersionStatus.APPROVED and policy.current_version == second
    assert PolicyVersion.objects.filter(policy=policy, status="approved").count() == 1
    assert policy.next_review_due_on == D(2027, 8, 31)


@at(D(2026, 9, 1))
def test_an_approval_dated_before_the_version_in_force_or_in_the_future_is_refused(grc_user):
    policy = policy_in_force(grc=grc_user, approved_on=D(2026, 6, 1))
    second = draft(policy, actor=grc_user, label="2.0")
    policy_version_submit(version=second, actor=grc_user)
    for day, message in ((D(2026, 5, 1), "cannot be dated earlier"), (D(2026, 9, 2), "cannot be in the future")):
        with pytest.raises(ValidationError) as refused:
            policy_version_approve(
                version=second, actor=grc_user, governance_body="CISO", approver=grc_user, approved_on=day
            )
        assert message in str(refused.value)
    second.refresh_from_db()
    assert second.status == VersionStatus.IN_APPROVAL and not PolicyApproval.objects.filter(version=second).exists()


def test_only_grc_records_an_approval(grc_user, auditor, owner):
    policy = PolicyFactory(owner=grc_user)
    version = draft(policy, actor=grc_user)
    policy_version_submit(version=version, actor=grc_user)
    for actor in (auditor, owner):
        with pytest.raises(PermissionDenied):
            policy_version_approve(
                version=version, actor=actor, governance_body="CISO", approver=actor, approved_on=timezone.localdate()
            )
    version.refresh_from_db()
    assert version.status == VersionStatus.IN_APPROVAL and not PolicyApproval.objects.exists()


def test_a_draft_cannot_be_approved_without_being_submitted(grc_user):
    version = draft(PolicyFactory(owner=grc_user), actor=grc_user)
    with pytest.raises(ValidationError, match="only a version submitted for approval"):
        policy_version_approve(
            version=version, actor=grc_user, governance_body="CISO", approver=grc_user, approved_on=timezone.localdate()
        )


# --- The freeze, through every path ----------------------------------------------------------------------


@pytest.fixture
def approved(grc_user):
    return policy_in_force(grc=grc_user, approved_on=timezone.localdate()).current_version


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("summary", "Rewritten after approval."),
        ("label", "9.9"),
        ("link", "https://example.com/elsewhere"),
        ("document_sha256", "0" * 64),
    ],
)
def test_the_model_refuses_to_change_an_approved_version(approved, field, value):
    setattr(approved, field, value)
    with pytest.raises(FrozenRecordError, match="frozen"):
        approved.save()
    assert getattr(PolicyVersion.objects.get(pk=approved.pk), field) != value


def test_an_approved_version_never_goes_back_to_draft_or_approval(approved):
    for status in (VersionStatus.DRAFT, VersionStatus.IN_APPROVAL):
        approved.status = status
        with pytest.raises(FrozenRecordError, match="cannot become"):
            approved.save()
    assert PolicyVersion.objects.get(pk=approved.pk).status == VersionStatus.APPROVED


def test_the_service_refuses_to_edit_or_delete_an_approved_version(approved, grc_user):
    approved.summary = "Rewritten after approval."
    with pytest.raises(FrozenRecordError, match="only draft versions can be edited"):
        policy_version_save(version=approved, actor=grc_user)
    with pytest.raises(FrozenRecordError, match="only drafts can be deleted"):
        policy_version_delete(version=approved, actor=grc_user)
    with pytest.raises(ValidationError):
        policy_version_submit(version=approved, actor=grc_user)
    assert PolicyVersion.objects.get(pk=approved.pk).summary == "Version 1.0."


def test_bulk_updates_and_deletes_cannot_reach_around_the_freeze(approved, grc_user):
    with pytest.raises(FrozenRecordError):
        PolicyVersion.objects.filter(pk=approved.pk).update(summary="Bulk rewrite.")
    with pytest.raises(FrozenRecordError):
        PolicyVersion.objects.filter(pk=approved.pk).update(status="draft")
    with pytest.raises(FrozenRecordError):
        PolicyVersion.objects.filter(pk=approved.pk).delete()
    with pytest.raises(FrozenRecordError):
        approved.delete()
    other = draft(approved.policy, actor=grc_user, label="2.0")
    assert PolicyVersion.objects.filter(pk=other.pk).update(summary="Drafts can be bulk-edited.") == 1
    assert PolicyVersion.objects.get(pk=approved.pk).summary == "Version 1.0."


def test_approvals_communications_and_acknowledgements_are_write_once(approved, grc_user, owner):
    result = communication_send(version=approved, audiences=[key_owners_group()], actor=grc_user)
    acknowledgement, _ = acknowledgement_record(version=approved, user=owner)
    for record in (approved.approval, result.communication, acknowledgement):
        with pytest.raises(FrozenRecordError):
            record.save()
        with pytest.raises(FrozenRecordError):
            record.delete()
        with pytest.raises(FrozenRecordError):
            type(record).objects.filter(pk=record.pk).update(pk=record.pk)
        with pytest.raises(FrozenRecordError):
            type(record).objects.filter(pk=record.pk).delete()
    assert PolicyApproval.objects.count() == Communication.objects.count() == Acknowledgement.objects.count() == 1


# --- Communication ---------------------------------------------------------------------------------------


def test_only_the_version_in_force_can_be_sent(grc_user):
    policy = PolicyFactory(owner=grc_user)
    version = draft(policy, actor=grc_user)
    with pytest.raises(ValidationError, match="only the approved version in force"):
        communication_send(version=version, audiences=[key_owners_group()], actor=grc_user)
    with pytest.raises(ValidationError, match="at least one group"):
        communication_send(version=version, audiences=[], actor=grc_user)


def test_each_recipient_is_emailed_once_per_version(grc_user, django_capture_on_commit_callbacks):
    version = policy_in_force(
        grc=grc_user, approved_on=timezone.localdate(), title="Key management policy"
    ).current_version
    both = UserFactory(username="both", roles=["key-owners", "auditors"])
    owner_only = UserFactory(username="owner-only", roles=["key-owners"])
    UserFactory(username="no-mail", email="", roles=["key-owners"])
    UserFactory(username="left", roles=["key-owners"], is_active=False)
    groups = [key_owners_group(), Group.objects.get(name="auditors")]
    with django_capture_on_commit_callbacks(execute=True):
        result = communication_send(version=version, audiences=groups, actor=grc_user, message="Please read.")
    assert (result.emailed, result.already, result.without_email) == (2, 0, 1)
    assert sorted(m.to[0] for m in mail.outbox) == sorted([both.email, owner_only.email])
    message = mail.outbox[0]
    assert message.subject == "Please read and acknowledge: Key management policy (version 1.0)"
    assert "https://cek.example.com/evidence/acknowledgements/" in message.body and "Please read." in message.body
    assert message.alternatives and "acknowledge it in the app" in message.alternatives[0][0]

    newcomer = UserFactory(username="newcomer", roles=["key-owners"])
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        again = communication_send(version=version, audiences=[key_owners_group()], actor=grc_user)
    assert (again.emailed, again.already) == (1, 2)
    assert [m.to for m in mail.outbox] == [[newcomer.email]]
    assert PolicyDelivery.objects.filter(version=version).count() == 3
    assert policy_emails_send() == 0  # nothing pending: running the task again sends nothing


def test_a_failed_email_is_released_and_sent_by_the_next_run(grc_user, owner, monkeypatch):
    version = policy_in_force(grc=grc_user, approved_on=timezone.localdate()).current_version
    communication_send(version=version, audiences=[key_owners_group()], actor=grc_user)

    def refuse(*args, **kwargs):
        raise ConnectionRefusedError("SMTP server down")

    monkeypatch.setattr("evidence.policies.services.email_send", refuse)
    assert policy_emails_send() == 0
    delivery = PolicyDelivery.objects.get(recipient=owner)
    assert delivery.emailed_at is None and delivery.attempts == 1 and "SMTP server down" in delivery.last_error
    monkeypatch.undo()
    assert policy_emails_send() == 1
    assert [m.to for m in mail.outbox] == [[owner.email]]
    assert PolicyDelivery.objects.get(recipient=owner).emailed_at is not None


# --- Acknowledgement ---------------------------------------------------------------------------------


def test_acknowledging_is_one_click_and_idempotent(grc_user, owner):
    version = policy_in_force(grc=grc_user, approved_on=timezone.localdate()).current_version
    communication_send(version=version, audiences=[key_owners_group()], actor=grc_user)
    assert list(selectors.acknowledgements_pending(user=owner)) == [version]
    first, created = acknowledgement_record(version=version, user=owner)
    again, created_again = acknowledgement_record(version=version, user=owner)
    assert created and not created_again and first.pk == again.pk
    assert Acknowledgement.objects.filter(version=version, recipient=owner).count() == 1
    assert list(selectors.acknowledgements_pending(user=owner)) == []
    assert first.history.first().history_user == owner


def test_the_database_refuses_a_second_acknowledgement(grc_user, owner):
    version = policy_in_force(grc=grc_user, approved_on=timezone.localdate()).current_version
    Acknowledgement.objects.create(version=version, recipient=owner)
    with pytest.raises(IntegrityError), transaction.atomic():
        Acknowledgement.objects.create(version=version, recipient=owner)


def test_only_recipients_of_the_version_in_force_can_acknowledge(grc_user, owner, auditor):
    policy = policy_in_force(grc=grc_user, approved_on=timezone.localdate() - dt.timedelta(days=10))
    first = policy.current_version
    communication_send(version=first, audiences=[key_owners_group()], actor=grc_user)
    with pytest.raises(ValidationError, match="not sent to any group you belong to"):
        acknowledgement_record(version=first, user=auditor)
    second = draft(policy, actor=grc_user, label="2.0")
    approve(second, by=grc_user, on=timezone.localdate())
    with pytest.raises(ValidationError, match="no longer in force"):
        acknowledgement_record(version=first, user=owner)
    assert list(selectors.acknowledgements_pending(user=owner)) == []  # the new version was not sent yet
    assert not Acknowledgement.objects.exists()


def test_coverage_counts_current_active_members_of_the_audiences(grc_user, owner, other_owner, auditor):
    version = policy_in_force(grc=grc_user, approved_on=timezone.localdate()).current_version
    communication_send(
        version=version, audiences=[key_owners_group(), Group.objects.get(name="auditors")], actor=grc_user
    )
    acknowledgement_record(version=version, user=owner)
    coverage = selectors.version_coverage(versions=[version])[version.pk]
    assert (coverage.acknowledged, coverage.recipients, coverage.percent) == (1, 3, 33)
    by_group = {a.group.name: (a.acknowledged, a.members) for a in coverage.audiences}
    assert by_group == {"auditors": (0, 1), "key-owners": (1, 2)}
    assert {u.username for u in coverage.missing} == {other_owner.username, auditor.username}
    other_owner.is_active = False
    other_owner.save()
    coverage = selectors.version_coverage(versions=[version])[version.pk]
    assert (coverage.acknowledged, coverage.recipients) == (1, 2)
    row = selectors.policy_list(user=grc_user, today=timezone.localdate()).get(pk=version.policy_id)
    assert (row.acknowledged, row.recipients) == (1, 2)


# --- Changes, reviews and the due date ----------------------------------------------------------------------


def record_change(actor, *, policies=(), areas=(), occurred_on=None, title="New KMS region") -> ChangeEvent:
    event = ChangeEvent(
        kind="system",
        title=title,
        description="Keys replicated to a new region.",
        occurred_on=occurred_on,
        areas=list(areas),
    )
    return change_event_save(event=event, actor=actor, policies=policies)


def due(policy: Policy) -> dt.date | None:
    return Policy.objects.get(pk=policy.pk).next_review_due_on


def test_a_change_makes_a_review_due_within_the_set_days_and_a_review_closes_it(grc_user):
    with at(D(2026, 1, 10)):
        policy = policy_in_force(grc=grc_user, approved_on=D(2026, 1, 10))
    assert due(policy) == D(2027, 1, 10)
    with at(D(2026, 3, 1)):
        event = record_change(grc_user, policies=[policy], occurred_on=D(2026, 3, 1))
    assert event.review_due_on == D(2026, 3, 31) and event.recorded_by == grc_user
    assert due(policy) == D(2026, 3, 31)
    with at(D(2026, 3, 20)):
        policy_review_record(
            policy=policy,
            actor=grc_user,
            reviewer=grc_user,
            reviewed_on=D(2026, 3, 20),
            outcome=ReviewOutcome.NO_CHANGE,
        )
    assert due(policy) == D(2027, 3, 20)


def test_a_change_recorded_late_still_leaves_the_set_days(grc_user, settings):
    settings.CEK_CHANGE_REVIEW_DAYS = 10
    with at(D(2026, 1, 10)):
        policy = policy_in_force(grc=grc_user, approved_on=D(2026, 1, 10))
    with at(D(2026, 3, 1)):
        event = record_change(grc_user, policies=[policy], occurred_on=D(2026, 2, 1))
    assert event.review_due_on == D(2026, 3, 11) and due(policy) == D(2026, 3, 11)


def test_a_change_targets_every_policy_covering_its_areas(grc_user):
    with at(D(2026, 1, 10)):
        ai = policy_in_force(grc=grc_user, approved_on=D(2026, 1, 10), title="AI model signing", areas=["ai-models"])
        other = policy_in_force(grc=grc_user, approved_on=D(2026, 1, 10), title="Tenant keys", areas=["cloud"])
        retired = policy_in_force(grc=grc_user, approved_on=D(2026, 1, 10), title="Old", areas=["ai-models"])
        policy_review_record(
            policy=retired, actor=grc_user, reviewer=grc_user, reviewed_on=D(2026, 1, 10), outcome=ReviewOutcome.RETIRED
        )
    with at(D(2026, 4, 1)):
        event = record_change(grc_user, areas=["ai-models"], occurred_on=D(2026, 4, 1), title="New foundation model")
    assert set(event.policies.all()) == {ai}
    assert due(ai) == D(2026, 5, 1) and due(other) == D(2027, 1, 10) and due(retired) is None


def test_a_change_must_affect_at_least_one_policy(grc_user):
    with pytest.raises(ValidationError) as refused:
        record_change(grc_user, areas=["pki"], occurred_on=timezone.localdate())
    assert "Choose the affected policies" in str(refused.value.message_dict["policies"])
    assert not ChangeEvent.objects.exists()


def test_correcting_a_change_moves_the_due_dates_of_the_policies_it_no_longer_affects(grc_user):
    with at(D(2026, 1, 10)):
        first = policy_in_force(grc=grc_user, approved_on=D(2026, 1, 10), title="First")
        second = policy_in_force(grc=grc_user, approved_on=D(2026, 1, 10), title="Second")
    with at(D(2026, 2, 1)):
        event = record_change(grc_user, policies=[first], occurred_on=D(2026, 2, 1))
    assert due(first) == D(2026, 3, 3)
    with at(D(2026, 2, 5)):
        event.occurred_on = D(2026, 2, 3)
        change_event_save(event=event, actor=grc_user, policies=[second])
    assert due(first) == D(2027, 1, 10)
    assert due(second) == D(2026, 3, 5)  # counted from the change; recorded on 1 February, before it took effect


def test_a_policy_without_an_approved_version_has_no_review_due(grc_user):
    policy = PolicyFactory(owner=grc_user)
    draft(policy, actor=grc_user)
    record_change(grc_user, policies=[policy], occurred_on=timezone.localdate())
    assert due(policy) is None


def test_a_policy_approved_on_a_leap_day_is_due_on_28_february_and_overdue_on_1_march(grc_user):
    with at(D(2024, 2, 29)):
        policy = policy_in_force(grc=grc_user, approved_on=D(2024, 2, 29))
    assert due(policy) == D(2025, 2, 28)
    assert not Policy.objects.get(pk=policy.pk).is_review_overdue(D(2025, 2, 28))
    assert Policy.objects.get(pk=policy.pk).is_review_overdue(D(2025, 3, 1))
    assert list(selectors.policy_reviews_overdue(today=D(2025, 3, 1))) == [policy]
    with at(D(2025, 2, 28)):
        policy_review_record(
            policy=policy, actor=grc_user, reviewer=grc_user, reviewed_on=D(2025, 2, 28), outcome="no-change"
        )
    assert due(policy) == D(2026, 2, 28)


def test_retiring_a_policy_ends_reviews_acknowledgements_and_new_versions(grc_user, owner):
    policy = policy_in_force(grc=grc_user, approved_on=timezone.localdate())
    communication_send(version=policy.current_version, audiences=[key_owners_group()], actor=grc_user)
    policy_review_record(
        policy=policy,
        actor=grc_user,
        reviewer=grc_user,
        reviewed_on=timezone.localdate(),
        outcome=ReviewOutcome.RETIRED,
    )
    policy.refresh_from_db()
    assert policy.retired_on == timezone.localdate() and policy.next_review_due_on is None
    assert list(selectors.acknowledgements_pending(user=owner)) == []
    with pytest.raises(ValidationError, match="retired"):
        draft(policy, actor=grc_user, label="2.0")
    with pytest.raises(ValidationError, match="retired"):
        policy_review_record(
            policy=policy, actor=grc_user, reviewer=grc_user, reviewed_on=timezone.localdate(), outcome="no-change"
        )


def test_a_review_cannot_be_dated_in_the_future(grc_user):
    policy = policy_in_force(grc=grc_user, approved_on=timezone.localdate())
    with pytest.raises(ValidationError, match="cannot be in the future"):
        policy_review_record(
            policy=policy,
            actor=grc_user,
            reviewer=grc_user,
            reviewed_on=timezone.localdate() + dt.timedelta(days=1),
            outcome="no-change",
        )


def test_the_refresh_heals_a_due_date_changed_behind_the_services_back(grc_user):
    policy = policy_in_force(grc=grc_user, approved_on=timezone.localdate())
    expected = due(policy)
    Policy.objects.filter(pk=policy.pk).update(next_review_due_on=D(2000, 1, 1))
    assert policy_review_due_refresh() == 1
    assert due(policy) == expected
    assert policy_review_due_refresh() == 0


def test_evaluations_require_findings_unless_effective(grc_user):
    from evidence.models import EffectivenessEvaluation

    evaluation = EffectivenessEvaluation(
        kind="technical-review",
        title="KMS policy review",
        performed_on=timezone.localdate(),
        scope="Key policies of the production KMS.",
        result="partially-effective",
        performed_by=grc_user,
    )
    with pytest.raises(ValidationError) as refused:
        evaluation_save(evaluation=evaluation, actor=grc_user)
    assert "findings" in refused.value.message_dict
    evaluation.findings = "Two keys allow both encrypt and sign."
    policy = PolicyFactory(owner=grc_user)
    evaluation_save(evaluation=evaluation, actor=grc_user, policies=[policy])
    assert list(policy.evaluations.all()) == [evaluation] and evaluation.recorded_by == grc_user
