"""What launching or closing a campaign will do, said before it is done (``cek.pages.Confirmation``), from the
campaign's own figures: keys in scope, owners e-mailed, keys nobody answers for; answers frozen, attestations left
pending."""

from __future__ import annotations

from django.db.models import Count, Q
from django.urls import reverse

from cek.pages import Confirmation
from evidence.campaigns import selectors
from evidence.campaigns.services import campaign_keys, inline_limit
from evidence.models import Campaign


def _n(count: int, one: str, many: str | None = None) -> str:
    return f"{count:,} {one if count == 1 else (many or one + 's')}"


def launch_confirmation(campaign: Campaign) -> Confirmation:
    figures = campaign_keys(campaign).aggregate(
        keys=Count("pk"),
        owned=Count("pk", filter=Q(owner__isnull=False)),
        owners=Count("owner", distinct=True),
        backups_only=Count("pk", filter=Q(owner__isnull=True, backup_owner__isnull=False)),
        nobody=Count("pk", filter=Q(owner__isnull=True, backup_owner__isnull=True)),
    )
    keys, nobody, backups = figures["keys"], figures["nobody"], figures["backups_only"]
    scope = campaign.scope_label()
    mailed = f"{_n(figures['owners'], 'owner')} for {_n(figures['owned'], 'key')}"
    if backups:
        mailed += f", and the backup owners of {_n(backups, 'key')} without an owner"
    consequences = [
        f"{_n(keys, 'attestation')} will be created, one for each key in scope ({scope[:1].lower() + scope[1:]}).",
        f"The owners are e-mailed now, once each ({mailed}), and reminded every {_n(campaign.reminder_days, 'day')} "
        f"until the due date, {campaign.due_on:%-d %B %Y}.",
    ]
    if nobody:
        consequences.append(
            f"{_n(nobody, 'key has', 'keys have')} neither an owner nor a backup owner: "
            f"{'its attestation goes' if nobody == 1 else 'their attestations go'} to nobody until you reassign "
            f"{'it' if nobody == 1 else 'them'} on the campaign page."
        )
    if keys > inline_limit():
        consequences.append(
            f"Over {inline_limit():,} keys: a background worker creates the attestations and the campaign page shows "
            "its progress."
        )
    consequences.append("A launched campaign cannot go back to draft; it can only be closed.")
    if not keys:
        consequences = ["Nothing can be launched: the scope holds no active key."]
    return Confirmation(
        title=f"Launch “{campaign.name}”?",
        subject=f"{campaign.scope_label()} · due {campaign.due_on:%-d %B %Y}",
        consequences=consequences,
        button=f"Launch and e-mail the owners of {_n(keys, 'key')}",
        action=reverse("evidence:campaign-launch", args=[campaign.pk]),
        cancel=campaign.get_absolute_url(),
        warning="" if keys else "No active key is in the scope of this campaign: widen the scope before launching.",
        disabled=keys == 0,
    )


def close_confirmation(campaign: Campaign) -> Confirmation:
    progress = selectors.campaign_totals(campaign)
    consequences = [
        f"The {_n(progress.answered, 'answer')} ({progress.confirmed:,} confirmed, "
        f"{_n(progress.discrepancies, 'discrepancy', 'discrepancies')}) {'is' if progress.answered == 1 else 'are'} "
        "frozen as evidence, and the results file is recorded with its SHA-256.",
    ]
    if progress.pending:
        consequences.append(
            f"{_n(progress.pending, 'attestation is', 'attestations are')} still pending: "
            f"{'it stays' if progress.pending == 1 else 'they stay'} unanswered and count as not attested in the "
            "results and in evidence packs."
        )
    consequences.append("Owners can no longer answer, no more reminders are sent, and a closed campaign cannot reopen.")
    return Confirmation(
        title=f"Close “{campaign.name}”?",
        subject=f"{progress.percent} % answered · due {campaign.due_on:%-d %B %Y}",
        consequences=consequences,
        button="Close the campaign",
        action=reverse("evidence:campaign-close", args=[campaign.pk]),
        cancel=campaign.get_absolute_url(),
        danger=bool(progress.pending),
    )
