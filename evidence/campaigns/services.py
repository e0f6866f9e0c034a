"""Writes of the attestation campaigns: create, launch (inline for small scopes, on a worker for large ones),
answer (confirm in bulk, report a discrepancy), reassign, remind and escalate, close (recording the digest of the
results file, ``evidence.campaigns.results``). Views, admin, tasks and
commands call these; none of them save models directly.

Launch mails each addressee once, with a link to their inbox; reminders mail each addressee with pending
attestations once per cadence day; escalations mail GRC the overdue owners. Every mail is claimed as a
``CampaignNotice`` row first, so re-running a launch or a reminder sweep never mails anyone twice a day. When
reminders and escalations are due is ``evidence.campaigns.schedule``. A launch on a worker is a background job
(``cek.jobs``, as ``Campaign.job`` declares): queued through ``cek.jobs.enqueue``, queued again by the shared
watchdog when it stalls.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from collections.abc import Iterable

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import CharField, Count, Exists, F, IntegerField, OuterRef, Q, QuerySet, Value
from django.db.models.constants import OnConflict
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone

from cek.history import save_attributed
from cek.jobs import JobStopped, Progress, enqueue
from cek.jobs.progress import progress_clear
from cek.jobs.watchdog import sweep
from cek.keymaterial import check_text
from cek.people import person_name
from cek.roles import Role
from cek.tablestats import statistics_refresh
from evidence.campaigns import schedule
from evidence.campaigns.carryover import carried_over
from evidence.campaigns.results import campaign_results_digest
from evidence.emails import absolute_url, email_send
from evidence.findings.services import finding_upsert
from evidence.models import (
    DEFAULT_STATEMENT_VERSION,
    STATEMENT_SETS,
    Attestation,
    AttestationStatus,
    Campaign,
    CampaignNotice,
    CampaignStatus,
    CarriedOver,
    NoticeKind,
    Severity,
    statements_digest,
)
from evidence.writes import require_grc, today_local
from inventory.models import Key, KeyState

logger = logging.getLogger(__name__)

BATCH_SIZE = 1000
# Keys per launch statement (each chunk its own transaction, so a launch queued again goes on where it stopped):
# large enough that a million keys is a hundred-odd statements, small enough that one stays a second or two.
LAUNCH_CHUNK = 10_000
DISCREPANCY_RULE = "attestation-discrepancy"


def inline_limit() -> int:
    """Scopes up to this many keys launch in the request; larger ones on a worker."""
    return settings.CEK_CAMPAIGN_INLINE_KEYS


def campaign_keys(campaign: Campaign) -> QuerySet[Key]:
    """The active keys in the campaign's scope."""
    keys = Key.objects.filter(state=KeyState.ACTIVE)
    if campaign.scope_store_id:
        keys = keys.filter(store_id=campaign.scope_store_id)
    if campaign.scope_purpose_id:
        keys = keys.filter(purpose_id=campaign.scope_purpose_id)
    if campaign.scope_tenant_id:
        keys = keys.filter(tenant_id=campaign.scope_tenant_id)
    if campaign.scope_service_id:
        keys = keys.filter(pk__in=Key.objects.filter(bindings__service_id=campaign.scope_service_id).values("pk"))
    return keys


def campaign_create(
    *,
    actor,
    name: str,
    due_on: dt.date,
    reminder_days: int = schedule.DEFAULT_REMINDER_DAYS,
    statement_version: str | None = None,
    store=None,
    purpose=None,
    tenant=None,
    service=None,
    only_changed: bool = False,
) -> Campaign:
    """GRC drafts a campaign. The statements are copied from the versioned set with their SHA-256. With
    ``only_changed`` the launch carries over keys unchanged since their last confirmed attestation
    (``evidence.campaigns.carryover``) instead of asking again."""
    require_grc(actor, "create attestation campaigns")
    version = statement_version or DEFAULT_STATEMENT_VERSION
    if version not in STATEMENT_SETS:
        raise ValidationError(
            {"statement_version": f"“{version}” is not a statement set; expected one of: {', '.join(STATEMENT_SETS)}."}
        )
    if due_on is not None and due_on < today_local():
        raise ValidationError({"due_on": f"The due date {due_on:%Y-%m-%d} is in the past."})
    statements = list(STATEMENT_SETS[version])
    campaign = Campaign(
        name=name,
        due_on=due_on,
        reminder_days=reminder_days,
        statement_version=version,
        statements=statements,
        statements_sha256=statements_digest(statements),
        scope_store=store,
        scope_purpose=purpose,
        scope_tenant=tenant,
        scope_service=service,
        only_changed=only_changed,
        created_by=actor,
    )
    campaign.full_clean()
    with transaction.atomic():
        save_attributed(campaign, actor=actor, reason="Drafted")
    return campaign


def campaign_launch(*, campaign: Campaign, actor) -> Campaign:
    """GRC launches a draft: one attestation per key in scope, addressed to its owner (else backup owner),
    and one e-mail per addressee. Scopes over ``CEK_CAMPAIGN_INLINE_KEYS`` keys run on a worker, queued on
    commit; the campaign shows "launching" with its progress until the worker is done."""
    require_grc(actor, "launch attestation campaigns")
    with transaction.atomic():
        locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
        if locked.status != CampaignStatus.DRAFT:
            raise ValidationError(f"“{locked}” is {locked.get_status_display().lower()}; only a draft can be launched.")
        total = campaign_keys(locked).count()
        if total == 0:
            raise ValidationError("No active key is in this campaign's scope; widen the scope before launching.")
        locked.status = CampaignStatus.LAUNCHING
        locked.launched_at = timezone.now()
        locked.launched_by = actor
        locked.keys_total = total
        locked.keys_done = 0
        save_attributed(locked, actor=actor, reason="Launch requested")
        background = total > inline_limit()
        if background:
            # Queued on commit. If the broker is down it stays "launching" and the watchdog queues it again.
            enqueue(locked, robust=True)
    if not background:
        campaign_launch_run(campaign_id=locked.pk)
        locked.refresh_from_db()
    return locked


def campaigns_requeue_stalled(*, now: dt.datetime | None = None) -> int:
    """Campaigns still launching with no sign of life for ``CEK_CAMPAIGN_LAUNCH_STALE_MINUTES`` (the broker lost
    the task, or the worker stopped mid-launch) are queued again, at most once per that many minutes each, with
    the reason shown until the launch finishes. Safe: a launch skips the attestations and notices it made already,
    so a second task for a launch that was only slow does no harm. Returns how many were queued again. (The
    shared watchdog for this kind; beat runs it for all.)"""
    return sweep(Campaign.job, now=now)["running_requeued"]


def campaign_launch_run(*, campaign_id: int) -> int:
    """Create the attestations of a launching campaign, ``LAUNCH_CHUNK`` keys at a time, each chunk one
    ``INSERT ... SELECT`` in its own transaction (re-running skips keys already attested or carried over), mark it
    launched, then mail each addressee once. Returns attestations created."""
    campaign = Campaign.objects.filter(pk=campaign_id).first()
    if campaign is None or campaign.status != CampaignStatus.LAUNCHING:
        return 0
    phase = "creating the attestations"
    now = timezone.now()
    Campaign.objects.filter(pk=campaign.pk, status=CampaignStatus.LAUNCHING).update(
        attempts=F("attempts") + 1, started_at=now, heartbeat_at=now, phase=phase
    )
    progress = Progress(Campaign.job, campaign.pk)
    created = seen = 0
    last_pk = 0
    # A re-run (the task queued again) skips keys already carried over, as the insert skips those already asked.
    keys = campaign_keys(campaign).exclude(pk__in=CarriedOver.objects.filter(campaign=campaign).values("key_id"))
    try:
        while last_pk is not None:
            # The chunk: the next LAUNCH_CHUNK keys in scope by id (the last one's id bounds it; none: the rest).
            bound = (
                keys.filter(pk__gt=last_pk).order_by("pk").values_list("pk", flat=True)[LAUNCH_CHUNK - 1 : LAUNCH_CHUNK]
            ).first()
            chunk = keys.filter(pk__gt=last_pk) if bound is None else keys.filter(pk__gt=last_pk, pk__lte=bound)
            with transaction.atomic():
                if campaign.only_changed:
                    carried = carried_over(campaign=campaign, key_ids=chunk.values("pk"))
                    CarriedOver.objects.bulk_create(
                        [
                            CarriedOver(campaign_id=campaign.pk, key_id=pk, attestation_id=attestation_id)
                            for pk, attestation_id in carried.items()
                        ],
                        ignore_conflicts=True,
                        batch_size=BATCH_SIZE,
                    )
                # ``chunk`` excludes the keys just carried over: its subquery reads CarriedOver when it runs.
                created += _attestations_insert(campaign=campaign, keys=chunk)
                seen = campaign.keys_total if bound is None else min(campaign.keys_total, seen + LAUNCH_CHUNK)
                Campaign.objects.filter(pk=campaign.pk).update(keys_done=seen)
            progress(100 * seen // max(campaign.keys_total, 1), phase, done=seen, total=campaign.keys_total)
            last_pk = bound
    except JobStopped:
        return created  # launched meanwhile by another task for the same launch (one queued again)
    except Exception as exc:
        Campaign.objects.filter(pk=campaign.pk).update(last_error=str(exc)[:1000])
        raise
    statistics_refresh(Attestation, written=created)
    done = Attestation.objects.filter(campaign=campaign).count()
    Campaign.objects.filter(pk=campaign.pk, status=CampaignStatus.LAUNCHING).update(
        status=CampaignStatus.LAUNCHED,
        keys_carried_over=CarriedOver.objects.filter(campaign=campaign).count(),
        keys_done=done,
        keys_total=done,
        last_error="",
        progress=100,
        phase="",
        finished_at=timezone.now(),
    )
    progress_clear(Campaign.job, campaign.pk)
    campaign.refresh_from_db()
    _mail_addressees(campaign=campaign, kind=NoticeKind.LAUNCH, day=today_local(), name="campaign_launch")
    return created


def _attestations_insert(*, campaign: Campaign, keys: QuerySet[Key]) -> int:
    """One pending attestation of ``campaign`` per key of ``keys``, addressed to its owner (else its backup owner),
    in one ``INSERT ... SELECT``: the rows never pass through Python, so a chunk costs the same few statements
    whether it holds 3 keys or 10,000. Keys already attested in the campaign are skipped (the unique constraint,
    ignored on conflict). Returns the rows inserted. The values are those ``Attestation(campaign=..., key=...,
    addressed_to=...)`` would be saved with: every other column's default."""
    defaults = {
        "status": AttestationStatus.PENDING.value,
        "comment": "",
        "statement_version": "",
        "statements_sha256": "",
    }
    # Every column an annotation, in the insert's order (Django selects annotations in the order they were added).
    values = {
        "a_campaign": Value(campaign.pk, output_field=IntegerField()),
        "a_key": F("pk"),
        "a_addressed_to": Coalesce("owner_id", "backup_owner_id"),
        **{f"a_{name}": Value(value, output_field=CharField()) for name, value in defaults.items()},
    }
    select = keys.order_by().annotate(**values).values_list(*values)
    sql, params = select.query.sql_with_params()
    meta = Attestation._meta
    quote = connection.ops.quote_name
    columns = [meta.get_field(name).column for name in ("campaign", "key", "addressed_to", *defaults)]
    insert = connection.ops.insert_statement(on_conflict=OnConflict.IGNORE)
    suffix = connection.ops.on_conflict_suffix_sql(None, OnConflict.IGNORE, None, None)
    with connection.cursor() as cursor:
        cursor.execute(f"{insert} {quote(meta.db_table)} ({', '.join(map(quote, columns))}) {sql} {suffix}", params)
        return max(cursor.rowcount, 0)


def _pending_by_addressee(campaign: Campaign) -> Counter:
    return Counter(
        dict(
            Attestation.objects.filter(campaign=campaign, status=AttestationStatus.PENDING, addressed_to__isnull=False)
            .order_by()  # without the default ordering's joins to the campaign and the key
            .values_list("addressed_to")
            .annotate(n=Count("pk"))
            .values_list("addressed_to", "n")
        )
    )


def _claim(*, campaign: Campaign, recipient, kind: str, day: dt.date, pending: int) -> bool:
    if (
        kind == NoticeKind.LAUNCH
        and CampaignNotice.objects.filter(campaign=campaign, recipient=recipient, kind=kind).exists()
    ):
        return False
    try:
        with transaction.atomic():
            CampaignNotice.objects.create(
                campaign=campaign, recipient=recipient, kind=kind, sent_on=day, pending_count=pending
            )
    except IntegrityError:
        return False
    return True


def _mail_addressees(*, campaign: Campaign, kind: str, day: dt.date, name: str) -> list[str]:
    pending = _pending_by_addressee(campaign)
    users = get_user_model().objects.filter(pk__in=pending.keys(), is_active=True).order_by("pk")
    inbox_url = absolute_url(reverse("evidence:attestation-inbox"))
    sent = []
    for user in users:
        if not user.email or not _claim(
            campaign=campaign, recipient=user, kind=kind, day=day, pending=pending[user.pk]
        ):
            continue
        context = {"campaign": campaign, "recipient": user, "pending": pending[user.pk], "inbox_url": inbox_url}
        try:
            email_send(name=name, to=[user.email], context=context)
        except Exception as exc:  # release the claim so the next run retries
            logger.warning("Campaign %s e-mail to %s not sent: %s", campaign.pk, user.email, exc)
            CampaignNotice.objects.filter(campaign=campaign, recipient=user, kind=kind, sent_on=day).delete()
            continue
        sent.append(user.email)
    return sent


# --- Answers ---------------------------------------------------------------------------------------------


def may_answer(user) -> Q:
    """Attestations ``user`` may answer: addressed to them, or on a key they own or back up (the backup owner
    answers when the owner is absent)."""
    return Q(addressed_to=user) | Q(key__owner=user) | Q(key__backup_owner=user)


def _answerable(*, actor, ids: list[int]) -> QuerySet[Attestation]:
    if not ids:
        raise ValidationError("Select at least one key to answer for.")
    wanted = Attestation.objects.filter(pk__in=ids)
    # Lock the campaigns answered for (in id order, so two answers never wait on each other in a cycle): a close
    # that runs now either waits for this answer, whose row is then in the recorded results, or has finished,
    # and the status check below sees the campaign closed.
    list(
        Campaign.objects.select_for_update()
        .filter(pk__in=wanted.values("campaign_id"))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    mine = wanted.filter(may_answer(actor)).distinct()
    if mine.count() != len(set(ids)):
        raise PermissionDenied("You can only answer attestations addressed to you or on keys you own or back up.")
    blocked = (
        mine.exclude(status=AttestationStatus.PENDING).count()
        + mine.exclude(campaign__status=CampaignStatus.LAUNCHED).count()
    )
    if blocked:
        raise ValidationError(
            "Some of the selected attestations were already answered or their campaign is closed; answers are "
            "frozen. Reload the page and answer the pending ones."
        )
    return Attestation.objects.filter(pk__in=ids)


def _answer_fields(campaign: Campaign, actor) -> dict:
    return {
        "responded_by": actor,
        "responded_at": timezone.now(),
        "statement_version": campaign.statement_version,
        "statements_sha256": campaign.statements_sha256,
    }


def attestation_confirm(*, attestations: Iterable, actor) -> int:
    """Confirm one or many pending attestations (ids or instances) in one update per campaign: records who,
    when, the statement version and its digest. Returns the number confirmed."""
    ids = sorted({getattr(a, "pk", a) for a in attestations})
    with transaction.atomic():
        selected = _answerable(actor=actor, ids=ids)
        confirmed = 0
        for campaign in Campaign.objects.filter(pk__in=selected.values("campaign_id")):
            confirmed += selected.filter(campaign=campaign).update(
                status=AttestationStatus.CONFIRMED, **_answer_fields(campaign, actor)
            )
    return confirmed


def attestation_confirm_all(*, actor, campaign: Campaign | None = None) -> int:
    """Confirm every pending attestation ``actor`` may answer (of one campaign, or of all launched ones), as
    :func:`attestation_confirm` records an answer. Set-based: the campaigns with something to confirm are locked
    (in id order, as an answer locks them), then each takes two ``UPDATE`` statements, one for the attestations
    addressed to ``actor``, one for those on keys they own or back up, whatever the number of keys. No list of
    ids is read (it was, and sent back as parameters: 85,115 for one owner at 100,000 keys; at a million keys the
    query listing them ran for over six minutes). Returns the number confirmed."""
    theirs = Key.objects.filter(Q(owner=actor) | Q(backup_owner=actor)).values("pk")
    pending = Attestation.objects.filter(campaign=OuterRef("pk"), status=AttestationStatus.PENDING)
    campaigns = Campaign.objects.filter(
        Exists(pending.filter(addressed_to=actor)) | Exists(pending.filter(key_id__in=theirs)),
        status=CampaignStatus.LAUNCHED,
    ).order_by("pk")
    if campaign is not None:
        campaigns = campaigns.filter(pk=campaign.pk)
    confirmed = 0
    with transaction.atomic():
        for locked in campaigns.select_for_update():
            answer = {"status": AttestationStatus.CONFIRMED, **_answer_fields(locked, actor)}
            # Two statements rather than one with "addressed to them OR on their keys": under an OR, PostgreSQL
            # cannot turn the keys' subquery into a join (it becomes a subplan per row, hashed only while the
            # owner's keys fit in work_mem). The second finds no row the first confirmed: those are no longer pending.
            in_campaign = Attestation.objects.filter(campaign=locked)
            confirmed += in_campaign.filter(addressed_to=actor).update(**answer)
            confirmed += in_campaign.filter(key_id__in=theirs).update(**answer)
    return confirmed


def attestation_report_discrepancy(*, attestation: Attestation, actor, comment: str):
    """Report that a key does not match the statements, with a comment; opens (or updates) the key's
    "attestation-discrepancy" finding for GRC. Returns (attestation, finding)."""
    comment = (comment or "").strip()
    if not comment:
        raise ValidationError({"comment": "Describe the discrepancy: what is wrong with this key's record?"})
    check_text(comment, field="The discrepancy comment")
    with transaction.atomic():
        selected = _answerable(actor=actor, ids=[attestation.pk])
        answered = selected.select_related("campaign", "key").get()
        fields = _answer_fields(answered.campaign, actor)
        selected.update(status=AttestationStatus.DISCREPANCY, comment=comment, **fields)
        answered.refresh_from_db()
        finding, _created = finding_upsert(
            rule=DISCREPANCY_RULE,
            subject=answered.key,
            severity=Severity.HIGH,
            details={
                "campaign_id": answered.campaign_id,
                "campaign": answered.campaign.name,
                "attestation_id": answered.pk,
                "reported_by": person_name(actor),  # the finding's page shows its details to people
                "comment": comment,
                "statement_version": answered.statement_version,
                "statements_sha256": answered.statements_sha256,
            },
            seen_at=answered.responded_at,
            actor=actor,
        )
    return answered, finding


def attestation_reassign(*, attestation: Attestation, actor, to) -> Attestation:
    """GRC addresses a pending attestation to someone else (recorded with who, when and from whom)."""
    require_grc(actor, "reassign attestations")
    if to is None or not to.is_active:
        raise ValidationError({"to": "Choose an active user to address the attestation to."})
    with transaction.atomic():
        current = Attestation.objects.select_related("campaign").get(pk=attestation.pk)
        if current.status != AttestationStatus.PENDING or current.campaign.status != CampaignStatus.LAUNCHED:
            raise ValidationError("Only a pending attestation of a launched campaign can be reassigned.")
        Attestation.objects.filter(pk=current.pk).update(
            addressed_to=to, reassigned_from=current.addressed_to, reassigned_by=actor, reassigned_at=timezone.now()
        )
    current.refresh_from_db()
    return current


# --- Reminders, escalation, close --------------------------------------------------------------------------


def _is_cadence_day(campaign: Campaign, today: dt.date) -> bool:
    launched_on = timezone.localdate(campaign.launched_at)
    return schedule.is_reminder_day(launched_on=launched_on, today=today, every_days=campaign.reminder_days)


def campaign_remind(*, today: dt.date) -> dict[str, list[str]]:
    """Daily: on each launched campaign's cadence days, mail every addressee with pending attestations one
    reminder; once the campaign is past due, also mail GRC the overdue owners. Idempotent per day.
    Returns {"reminded": [addresses], "escalated": [addresses]}."""
    reminded: list[str] = []
    escalated: list[str] = []
    for campaign in Campaign.objects.filter(status=CampaignStatus.LAUNCHED, launched_at__isnull=False).order_by("pk"):
        if not _is_cadence_day(campaign, today):
            continue
        reminded += _mail_addressees(campaign=campaign, kind=NoticeKind.REMINDER, day=today, name="campaign_reminder")
        if schedule.escalates(due_on=campaign.due_on, today=today):
            escalated += _escalate(campaign=campaign, day=today)
    return {"reminded": reminded, "escalated": escalated}


def _escalate(*, campaign: Campaign, day: dt.date) -> list[str]:
    pending = _pending_by_addressee(campaign)
    if not pending:
        return []
    owners = list(get_user_model().objects.filter(pk__in=pending.keys()).order_by("last_name", "username"))
    overdue = [{"user": u, "pending": pending[u.pk]} for u in owners]
    unaddressed = Attestation.objects.filter(
        campaign=campaign, status=AttestationStatus.PENDING, addressed_to__isnull=True
    ).count()
    sent = []
    for grc in get_user_model().objects.filter(groups__name=Role.GRC.value, is_active=True).distinct().order_by("pk"):
        if not grc.email or not _claim(
            campaign=campaign, recipient=grc, kind=NoticeKind.ESCALATION, day=day, pending=sum(pending.values())
        ):
            continue
        context = {
            "campaign": campaign,
            "recipient": grc,
            "overdue": overdue,
            "unaddressed": unaddressed,
            "campaign_url": absolute_url(campaign.get_absolute_url()),
        }
        try:
            email_send(name="campaign_escalation", to=[grc.email], context=context)
        except Exception as exc:  # release the claim so the next run retries
            logger.warning("Campaign %s escalation to %s not sent: %s", campaign.pk, grc.email, exc)
            CampaignNotice.objects.filter(
                campaign=campaign, recipient=grc, kind=NoticeKind.ESCALATION, sent_on=day
            ).delete()
            continue
        sent.append(grc.email)
    return sent


def campaign_close(*, campaign: Campaign, actor) -> Campaign:
    """GRC closes a launched campaign: every attestation is frozen; pending ones stay as not answered. The
    results CSV (as the export produces it) is computed in the same transaction and its SHA-256 and row count
    recorded on the campaign, as evidence of what the campaign concluded."""
    require_grc(actor, "close attestation campaigns")
    with transaction.atomic():
        locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
        if locked.status != CampaignStatus.LAUNCHED:
            raise ValidationError(
                f"“{locked}” is {locked.get_status_display().lower()}; only a launched campaign can be closed."
            )
        locked.status = CampaignStatus.CLOSED
        locked.closed_at = timezone.now()
        locked.closed_by = actor
        # Wait for answers being written right now (their rows are locked) so the digest covers them.
        _attestations_lock(locked)
        locked.results_sha256, locked.results_rows = campaign_results_digest(locked)
        save_attributed(locked, actor=actor, reason="Closed")
    return locked


def _attestations_lock(campaign: Campaign) -> None:
    """Lock every attestation of ``campaign`` (``SELECT ... FOR UPDATE``) without reading them into memory: on
    PostgreSQL the locking query is counted inside the database (one row back, not one per key); elsewhere
    (SQLite locks the whole database for a write) Django's ``select_for_update`` is a no-op anyway."""
    if not connection.features.has_select_for_update:
        return
    rows = Attestation.objects.select_for_update().filter(campaign=campaign).order_by().values("pk")
    sql, params = rows.query.sql_with_params()
    with connection.cursor() as cursor:
        # Django's own SQL of the query above; the values are parameters.
        cursor.execute(f"SELECT COUNT(*) FROM ({sql}) AS locked", params)  # noqa: S608
