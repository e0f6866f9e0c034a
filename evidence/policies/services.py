"""Writes of the policies: policies and their versions (create and edit, submit for approval, withdraw, delete
drafts, approve), communication of the version in force to audiences (e-mailing each recipient once) and
acknowledgements. Views, admin, tasks and commands call these; none of them save models directly.

Each service validates (``full_clean``), saves inside ``transaction.atomic``, attributes the change to ``actor`` in
the history tables (``evidence.writes``), keeps the derived review due dates current
(``evidence.reviews.services``) and queues e-mail on commit (``evidence.policies.tasks``).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from cek.history import attribute, save_attributed
from cek.jobs import send_on_commit
from evidence.documents.uploads import Document
from evidence.emails import absolute_url, email_send
from evidence.models import (
    Acknowledgement,
    Communication,
    FrozenRecordError,
    Policy,
    PolicyApproval,
    PolicyDelivery,
    PolicyVersion,
    VersionStatus,
)
from evidence.policies import selectors
from evidence.policies.models import document_upload_path
from evidence.reviews.services import policy_review_due_refresh
from evidence.writes import not_in_future, refuse_if_retired, require_grc

logger = logging.getLogger(__name__)

# --- Policies --------------------------------------------------------------------------------------


def policy_save(*, policy: Policy, actor) -> Policy:
    """Create or update a policy's own fields (title, kind, owner, description, scope, areas)."""
    if policy.pk:
        refuse_if_retired(policy)
    policy.full_clean()
    with transaction.atomic():
        save_attributed(policy, actor=actor)
    return policy


def policy_create(*, actor, **fields) -> Policy:
    return policy_save(policy=Policy(**fields), actor=actor)


# --- Versions --------------------------------------------------------------------------------------


def _release_document(name: str) -> None:
    """Delete a stored document once no version refers to it any more (names are content hashes, so two
    versions with the same file share it)."""

    def release() -> None:
        if name and not PolicyVersion.objects.filter(document=name).exists():
            default_storage.delete(name)

    transaction.on_commit(release, robust=True)


def policy_version_save(*, version: PolicyVersion, actor, document: Document | None = None) -> PolicyVersion:
    """Create or update a draft version. ``document`` (from ``evidence.documents.uploads.document_inspect``) replaces
    the uploaded file; without it a version keeps its file, or uses its link when it has one.

    A version has exactly one of a document and a link. Only drafts can be changed."""
    creating = version.pk is None
    if not creating:
        stored = PolicyVersion.objects.filter(pk=version.pk).values_list("status", flat=True).first()
        if stored != VersionStatus.DRAFT:
            raise FrozenRecordError(
                f"Version {version.label} is {VersionStatus(stored).label.lower()}: only draft versions can be "
                "edited. Create a new version instead."
            )
    refuse_if_retired(version.policy)
    if creating:
        version.created_by = actor
        version.status = VersionStatus.DRAFT
    previous_name = version.document.name or ""
    if document is not None:
        if version.link:
            raise ValidationError({"link": "Give either a document or a link, not both: clear the link."})
        version.document_name = document.name
        version.document_kind = document.kind
        version.document_size = document.size
        version.document_sha256 = document.sha256
        version.document.name = document_upload_path(version, document.name)
    elif version.link:
        version.document.name = ""
        version.document_name = version.document_kind = version.document_sha256 = ""
        version.document_size = None
    elif not previous_name:
        raise ValidationError(
            {
                "document": "Attach the document (PDF, DOCX or Markdown) or give the https:// address where it is "
                "published."
            }
        )
    version.full_clean()

    new_file = ""
    try:
        with transaction.atomic():
            if document is not None and not default_storage.exists(version.document.name):
                # Otherwise the same bytes are stored already: the name is their hash.
                new_file = default_storage.save(version.document.name, ContentFile(document.data))
                version.document.name = new_file
            reason = "" if creating else ("New document uploaded" if document is not None else "")
            save_attributed(version, actor=actor, reason=reason)
    except BaseException:
        if new_file:
            _delete_if_unused(new_file)
        raise
    if previous_name and previous_name != (version.document.name or ""):
        _release_document(previous_name)
    return version


def _delete_if_unused(name: str) -> None:
    if not PolicyVersion.objects.filter(document=name).exists():
        default_storage.delete(name)


def locked_version(version: PolicyVersion) -> PolicyVersion:
    return PolicyVersion.objects.select_for_update().select_related("policy").get(pk=version.pk)


def policy_version_submit(*, version: PolicyVersion, actor) -> PolicyVersion:
    """Send a draft to the governance body: its content is fixed from now on."""
    with transaction.atomic():
        locked = locked_version(version)
        if locked.status != VersionStatus.DRAFT:
            raise ValidationError(f"Version {locked.label} is {locked.get_status_display().lower()}, not a draft.")
        refuse_if_retired(locked.policy)
        locked.status = VersionStatus.IN_APPROVAL
        locked.submitted_at = timezone.now()
        locked.submitted_by = actor
        save_attributed(locked, actor=actor, reason="Submitted for approval")
    return locked


def policy_version_withdraw(*, version: PolicyVersion, actor) -> PolicyVersion:
    """Take a version back from approval to draft, to change it."""
    with transaction.atomic():
        locked = locked_version(version)
        if locked.status != VersionStatus.IN_APPROVAL:
            raise ValidationError(f"Version {locked.label} is {locked.get_status_display().lower()}, not in approval.")
        locked.status = VersionStatus.DRAFT
        locked.submitted_at = None
        locked.submitted_by = None
        save_attributed(locked, actor=actor, reason="Withdrawn from approval")
    return locked


def policy_version_delete(*, version: PolicyVersion, actor) -> None:
    """Delete a draft entered in error. Submitted, approved and superseded versions are evidence and stay."""
    with transaction.atomic():
        locked = locked_version(version)
        if locked.status != VersionStatus.DRAFT:
            raise FrozenRecordError(
                f"Version {locked.label} is {locked.get_status_display().lower()}: only drafts can be deleted."
            )
        name = locked.document.name or ""
        attribute(locked, actor=actor)
        locked.delete()
    if name:
        _release_document(name)


def policy_version_approve(
    *,
    version: PolicyVersion,
    actor,
    governance_body: str,
    approver,
    approved_on: dt.date,
    reference: str = "",
) -> PolicyApproval:
    """Record the governance body's approval of a version in approval (GRC only). The version becomes the
    one in force and is frozen; the version that was in force becomes superseded; the next review is due
    12 months after ``approved_on`` (or sooner, for an open change)."""
    require_grc(actor, "record the approval of a policy")
    with transaction.atomic():
        policy = Policy.objects.select_for_update().get(pk=version.policy_id)
        locked = locked_version(version)
        if policy.retired_on is not None:
            raise ValidationError(f"“{policy}” was retired on {policy.retired_on:%Y-%m-%d}; it cannot be approved.")
        if locked.status != VersionStatus.IN_APPROVAL:
            raise ValidationError(
                f"Version {locked.label} is {locked.get_status_display().lower()}; only a version submitted for "
                "approval can be approved."
            )
        not_in_future(approved_on, "approved_on", "The approval date")
        previous = (
            PolicyVersion.objects.select_related("approval").filter(pk=policy.current_version_id).first()
            if policy.current_version_id
            else None
        )
        if previous is not None and approved_on < previous.approval.approved_on:
            raise ValidationError(
                {
                    "approved_on": f"Version {previous.label}, in force now, was approved on "
                    f"{previous.approval.approved_on:%Y-%m-%d}; the new approval cannot be dated earlier."
                }
            )
        approval = PolicyApproval(
            version=locked,
            governance_body=governance_body,
            approver=approver,
            approved_on=approved_on,
            reference=reference,
            recorded_by=actor,
        )
        approval.full_clean()
        save_attributed(approval, actor=actor)
        if previous is not None:
            previous.status = VersionStatus.SUPERSEDED
            previous.superseded_at = timezone.now()
            previous.superseded_by = locked
            save_attributed(previous, actor=actor, reason=f"Superseded by version {locked.label}")
        locked.status = VersionStatus.APPROVED
        save_attributed(locked, actor=actor, reason=f"Approved by {governance_body}")
        policy.current_version = locked
        save_attributed(policy, actor=actor, reason=f"Version {locked.label} approved and in force")
        policy_review_due_refresh(policy_ids=[policy.pk])
    version.refresh_from_db()
    return approval


MAX_EMAIL_ATTEMPTS = 5


# --- Communication and acknowledgement ----------------------------------------------------------------


@dataclass(frozen=True)
class SendResult:
    communication: Communication
    emailed: int  # recipients e-mailed now
    already: int  # recipients e-mailed this version by an earlier communication
    without_email: int  # recipients with no e-mail address: they see it in the app only


def communication_send(*, version: PolicyVersion, audiences: Iterable, actor, message: str = "") -> SendResult:
    """Send the version in force to audience groups: every active member is e-mailed once per version (a
    member of two groups, or of a group it was sent to before, is not mailed again). The e-mails go out
    from a worker after the commit."""
    audiences = list(audiences)
    if not audiences:
        raise ValidationError({"audiences": "Choose at least one group to send the policy to."})
    with transaction.atomic():
        locked = locked_version(version)
        refuse_if_retired(locked.policy)
        if locked.status != VersionStatus.APPROVED:
            raise ValidationError(
                f"Version {locked.label} is {locked.get_status_display().lower()}: only the approved version in "
                "force can be sent."
            )
        recipients = list(
            get_user_model()
            .objects.filter(is_active=True, groups__in=audiences)
            .distinct()
            .order_by("pk")
            .only("pk", "email")
        )
        delivered = set(PolicyDelivery.objects.filter(version=locked).values_list("recipient_id", flat=True))
        new = [user for user in recipients if user.pk not in delivered and user.email]
        communication = Communication(
            version=locked, message=message, sent_by=actor, recipient_count=len(new), sent_at=timezone.now()
        )
        communication.full_clean()
        save_attributed(communication, actor=actor)
        communication.audiences.set(audiences)
        PolicyDelivery.objects.bulk_create(
            [
                PolicyDelivery(communication=communication, version=locked, recipient=user, email=user.email)
                for user in new
            ]
        )
        if new:
            _queue_emails(communication.pk)
    return SendResult(
        communication=communication,
        emailed=len(new),
        already=sum(1 for user in recipients if user.pk in delivered),
        without_email=sum(1 for user in recipients if user.pk not in delivered and not user.email),
    )


def _queue_emails(communication_id: int) -> None:
    # Queued by name when the transaction commits. If the broker is down the deliveries stay pending; the
    # periodic sweep sends them later.
    send_on_commit(
        "evidence.tasks.policy_communication_emails",
        [communication_id],
        what=f"the e-mails of communication {communication_id}",
    )


def policy_emails_send(*, communication_id: int | None = None, limit: int = 1000) -> int:
    """Send pending policy e-mails (of one communication, or all): each delivery is claimed before it is
    sent, so two workers never mail the same person twice; a failed send is released for a later retry
    (up to ``MAX_EMAIL_ATTEMPTS``). Returns the number of e-mails sent."""
    pending = PolicyDelivery.objects.pending().filter(
        attempts__lt=MAX_EMAIL_ATTEMPTS, version__status=VersionStatus.APPROVED
    )
    if communication_id is not None:
        pending = pending.filter(communication_id=communication_id)
    sent = 0
    for delivery in pending.select_related("version__policy", "communication__sent_by", "recipient").order_by("pk")[
        :limit
    ]:
        claimed = PolicyDelivery.objects.filter(pk=delivery.pk, emailed_at__isnull=True).update(
            emailed_at=timezone.now(), attempts=F("attempts") + 1
        )
        if not claimed:
            continue
        version = delivery.version
        context = {
            "recipient": delivery.recipient,
            "version": version,
            "policy": version.policy,
            "communication": delivery.communication,
            "policy_url": absolute_url(version.policy.get_absolute_url()),
            "acknowledge_url": absolute_url(reverse("evidence:acknowledgement-list")),
            "document_url": absolute_url(reverse("evidence:version-document", args=[version.pk]))
            if version.document
            else version.link,
        }
        try:
            email_send(name="policy_communication", to=[delivery.email], context=context)
        except Exception as exc:  # the mail server refused or is away: release the claim for a retry
            logger.warning("Policy e-mail %s to %s not sent: %s", delivery.pk, delivery.email, exc)
            PolicyDelivery.objects.filter(pk=delivery.pk).update(emailed_at=None, last_error=str(exc)[:300])
            continue
        sent += 1
    return sent


def acknowledgement_record(*, version: PolicyVersion, user) -> tuple[Acknowledgement, bool]:
    """One click: ``user`` confirms they read the version in force that was sent to them. Acknowledging
    again returns the first acknowledgement (``created`` False)."""
    existing = Acknowledgement.objects.filter(version=version, recipient=user).first()
    if existing is not None:
        return existing, False
    version = PolicyVersion.objects.select_related("policy").get(pk=version.pk)
    if version.status != VersionStatus.APPROVED or version.policy.retired_on is not None:
        raise ValidationError(
            f"{version} is no longer in force ({version.get_status_display().lower()}); acknowledge the current "
            "version instead."
        )
    if not selectors.is_in_audience(version=version, user=user):
        raise ValidationError(f"{version} was not sent to any group you belong to, so there is nothing to acknowledge.")
    acknowledgement = Acknowledgement(version=version, recipient=user, acknowledged_at=timezone.now())
    try:
        with transaction.atomic():
            save_attributed(acknowledgement, actor=user)
    except IntegrityError:  # a double click raced the first one
        return Acknowledgement.objects.get(version=version, recipient=user), False
    return acknowledgement, True
