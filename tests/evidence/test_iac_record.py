"""``check_iac --record``: the scan kept as evidence, its violations as findings (on the inventory key when matched,
else on the IaC address), idempotent, resolved by a later scan of the same repository, untouched by check runs."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from evidence.checks import services as check_services
from evidence.checks.registry import OWNED_RULES
from evidence.iac.result import RULES
from evidence.iac.services import SEVERITIES
from evidence.models import Finding, FindingStatus, IacAddress, IacScan, RunTrigger
from tests.evidence.iac_support import FIXTURES
from tests.factories import KeyFactory, KeyStoreFactory, UserFactory, purpose

pytestmark = pytest.mark.django_db
PEM = "-----BEGIN PRIVATE KEY-----MIIEvQIBADANBgkqhkiG9w0BAQEFAASC-----END PRIVATE KEY-----"


def record(name: str, *, user="alice", repository="acme/infra", commit="", extra=()) -> tuple[int, str, str]:
    out, err = StringIO(), StringIO()
    args = [str(FIXTURES / name), "--record", "--format", "json", *extra]
    if user:
        args += ["--user", user]
    if repository is not None:
        args += ["--repository", repository]
    if commit:
        args += ["--commit", commit]
    try:
        call_command("check_iac", *args, stdout=out, stderr=err)
    except SystemExit as exc:
        return int(exc.code), out.getvalue(), err.getvalue()
    return 0, out.getvalue(), err.getvalue()


def iac_findings(**filters):
    return Finding.objects.filter(rule__in=list(RULES), **filters)


def test_every_rule_has_a_severity_and_no_rule_is_owned_by_a_check():
    assert set(SEVERITIES) == set(RULES)
    assert not set(RULES) & set(OWNED_RULES)


def test_violating_plan_is_stored_with_findings_on_the_addresses(grc_user):
    code, _out, err = record("aws_violating.json", commit="0123abcdEF")
    assert code == 1
    scan = IacScan.objects.get()
    assert f"Recorded as IaC scan #{scan.pk} of acme/infra." in err
    assert (scan.repository, scan.commit, scan.source, scan.passed) == ("acme/infra", "0123abcdef", "plan", False)
    assert scan.violations_count == 4 == len(scan.violations) and len(scan.input_sha256) == 64
    assert scan.recorded_by == grc_user and scan.software_version.startswith("cek ")
    assert scan.resources > 0 and scan.keys > 0 and scan.consumers > 0
    findings = iac_findings()
    assert findings.count() == 4
    assert {f.subject_type for f in findings} == {"evidence.iacaddress"}
    multi = findings.get(rule="iac-multi-purpose")
    assert multi.severity == "high" and multi.status == FindingStatus.OPEN
    address = IacAddress.objects.get(pk=multi.subject_id)
    assert (address.repository, address.address) == ("acme/infra", "module.kms.aws_kms_key.this")
    assert multi.subject_label == "module.kms.aws_kms_key.this in acme/infra"
    assert multi.details["scan"] == scan.pk and multi.details["repository"] == "acme/infra"
    assert "aws_cloudwatch_log_group.app" in {use["address"] for use in multi.details["consumers"]}


def test_a_key_in_the_inventory_is_the_subject(grc_user):
    key = KeyFactory(
        store=KeyStoreFactory(kind="vault-transit"),
        name="releases",
        external_id="transit/keys/releases",
        purpose=purpose("data-encryption"),
    )
    assert record("vault_violating.json")[0] == 1
    finding = iac_findings().get()
    assert (finding.rule, finding.subject_type, finding.subject_id) == (
        "iac-purpose-contradicts-inventory",
        "inventory.key",
        key.pk,
    )
    assert finding.severity == "medium"
    assert not IacAddress.objects.exists()


def test_recording_again_is_idempotent_and_adds_a_scan(grc_user):
    record("aws_violating.json")
    first = dict(iac_findings().values_list("pk", "first_seen"))
    assert record("aws_violating.json")[0] == 1
    assert IacScan.objects.count() == 2
    assert dict(iac_findings().values_list("pk", "first_seen")) == first
    assert IacAddress.objects.count() == len({f.subject_id for f in iac_findings()})


def test_a_clean_scan_resolves_the_repository_findings_only(grc_user):
    record("aws_violating.json")
    record("aws_violating.json", repository="acme/other")
    assert record("aws_clean.json")[0] == 0
    clean = IacScan.objects.filter(repository="acme/infra").first()
    assert clean.passed and clean.violations == []
    resolved = iac_findings(details__repository="acme/infra")
    assert resolved.count() == 4
    assert all(f.status == FindingStatus.RESOLVED and f.resolved_by == grc_user for f in resolved)
    note = resolved.first().history.first().history_change_reason
    assert note == f"Resolved: no longer reported by IaC scan #{clean.pk} of acme/infra"
    other = iac_findings(details__repository="acme/other")
    assert other.count() == 4 and all(f.status == FindingStatus.OPEN for f in other)
    # Violating again reopens them.
    record("aws_violating.json")
    assert all(f.status == FindingStatus.OPEN for f in iac_findings(details__repository="acme/infra"))


def test_user_must_be_an_active_grc_user(grc_user):
    UserFactory(username="bob", roles=["key-owners"])
    with pytest.raises(CommandError, match="GRC group") as excinfo:
        record("aws_violating.json", user="bob")
    assert excinfo.value.returncode == 2
    with pytest.raises(CommandError, match="active user") as excinfo:
        record("aws_violating.json", user="nobody")
    assert excinfo.value.returncode == 2
    grc_user.is_active = False
    grc_user.save()
    with pytest.raises(CommandError, match="active user"):
        record("aws_violating.json", user="alice")
    assert not IacScan.objects.exists() and not iac_findings().exists()


@pytest.mark.parametrize("missing", ["user", "repository"])
def test_record_needs_user_and_repository(grc_user, missing):
    kwargs = {missing: None if missing == "repository" else ""}
    with pytest.raises(CommandError, match=f"--record needs --{missing}") as excinfo:
        record("aws_violating.json", **kwargs)
    assert excinfo.value.returncode == 2
    assert not IacScan.objects.exists()


def test_repository_holding_key_material_is_refused_and_not_echoed(grc_user):
    with pytest.raises(CommandError) as excinfo:
        record("aws_violating.json", repository=PEM)
    assert excinfo.value.returncode == 2
    assert str(excinfo.value).startswith("Not recorded: repository:")
    assert "MIIEvQ" not in str(excinfo.value)
    assert not IacScan.objects.exists() and not iac_findings().exists()


def test_commit_must_be_hex(grc_user):
    with pytest.raises(CommandError, match="commit") as excinfo:
        record("aws_violating.json", commit="not-a-sha")
    assert excinfo.value.returncode == 2


def test_scans_are_write_once(grc_user):
    record("aws_clean.json")
    scan = IacScan.objects.get()
    scan.passed = False
    with pytest.raises(Exception, match="cannot be changed"):
        scan.save()


def test_a_check_run_leaves_iac_findings_alone(grc_user):
    KeyStoreFactory(last_full_import_at=timezone.now())
    record("aws_violating.json")
    before = dict(iac_findings().values_list("pk", "status"))
    check_services.check_run_start(trigger=RunTrigger.COMMAND, actor=None, background=False)
    assert dict(iac_findings().values_list("pk", "status")) == before
    assert all(status == FindingStatus.OPEN for status in before.values())


def test_the_finding_page_shows_an_iac_address_finding(grc_user, grc_client, auditor_client):
    record("aws_violating.json")
    finding = iac_findings().get(rule="iac-multi-purpose")
    for client in (grc_client, auditor_client):
        response = client.get(finding.get_absolute_url())
        assert response.status_code == 200
        page = response.content.decode()
        assert "module.kms.aws_kms_key.this in acme/infra" in page
        assert "evidence.iacaddress" not in page  # the subject by its address, never an internal reference
        assert "aws_cloudwatch_log_group.app" in page


def test_the_admin_lists_scans_read_only(grc_user):
    from django.contrib import admin

    from tests.conftest import login

    record("aws_violating.json")
    admin_user = UserFactory(username="root", is_staff=True, is_superuser=True)
    response = login(admin_user).get("/admin/evidence/iacscan/")
    assert response.status_code == 200 and "acme/infra" in response.content.decode()
    model_admin = admin.site._registry[IacScan]
    assert not model_admin.has_add_permission(None) and not model_admin.has_delete_permission(None)


def test_a_finding_keeps_the_commit_short_so_exports_and_packs_accept_it(grc_user):
    from cek.exportguard import check_tree

    commit = "4f2a9c0e1b7d3a5f6e8c9d0b1a2f3e4d5c6b7a89"  # 40 hex digits: the shape of a 160-bit secret
    assert record("aws_violating.json", commit=commit)[0] == 1
    assert IacScan.objects.get().commit == commit  # the scan itself keeps it whole
    for finding in iac_findings():
        assert finding.details["commit"] == commit[:12]
        check_tree(finding.details, export="findings.csv", where="details")  # refused before this change
