"""The draft CEK-11.1 answer: the facts it is written from, and the answer, texts, disclosures and plan.

``gather_facts`` reads the evidence once (a fixed number of queries) into a JSON-serialisable dict that is
stored on the answer (``CaiqAnswer.facts``): the party and its ownership, the check run and its guideline
results, the key-management policy, the inventory, the last closed attestation campaign and the open
findings. ``draft_from_facts`` turns those facts into the draft, without touching the database:

- ownership ND (the party carries none of CEK-11's SSRM layers, e.g. an AI Customer only) → NA with a
  justification;
- a significant gap (``rules.SIGNIFICANCE_TABLE``) → NO with a corrective-action plan;
- otherwise YES, each minor gap disclosed with a remediation plan and date.

Without any check run the draft is still generated from the records that exist (policy, inventory, campaign,
findings): it says so in the description and in a disclosure, and it cannot be published until a check run
has evaluated the guidelines (``rules.validate``). Remediation dates come from the open findings of the
guideline (their latest ``remediation_due``), else a default horizon (``MINOR_GAP_DAYS``, ``CORRECTIVE_DAYS``).
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from django.db.models import Count, Max, Min, Q

from cek.control import load_control
from evidence.answers import rules
from evidence.answers.ownership import OwnershipResult, party_ownership, role_label
from evidence.checks import selectors as selectors_checks
from evidence.models import (
    AnswerValue,
    Attestation,
    AttestationStatus,
    Campaign,
    CampaignStatus,
    CheckRun,
    CheckStatus,
    ControlOwnership,
    Finding,
    FindingStatus,
    Policy,
    PolicyArea,
    Severity,
)
from evidence.reviews import selectors
from inventory.models import Key, KeyState, KeyStore, Party

QUESTION_ID = "CEK-11.1"
MINOR_GAP_DAYS = 90  # default remediation horizon of a disclosed minor gap
CORRECTIVE_DAYS = 30  # default due date of a corrective-action milestone
KEY_POLICY_AREAS = {PolicyArea.KEY_MANAGEMENT, PolicyArea.KEY_PURPOSE}
# Finding rules that do not start with their guideline id.
RULE_GUIDELINES = {"attestation-discrepancy": "CCM-3"}
_RULE_PREFIX = re.compile(r"^(ag|ccm)-?(\d+)(?:[-_.]|$)", re.IGNORECASE)


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


# --- Facts ----------------------------------------------------------------------------------------------


def _party_facts(party: Party) -> dict:
    return {"id": party.pk, "name": party.name, "roles": list(party.roles), "is_us": party.is_us}


def _run_facts(run: CheckRun | None) -> tuple[dict | None, list[dict]]:
    if run is None:
        return None, []
    control = load_control()
    results = []
    for result in selectors_checks.run_results(run):
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
    return summary, results


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


def _inventory_facts() -> dict:
    by_state = dict(Key.objects.values_list("state").annotate(n=Count("pk")).order_by())
    exposed = Q(exposed_to__isnull=False) & ~Q(state=KeyState.DESTROYED)
    unscoped = Q(exposure_scope__regex=r"^\s*$") | Q(exposure_contract__regex=r"^\s*$")
    figures = Key.objects.aggregate(
        active_without_owner=Count("pk", filter=Q(state=KeyState.ACTIVE, owner__isnull=True)),
        active_without_purpose=Count("pk", filter=Q(state=KeyState.ACTIVE, purpose__isnull=True)),
        purposes_in_use=Count("purpose", filter=~Q(state=KeyState.DESTROYED), distinct=True),
        exposed=Count("pk", filter=exposed, distinct=True),
        # AG-10's test: a key shared with another party needs both a written scope and a contract reference.
        exposed_unscoped=Count("pk", filter=exposed & unscoped, distinct=True),
    )
    total = sum(by_state.values())
    return {
        "keys": total,
        "active_keys": by_state.get(KeyState.ACTIVE, 0),
        "destroyed": by_state.get(KeyState.DESTROYED, 0),
        "by_state": {state: by_state.get(state, 0) for state in KeyState.values if by_state.get(state)},
        "stores": KeyStore.objects.count(),
        "purposes_in_use": figures["purposes_in_use"],
        "active_without_owner": figures["active_without_owner"],
        "active_without_purpose": figures["active_without_purpose"],
        "exposed_keys": figures["exposed"],
        "exposed_without_scope": figures["exposed_unscoped"],
    }


def _campaign_facts() -> dict | None:
    campaign = Campaign.objects.filter(status=CampaignStatus.CLOSED).order_by("-closed_at", "-id").first()
    if campaign is None:
        return None
    counts = dict(
        Attestation.objects.filter(campaign=campaign).values_list("status").annotate(n=Count("pk")).order_by()
    )
    total = sum(counts.values())
    return {
        "id": campaign.pk,
        "name": campaign.name,
        "closed_on": _day(campaign.closed_at.date()) if campaign.closed_at else None,
        "keys": total,
        "confirmed": counts.get(AttestationStatus.CONFIRMED, 0),
        "discrepancies": counts.get(AttestationStatus.DISCREPANCY, 0),
        "unanswered": counts.get(AttestationStatus.PENDING, 0),
        "results_sha256": campaign.results_sha256,
    }


def _findings_facts() -> dict:
    rows = (
        Finding.objects.filter(status=FindingStatus.OPEN)
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
        dict(
            Finding.objects.filter(status=FindingStatus.OPEN).values_list("severity").annotate(n=Count("pk")).order_by()
        )
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
        "risk_accepted": Finding.objects.filter(status=FindingStatus.RISK_ACCEPTED).count(),
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
    run_summary, results = _run_facts(run)
    return {
        "as_of": today.isoformat(),
        "catalog_version": control.version,
        "question": {"id": QUESTION_ID, "text": control.question(QUESTION_ID).text},
        "party": _party_facts(party),
        "ownership": ownership.as_facts(),
        "check_run": run_summary,
        "guidelines": results,
        "policy": _policy_facts(today),
        "inventory": _inventory_facts(),
        "campaign": _campaign_facts(),
        "findings": _findings_facts(),
    }


# --- The draft ------------------------------------------------------------------------------------------


@dataclass
class Draft:
    answer: str
    ownership: str
    implementation: str
    customer_responsibilities: str
    disclosures: list[dict] = field(default_factory=list)
    corrective_action: dict = field(default_factory=dict)
    na_justification: str = ""


def _plural(count: int, word: str, plural: str | None = None) -> str:
    return f"{count} {word if count == 1 else (plural or word + 's')}"


def _findings_by_guideline(facts: dict) -> dict[str, list[dict]]:
    grouped: dict[str, list[dict]] = defaultdict(list)
    for row in facts["findings"]["rules"]:
        grouped[row["guideline"]].append(row)
    return grouped


def _due_for(guideline: str, grouped: dict[str, list[dict]], *, today: dt.date, days: int) -> str:
    """The latest planned remediation date of the guideline's open findings, else ``today + days``."""
    planned = [rules.parse_day(row["latest_due"]) for row in grouped.get(guideline, ()) if row["latest_due"]]
    planned = [day for day in planned if day and day >= today]
    return (max(planned) if planned else today + dt.timedelta(days=days)).isoformat()


def _remediation_for(gap: rules.Gap, grouped: dict[str, list[dict]]) -> str:
    rows = grouped.get(gap.guideline, [])
    if gap.status == CheckStatus.MANUAL:
        return (
            f"Record evidence for {gap.guideline} (manual evidence with an assessment) until the data can evidence "
            "it, then re-run the checks."
        )
    text = f"Remediate the {_plural(gap.failing_count, 'failing subject')} of {gap.guideline}"
    if rows:
        open_count = sum(row["open"] for row in rows)
        text += f" tracked as {_plural(open_count, 'open finding')} ({', '.join(row['rule'] for row in rows)})"
    return text + ", then re-run the checks to confirm the guideline passes."


def _policy_sentence(policy: dict) -> str:
    if not policy["policies"]:
        return "Policy: no approved policy covering key management or key purpose is in force."
    parts = []
    for row in policy["policies"]:
        text = f"“{row['title']}” version {row['version']}"
        if row["approved_on"]:
            text += f", approved by {row['governance_body']} on {row['approved_on']}"
        text += f", last reviewed {row['last_reviewed_on'] or 'never'}"
        if row["next_review_due_on"]:
            text += f", next review due {row['next_review_due_on']}" + (" (overdue)" if row["review_overdue"] else "")
        parts.append(text)
    return "Policy: " + "; ".join(parts) + "."


def _inventory_sentence(inventory: dict) -> str:
    """Every claim here is one of the figures: "each recorded with exactly one purpose" only when no active key
    lacks one (the model allows at most one purpose per key, so "has one" is "exactly one")."""
    active = inventory["active_keys"]
    stores = _plural(inventory["stores"], "key store")
    recorded = f"({inventory['keys']} recorded, {inventory['destroyed']} destroyed)"
    if not active:
        return f"Inventory: no active key or secret {recorded} in {stores}."
    without_purpose = inventory["active_without_purpose"]
    in_use = _plural(inventory["purposes_in_use"], "purpose")
    text = f"Inventory: {active} active {'key or secret' if active == 1 else 'keys and secrets'} {recorded} in {stores}"
    if not without_purpose:
        text += f", each recorded with exactly one purpose ({in_use} in use)"
    elif without_purpose == active:
        text += ", without a recorded purpose" if active == 1 else ", none of them with a recorded purpose"
    else:
        text += (
            f"; {_plural(without_purpose, 'active key has', 'active keys have')} no recorded purpose, the other "
            f"{active - without_purpose} each exactly one ({in_use} in use)"
        )
    if inventory["active_without_owner"]:
        text += f"; {_plural(inventory['active_without_owner'], 'active key')} without an owner"
    return text + "."


def _guidelines_sentence(facts: dict) -> str:
    run = facts["check_run"]
    if run is None:
        return (
            "Auditing guidelines: no check run has evaluated AG-1..AG-10 and CCM-1..CCM-3 yet; this description is "
            "derived from the policy, inventory, attestation and findings records only."
        )
    counts = Counter(rules.effective_status(result) for result in facts["guidelines"])
    labels = dict(CheckStatus.choices)
    summary = ", ".join(f"{counts[status]} {labels[status].lower()}" for status in CheckStatus.values if counts[status])
    lines = [
        f"Auditing guidelines (check run #{run['id']}, {str(run['finished_at'])[:10]}): {summary or 'no results'}."
    ]
    for result in facts["guidelines"]:
        status = labels.get(rules.effective_status(result), result["status"])
        line = f"- {result['id']}: {status.lower()}"
        if result["metric"]:
            line += f" ({result['metric']})"
        lines.append(line)
    return "\n".join(lines)


def _campaign_sentence(campaign: dict | None) -> str:
    if campaign is None:
        return "Attestation: no key-owner attestation campaign has been closed yet."
    text = (
        f"Attestation: campaign “{campaign['name']}” closed {campaign['closed_on']}: {campaign['confirmed']} of "
        f"{_plural(campaign['keys'], 'key')} confirmed by their owners, {_plural(campaign['discrepancies'], 'discrepancy', 'discrepancies')}"
        f" reported, {campaign['unanswered']} unanswered"
    )
    if campaign["results_sha256"]:
        # A fingerprint, not the whole digest: 64 hex characters read as key material to the shared validator
        # (the full digest is in the facts and on the campaign page).
        text += f" (results SHA-256 {campaign['results_sha256'][:16]}…)"
    return text + "."


def _findings_sentence(findings: dict) -> str:
    if not findings["open"]:
        return "Findings: none open."
    severities = ", ".join(f"{count} {severity}" for severity, count in findings["by_severity"].items())
    parts = []
    for row in findings["rules"]:
        text = f"{row['rule']}: {row['open']}"
        if row["latest_due"]:
            text += f", remediation due by {row['latest_due']}"
        if row["unscheduled"]:
            text += f", {row['unscheduled']} without a remediation date"
        parts.append(text)
    return f"Findings: {_plural(findings['open'], 'open finding')} ({severities}) — " + "; ".join(parts) + "."


def _intro(facts: dict) -> str:
    ownership = facts["ownership"]
    roles = ", ".join(role_label(role) for role in ownership["roles"]) or "no SSRM role recorded"
    return (
        f"{facts['party']['name']} answers {QUESTION_ID} ({facts['catalog_version']}) acting as {roles}; "
        f"SSRM Control Ownership {ownership['value']}. Figures as of {facts['as_of']}."
    )


def implementation_text(facts: dict) -> str:
    """Column E's description, written from the facts (disclosures and plans are added at export)."""
    return "\n\n".join(
        [
            _intro(facts),
            _policy_sentence(facts["policy"]),
            _inventory_sentence(facts["inventory"]),
            _guidelines_sentence(facts),
            _campaign_sentence(facts["campaign"]),
            _findings_sentence(facts["findings"]),
        ]
    )


def customer_text(facts: dict) -> str:
    ownership = facts["ownership"]
    lines = []
    if ownership["value"] == ControlOwnership.ND:
        lines.append(
            f"{facts['party']['name']} does not carry CEK-11 at any SSRM layer; its providers answer CEK-11.1 for the "
            "keys they operate. It remains responsible for the keys and secrets it holds itself (API credentials, "
            "customer-managed keys): one purpose per key, a purpose label on each, and access limited to that purpose."
        )
        return "\n".join(lines)
    lines.append(
        "Customers are responsible for the keys and secrets they create or bring themselves (customer-managed keys, "
        "API credentials issued to them): provisioning each for one purpose, labelling it with that purpose, "
        "restricting its grants to that purpose and not reusing it across services or tenants."
    )
    for layer in ownership["layers"]:
        if layer["carried_as"] and layer["others"]:
            others = ", ".join(role_label(role) for role in layer["others"])
            lines.append(
                f"At the {layer['name']} layer CEK-11 is {layer['catalog_ownership']}: the {others} carries its share "
                "for the components it operates."
            )
    exposed, unscoped = facts["inventory"]["exposed_keys"], facts["inventory"]["exposed_without_scope"]
    if exposed and not unscoped:
        lines.append(
            f"{_plural(exposed, 'key is', 'keys are')} shared with other parties under a recorded scope and contract "
            "reference; receiving parties use them only within that scope."
        )
    elif exposed:
        lines.append(
            f"{_plural(exposed, 'key is', 'keys are')} shared with other parties; {unscoped} of them "
            f"{'has' if unscoped == 1 else 'have'} no recorded exposure scope or contract reference yet."
        )
    return "\n".join(lines)


def _corrective_plan(
    gaps: tuple[rules.Gap, ...], grouped: dict[str, list[dict]], *, owner: str, today: dt.date
) -> dict:
    milestones = [
        {
            "text": f"{gap.describe()}: {_remediation_for(gap, grouped)}",
            "due": _due_for(gap.guideline, grouped, today=today, days=CORRECTIVE_DAYS),
        }
        for gap in gaps
    ]
    last = max(rules.parse_day(item["due"]) for item in milestones)
    final_due = last + dt.timedelta(days=14)
    milestones.append(
        {
            "text": f"Re-run the checks, confirm {', '.join(gap.guideline for gap in gaps)} pass, and publish a new answer.",
            "due": final_due.isoformat(),
        }
    )
    return {"owner": owner, "milestones": milestones, "due": final_due.isoformat()}


def draft_from_facts(facts: dict, *, today: dt.date, plan_owner: str) -> Draft:
    """The generated answer for ``facts`` (pure: no queries)."""
    ownership = facts["ownership"]["value"]
    implementation = implementation_text(facts)
    customers = customer_text(facts)
    if ownership == ControlOwnership.ND:
        roles = ", ".join(role_label(role) for role in facts["ownership"]["roles"]) or "no SSRM role"
        justification = (
            f"{facts['party']['name']} acts as {roles}. CEK-11's SSRM assigns the control to "
            + "; ".join(f"{layer['short']}: {layer['catalog_ownership']}" for layer in facts["ownership"]["layers"])
            + ". The party carries none of these layers, so the control is not applicable to it as a service provider."
        )
        return Draft(
            answer=AnswerValue.NA,
            ownership=ControlOwnership.ND,
            implementation=implementation,
            customer_responsibilities=customers,
            na_justification=justification,
        )
    grouped = _findings_by_guideline(facts)
    if facts["check_run"] is None:
        # Only CCM-1 (the policy) can be judged without a run.
        policy = facts["policy"]
        guidelines = []
        if not policy["policies"] or policy["overdue"]:
            guidelines.append({"id": "CCM-1", "status": CheckStatus.FAIL, "metric": "from the policy records"})
        assessment = rules.assess(guidelines)
    else:
        assessment = rules.assess(facts["guidelines"])
    if assessment.significant:
        return Draft(
            answer=AnswerValue.NO,
            ownership=ownership,
            implementation=implementation,
            customer_responsibilities=customers,
            corrective_action=_corrective_plan(assessment.gaps, grouped, owner=plan_owner, today=today),
        )
    disclosures = [
        {
            "guideline": gap.guideline,
            "gap": gap.describe() + (f": {gap.explanation}" if gap.explanation else "."),
            "remediation": _remediation_for(gap, grouped),
            "due": _due_for(gap.guideline, grouped, today=today, days=MINOR_GAP_DAYS),
        }
        for gap in assessment.minor
    ]
    if facts["check_run"] is None:
        disclosures.append(
            {
                "guideline": "AG-1..CCM-3",
                "gap": "No check run has evaluated the auditing guidelines yet.",
                "remediation": "Run the checks and generate a new draft from that run.",
                "due": (today + dt.timedelta(days=7)).isoformat(),
            }
        )
    return Draft(
        answer=AnswerValue.YES,
        ownership=ownership,
        implementation=implementation,
        customer_responsibilities=customers,
        disclosures=disclosures,
    )
