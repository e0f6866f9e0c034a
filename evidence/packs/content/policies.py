"""The policies section (``templates/pdf/_policies.html``): policies, the versions in force in the window with
their approval and acknowledgement coverage, reviews, effectiveness evaluations and change events."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Q

from evidence.models import (
    ChangeEvent,
    EffectivenessEvaluation,
    EvidencePack,
    Policy,
    PolicyReview,
    PolicyVersion,
    VersionStatus,
)
from evidence.packs.content.table import person
from evidence.policies.selectors import version_coverage


@dataclass
class PolicySection:
    policies: list[dict]
    versions: list[dict]  # in force at some point in the window, with approval and acknowledgement coverage
    reviews: list[dict]
    evaluations: list[dict]
    changes: list[dict]


def policy_section(pack: EvidencePack, start: dt.datetime, end: dt.datetime) -> PolicySection:
    first_day, last_day = pack.window_from, pack.window_to
    policies = [
        {
            "title": p.title,
            "kind": p.get_kind_display(),
            "owner": person(p.owner),
            "current_version": p.current_version.label if p.current_version else "",
            "next_review_due_on": p.next_review_due_on,
            "retired_on": p.retired_on,
            "areas": p.areas,
        }
        for p in Policy.objects.select_related("owner", "current_version").order_by("title")
    ]
    # In force at some point in the window: approved by its last day and not superseded before its first.
    versions = list(
        PolicyVersion.objects.filter(
            status__in=[VersionStatus.APPROVED, VersionStatus.SUPERSEDED], approval__approved_on__lte=last_day
        )
        .filter(Q(superseded_at__isnull=True) | Q(superseded_at__gte=start))
        .select_related("policy", "approval", "approval__approver")
        .order_by("policy__title", "approval__approved_on", "id")
    )
    coverage = version_coverage(versions=versions)
    version_rows = []
    for version in versions:
        approval = version.approval
        cov = coverage.get(version.pk)
        version_rows.append(
            {
                "policy": version.policy.title,
                "label": version.label,
                "status": version.get_status_display(),
                "approved_on": approval.approved_on,
                "approved_in_window": first_day <= approval.approved_on <= last_day,
                "governance_body": approval.governance_body,
                "approver": person(approval.approver),
                "reference": approval.reference,
                "superseded_at": version.superseded_at,
                "document": version.document_name or version.link,
                "sha256": version.document_sha256,
                "recipients": cov.recipients if cov else 0,
                "acknowledged": cov.acknowledged if cov else 0,
                "coverage_percent": cov.percent if cov else None,
            }
        )
    reviews = [
        {
            "policy": r.policy.title,
            "reviewed_on": r.reviewed_on,
            "reviewer": person(r.reviewer),
            "outcome": r.get_outcome_display(),
            "notes": r.notes,
        }
        for r in PolicyReview.objects.filter(reviewed_on__range=(first_day, last_day))
        .select_related("policy", "reviewer")
        .order_by("reviewed_on", "id")
    ]
    evaluations = [
        {
            "title": e.title,
            "kind": e.get_kind_display(),
            "performed_on": e.performed_on,
            "performed_by": person(e.performed_by),
            "assessor": e.assessor,
            "result": e.get_result_display(),
            "result_value": e.result,
            "scope": e.scope,
            "findings": e.findings,
        }
        for e in EffectivenessEvaluation.objects.filter(performed_on__range=(first_day, last_day))
        .select_related("performed_by")
        .order_by("performed_on", "id")
    ]
    changes = [
        {
            "title": c.title,
            "kind": c.get_kind_display(),
            "occurred_on": c.occurred_on,
            "review_due_on": c.review_due_on,
        }
        for c in ChangeEvent.objects.filter(occurred_on__range=(first_day, last_day)).order_by("occurred_on", "id")
    ]
    return PolicySection(
        policies=policies, versions=version_rows, reviews=reviews, evaluations=evaluations, changes=changes
    )
