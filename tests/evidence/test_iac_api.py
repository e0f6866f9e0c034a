"""``/api/v1/iac-scans/``: the gate for CI (a plan or an archive of .tf files in, the verdict and the exit status
out, the scan recorded), the narrow ``iac-scans`` token scope, bad input answered 400 with exit status 2, and the
recorded scans read by GRC and auditors in a fixed number of queries."""

from __future__ import annotations

import io
import json
import tarfile
import zipfile

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from cek.apitokens import api_token_issue
from cek.models import TokenScope
from evidence.iac.models import IacScan
from evidence.iac.result import RULES
from evidence.models import Finding, FindingStatus
from tests.conftest import login
from tests.evidence.iac_support import FIXTURES, offline, rules_of
from tests.factories import KeyFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/iac-scans/"
PEM = "-----BEGIN PRIVATE KEY-----MIIEvQIBADANBgkqhkiG9w0BAQEFAASC-----END PRIVATE KEY-----"


def bearer(raw: str) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")


@pytest.fixture
def ci(grc_user) -> Client:
    _, raw = api_token_issue(user=grc_user, name="GitHub Actions: infra", scope=TokenScope.IAC_SCANS)
    return bearer(raw)


def plan(name: str, upload_name: str = "plan.json"):
    handle = io.BytesIO((FIXTURES / name).read_bytes())
    handle.name = upload_name
    return handle


def post(client: Client, **fields):
    data = {"repository": "acme/infra", **fields}
    return client.post(URL, data)


def tar_of(members: dict[str, bytes], *, prefix: str = "", links: tuple[str, ...] = ()) -> io.BytesIO:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(prefix + name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
        for name in links:
            info = tarfile.TarInfo(prefix + name)
            info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
            archive.addfile(info)
    buffer.seek(0)
    buffer.name = "infra.tar.gz"
    return buffer


def tfdir_members() -> dict[str, bytes]:
    root = FIXTURES / "tfdir"
    return {str(path.relative_to(root)): path.read_bytes() for path in sorted(root.rglob("*.tf"))}


# --- The gate over the API ------------------------------------------------------------------------------------


def test_a_ci_token_records_a_violating_plan_and_is_told_to_fail(ci, grc_user):
    response = post(ci, plan=plan("aws_violating.json"), commit="0123ABCDEF")

    assert response.status_code == 201
    body = response.json()
    scan = IacScan.objects.get()
    assert body["recorded"] is True and body["scan"]["id"] == scan.pk
    assert body["passed"] is False and body["exit_status"] == 1
    assert body["summary"].startswith("FAIL: acme/infra at 0123abcdef: 4 violation(s).")
    assert RULES["iac-multi-purpose"][0].rstrip(".") in body["summary"]
    assert body["counts"]["violations"] == 4 == len(body["violations"])
    assert body["scan"]["url"].endswith(f"/evidence/iac/scans/{scan.pk}/")
    assert body["scan"]["recorded_by"] == grc_user.get_full_name()
    assert (scan.repository, scan.commit, scan.recorded_by) == ("acme/infra", "0123abcdef", grc_user)
    assert Finding.objects.filter(rule__in=list(RULES), status=FindingStatus.OPEN).count() == 4
    assert "report" not in body


def test_a_clean_plan_passes_and_resolves_what_the_repository_fixed(ci):
    post(ci, plan=plan("aws_violating.json"))

    body = post(ci, plan=plan("aws_clean.json")).json()

    assert body["passed"] is True and body["exit_status"] == 0 and body["violations"] == []
    assert body["summary"].startswith("PASS: acme/infra:")
    assert not Finding.objects.filter(rule__in=list(RULES), status=FindingStatus.OPEN).exists()


def test_record_false_runs_the_gate_and_keeps_nothing(ci):
    response = post(ci, plan=plan("gcp_violating.json"), record="false")

    assert response.status_code == 200
    body = response.json()
    assert body["recorded"] is False and body["scan"] is None and body["exit_status"] == 1
    assert not IacScan.objects.exists() and not Finding.objects.exists()


@pytest.mark.parametrize("fmt", ["sarif", "junit", "text", "json"])
def test_the_report_comes_back_in_the_format_asked(ci, fmt):
    body = post(ci, plan=plan("aws_violating.json"), report_format=fmt).json()

    report = body["report"]
    if fmt == "sarif":
        document = json.loads(report)
        assert document["version"] == "2.1.0" and len(document["runs"][0]["results"]) == 4
    elif fmt == "junit":
        assert report.startswith("<?xml") and "<failure" in report
    elif fmt == "json":
        assert json.loads(report)["artifact"] == "plan.json"
    else:
        assert "FAIL: 4 violation(s)." in report


def test_an_archive_of_tf_files_is_read_as_a_directory_with_its_local_modules(ci):
    on_disk = rules_of(offline("tfdir"))  # the same folder read by check_iac
    assert ("iac-multi-purpose", "module.kms.aws_kms_key.this") in on_disk  # the local module's key is traced

    for prefix in ("", "infra-main/"):  # at the archive's root, or in its single top-level folder
        body = post(ci, archive=tar_of(tfdir_members(), prefix=prefix), record="false").json()
        assert sorted((v["rule"], v["key_address"]) for v in body["violations"]) == on_disk
        assert body["exit_status"] == 1


def test_a_zip_archive_and_a_named_root_folder_are_read(ci):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in tfdir_members().items():
            archive.writestr(f"repo/stacks/prod/{name}", data)
        archive.writestr("repo/README.md", "not terraform")
    buffer.seek(0)
    buffer.name = "infra.zip"

    body = post(ci, archive=buffer, path="repo/stacks/prod", record="false").json()

    tar_body = post(ci, archive=tar_of(tfdir_members()), record="false").json()
    assert body["counts"] == tar_body["counts"] and body["exit_status"] == tar_body["exit_status"]


# --- Bad input: 400, exit status 2, nothing recorded ------------------------------------------------------------


def refused(response) -> dict:
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["exit_status"] == 2 and body["detail"]
    assert not IacScan.objects.exists() and not Finding.objects.exists()
    return body


def test_a_file_that_is_not_a_plan_is_refused(ci):
    junk = io.BytesIO(b'{"hello": "world"}')
    junk.name = "plan.json"
    assert "not a Terraform plan" in refused(post(ci, plan=junk))["detail"]


def test_plan_and_archive_together_or_neither_are_refused(ci):
    assert "exactly one" in json.dumps(refused(post(ci)))
    assert "exactly one" in json.dumps(refused(post(ci, plan=plan("aws_clean.json"), archive=tar_of(tfdir_members()))))


def test_an_archive_member_leaving_the_root_refuses_the_archive(ci):
    body = refused(post(ci, archive=tar_of({"main.tf": b"", "../../etc/evil.tf": b'resource "x" "y" {}'})))
    assert "outside the archive" in body["detail"]


def test_a_link_in_the_archive_is_refused(ci):
    assert "link" in refused(post(ci, archive=tar_of(tfdir_members(), links=("passwd.tf",))))["detail"]


def test_an_archive_without_tf_files_or_of_another_kind_is_refused(ci):
    assert "no .tf file" in refused(post(ci, archive=tar_of({"README.md": b"hi"})))["detail"]
    other = io.BytesIO(b"just some text, not an archive")
    other.name = "infra.tar.gz"
    assert "neither a .tar.gz" in refused(post(ci, archive=other))["detail"]


def test_a_truncated_archive_is_refused(ci):
    whole = tar_of(tfdir_members()).getvalue()
    cut = io.BytesIO(whole[: len(whole) // 2])
    cut.name = "infra.tar.gz"
    assert "not a readable tar archive" in refused(post(ci, archive=cut))["detail"]


def test_an_upload_over_the_limit_is_refused(ci, settings):
    settings.CEK_IAC_MAX_BYTES = 1024
    assert "over the limit" in refused(post(ci, plan=plan("aws_violating.json")))["detail"]


def test_key_material_in_the_repository_is_refused_without_echoing_it(ci):
    response = post(ci, plan=plan("aws_clean.json"), repository=PEM)
    body = refused(response)
    assert "repository" in body["errors"] and "PRIVATE KEY" not in response.content.decode()


def test_a_commit_that_is_not_hex_is_refused(ci):
    assert "commit" in refused(post(ci, plan=plan("aws_clean.json"), commit="main"))["errors"]


# --- The token scope ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "method,url",
    [("get", "/api/v1/keys/"), ("get", URL), ("get", "/api/schema/"), ("post", "/api/v1/check-runs/")],
)
def test_a_ci_token_is_refused_everywhere_else(ci, method, url):
    response = getattr(ci, method)(url)

    assert response.status_code == 403
    assert "may only record IaC scans" in response.content.decode()


def test_a_ci_token_cannot_read_a_recorded_scan(ci):
    scan_id = post(ci, plan=plan("aws_clean.json")).json()["scan"]["id"]
    assert ci.get(f"{URL}{scan_id}/").status_code == 403


def test_only_grc_can_hold_a_ci_token(auditor, owner):
    for user in (auditor, owner):
        with pytest.raises(ValidationError, match="Only GRC staff"):
            api_token_issue(user=user, name="ci", scope=TokenScope.IAC_SCANS)


def test_a_full_token_of_an_auditor_cannot_record(auditor):
    _, raw = api_token_issue(user=auditor, name="audit")
    assert post(bearer(raw), plan=plan("aws_clean.json")).status_code == 403
    assert not IacScan.objects.exists()


# --- Reading the record ------------------------------------------------------------------------------------------


def test_who_reads_the_recorded_scans(ci, grc_client, auditor_client, owner_client, outsider):
    post(ci, plan=plan("aws_violating.json"))

    assert grc_client.get(URL).status_code == 200
    body = auditor_client.get(URL).json()
    assert body["count"] == 1 and body["results"][0]["violations_count"] == 4
    assert owner_client.get(URL).status_code == 403
    assert login(outsider).get(URL).status_code == 403
    assert Client().get(URL).status_code == 401
    assert auditor_client.post(URL, {"repository": "x", "plan": plan("aws_clean.json")}).status_code == 403


def test_the_list_filters_and_keeps_its_queries_fixed(ci, auditor_client, django_assert_max_num_queries):
    for repository in ("acme/infra", "acme/data", "acme/ml"):
        post(ci, plan=plan("aws_clean.json"), repository=repository)
    post(ci, plan=plan("aws_violating.json"), repository="acme/ml")
    KeyFactory.create_batch(3)

    with django_assert_max_num_queries(6):
        body = auditor_client.get(URL, {"repository": "acme/ml"}).json()

    assert body["count"] == 2
    assert [row["passed"] for row in body["results"]] == [False, True]
    assert auditor_client.get(URL, {"passed": "false"}).json()["count"] == 1
