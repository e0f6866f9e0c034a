"""CCM-3: keys are managed per policy: within their cryptoperiod, rotated on time, attested by their owners."""

from __future__ import annotations

import datetime as dt

from evidence.campaigns.selectors import last_closed_campaign
from evidence.checks.base import Check, CheckContext, Outcome, day, key_subject, link
from evidence.models import Attestation, AttestationStatus, Severity
from inventory.models import KeyState


def _plus_days(start: dt.date, days: int) -> dt.date | None:
    """``start`` + ``days``, or ``None`` (never, as far as a calendar goes) when that is past year 9999: the
    periods are PositiveIntegerFields, and one absurd value must not fail the whole check run."""
    try:
        return start + dt.timedelta(days=days)
    except OverflowError:
        return None


class ManagedPerPolicy(Check):
    guideline_id = "CCM-3"
    title = "Keys are managed according to policy"
    rule = "ccm-3-lifecycle"
    severity = Severity.MEDIUM

    def evaluate(self, ctx: CheckContext) -> Outcome:
        campaign = last_closed_campaign()
        attested: dict[int, str] = {}
        if campaign is not None:
            attested = dict(Attestation.objects.filter(campaign=campaign).values_list("key_id", "status"))
        purposes = ctx.purposes
        failing = []
        total = 0
        for key in ctx.keys:
            if key.state != KeyState.ACTIVE:
                continue
            total += 1
            reasons = []
            start = key.period_start
            ends = key.cryptoperiod_ends_on
            if ends is None and start is not None:
                days = key.cryptoperiod_days or (
                    purposes[key.purpose_id].max_cryptoperiod_days if key.purpose_id else None
                )
                ends = _plus_days(start, days) if days else None
            if ends is not None and ends < ctx.today:
                reasons.append(f"Cryptoperiod ended on {day(ends)}.")
            rotate_by = (
                _plus_days(start, key.rotation_period_days)
                if key.rotation_period_days and start is not None and not key.platform_managed
                else None
            )
            if rotate_by is not None and rotate_by < ctx.today:
                reasons.append(f"Rotation overdue (every {key.rotation_period_days} days, last {day(start)}).")
            status = attested.get(key.id)
            if campaign is not None and status is None:
                # Outside the campaign (out of its scope, or created since): nobody attested it.
                reasons.append(f"Not attested: not part of the last closed campaign “{campaign.name}”.")
            elif status is not None and status != AttestationStatus.CONFIRMED:
                label = "not confirmed" if status == AttestationStatus.PENDING else "reported a discrepancy"
                reasons.append(f"Its owner {label} in the campaign “{campaign.name}”.")
            if reasons:
                failing.append(key_subject(key, " ".join(reasons)))
        explanation = (
            "Every key in state active must be within its cryptoperiod (its own override, else its purpose's "
            "maximum, from its last rotation, activation or creation), rotated within its rotation period, and "
            "confirmed by its owner in the last closed attestation campaign (a key outside that campaign is not "
            "attested). "
            f"Platform-managed keys ({ctx.platform_managed_count:,} here) are counted but the platform rotates them."
        )
        evidence = [link("Active keys past their cryptoperiod", "inventory:key-list", overdue="true")]
        if campaign is None:
            explanation += (
                " No attestation campaign is closed yet, so owner attestation could not be verified and this "
                "guideline is at best partial."
            )
        else:
            evidence.append(
                {
                    "label": f"Campaign “{campaign.name}”",
                    "url": link("", "evidence:campaign-detail", campaign.pk)["url"],
                }
            )
        return self.result(
            failing=failing,
            total=total,
            unit="keys in state active",
            explanation=explanation,
            evidence=evidence,
            unverified=campaign is None,
            na_reason=ctx.no_keys_reason() if not ctx.keys else "No key is in state active.",
            details={"campaign": campaign.pk if campaign else None},
        )
