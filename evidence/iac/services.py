"""Runs the gate on a path (a plan JSON file or a directory of ``.tf`` files) and records a scan.

``check_iac --record``: a scan kept as evidence, its violations kept as findings.

Each violation becomes one finding (``finding_upsert``: one per rule and subject, so recording the same plan again
adds a scan row, never a duplicate finding). The subject is the inventory key when the gate matched the violating
key to the inventory, else the key's IaC address in that repository (an ``IacAddress`` row). A recorded scan
resolves the open (or risk-accepted) IaC findings of its repository that it no longer reports, attributed to the
recording user, with a note naming the scan. Findings seen for the first time are announced (``evidence.alerts``). The rule ids (``iac-*``) are the gate's own: check runs resolve the
findings of the rules their checks own (``evidence.checks.registry.OWNED_RULES``) only, so they leave these alone.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

import cek
from evidence.alerts.services import finding_alerts_create
from evidence.findings.services import finding_resolve, finding_upsert
from evidence.iac import selectors
from evidence.iac.gate import scan
from evidence.iac.hcl import read_directory
from evidence.iac.model import Infrastructure, UnreadableInput
from evidence.iac.models import IacAddress, IacScan, IacSource
from evidence.iac.plan import read_plan
from evidence.iac.result import RULES, ScanResult, Violation, short_commit
from evidence.models import Finding, FindingStatus, Severity
from evidence.writes import require_grc
from inventory.models import Key


def read_input(path: Path) -> Infrastructure:
    limit = settings.CEK_IAC_MAX_BYTES
    if path.is_dir():
        return read_directory(path, max_bytes=limit)
    if not path.exists():
        raise UnreadableInput(f"{path} does not exist.")
    return read_plan(path, max_bytes=limit)


def check_path(path: Path) -> ScanResult:
    """The gate's verdict on ``path``; raises ``UnreadableInput`` (one line) when it cannot be read."""
    return scan(read_input(path), lookup=selectors.find_keys, tag_keys=selectors.tag_keys())


# The finding severity of each gate rule: a key that serves several purposes, services or tenants, or cannot serve
# its consumer, is high; an untagged new key or a tag contradicting the inventory is medium.
SEVERITIES: dict[str, str] = {
    "iac-multi-purpose": Severity.HIGH,
    "iac-multi-service": Severity.HIGH,
    "iac-multi-tenant": Severity.HIGH,
    "iac-key-usage": Severity.HIGH,
    "iac-no-purpose-tag": Severity.MEDIUM,
    "iac-purpose-contradicts-inventory": Severity.MEDIUM,
}

_SOURCES = {"plan": IacSource.PLAN, "hcl": IacSource.DIRECTORY}


def _subject(violation: Violation, *, repository: str, iac_scan: IacScan):
    """The inventory key the violation is about when the gate matched it (its ``key_ref`` is then the key's
    external id), else the key's address in the repository."""
    keys = list(Key.objects.filter(external_id=violation.key_ref)[:2]) if violation.key_ref else []
    if len(keys) == 1:
        return keys[0]
    address = IacAddress(repository=repository, address=violation.key_address[:500], first_seen_in=iac_scan)
    address.full_clean(exclude=["first_seen_in"], validate_unique=False, validate_constraints=False)
    found, _created = IacAddress.objects.get_or_create(
        repository=repository, address=address.address, defaults={"first_seen_in": iac_scan}
    )
    return found


def _details(violation: Violation, iac_scan: IacScan) -> dict:
    return {
        "repository": iac_scan.repository,
        "commit": short_commit(iac_scan.commit),
        "scan": iac_scan.pk,
        "key_address": violation.key_address,
        "key_ref": violation.key_ref,
        "message": violation.message,
        "fix": violation.fix,
        "consumers": [
            {"address": use.address, "type": use.type, "attribute": use.attribute, "purpose_class": use.purpose_class}
            for use in violation.consumers
        ],
    }


def iac_scan_record(*, result: ScanResult, repository: str, commit: str, actor) -> IacScan:
    """Store ``result`` as an ``IacScan`` of ``repository`` at ``commit`` recorded by ``actor`` (an active GRC
    user), upsert one finding per violation and resolve the repository's IaC findings the scan no longer reports."""
    if actor is None or not actor.is_active:
        raise PermissionDenied("Only an active GRC user can record IaC scans.")
    require_grc(actor, "record IaC scans")
    repository, commit = (repository or "").strip(), (commit or "").strip().lower()
    if not repository:
        raise ValidationError({"repository": "Name the repository the scan is of."})
    iac_scan = IacScan(
        repository=repository,
        commit=commit,
        source=_SOURCES.get(result.source, result.source),
        input_sha256=result.sha256,
        resources=result.resources,
        keys=result.keys,
        consumers=result.consumers,
        matched_keys=result.matched,
        violations_count=len(result.violations),
        passed=result.passed,
        violations=[violation.as_dict() for violation in result.violations],
        recorded_by=actor,
        software_version=f"cek {cek.__version__}"[:40],
    )
    iac_scan.full_clean()
    with transaction.atomic():
        iac_scan.save()
        seen: set[int] = set()
        new: list[Finding] = []
        for violation in result.violations:
            subject = _subject(violation, repository=repository, iac_scan=iac_scan)
            finding, created = finding_upsert(
                rule=violation.rule,
                subject=subject,
                severity=SEVERITIES[violation.rule],
                details=_details(violation, iac_scan),
                seen_at=iac_scan.recorded_at,
                actor=actor,
            )
            seen.add(finding.pk)
            if created:
                new.append(finding)
        stale = Finding.objects.filter(
            rule__in=list(RULES),
            status__in=[FindingStatus.OPEN, FindingStatus.RISK_ACCEPTED],
            details__repository=repository,
        ).exclude(pk__in=seen)
        for finding in stale:
            finding_resolve(
                finding=finding,
                actor=actor,
                note=f"Resolved: no longer reported by IaC scan #{iac_scan.pk} of {repository}",
            )
        finding_alerts_create(findings=new, source=f"IaC scan #{iac_scan.pk} of {repository}")
    return iac_scan
