"""OSCAL assessment results of a check run: valid against the NIST OSCAL 1.1.3 JSON schema, byte-identical for the
same run, one observation per guideline with its method, metric and (bounded) subjects, findings and risks for the
failing and partial guidelines only, the people and the organisation, the catalog reference, the CEK-11.1 answer,
the export guard; the download on the run page (GRC and auditors) and ``manage.py export_oscal``."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from cek.control import load_control
from evidence.answers.services import answer_generate, answer_publish
from evidence.checks import services as check_services
from evidence.findings.services import finding_assign, finding_resolve
from evidence.models import (
    CaiqAnswer,
    CheckResult,
    CheckRun,
    CheckStatus,
    Finding,
    FindingStatus,
    ManualEvidence,
    RunStatus,
    RunTrigger,
)
from evidence.oscal.export import assessment_results_file
from tests.conftest import login
from tests.evidence.oscal_support import schema_errors
from tests.factories import FindingFactory, KeyFactory, PartyFactory, UserFactory

WHEN = dt.datetime(2026, 3, 2, 9, 30, 15, 123456, tzinfo=dt.UTC)
TOKEN = "ghp_" + "Z8kQ2mW9xR4tY7uV1bN3cL6pJ0hG5fD2sA8e"


def subject(key, reason="No purpose.") -> dict:
    return {"type": "inventory.key", "id": key.pk, "label": key.name, "reason": reason}


def add_result(run, guideline, status, *, position, failing=(), count=None, rule="", evidence=(), manual=None):
    return CheckResult.objects.create(
        run=run,
        guideline_id=guideline,
        position=position,
        status=status,
        metric=f"{10 - len(failing)} of 10 keys in use",
        numerator=10 - len(failing),
        denominator=10,
        explanation=f"{guideline} explained.",
        failing=list(failing),
        failing_count=len(failing) if count is None else count,
        evidence=list(evidence),
        details={"title": f"{guideline} title", "rule": rule, "severity": "high"},
        manual_evidence=manual,
    )


@pytest.fixture
def crafted(db, settings, grc_user, owner):
    """A succeeded run with a failing guideline (250 failing keys, 3 kept), a partial one, a passing one, two
    manual ones (with and without evidence), findings in every status, and a CEK-11.1 answer from the run."""
    settings.CEK_ORGANISATION = "Acme AI GmbH"
    grc_user.first_name, grc_user.last_name = "Alice", "Auditee"
    grc_user.save()
    owner.first_name, owner.last_name = "Bob", "Owner"
    owner.save()
    run = CheckRun.objects.create(
        trigger=RunTrigger.UI,
        triggered_by=grc_user,
        status=RunStatus.SUCCEEDED,
        catalog_version=load_control().version,
        started_at=WHEN,
        finished_at=WHEN + dt.timedelta(seconds=3),
        counts={"fail": 1, "partial": 1, "pass": 2, "manual": 2},
        keys_evaluated=10,
    )
    keys = [KeyFactory(name=f"key-{n}") for n in range(3)]
    note = ManualEvidence.objects.create(guideline_id="AG-8", note="Pipelines reviewed.", created_by=owner)
    add_result(
        run,
        "AG-1",
        CheckStatus.FAIL,
        position=0,
        failing=[subject(key) for key in keys],
        count=250,
        rule="ag-1-purpose",
        evidence=[{"label": "Keys without purpose", "url": "/inventory/keys/?unassigned=true"}],
    )
    add_result(
        run, "AG-2", CheckStatus.PARTIAL, position=1, failing=[subject(keys[0], "Not reviewed.")], rule="ag-2-mapping"
    )
    add_result(run, "AG-3", CheckStatus.PASS, position=2, rule="ag-3-single-purpose")
    add_result(run, "AG-8", CheckStatus.MANUAL, position=7, manual=note)
    add_result(run, "AG-9", CheckStatus.MANUAL, position=8)
    add_result(
        run,
        "CCM-1",
        CheckStatus.PASS,
        position=10,
        rule="ccm-1-policy",
        evidence=[{"label": "Key management policy v3", "sha256": "ab" * 32}],
    )
    # The findings as they stood when the run ended: recorded an hour before it (their history rows too).
    with time_machine.travel(WHEN - dt.timedelta(hours=1), tick=False):
        findings = _findings(keys, grc_user, owner)
    party = PartyFactory(name="Acme AI GmbH", roles=["MP", "OSP"], is_us=True)
    answer = answer_generate(party=party, actor=grc_user, run=run)
    answer = answer_publish(answer=answer, actor=grc_user)
    return {"run": run, "keys": keys, "findings": findings, "answer": answer, "note": note}


def _findings(keys, grc_user, owner) -> dict:
    return {
        "open": FindingFactory(
            rule="ag-1-purpose",
            subject_id=keys[0].pk,
            subject_label=keys[0].name,
            assigned_to=owner,
            remediation_due=dt.date(2027, 1, 31),
        ),
        "accepted": FindingFactory(
            rule="ag-1-purpose",
            subject_id=keys[1].pk,
            subject_label=keys[1].name,
            status=FindingStatus.RISK_ACCEPTED,
            accepted_until=dt.date(2027, 3, 31),
            accepted_by=grc_user,
            accepted_reason="Legacy system retired in Q1.",
        ),
        "resolved": FindingFactory(
            rule="ag-1-purpose", subject_id=keys[2].pk, subject_label=keys[2].name, status=FindingStatus.RESOLVED
        ),
        "partial": FindingFactory(rule="ag-2-mapping", subject_id=keys[0].pk, subject_label=keys[0].name),
        "elsewhere": FindingFactory(rule="ag-1-purpose"),  # a key this run did not list
    }


def document_of(run) -> dict:
    return json.loads(assessment_results_file(run_pk=run.pk).text)["assessment-results"]


def assert_valid(document: dict) -> dict:
    errors = schema_errors("assessment-results", {"assessment-results": document})
    assert errors == [], errors[:10]
    return document


def observations(document: dict) -> dict[str, dict]:
    return {prop_value(o, "guideline"): o for o in document["results"][0]["observations"]}


def prop_value(item: dict, name: str) -> str | None:
    return next((p["value"] for p in item.get("props", []) if p["name"] == name), None)


# --- Schema and determinism ----------------------------------------------------------------------------------------


def test_the_assessment_results_of_a_crafted_run_validate_against_the_oscal_1_1_3_schema(crafted):
    document = assert_valid(document_of(crafted["run"]))
    assert document["metadata"]["oscal-version"] == "1.1.3"


def test_the_assessment_results_of_a_real_run_validate_too(db, grc_user):
    KeyFactory(owner=None, name="ownerless-key")
    run = check_services.check_run_start(trigger=RunTrigger.COMMAND, background=False)
    document = assert_valid(document_of(run))
    assert len(document["results"][0]["observations"]) == run.results.count() == 13
    # The findings the run opened are its risks (their history rows are dated within the run).
    opened = {str(pk) for pk in Finding.objects.filter(status="open").values_list("pk", flat=True)}
    assert opened and {prop_value(r, "finding") for r in document["results"][0]["risks"]} == opened


def test_the_same_run_gives_a_byte_identical_file(crafted, grc_user):
    first = assessment_results_file(run_pk=crafted["run"].pk).text
    # Another run, another key and time passing change nothing in this run's document.
    check_services.check_run_start(trigger=RunTrigger.COMMAND, background=False)
    KeyFactory()
    assert assessment_results_file(run_pk=crafted["run"].pk).text == first
    assert first.endswith("}\n") and json.loads(first)  # canonical: sorted keys, final newline


def test_uuids_are_name_based_and_unique(crafted):
    text = assessment_results_file(run_pk=crafted["run"].pk).text
    document = json.loads(text)["assessment-results"]
    uuids = [found for found in _values_named("uuid", document)]
    assert uuids and all(uuid.UUID(value).version == 5 for value in uuids)
    assert len(uuids) == len(set(uuids))


def test_timestamps_come_from_the_run(crafted):
    document = document_of(crafted["run"])
    result = document["results"][0]
    assert (result["start"], result["end"]) == ("2026-03-02T09:30:15Z", "2026-03-02T09:30:18Z")
    assert document["metadata"]["last-modified"] == "2026-03-02T09:30:18Z"


def _values_named(name: str, value):
    if isinstance(value, dict):
        for key, member in value.items():
            if key == name and isinstance(member, str):
                yield member
            else:
                yield from _values_named(name, member)
    elif isinstance(value, list):
        for member in value:
            yield from _values_named(name, member)


# --- Contents --------------------------------------------------------------------------------------------------


def test_one_observation_per_guideline_with_its_method_and_metric(crafted):
    found = observations(document_of(crafted["run"]))
    assert list(found) == ["AG-1", "AG-2", "AG-3", "AG-8", "AG-9", "CCM-1"]
    assert found["AG-1"]["methods"] == ["TEST"]
    assert found["AG-8"]["methods"] == ["EXAMINE", "INTERVIEW"]  # a person's note, no document
    assert found["AG-9"]["methods"] == ["EXAMINE"]
    assert "no manual evidence has been recorded" in found["AG-9"]["remarks"]
    assert prop_value(found["AG-1"], "metric") == "7 of 10 keys in use"
    assert prop_value(found["AG-1"], "status") == "fail"
    assert found["AG-1"]["title"] == "AG-1: AG-1 title"
    assert found["AG-1"]["description"].startswith("Verify that the CSP assigns cryptographic keys")
    assert all(o["collected"] == "2026-03-02T09:30:18Z" for o in found.values())


def test_subjects_are_the_failing_keys_the_run_kept_with_the_full_count(crafted):
    document = document_of(crafted["run"])
    ag1 = observations(document)["AG-1"]
    assert [s["title"] for s in ag1["subjects"]] == ["key-0", "key-1", "key-2"]
    assert {s["type"] for s in ag1["subjects"]} == {"inventory-item"}
    assert prop_value(ag1, "failing-count") == "250"
    assert "250 subjects fail; the first 3" in ag1["remarks"]
    items = {item["uuid"]: item for item in document["results"][0]["local-definitions"]["inventory-items"]}
    assert len(items) == 3  # key-0 fails AG-1 and AG-2: one inventory item
    assert {s["subject-uuid"] for s in ag1["subjects"]} == set(items)
    key = crafted["keys"][0]
    (item,) = [i for i in items.values() if prop_value(i, "subject-id") == str(key.pk)]
    assert item["links"] == [{"href": f"https://cek.example.com/inventory/keys/{key.pk}/", "rel": "reference"}]
    assert "subjects" not in observations(document)["AG-3"]  # passing keys are counted, never listed


def test_evidence_links_are_absolute_and_digests_are_kept(crafted):
    found = observations(document_of(crafted["run"]))
    (inventory,) = found["AG-1"]["relevant-evidence"]
    assert inventory == {
        "href": "https://cek.example.com/inventory/keys/?unassigned=true",
        "description": "Keys without purpose",
    }
    (policy,) = found["CCM-1"]["relevant-evidence"]
    assert prop_value(policy, "sha256") == "ab" * 32
    (manual,) = found["AG-8"]["relevant-evidence"]
    assert manual["description"] == "Manual evidence by Bob Owner: Pipelines reviewed."


def test_findings_only_for_failing_and_partial_guidelines_with_their_risks(crafted):
    result = document_of(crafted["run"])["results"][0]
    findings = {prop_value(f, "guideline"): f for f in result["findings"]}
    assert list(findings) == ["AG-1", "AG-2"]
    assert findings["AG-1"]["target"] == {
        "type": "objective-id",
        "target-id": "cek-11_obj.ag-1",
        "status": {"state": "not-satisfied", "reason": "fail"},
        "remarks": "Fail.",
    }
    assert findings["AG-2"]["target"]["status"] == {"state": "not-satisfied", "reason": "other"}
    assert findings["AG-1"]["related-observations"] == [
        {"observation-uuid": observations({"results": [result]})["AG-1"]["uuid"]}
    ]
    risks = {r["uuid"]: r for r in result["risks"]}
    ag1_risks = [risks[item["risk-uuid"]] for item in findings["AG-1"]["related-risks"]]
    assert [(prop_value(r, "finding"), r["status"], r.get("deadline")) for r in ag1_risks] == [
        (str(crafted["findings"]["open"].pk), "open", "2027-01-31T00:00:00Z"),
        (str(crafted["findings"]["accepted"].pk), "deviation-approved", "2027-03-31T00:00:00Z"),
    ]
    assert "Legacy system retired in Q1." in ag1_risks[1]["statement"]
    assert prop_value(ag1_risks[0], "remediation-due") == "2027-01-31"
    # The resolved finding and the finding on a key the run did not list are not risks of this run.
    listed = {prop_value(r, "finding") for r in risks.values()}
    assert str(crafted["findings"]["resolved"].pk) not in listed
    assert str(crafted["findings"]["elsewhere"].pk) not in listed
    assert len(risks) == 3


def test_the_metadata_names_the_organisation_and_the_people_by_role(crafted):
    metadata = document_of(crafted["run"])["metadata"]
    parties = {p["uuid"]: p for p in metadata["parties"]}
    assert metadata["parties"][0] == {
        "uuid": metadata["parties"][0]["uuid"],
        "type": "organization",
        "name": "Acme AI GmbH",
    }
    holders = {
        r["role-id"]: sorted(parties[u]["name"] for u in r["party-uuids"]) for r in metadata["responsible-parties"]
    }
    assert holders == {
        "prepared-by": ["Acme AI GmbH"],
        "assessor": ["Alice Auditee"],
        "evidence-author": ["Bob Owner"],
        "remediation-owner": ["Bob Owner"],
        "risk-approver": ["Alice Auditee"],
    }
    assert {r["id"] for r in metadata["roles"]} >= set(holders)
    assert "email" not in json.dumps(metadata)


def test_the_reviewed_controls_are_cek_11_and_its_guidelines_from_the_catalog_version(crafted):
    document = document_of(crafted["run"])
    reviewed = document["results"][0]["reviewed-controls"]
    assert reviewed["control-selections"] == [{"include-controls": [{"control-id": "cek-11"}]}]
    objectives = reviewed["control-objective-selections"][0]["include-objectives"]
    assert [o["objective-id"] for o in objectives] == [
        "cek-11_obj.ag-1",
        "cek-11_obj.ag-2",
        "cek-11_obj.ag-3",
        "cek-11_obj.ag-8",
        "cek-11_obj.ag-9",
        "cek-11_obj.ccm-1",
    ]
    resources = {r["uuid"]: r for r in document["back-matter"]["resources"]}
    catalog = resources[reviewed["links"][0]["href"].removeprefix("#")]
    assert prop_value(catalog, "catalog") == "AICM" and prop_value(catalog, "catalog-version") == "AICM 1.1.0"
    assert catalog["rlinks"] == [{"href": "https://cek.example.com/control/", "media-type": "text/html"}]
    assert document["import-ap"]["href"].removeprefix("#") in resources


def test_the_cek_11_1_answer_is_a_back_matter_resource(crafted):
    document = document_of(crafted["run"])
    answer = crafted["answer"]
    resources = [r for r in document["back-matter"]["resources"] if prop_value(r, "question") == "CEK-11.1"]
    assert len(resources) == 1
    assert prop_value(resources[0], "answer") == answer.answer
    assert prop_value(resources[0], "answer-status") == "published"
    assert prop_value(resources[0], "published-content-sha256") == answer.sha256
    # The implementation description keeps its lines (OSCAL descriptions are multi-line).
    assert resources[0]["description"] == answer.implementation.strip() and "\n" in answer.implementation.strip()
    assert prop_value(resources[0], "ssrm-control-ownership") == answer.ownership
    assert (
        document["results"][0]["remarks"] == f"CEK-11.1 answers published from this run: Acme AI GmbH: {answer.answer}."
    )
    assert {"href": f"#{resources[0]['uuid']}", "rel": "related"} in document["results"][0]["links"]


def test_a_draft_answer_is_not_an_answer_yet(crafted, grc_user):
    CaiqAnswer.objects.filter(pk=crafted["answer"].pk).update(status="draft", published_at=None, sha256="")
    document = document_of(crafted["run"])
    assert document["results"][0]["remarks"] == "No CEK-11.1 answer generated from this run has been published."
    assert not [r for r in document["back-matter"]["resources"] if prop_value(r, "question") == "CEK-11.1"]


def test_the_risks_are_the_findings_as_they_stood_when_the_run_ended(crafted, grc_user, owner):
    """A finding resolved, or a remediation date set, after the run does not change that run's document."""
    before = assessment_results_file(run_pk=crafted["run"].pk).text
    finding_resolve(finding=crafted["findings"]["open"], actor=grc_user, note="Fixed.")
    finding_assign(
        finding=crafted["findings"]["partial"], actor=grc_user, assignee=owner, remediation_due=dt.date(2027, 6, 30)
    )
    assert assessment_results_file(run_pk=crafted["run"].pk).text == before


def test_key_material_in_a_subject_label_stops_the_export(crafted):
    result = CheckResult.objects.get(run=crafted["run"], guideline_id="AG-1")
    result.failing[0]["label"] = TOKEN
    result.save()
    from cek.exportguard import ExportRefused

    with pytest.raises(ExportRefused) as refused:
        assessment_results_file(run_pk=crafted["run"].pk)
    assert "GitHub token" in str(refused.value) and TOKEN not in str(refused.value)


@pytest.mark.parametrize("results", [1, 13])
def test_the_export_runs_a_fixed_number_of_queries(db, django_assert_max_num_queries, results):
    keys = KeyFactory.create_batch(4)
    guidelines = [g.id for g in load_control().auditing_guidelines][:results]
    for position in range(len(guidelines)):
        for key in keys:
            FindingFactory(rule=f"r{position}", subject_id=key.pk, assigned_to=UserFactory())
    run = CheckRun.objects.create(
        trigger=RunTrigger.UI, status=RunStatus.SUCCEEDED, catalog_version="AICM 1.1.0", finished_at=timezone.now()
    )
    for position, guideline in enumerate(guidelines):
        failing = [subject(k) for k in keys]
        add_result(run, guideline, CheckStatus.FAIL, position=position, failing=failing, rule=f"r{position}")
    # The run, its results (with manual evidence), the findings' history (with assignees and approvers), the
    # published answers.
    with django_assert_max_num_queries(4):
        text = assessment_results_file(run_pk=run.pk).text
    assert len(json.loads(text)["assessment-results"]["results"][0]["risks"]) == 4 * results


# --- Download on the run page ---------------------------------------------------------------------------------------

DOWNLOAD = {
    "anonymous": 302,
    "grc": 200,
    "auditor": 200,
    "owner": 403,  # key owners do not see check runs (the run page is GRC's and the auditors')
    "other_owner": 403,
    "expired_auditor": 302,
    "outsider": 403,
}


@pytest.mark.parametrize("role", list(DOWNLOAD), indirect=True)
def test_who_may_download_the_oscal_results(role, crafted):
    name, _user, client = role
    response = client.get(reverse("evidence:checkrun-oscal", args=[crafted["run"].pk]))
    assert response.status_code == DOWNLOAD[name]
    if response.status_code == 200:
        assert response["Content-Type"] == "application/json"
        assert (
            response["Content-Disposition"] == f'attachment; filename="cek-check-run-{crafted["run"].pk}.oscal-ar.json"'
        )
        assert response.content.decode() == assessment_results_file(run_pk=crafted["run"].pk).text


def test_the_run_page_offers_the_download_once_the_run_succeeded(crafted, auditor, grc_user):
    url = reverse("evidence:checkrun-oscal", args=[crafted["run"].pk])
    page = login(auditor).get(crafted["run"].get_absolute_url()).content.decode()
    assert f'href="{url}"' in page and "OSCAL results" in page
    failed = CheckRun.objects.create(trigger=RunTrigger.UI, status=RunStatus.FAILED, catalog_version="AICM 1.1.0")
    page = login(grc_user).get(failed.get_absolute_url()).content.decode()
    assert "OSCAL results" not in page


def test_a_missing_or_failed_run_is_not_found(grc_client, crafted):
    assert grc_client.get(reverse("evidence:checkrun-oscal", args=[999999])).status_code == 404
    failed = CheckRun.objects.create(trigger=RunTrigger.UI, status=RunStatus.FAILED, catalog_version="AICM 1.1.0")
    assert grc_client.get(reverse("evidence:checkrun-oscal", args=[failed.pk])).status_code == 404


def test_key_material_answers_409_with_the_reason(grc_client, crafted):
    result = CheckResult.objects.get(run=crafted["run"], guideline_id="AG-1")
    result.failing[0]["label"] = TOKEN
    result.save()
    response = grc_client.get(reverse("evidence:checkrun-oscal", args=[crafted["run"].pk]))
    assert (
        response.status_code == 409 and b"GitHub token" in response.content and TOKEN.encode() not in response.content
    )


# --- Command -----------------------------------------------------------------------------------------------------


def test_the_command_writes_the_newest_run_or_the_one_asked_for(crafted, tmp_path, capsys):
    output = tmp_path / "ar.json"
    call_command("export_oscal", "assessment-results", "--run", str(crafted["run"].pk), "--output", str(output))
    assert output.read_text(encoding="utf-8") == assessment_results_file(run_pk=crafted["run"].pk).text
    call_command("export_oscal", "assessment-results")  # the newest succeeded run: the crafted one
    assert capsys.readouterr().out == output.read_text(encoding="utf-8")


def test_the_command_says_clearly_when_there_is_no_such_run(crafted):
    with pytest.raises(CommandError, match=r"There is no check run #999999\.") as missing:
        call_command("export_oscal", "assessment-results", "--run", "999999")
    assert missing.value.returncode == 1
    failed = CheckRun.objects.create(trigger=RunTrigger.UI, status=RunStatus.FAILED, catalog_version="AICM 1.1.0")
    with pytest.raises(CommandError, match=f"Check run #{failed.pk} is failed"):
        call_command("export_oscal", "assessment-results", "--run", str(failed.pk))


def test_the_command_without_any_run_says_to_run_the_checks(db):
    with pytest.raises(
        CommandError, match=r"No check run has succeeded yet: run the checks first \(manage.py run_checks\)"
    ):
        call_command("export_oscal", "assessment-results")


def test_the_command_refuses_key_material_and_writes_no_file(crafted, tmp_path):
    result = CheckResult.objects.get(run=crafted["run"], guideline_id="AG-1")
    result.failing[0]["label"] = TOKEN
    result.save()
    output = tmp_path / "ar.json"
    with pytest.raises(CommandError, match="GitHub token"):
        call_command("export_oscal", "assessment-results", "--output", str(output))
    assert not output.exists()


def test_from_the_command_line_a_missing_run_exits_1_with_the_reason_on_stderr(db, capsys):
    from django.core.management import ManagementUtility

    with pytest.raises(SystemExit) as exited:
        ManagementUtility(["manage.py", "export_oscal", "assessment-results", "--run", "999999"]).execute()
    assert exited.value.code == 1
    captured = capsys.readouterr()
    assert "There is no check run #999999." in captured.err and captured.out == ""
