"""The draft CEK-11.1 answer: the answer, texts, disclosures and plan, written from the answer's facts
(:func:`evidence.answers.facts.gather_facts`). ``draft_from_facts`` turns those facts into the draft, without
touching the database:

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
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from evidence.answers import rules
from evidence.answers.facts import QUESTION_ID
from evidence.answers.ownership import role_label
from evidence.findings.rules import rule_title
from evidence.models import AnswerValue, CheckStatus, ControlOwnership

MINOR_GAP_DAYS = 90  # default remediation horizon of a disclosed minor gap
CORRECTIVE_DAYS = 30  # default due date of a corrective-action milestone


@dataclass
class Draft:
    answer: str
    ownership: str
    implementation: str
    customer_responsibilities: str
    disclosures: list[dict] = field(default_factory=list)
    corrective_action: dict = field(default_factory=dict)
    na_justification: str = ""


def _day(value) -> str:
    """A facts date or timestamp (ISO text) as the answer writes it: ``5 Dec 2026``."""
    day = dt.date.fromisoformat(str(value)[:10])
    return f"{day.day} {day:%b %Y}"


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
            text += f", approved by {row['governance_body']} on {_day(row['approved_on'])}"
        text += f", last reviewed {_day(row['last_reviewed_on']) if row['last_reviewed_on'] else 'never'}"
        if row["next_review_due_on"]:
            text += f", next review due {_day(row['next_review_due_on'])}" + (
                " (overdue)" if row["review_overdue"] else ""
            )
        parts.append(text)
    return "Policy: " + "; ".join(parts) + "."


def _inventory_sentence(inventory: dict) -> str:
    """Every claim here is one of the figures: "each recorded with exactly one purpose" only when no key in use
    lacks one (the model allows at most one purpose per key, so "has one" is "exactly one"). Keys in use are active
    or suspended, the keys the check run evaluates."""
    in_use = inventory["keys_in_use"]
    stores = _plural(inventory["stores"], "key store")
    keys, destroyed = inventory["keys"], inventory["destroyed"]
    if not in_use:
        return f"Inventory: no key or secret in use ({keys} recorded, {destroyed} destroyed) in {stores}."
    without_purpose = inventory["in_use_without_purpose"]
    purposes = _plural(inventory["purposes_in_use"], "purpose")
    text = (
        f"Inventory: {in_use} {'key or secret' if in_use == 1 else 'keys and secrets'} in use (active or "
        f"suspended) of {keys} recorded ({destroyed} destroyed) in {stores}"
    )
    if not without_purpose:
        text += f", each recorded with exactly one purpose ({purposes} in use)"
    elif without_purpose == in_use:
        text += ", without a recorded purpose" if in_use == 1 else ", none of them with a recorded purpose"
    else:
        text += (
            f"; {_plural(without_purpose, 'key in use has', 'keys in use have')} no recorded purpose, the other "
            f"{in_use - without_purpose} each exactly one ({purposes} in use)"
        )
    if inventory["in_use_without_owner"]:
        text += f"; {_plural(inventory['in_use_without_owner'], 'key in use', 'keys in use')} without an owner"
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
    # One paragraph: the passing guidelines by id, each other one with its status and figure (every result's
    # figure and subjects stay in the pack and on the check run's page).
    passing = [result["id"] for result in facts["guidelines"] if rules.effective_status(result) == CheckStatus.PASS]
    others = []
    for result in facts["guidelines"]:
        status = rules.effective_status(result)
        if status == CheckStatus.PASS:
            continue
        text = f"{result['id']} {labels.get(status, result['status']).lower()}"
        others.append(text + (f" ({result['metric']})" if result["metric"] else ""))
    # The run by its day: a reader of the CAIQ has no use for the app's number of it (the facts keep its id).
    text = f"Auditing guidelines (check run of {_day(run['finished_at'])}): {summary or 'no results'}."
    if passing:
        text += f" Passing: {', '.join(passing)}."
    if others:
        text += f" Not passing: {'; '.join(others)}."
    return text


def _campaign_sentence(campaign: dict | None) -> str:
    if campaign is None:
        return "Attestation: no key-owner attestation campaign has been closed yet."
    text = (
        f"Attestation: campaign “{campaign['name']}” closed {_day(campaign['closed_on'])}: {campaign['confirmed']} of "
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
        text = f"{rule_title(row['rule'])}: {row['open']}"
        if row["latest_due"]:
            text += f", remediation due by {_day(row['latest_due'])}"
        if row["unscheduled"]:
            text += f", {row['unscheduled']} without a remediation date"
        parts.append(text)
    return f"Findings: {_plural(findings['open'], 'open finding')} ({severities}) — " + "; ".join(parts) + "."


def _iac_sentence(iac: dict | None) -> str:
    """The IaC gate's figures from AG-8 of the answer's check run; empty when no scan was recorded (AG-8 is then
    in the guideline list as manual, with nothing to add here)."""
    if not iac or not iac.get("repositories"):
        return ""
    total, covered, days = iac["repositories"], iac["covered"], iac["fresh_days"]
    text = (
        f"IaC enforcement: {covered} of {_plural(total, 'repository', 'repositories')} with a recorded scan "
        f"passed the purpose-separation gate (one purpose, service and tenant per key) within "
        f"the last {_plural(days, 'day')} with no open IaC finding"
    )
    details = []
    if iac.get("failing"):
        details.append(f"{iac['failing']} whose newest scan reports violations")
    if iac.get("stale"):
        details.append(f"{iac['stale']} not scanned within the window")
    if iac.get("with_open_findings"):
        details.append(f"{iac['with_open_findings']} with open IaC findings")
    if details:
        text += "; " + ", ".join(details)
        named = [name for name in iac.get("not_covered") or [] if name]
        if named:
            more = total - covered - len(named)
            text += f" ({', '.join(named)}{f' and {more} more' if more > 0 else ''})"
    return text + "."


def _intro(facts: dict) -> str:
    ownership = facts["ownership"]
    roles = ", ".join(role_label(role) for role in ownership["roles"]) or "no SSRM role recorded"
    return (
        f"{facts['party']['name']} answers {QUESTION_ID} ({facts['catalog_version']}) acting as {roles}; "
        f"SSRM Control Ownership {ownership['value']}. Figures as of {_day(facts['as_of'])}."
    )


def implementation_text(facts: dict) -> str:
    """Column E's description, written from the facts (disclosures and plans are added at export)."""
    return "\n\n".join(
        part
        for part in [
            _intro(facts),
            _policy_sentence(facts["policy"]),
            _inventory_sentence(facts["inventory"]),
            _guidelines_sentence(facts),
            _iac_sentence(facts.get("iac")),
            _campaign_sentence(facts["campaign"]),
            _findings_sentence(facts["findings"]),
        ]
        if part
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
