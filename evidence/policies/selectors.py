"""Reads of the policy evidence, with their joins and annotations decided once: every list runs a fixed
number of queries whatever the number of rows, and role visibility is applied here.

Acknowledgement coverage of a version: its *recipients* are the active users who are members, now, of at
least one group the version was sent to; coverage is how many of them have acknowledged it. Someone who
joins an audience group later is a recipient who has not acknowledged yet (and sees it as pending); someone
who left every audience group no longer counts either way (their acknowledgement stays on record).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db.models import (
    Case,
    CharField,
    Count,
    Exists,
    F,
    IntegerField,
    Max,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce

from cek.roles import can_read_all, user_roles
from evidence.models import (
    Acknowledgement,
    ChangeEvent,
    Communication,
    EffectivenessEvaluation,
    Policy,
    PolicyReview,
    PolicyVersion,
    VersionStatus,
)

User = get_user_model()

POLICY_STATUSES = {
    "in-force": "In force",
    "in-approval": "In approval",
    "draft": "Draft",
    "retired": "Retired",
}


# --- Visibility ----------------------------------------------------------------------------------


def has_role(user) -> bool:
    return bool(user_roles(user))


def versions_for(user) -> QuerySet[PolicyVersion]:
    """GRC and auditors see every version; key owners see the approved and superseded ones (drafts are
    GRC's working material); users without a role see none."""
    if can_read_all(user):
        return PolicyVersion.objects.all()
    if has_role(user):
        return PolicyVersion.objects.filter(status__in=[VersionStatus.APPROVED, VersionStatus.SUPERSEDED])
    return PolicyVersion.objects.none()


# --- Coverage ------------------------------------------------------------------------------------


def _recipients_of(version_ref) -> QuerySet:
    return User.objects.filter(is_active=True, groups__policy_communications__version=version_ref)


def _count_subquery(queryset: QuerySet, group_by: str, counted: str) -> Coalesce:
    counts = queryset.order_by().values(group_by).annotate(n=Count(counted, distinct=True)).values("n")
    return Coalesce(Subquery(counts[:1], output_field=IntegerField()), Value(0))


def coverage_annotations(version_ref: str = "current_version_id") -> dict:
    """``recipients`` and ``acknowledged`` of the version named by ``version_ref`` (a field of the outer row)."""
    version = OuterRef(version_ref)
    return {
        "recipients": _count_subquery(_recipients_of(version), "groups__policy_communications__version", "pk"),
        "acknowledged": _count_subquery(
            Acknowledgement.objects.filter(
                version=version,
                recipient__is_active=True,
                recipient__groups__policy_communications__version=version,
            ),
            "version",
            "recipient",
        ),
    }


def coverage_percent(acknowledged: int, recipients: int) -> int | None:
    """Rounded down, so 99.6 % is not shown as complete; None when nobody was sent the version."""
    if not recipients:
        return None
    return acknowledged * 100 // recipients


@dataclass
class AudienceCoverage:
    group: Group
    members: int
    acknowledged: int
    missing: list = field(default_factory=list)  # users who have not acknowledged yet

    @property
    def percent(self) -> int | None:
        return coverage_percent(self.acknowledged, self.members)


@dataclass
class VersionCoverage:
    recipients: int = 0
    acknowledged: int = 0
    audiences: list[AudienceCoverage] = field(default_factory=list)
    missing: list = field(default_factory=list)

    @property
    def percent(self) -> int | None:
        return coverage_percent(self.acknowledged, self.recipients)


def version_coverage(*, versions: list[PolicyVersion]) -> dict[int, VersionCoverage]:
    """Coverage of each version overall and per audience group: three queries for any number of versions."""
    ids = [v.pk for v in versions]
    audience_rows = list(
        Communication.audiences.through.objects.filter(communication__version_id__in=ids)
        .values_list("communication__version_id", "group_id")
        .distinct()
    )
    group_ids = {group_id for _, group_id in audience_rows}
    groups = {g.pk: g for g in Group.objects.filter(pk__in=group_ids).order_by("name")}
    members: dict[int, set[int]] = defaultdict(set)
    users: dict[int, object] = {}
    for user in (
        User.objects.filter(is_active=True, groups__in=group_ids)
        .prefetch_related(
            Prefetch("groups", queryset=Group.objects.filter(pk__in=group_ids), to_attr="audience_groups")
        )
        .distinct()
    ):
        users[user.pk] = user
        for group in user.audience_groups:
            members[group.pk].add(user.pk)
    acknowledged: dict[int, set[int]] = defaultdict(set)
    for version_id, user_id in Acknowledgement.objects.filter(version_id__in=ids).values_list(
        "version_id", "recipient_id"
    ):
        acknowledged[version_id].add(user_id)

    by_version: dict[int, list[int]] = defaultdict(list)
    for version_id, group_id in audience_rows:
        by_version[version_id].append(group_id)
    result: dict[int, VersionCoverage] = {}
    for version_id in ids:
        coverage = VersionCoverage()
        everyone: set[int] = set()
        acked = acknowledged[version_id]
        for group_id in sorted(by_version[version_id], key=lambda pk: groups[pk].name):
            in_group = members[group_id]
            everyone |= in_group
            coverage.audiences.append(
                AudienceCoverage(
                    group=groups[group_id],
                    members=len(in_group),
                    acknowledged=len(in_group & acked),
                    missing=_sorted_users(users, in_group - acked),
                )
            )
        coverage.recipients = len(everyone)
        coverage.acknowledged = len(everyone & acked)
        coverage.missing = _sorted_users(users, everyone - acked)
        result[version_id] = coverage
    return result


def _sorted_users(users: dict, ids: set[int]) -> list:
    return sorted((users[pk] for pk in ids), key=lambda u: (u.get_full_name() or u.username).lower())


# --- Policies ------------------------------------------------------------------------------------


def _status_expression() -> Case:
    pending = PolicyVersion.objects.filter(policy=OuterRef("pk"), status=VersionStatus.IN_APPROVAL)
    return Case(
        When(retired_on__isnull=False, then=Value("retired")),
        When(current_version__isnull=False, then=Value("in-force")),
        When(Exists(pending), then=Value("in-approval")),
        default=Value("draft"),
        output_field=CharField(),
    )


def policy_list(
    *,
    user,
    today: dt.date,
    q: str = "",
    status: str = "",
    kind: str = "",
    area: str = "",
    overdue: bool = False,
    ordering: str = "title",
) -> QuerySet[Policy]:
    """Policies for the list page: status, current version, pending version, last review, next due and the
    current version's acknowledgement coverage, in one query per page (plus the count)."""
    if not has_role(user):
        return Policy.objects.none()
    last_review = PolicyReview.objects.filter(policy=OuterRef("pk")).order_by("-reviewed_on", "-id")
    pending = (
        versions_for(user)
        .filter(policy=OuterRef("pk"), status__in=[VersionStatus.DRAFT, VersionStatus.IN_APPROVAL])
        .order_by("-created_at", "-id")
    )
    policies = Policy.objects.select_related("owner", "current_version", "current_version__approval").annotate(
        status_code=_status_expression(),
        last_reviewed_on=Subquery(last_review.values("reviewed_on")[:1]),
        pending_label=Subquery(pending.values("label")[:1]),
        pending_status=Subquery(pending.values("status")[:1]),
        **coverage_annotations(),
    )
    if q:
        policies = policies.filter(Q(title__icontains=q) | Q(description__icontains=q) | Q(scope__icontains=q))
    if status in POLICY_STATUSES:
        policies = policies.filter(status_code=status)
    if kind:
        policies = policies.filter(kind=kind)
    if area:
        # areas is a JSON list of slugs; matching the quoted slug works on SQLite and PostgreSQL alike.
        policies = policies.filter(areas__icontains=f'"{area}"')
    if overdue:
        policies = policies.filter(retired_on__isnull=True, next_review_due_on__lt=today)
    return policies.order_by(*POLICY_ORDERINGS.get(ordering, POLICY_ORDERINGS["title"]))


POLICY_ORDERINGS = {
    "title": ("title", "pk"),
    "-title": ("-title", "-pk"),
    # Policies with no review due (no approved version, retired) last either way, on SQLite and PostgreSQL alike.
    "due": (F("next_review_due_on").asc(nulls_last=True), "title", "pk"),
    "-due": (F("next_review_due_on").desc(nulls_last=True), "title", "pk"),
}


def policy_detail(*, user) -> QuerySet[Policy]:
    """One policy with everything its page shows, prefetched (versions as the user may see them)."""
    if not has_role(user):
        return Policy.objects.none()
    communications = Communication.objects.select_related("sent_by").prefetch_related("audiences")
    versions = (
        versions_for(user)
        .select_related("approval__approver", "approval__recorded_by", "created_by", "submitted_by", "superseded_by")
        .prefetch_related(Prefetch("communications", queryset=communications.order_by("-sent_at", "-id")))
        .order_by("-created_at", "-id")
    )
    return Policy.objects.select_related("owner", "current_version", "current_version__approval").prefetch_related(
        Prefetch("versions", queryset=versions, to_attr="visible_versions"),
        Prefetch("reviews", queryset=PolicyReview.objects.select_related("reviewer", "recorded_by")),
        Prefetch("change_events", queryset=ChangeEvent.objects.select_related("recorded_by")),
        Prefetch("evaluations", queryset=EffectivenessEvaluation.objects.select_related("performed_by")),
    )


# --- Acknowledgements ----------------------------------------------------------------------------


def acknowledgements_pending(*, user) -> QuerySet[PolicyVersion]:
    """Versions in force that were sent to a group the user belongs to and that the user has not yet
    acknowledged. One query."""
    if not getattr(user, "is_authenticated", False) or not has_role(user):
        return PolicyVersion.objects.none()
    sent_to_user = Communication.objects.filter(version=OuterRef("pk"), audiences__user=user)
    return (
        # "approved" is the version in force: a policy has at most one, and approving another supersedes it.
        PolicyVersion.objects.filter(status=VersionStatus.APPROVED, policy__retired_on__isnull=True)
        .filter(Exists(sent_to_user))
        .exclude(acknowledgements__recipient=user)
        .annotate(first_sent_at=Subquery(sent_to_user.order_by("sent_at").values("sent_at")[:1]))
        .select_related("policy", "approval")
        .order_by("first_sent_at", "pk")
    )


def acknowledgements_of(*, user) -> QuerySet[Acknowledgement]:
    return Acknowledgement.objects.filter(recipient=user).select_related("version__policy").order_by("-acknowledged_at")


def is_in_audience(*, version: PolicyVersion, user) -> bool:
    return Communication.objects.filter(version=version, audiences__user=user).exists()


# --- Dashboard -----------------------------------------------------------------------------------


def policy_reviews_overdue(*, today: dt.date) -> QuerySet[Policy]:
    """Policies in force whose review is overdue, most overdue first. One query."""
    return (
        Policy.objects.filter(retired_on__isnull=True, current_version__isnull=False, next_review_due_on__lt=today)
        .select_related("owner", "current_version")
        .annotate(last_reviewed_on=Max("reviews__reviewed_on"))
        .order_by("next_review_due_on", "title", "pk")
    )


def policy_review_status_counts(*, today: dt.date, soon_days: int = 30) -> dict[str, int]:
    """Headline figures of the policy set, in one query: how many policies, in force, without an approved
    version, retired, with a version in approval, overdue for review, due within ``soon_days``."""
    in_force = Q(retired_on__isnull=True, current_version__isnull=False)
    pending = PolicyVersion.objects.filter(policy=OuterRef("pk"), status=VersionStatus.IN_APPROVAL)
    return Policy.objects.annotate(has_pending=Exists(pending)).aggregate(
        total=Count("pk"),
        in_force=Count("pk", filter=in_force),
        without_approved_version=Count("pk", filter=Q(retired_on__isnull=True, current_version__isnull=True)),
        retired=Count("pk", filter=Q(retired_on__isnull=False)),
        in_approval=Count("pk", filter=Q(retired_on__isnull=True, has_pending=True)),
        overdue=Count("pk", filter=in_force & Q(next_review_due_on__lt=today)),
        due_soon=Count(
            "pk",
            filter=in_force
            & Q(next_review_due_on__gte=today, next_review_due_on__lte=today + dt.timedelta(days=soon_days)),
        ),
    )
