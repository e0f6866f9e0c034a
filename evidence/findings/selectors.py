"""Reads of findings for the findings pages and the dashboard: the role visibility (``findings_for``), the
filters every list offers through its URL, and the effective status.

A risk acceptance ends on its ``accepted_until`` date. The daily task reopens such findings, but until it has
run the row still says "risk accepted": every read here treats an acceptance that ended before ``today`` as
open, so pages and figures are right whether or not the task ran.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields

from django.contrib.auth import get_user_model
from django.db.models import (
    BooleanField,
    Case,
    CharField,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Concat, NullIf, Trim
from django.urls import NoReverseMatch, reverse

from cek.roles import can_read_all, is_key_owner
from evidence.findings.rules import rule_title
from evidence.models import Finding, FindingStatus, Severity
from inventory.models import Key
from inventory.selectors import keys_for

KEY_SUBJECT = "inventory.key"

SEVERITY_RANK = Case(
    When(severity=Severity.CRITICAL, then=Value(0)),
    When(severity=Severity.HIGH, then=Value(1)),
    When(severity=Severity.MEDIUM, then=Value(2)),
    default=Value(3),
    output_field=IntegerField(),
)


def findings_for(user) -> QuerySet[Finding]:
    """GRC and auditors see every finding; a key owner sees the findings on the keys they own or back up."""
    if can_read_all(user):
        return Finding.objects.all()
    if is_key_owner(user):
        return Finding.objects.filter(subject_type="inventory.key", subject_id__in=keys_for(user).values("pk"))
    return Finding.objects.none()


def acceptance_lapsed(today: dt.date) -> Q:
    """Risk accepted, but only until a day before ``today``."""
    return Q(status=FindingStatus.RISK_ACCEPTED, accepted_until__lt=today)


def acceptance_current(today: dt.date) -> Q:
    """Risk accepted until ``today`` or later."""
    return Q(status=FindingStatus.RISK_ACCEPTED, accepted_until__gte=today)


def effectively_open(today: dt.date) -> Q:
    """Open findings, counting those whose risk acceptance has ended: what every page and figure calls "open"
    (the findings list, the dashboard, the CEK-11.1 answer's facts)."""
    return Q(status=FindingStatus.OPEN) | acceptance_lapsed(today)


def open_on(day: dt.date) -> Q:
    """Findings open on ``day`` as their rows record it: first seen on or before the day and not resolved on or
    before it. A finding resolved and later reopened has no resolution date any more, so it counts as open from
    its first sighting (its history has the detail)."""
    return Q(first_seen__date__lte=day) & (Q(resolved_at__isnull=True) | Q(resolved_at__date__gt=day))


# URL value of the status filter: (label, condition)
STATUS_FILTERS = {
    "open": ("Open", effectively_open),  # expired acceptances included
    "risk-accepted": ("Risk accepted", acceptance_current),
    "acceptance-expired": ("Acceptance expired", acceptance_lapsed),
    "resolved": ("Resolved", lambda today: Q(status=FindingStatus.RESOLVED)),
    "unresolved": ("Not resolved", lambda today: ~Q(status=FindingStatus.RESOLVED)),
}

# URL value of the ordering: (label, ORM ordering)
ORDERINGS = {
    "": ("Last seen (newest)", ("-last_seen", "-pk")),
    "severity": ("Severity (critical first)", ("severity_rank", "-last_seen", "-pk")),
    "due": ("Remediation due (soonest)", (F("remediation_due").asc(nulls_last=True), "-last_seen", "-pk")),
    "first_seen": ("First seen (oldest)", ("first_seen", "pk")),
}


@dataclass(frozen=True)
class FindingFilters:
    """What a findings list is narrowed to; every field comes from the URL and was validated by the view."""

    rule: str = ""
    severity: str = ""
    status: str = ""
    owner: str = ""  # username of the subject key's owner
    key: int | None = None  # the subject key's id
    assigned: str = ""  # username of the assignee, or "none"
    sort: str = ""

    @property
    def active(self) -> bool:
        return any(getattr(self, f.name) not in ("", None) for f in fields(self) if f.name != "sort")

    @classmethod
    def from_query(cls, params) -> FindingFilters:
        """Filters from a query dict; unknown values are dropped (a stale bookmark shows more, never fails)."""

        def pick(name: str, allowed) -> str:
            value = (params.get(name) or "").strip()
            return value if value in allowed else ""

        key = (params.get("key") or "").strip()
        return cls(
            rule=(params.get("rule") or "").strip()[:80],
            severity=pick("severity", Severity.values),
            status=pick("status", STATUS_FILTERS),
            owner=(params.get("owner") or "").strip()[:150],
            key=int(key) if key.isascii() and key.isdigit() and len(key) < 19 else None,
            assigned=(params.get("assigned") or "").strip()[:150],
            sort=pick("sort", ORDERINGS),
        )


def _key_owner(field) -> Case:
    """One fact about the subject key's owner, "" when the subject is not a key."""
    owner = Key.objects.filter(pk=OuterRef("subject_id")).annotate(value=field).values("value")[:1]
    return Case(When(subject_type=KEY_SUBJECT, then=Subquery(owner)), default=Value(""), output_field=CharField())


# How ``cek.people.person_name`` names the owner (full name, else username), computed in the list's own query.
OWNER_NAME = Coalesce(
    NullIf(Trim(Concat("owner__first_name", Value(" "), "owner__last_name", output_field=CharField())), Value("")),
    "owner__username",
    output_field=CharField(),
)


def with_display(findings: QuerySet[Finding], *, today: dt.date) -> QuerySet[Finding]:
    """The joins and per-row facts a finding page shows, computed in the same query: the assignee, approver
    and resolver, the subject key's owner (username for the API and filters, name for the pages), whether the acceptance has lapsed and the remediation is late."""
    return findings.select_related("accepted_by", "resolved_by", "assigned_to").annotate(
        key_owner=_key_owner(F("owner__username")),
        key_owner_name=_key_owner(OWNER_NAME),
        severity_rank=SEVERITY_RANK,
        acceptance_lapsed=Case(
            When(acceptance_lapsed(today), then=Value(True)), default=Value(False), output_field=BooleanField()
        ),
        remediation_late=Case(
            When(~Q(status=FindingStatus.RESOLVED) & Q(remediation_due__lt=today), then=Value(True)),
            default=Value(False),
            output_field=BooleanField(),
        ),
    )


def finding_list(*, user, filters: FindingFilters, today: dt.date) -> QuerySet[Finding]:
    """The findings ``user`` may see, narrowed by ``filters``, in the chosen order: one query per page."""
    findings = findings_for(user)
    if filters.rule:
        findings = findings.filter(rule=filters.rule)
    if filters.severity:
        findings = findings.filter(severity=filters.severity)
    if filters.status:
        findings = findings.filter(STATUS_FILTERS[filters.status][1](today))
    if filters.owner:
        findings = findings.filter(
            subject_type=KEY_SUBJECT, subject_id__in=Key.objects.filter(owner__username=filters.owner).values("pk")
        )
    if filters.key is not None:
        findings = findings.filter(subject_type=KEY_SUBJECT, subject_id=filters.key)
    if filters.assigned == "none":
        findings = findings.filter(assigned_to__isnull=True)
    elif filters.assigned:
        findings = findings.filter(assigned_to__username=filters.assigned)
    return with_display(findings, today=today).order_by(*ORDERINGS[filters.sort][1])


@dataclass
class FilterChoices:
    rules: list[str]
    owners: list  # users owning a key with a finding (GRC and auditors only)
    assignees: list
    key_label: str  # the name of the filtered key, "" when none

    @staticmethod
    def _user_options(users) -> list[tuple[str, str]]:
        return [(u.username, f"{u.get_full_name()} ({u.username})" if u.get_full_name() else u.username) for u in users]

    @property
    def rules_options(self) -> list[tuple[str, str]]:
        return sorted(((rule, rule_title(rule)) for rule in self.rules), key=lambda option: option[1].lower())

    @property
    def owner_options(self) -> list[tuple[str, str]]:
        return self._user_options(self.owners)

    @property
    def assignee_options(self) -> list[tuple[str, str]]:
        return [("none", "Nobody (unassigned)"), *self._user_options(self.assignees)]


def finding_filter_choices(*, user, filters: FindingFilters) -> FilterChoices:
    """The options of the filter form, from the findings ``user`` may see: three queries, four with a key."""
    visible = findings_for(user)
    users = get_user_model().objects.order_by("username")
    rules = list(visible.order_by("rule").values_list("rule", flat=True).distinct())
    if can_read_all(user):
        keys = visible.filter(subject_type=KEY_SUBJECT).values("subject_id")
        owners = list(users.filter(owned_keys__pk__in=keys).distinct())
    else:
        owners = []
    assignees = list(users.filter(pk__in=visible.filter(assigned_to__isnull=False).values("assigned_to")))
    key_label = ""
    if filters.key is not None:
        key_label = (
            visible.filter(subject_type=KEY_SUBJECT, subject_id=filters.key)
            .values_list("subject_label", flat=True)
            .first()
            or f"key #{filters.key}"
        )
    return FilterChoices(rules=rules, owners=owners, assignees=assignees, key_label=key_label)


def finding_detail(*, user, today: dt.date) -> QuerySet[Finding]:
    """The findings ``user`` may open, with what the finding page shows about each."""
    return with_display(findings_for(user), today=today)


def finding_subject_key(finding: Finding) -> Key | None:
    """The key a finding is about, if it is about a key that still exists (one query)."""
    if finding.subject_type != KEY_SUBJECT:
        return None
    return Key.objects.select_related("owner", "backup_owner", "purpose", "store").filter(pk=finding.subject_id).first()


SUBJECT_PAGES = {
    "inventory.key": "inventory:key-detail",
    "inventory.keystore": "inventory:keystore-detail",
    "inventory.accessgrant": "inventory:grant-detail",
    "inventory.binding": "inventory:binding-detail",
    "inventory.service": "inventory:service-detail",
    "inventory.purpose": "inventory:purpose-detail",
    "evidence.policy": "evidence:policy-detail",
}


def subject_url(finding: Finding) -> str:
    """The page of the finding's subject, "" for a kind of subject without a page."""
    name = SUBJECT_PAGES.get(finding.subject_type)
    try:
        return reverse(name, args=[finding.subject_id]) if name else ""
    except NoReverseMatch:
        return ""
