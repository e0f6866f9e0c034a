"""The facts a pending attestation asks about, for the inbox: a key owner confirms what they can see.

Each attestation on the page gets ``facts`` (``KeyFacts``): the key's purpose and its allowed operations, its
bindings (service, tenant), its grants (principal, operations, until), its rotation (last rotated, period, whether
it is overdue, the cryptoperiod's end) and the open findings on the key, plus ``warnings``: what the checks already
found on that key (an expired grant, an overdue rotation, a passed cryptoperiod, an open finding), in words.

Three queries whatever the number of attestations (bindings, grants, open findings of the page's keys); the key,
its purpose and store come with the inbox query's joins.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from cek.templatetags.dates import words_date
from evidence.alerts.services import rule_title
from evidence.findings.models import Finding, FindingStatus
from inventory.models import AccessGrant, Binding


@dataclass
class KeyFacts:
    bindings: list = field(default_factory=list)
    grants: list = field(default_factory=list)
    findings: list = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def attach_facts(attestations, *, today: dt.date) -> None:
    """Set ``attestation.facts`` on each attestation of the page (three queries for the page)."""
    key_ids = {a.key_id for a in attestations}
    if not key_ids:
        return
    bindings, grants, findings = defaultdict(list), defaultdict(list), defaultdict(list)
    for binding in (
        Binding.objects.filter(key_id__in=key_ids).select_related("service", "tenant").order_by("service__name", "pk")
    ):
        bindings[binding.key_id].append(binding)
    for grant in AccessGrant.objects.filter(key_id__in=key_ids).order_by("principal", "pk"):
        grants[grant.key_id].append(grant)
    for finding in Finding.objects.filter(
        subject_type="inventory.key", subject_id__in=key_ids, status=FindingStatus.OPEN
    ).order_by("rule", "pk"):
        finding.title = rule_title(finding.rule)
        findings[finding.subject_id].append(finding)
    for attestation in attestations:
        key = attestation.key
        facts = KeyFacts(bindings=bindings[key.pk], grants=grants[key.pk], findings=findings[key.pk])
        expired = [g for g in facts.grants if g.expires_on is not None and g.expires_on < today]
        for grant in expired:
            grant.expired = True
            facts.warnings.append(f"Grant to {grant.principal} expired on {words_date(grant.expires_on)}")
        if key.is_overdue_for_rotation:
            facts.warnings.append(f"Rotation overdue (every {key.rotation_period_days} days)")
        if key.is_cryptoperiod_overdue:
            facts.warnings.append(f"Cryptoperiod ended on {words_date(key.cryptoperiod_ends_on)}")
        if facts.findings:
            count = len(facts.findings)
            facts.warnings.append(f"{count} open finding{'s' if count != 1 else ''}")
        attestation.facts = facts
