"""The facts a CEK-11.1 answer is written from.

``gather_facts`` reads the evidence once (a fixed number of queries) into a JSON-serialisable dict that is
stored on the answer (``CaiqAnswer.facts``): the party and its ownership, the check run and its guideline
results, the key-management policy, the inventory, the last closed attestation campaign and the open
findings. :mod:`evidence.answers.generate` turns them into the draft. The inventory and campaign figures are
those every page shows (``inventory.selectors.key_breakdowns``, ``evidence.campaigns.selectors``): "in use" is
active or suspended, as in the check run the answer names.

``iac`` holds AG-8's figures from the same check run (repositories with a recorded IaC scan, how many passed the
gate within ``CEK_IAC_FRESH_DAYS``, failing, stale); ``None`` when the run counted no scanned repository (and in
facts stored before AG-8 was computed).

Facts stored before the inventory counted keys in use name the older figures ``active_keys``,
``active_without_owner`` and ``active_without_purpose`` (state active only); the answer page shows either.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter

from django.db.models import Count, Max, Min, Q

from cek.control import load_control
from evidence.answers.ownership import OwnershipResult, party_ownership
from evidence.campaigns.selectors import campaign_totals, last_closed_campaign
from evidence.checks import selectors as check_selectors
from evidence.findings.selectors import acceptance_current, effectively_open
from evidence.iac.result import RULES as IAC_RULES
from evidence.models import (
    CheckRun,
    CheckStatus,
    Finding,
    Policy,
    PolicyArea,
    Severity,
)
from evidence.reviews import selectors
from evidence.usage.misuse import MISUSE_RULES
from inventory.models import Key, KeyState, KeyStore, Party
from inventory.selectors import key_breakdowns, key_exposure

QUESTION_ID = "CEK-11.1"
KEY_POLICY_AREAS = {PolicyArea.KEY_MANAGEMENT, PolicyArea.KEY_PURPOSE}
# Finding rules that do not start with their guideline id: the campaigns' discrepancies, the IaC gate's rules.
RULE_GUIDELINES = {"attestation-discrepancy": "CCM-3", **dict.fromkeys(IAC_RULES, "AG-8")}
_RULE_PREFIX = re.compile(r"^(ag|ccm)-?(\d+)(?:[-_.]|$)", re.IGNORECASE)
# The usage-log misuse rules are AG-9's; a key the logs name that the inventory lacks is inventory completeness
# (CCM-2). Dormant keys are candidates for deactivation, no guideline's gap.
RULE_GUIDELINES.update({**dict.fromkeys(MISUSE_RULES, "AG-9"), "usage-unknown-key": "CCM-2"})


def guideline_of_rule(rule: str) -> str:
    """The guideline a finding rule belongs to ("ag-3-multi-purpose" → "AG-3"), "" when unknown."""
    if rule in RULE_GUIDELINES:
        return RULE_GUIDELINES[rule]
    match = _RULE_PREFIX.match(rule or "")
    return f"{match.group(1).upper()}-{int(match.group(2))}" if match else ""


def _day(value) -> str | None:
    return value.isoformat() if value else None


def _moment(value) -> str | None:
    return value.isoformat(timespec="seconds") if value else None


def _party_facts(party: Party) -> dict:
    return {"id": party.pk, "name": party.name, "roles": list(party.roles), "is_us": party.is_us}


IAC_GUIDELINE = "AG-8"
IAC_NAMED = 5  # repositories not covered named in the facts


def _iac_facts(result) -> dict | None:
    """AG-8's figures as the run computed them (``details["iac"]``), with the first repositories it did not count
    as covered; ``None`` when the run recorded no scanned repository (AG-8 was then manual)."""
    figures = (result.details or {}).get("iac") if result is not None else None
    if not isinstance(figures, dict) or not figures.get("repositories"):
        return None
    not_covered = [s.get("label", "") for s in (result.failing or []) if isinstance(s, dict)][:IAC_NAMED]
    return {**figures, "status": result.status, "not_covered": not_covered}


def _run_facts(run: CheckRun | None) -> tuple[dict | None, list[dict], dict | None]:
    if run is None:
        return None, [], None
    control = load_control()
    results = []
    iac = None
    for result in check_selectors.run_results(run):
        if result.guideline_id == IAC_GUIDELINE:
            iac = _iac_facts(result)
        manual = result.manual_evidence
        results.append(
            {
                "id": result.guideline_id,
                "title": control.guideline(result.guideline_id).text[:160]
                if control.has_guideline(result.guideline_id)
                else "",
                "status": result.status,
                "manual_assessment": manual.assessment if manual is not None else "",
                "metric": result.metric,
                "failing_count": result.failing_count,
                "explanation": result.explanation,
            }
        )
    summary = {
        "id": run.pk,
        "trigger": run.get_trigger_display(),
        "finished_at": _moment(run.finished_at or run.created_at),
        "keys_evaluated": run.keys_evaluated,
        "counts": {status: sum(1 for r in results if r["status"] == status) for status in CheckStatus.values},
    }
    return summary, results, iac


def _policy_facts(today: dt.date) -> dict:
    """The approved policies in force that cover key management or key purpose (few rows: two queries)."""
    policies = [
        policy
        for policy in Policy.objects.filter(retired_on__isnull=True, current_version__isnull=False)
        .select_related("owner", "current_version", "current_version__approval")
        .order_by("title", "pk")
        if KEY_POLICY_AREAS & set(policy.areas or ())
    ]
    inputs = selectors.policy_review_inputs(policy_ids=[policy.pk for policy in policies]) if policies else {}
    rows = []
    for policy in policies:
        version = policy.current_version
        approval = getattr(version, "approval", None)
        review = inputs.get(policy.pk)
        rows.append(
            {
                "id": policy.pk,
                "title": policy.title,
                "kind": policy.get_kind_display(),
                "owner": policy.owner_label,
                "version": version.label,
                "approved_on": _day(approval.approved_on) if approval else None,
                "governance_body": approval.governance_body if approval else "",
                "last_reviewed_on": _day(review.last_reviewed_on) if review else None,
                "next_review_due_on": _day(policy.next_review_due_on),
                "review_overdue": policy.is_review_overdue(today),
                "document_sha256": version.document_sha256,
            }
        )
    return {"policies": rows, "in_force": len(rows), "overdue": sum(1 for row in rows if row["review_overdue"])}


def _inventory_facts(today: dt.date) -> dict:
    """The inventory's figures as every page counts them (``inventory.selectors``): three queries."""
    keys = Key.objects.all()
    inventory = key_breakdowns(keys, today=today)
    exposure = key_exposure(keys)
    figures = inventory.figures
    return {
        "keys": figures.total,
        "keys_in_use": figures.in_use,  # active or suspended: the keys the checks evaluate
        "destroyed": inventory.state_count(KeyState.DESTROYED),
        "by_state": {bucket.value: bucket.count for bucket in inventory.by_state},
        "stores": KeyStore.objects.count(),
        "purposes_in_use": figures.purposes_in_use,
        "in_use_without_owner": figures.unowned,
        "in_use_without_purpose": figures.in_use_without_purpose,
        # AG-10's test: a key shared with another party needs both a written scope and a contract reference.
        "exposed_keys": exposure.exposed,
        "exposed_without_scope": exposure.without_scope,
    }


def _campaign_facts() -> dict | None:
    campaign = last_closed_campaign()
    if campaign is None:
        return None
    progress = campaign_totals(campaign)
    return {
        "id": campaign.pk,
        "name": campaign.name,
        "closed_on": _day(campaign.closed_at.date()) if campaign.closed_at else None,
        "keys": progress.total,
        "confirmed": progress.confirmed,
        "discrepancies": progress.discrepancies,
        "unanswered": progress.pending,
        "results_sha256": campaign.results_sha256,
    }


def _findings_facts(today: dt.date) -> dict:
    """Open findings as the findings list and the dashboard count them: an acceptance that ended is open again."""
    rows = (
        Finding.objects.filter(effectively_open(today))
        .values("rule")
        .annotate(
            open=Count("pk"),
            unscheduled=Count("pk", filter=Q(remediation_due__isnull=True)),
            earliest_due=Min("remediation_due"),
            latest_due=Max("remediation_due"),
        )
        .order_by("rule")
    )
    severities = Counter(
        dict(Finding.objects.filter(effectively_open(today)).values_list("severity").annotate(n=Count("pk")).order_by())
    )
    rules_out = [
        {
            "rule": row["rule"],
            "guideline": guideline_of_rule(row["rule"]),
            "open": row["open"],
            "unscheduled": row["unscheduled"],
            "earliest_due": _day(row["earliest_due"]),
            "latest_due": _day(row["latest_due"]),
        }
        for row in rows
    ]
    return {
        "open": sum(row["open"] for row in rules_out),
        "risk_accepted": Finding.objects.filter(acceptance_current(today)).count(),
        "by_severity": {
            severity: severities[severity] for severity in reversed(Severity.values) if severities[severity]
        },
        "rules": rules_out,
    }


def gather_facts(
    *, party: Party, run: CheckRun | None, today: dt.date, ownership: OwnershipResult | None = None
) -> dict:
    """The figures the answer is written from, as stored on the answer (JSON)."""
    control = load_control()
    ownership = ownership or party_ownership(party)
    run_summary, results, iac = _run_facts(run)
    return {
        "as_of": today.isoformat(),
        "catalog_version": control.version,
        "question": {"id": QUESTION_ID, "text": control.question(QUESTION_ID).text},
        "party": _party_facts(party),
        "ownership": ownership.as_facts(),
        "check_run": run_summary,
        "guidelines": results,
        "policy": _policy_facts(today),
        "inventory": _inventory_facts(today),
        "campaign": _campaign_facts(),
        "findings": _findings_facts(today),
        "iac": iac,
    }
