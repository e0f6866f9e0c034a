"""A check run as an OSCAL 1.1.3 *assessment-results* document.

- **metadata**: the organisation (``CEK_ORGANISATION``) as the party that prepared it, and the people of the run:
  who triggered it (assessor), who recorded manual evidence, who remediates a finding, who accepted a risk.
- **import-ap**: the app has no separate assessment plan; it points to a back-matter resource that describes the
  plan the checks follow (every auditing guideline, one status rule).
- **result**: the control CEK-11 as the reviewed control and its guidelines (AG-1..10, CCM-1..3) as the reviewed
  objectives ``cek-11_obj.ag-1``..., linked to the catalog resource (AICM and its version, from the control text
  the app ships).
- **observations**: one per guideline: methods ``TEST`` (computed from the data), or ``EXAMINE`` (a person's
  manual evidence with a document; ``EXAMINE`` and ``INTERVIEW`` for a note without one; ``EXAMINE`` and a remark
  when the manual guideline has no evidence yet); the metric, status and counts as properties; the evidence the
  check used as relevant evidence; the failing subjects the run kept as subjects.
- **subjects**: bounded. A run keeps at most 200 failing subjects per guideline and the full count; those become
  inventory items (keys, bindings, grants, stores, policies) and subjects of their observation, and the
  observation states the full number (``failing-count``) and, when it is larger, that only the first were listed.
  Passing subjects are counted in the metric, never listed: 100,000 keys give at most 13 x 200 subjects.
- **findings**: one per failing or partial guideline (target: its objective, ``not-satisfied``), related to its
  observation and to one **risk** per open or risk-accepted finding of the app on those subjects (status, severity,
  assignee, remediation date as the risk's deadline, risk acceptance until a date as ``deviation-approved``), as
  the findings stood when the run ended (their history), so a later run or edit never changes this document.
- **back-matter**: the catalog, the plan, and the published CEK-11.1 answer of each party generated from this run
  (its answer, SSRM control ownership, publication and implementation description; frozen, like the run).

Pure functions of :class:`~evidence.oscal.selectors.RunData`; deterministic (see :mod:`evidence.oscal`).
"""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from cek.control import load_control
from evidence.models import CheckResult, CheckStatus, Finding, FindingStatus
from evidence.oscal.common import (
    OSCAL_VERSION,
    absolute,
    catalog_resource,
    control_id,
    objective_id,
    omit_empty,
    organisation_party,
    oscal_uuid,
    paragraphs,
    person_party,
    prop,
    props,
    text,
    timestamp,
)
from evidence.oscal.selectors import RunData

SUBJECT_PAGES = {
    "inventory.key": "inventory:key-detail",
    "inventory.binding": "inventory:binding-detail",
    "inventory.accessgrant": "inventory:grant-detail",
    "inventory.keystore": "inventory:keystore-detail",
    "evidence.policy": "evidence:policy-detail",
}
# The app's finding status as an OSCAL risk status.
RISK_STATUS = {FindingStatus.OPEN: "open", FindingStatus.RISK_ACCEPTED: "deviation-approved"}
ROLES = (
    ("prepared-by", "Prepared by", "The organisation whose key inventory was assessed."),
    ("assessor", "Assessor", "Who started the check run (a nightly run has none: the app assessed)."),
    ("evidence-author", "Manual evidence author", "Who recorded the manual evidence of a guideline."),
    ("remediation-owner", "Remediation owner", "Who is assigned to remediate a finding."),
    ("risk-approver", "Risk approver", "Who accepted the risk of a finding until a date."),
)


def _page(url_name: str, pk: int) -> str:
    return absolute(reverse(url_name, args=[pk]))


def _methods(result: CheckResult) -> tuple[list[str], str]:
    """OSCAL methods of a result and a remark on how it was assessed."""
    evidence = result.manual_evidence
    if evidence is not None:
        if evidence.document_name:
            return ["EXAMINE"], "Assessed by a person who examined the attached document."
        return ["EXAMINE", "INTERVIEW"], "Assessed by a person; their note records what they examined and were told."
    if result.status == CheckStatus.MANUAL:
        return ["EXAMINE"], "A manual guideline: no manual evidence has been recorded for it yet."
    return ["TEST"], "Computed by the app from the inventory and evidence records."


def _subject_uuid(subject: dict[str, Any]) -> str:
    return oscal_uuid("subject", subject["type"], subject["id"])


def inventory_item(subject: dict[str, Any]) -> dict[str, Any]:
    page = SUBJECT_PAGES.get(subject["type"])
    return omit_empty(
        {
            "uuid": _subject_uuid(subject),
            "description": text(subject["label"]) or f"{subject['type']} #{subject['id']}",
            "props": props(prop("subject-type", subject["type"]), prop("subject-id", subject["id"])),
            "links": [{"href": _page(page, subject["id"]), "rel": "reference"}] if page else [],
        }
    )


def observation(result: CheckResult, guideline_text: str, run_end: str) -> dict[str, Any]:
    methods, how = _methods(result)
    kept = len(result.failing)
    bound = (
        f" {result.failing_count} subjects fail; the first {kept} (as the run kept them) are listed as subjects."
        if result.failing_count > kept
        else ""
    )
    evidence = [
        omit_empty(
            {
                "href": absolute(item["url"]) if item.get("url") else None,
                "description": text(item.get("label") or "Evidence"),
                "props": props(prop("sha256", item.get("sha256") or "")),
            }
        )
        for item in result.evidence
    ]
    manual = result.manual_evidence
    if manual is not None:
        evidence.append(
            omit_empty(
                {
                    "href": _page("evidence:checkevidence-document", manual.pk) if manual.document_name else None,
                    "description": text(f"Manual evidence by {person_party(manual.created_by)['name']}: {manual.note}"),
                    "props": props(
                        prop("assessment", manual.assessment),
                        prop("recorded", timestamp(manual.created_at)),
                        prop("document-sha256", manual.sha256),
                    ),
                }
            )
        )
    return omit_empty(
        {
            "uuid": oscal_uuid("observation", result.run_id, result.guideline_id),
            "title": text(f"{result.guideline_id}: {result.details.get('title') or result.guideline_id}"),
            "description": text(guideline_text) or result.guideline_id,
            "props": props(
                prop("guideline", result.guideline_id),
                prop("status", result.status),
                prop("metric", result.metric),
                prop("numerator", "" if result.numerator is None else result.numerator),
                prop("denominator", "" if result.denominator is None else result.denominator),
                prop("failing-count", result.failing_count),
            ),
            "methods": methods,
            "types": ["control-objective"],
            "subjects": [
                omit_empty(
                    {
                        "subject-uuid": _subject_uuid(subject),
                        "type": "inventory-item",
                        "title": text(subject["label"]),
                        "props": props(prop("reason", subject.get("reason", ""))),
                    }
                )
                for subject in result.failing
            ],
            "relevant-evidence": evidence,
            "collected": run_end,
            "remarks": text(f"{how} {result.explanation}{bound}"),
        }
    )


def risk(finding: Finding, observation_uuid: str) -> dict[str, Any]:
    deadline = finding.accepted_until if finding.status == FindingStatus.RISK_ACCEPTED else finding.remediation_due
    accepted = (
        f" Risk accepted until {finding.accepted_until:%Y-%m-%d}: {finding.accepted_reason}"
        if finding.status == FindingStatus.RISK_ACCEPTED
        else ""
    )
    return omit_empty(
        {
            "uuid": oscal_uuid("risk", finding.id),
            "title": text(f"{finding.rule}: {finding.subject_label}"),
            "description": text(f"The rule {finding.rule} found a problem on {finding.subject_label}."),
            "statement": text(
                f"{finding.get_severity_display()} severity; first seen {timestamp(finding.first_seen)}.{accepted}"
            ),
            "props": props(
                prop("finding", finding.id),
                prop("rule", finding.rule),
                prop("severity", finding.severity),
                prop("finding-status", finding.status),
                prop("remediation-due", finding.remediation_due.isoformat() if finding.remediation_due else ""),
            ),
            "links": [{"href": _page("evidence:finding-detail", finding.id), "rel": "reference"}],
            "status": RISK_STATUS[finding.status],
            "deadline": timestamp(deadline) if deadline else None,
            "related-observations": [{"observation-uuid": observation_uuid}],
        }
    )


def oscal_finding(result: CheckResult, observation_uuid: str, risks: list[dict[str, Any]], control: str):
    partial = result.status == CheckStatus.PARTIAL
    return omit_empty(
        {
            "uuid": oscal_uuid("finding", result.run_id, result.guideline_id),
            "title": text(f"{result.guideline_id} is {'partially met' if partial else 'not met'}"),
            "description": text(f"{result.metric}. {result.explanation}") or result.guideline_id,
            "props": props(prop("guideline", result.guideline_id), prop("failing-count", result.failing_count)),
            "target": {
                "type": "objective-id",
                "target-id": objective_id(control, result.guideline_id),
                "status": {"state": "not-satisfied", "reason": "other" if partial else "fail"},
                "remarks": "Partial: at least 95 % of the subjects pass." if partial else "Fail.",
            },
            "related-observations": [{"observation-uuid": observation_uuid}],
            "related-risks": [{"risk-uuid": item["uuid"]} for item in risks],
        }
    )


def answer_resource(answer) -> dict[str, Any]:
    return omit_empty(
        {
            "uuid": oscal_uuid("caiq-answer", answer.pk),
            "title": text(f"{answer.question_id} answer of {answer.party.name}: {answer.answer}"),
            "description": paragraphs(answer.implementation) or answer.question_id,
            "props": props(
                prop("question", answer.question_id),
                prop("answer", answer.answer),
                prop("ssrm-control-ownership", answer.ownership),
                prop("answer-status", answer.status),
                prop("published", timestamp(answer.published_at) if answer.published_at else ""),
                prop("published-content-sha256", answer.sha256),
            ),
            "rlinks": [{"href": _page("evidence:answer-detail", answer.pk), "media-type": "text/html"}],
            "remarks": paragraphs(answer.customer_responsibilities),
        }
    )


def _people(data: RunData) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The parties (organisation first, then people by name) and which role each holds."""
    holders: dict[str, dict[int, Any]] = {role: {} for role, _title, _description in ROLES}
    if data.run.triggered_by is not None:
        holders["assessor"][data.run.triggered_by.pk] = data.run.triggered_by
    for result in data.results:
        if result.manual_evidence is not None:
            author = result.manual_evidence.created_by
            holders["evidence-author"][author.pk] = author
    for finding in data.findings:
        if finding.assigned_to is not None:
            holders["remediation-owner"][finding.assigned_to.pk] = finding.assigned_to
        if finding.status == FindingStatus.RISK_ACCEPTED and finding.accepted_by is not None:
            holders["risk-approver"][finding.accepted_by.pk] = finding.accepted_by
    people = {user.pk: user for users in holders.values() for user in users.values()}
    organisation = organisation_party()
    parties = [organisation, *sorted((person_party(user) for user in people.values()), key=lambda p: p["uuid"])]
    responsible = [{"role-id": "prepared-by", "party-uuids": [organisation["uuid"]]}]
    responsible += [
        {"role-id": role, "party-uuids": sorted(person_party(user)["uuid"] for user in users.values())}
        for role, users in holders.items()
        if users
    ]
    return parties, responsible


def build(data: RunData) -> dict[str, Any]:
    """The assessment-results document of one succeeded run."""
    run, control = data.run, load_control()
    texts = {guideline.id: guideline.text for guideline in control.auditing_guidelines}
    start = timestamp(run.started_at or run.created_at)
    end = timestamp(run.finished_at or run.started_at or run.created_at)
    catalog = catalog_resource(run.catalog_version)
    plan_uuid = oscal_uuid("assessment-plan", run.catalog_version)
    parties, responsible = _people(data)

    observations, findings, risks, items = [], [], [], {}
    by_subject = {(f.rule, f.subject_type, f.subject_id): f for f in data.findings}
    for result in data.results:
        item = observation(result, texts.get(result.guideline_id, ""), end)
        observations.append(item)
        for subject in result.failing:
            items[_subject_uuid(subject)] = inventory_item(subject)
        if result.status not in (CheckStatus.FAIL, CheckStatus.PARTIAL):
            continue
        rule = result.details.get("rule")
        linked = [by_subject.get((rule, s["type"], s["id"])) for s in result.failing]
        result_risks = [risk(finding, item["uuid"]) for finding in linked if finding is not None]
        risks.extend(result_risks)
        findings.append(oscal_finding(result, item["uuid"], result_risks, control.id))

    answers = [answer_resource(answer) for answer in data.answers]
    answer_note = "; ".join(f"{a.party.name}: {a.answer}" for a in data.answers)
    result = omit_empty(
        {
            "uuid": oscal_uuid("result", run.pk),
            "title": f"Check run #{run.pk}",
            "description": text(
                f"{control.id} {control.title}: every auditing guideline evaluated by check run #{run.pk} "
                f"({run.get_trigger_display()}); {run.keys_evaluated} keys in use evaluated."
            ),
            "start": start,
            "end": end,
            "props": props(
                prop("check-run", run.pk),
                prop("keys-evaluated", run.keys_evaluated),
                prop("findings-opened", run.findings_opened),
                prop("findings-resolved", run.findings_resolved),
                *(prop(f"guidelines-{status}", count) for status, count in sorted(run.counts.items())),
            ),
            "links": [{"href": absolute(run.get_absolute_url()), "rel": "reference"}]
            + [{"href": f"#{answer['uuid']}", "rel": "related"} for answer in answers],
            "local-definitions": omit_empty({"inventory-items": [items[key] for key in sorted(items)]}),
            "reviewed-controls": omit_empty(
                {
                    "description": text(f"{control.id} as in {run.catalog_version}, and its auditing guidelines."),
                    "links": [{"href": f"#{catalog['uuid']}", "rel": "reference"}],
                    "control-selections": [{"include-controls": [{"control-id": control_id(control.id)}]}],
                    "control-objective-selections": [
                        {
                            "include-objectives": [
                                {"objective-id": objective_id(control.id, r.guideline_id)} for r in data.results
                            ]
                        }
                    ]
                    if data.results
                    else None,
                }
            ),
            "observations": observations,
            "risks": risks,
            "findings": findings,
            "remarks": text(
                f"CEK-11.1 answers published from this run: {answer_note}."
                if answer_note
                else "No CEK-11.1 answer generated from this run has been published."
            ),
        }
    )
    plan = {
        "uuid": plan_uuid,
        "title": f"{control.id} check plan ({run.catalog_version})",
        "description": text(
            "The app's checks: every auditing guideline of the control evaluated from the data (manual ones from "
            "the evidence people record), one status rule: pass when every subject passes, partial when at least "
            "95 % pass, fail otherwise, not applicable when there is nothing to evaluate."
        ),
        "rlinks": [{"href": absolute(reverse("evidence:checkrun-list")), "media-type": "text/html"}],
    }
    return {
        "assessment-results": {
            "uuid": oscal_uuid("assessment-results", run.pk),
            "metadata": {
                "title": text(f"{control.id} {control.title}: assessment results of check run #{run.pk}"),
                "last-modified": end,
                "version": f"check-run-{run.pk}",
                "oscal-version": OSCAL_VERSION,
                "props": props(prop("catalog-version", run.catalog_version)),
                "roles": [{"id": role, "title": title, "description": desc} for role, title, desc in ROLES],
                "parties": parties,
                "responsible-parties": responsible,
            },
            "import-ap": {
                "href": f"#{plan_uuid}",
                "remarks": "No separate assessment plan: the back-matter resource describes the checks' plan.",
            },
            "results": [result],
            "back-matter": {"resources": [catalog, plan, *answers]},
        }
    }
