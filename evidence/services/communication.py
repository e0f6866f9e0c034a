"""Communication of approved versions (e-mailing each recipient once) and acknowledgements."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from cek.jobs import send_on_commit
from evidence import selectors
from evidence.emails import absolute_url, email_send
from evidence.models import Acknowledgement, Communication, PolicyDelivery, PolicyVersion, VersionStatus
from evidence.services.policies import locked_version
from evidence.services.writes import refuse_if_retired, save_attributed

logger = logging.getLogger(__name__)

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
    # If the broker is down the deliveries stay pending; the periodic sweep sends them later.
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
