"""Check pages and API: who may see and do what (role x endpoint), running from the UI, a failed run and its
retry, result pages with failing subjects and manual evidence, the key store confirmation, and a constant
number of queries on the list pages."""

from __future__ import annotations

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from cek.templatetags.dates import words_datetime
from evidence.checks import services
from evidence.findings.rules import rule_title
from evidence.models import CheckResult, CheckRun, ManualEvidence, RunStatus, RunTrigger
from inventory.models import KeyStore
from tests.factories import KeyFactory, KeyStoreFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def run(db):
    store = KeyStoreFactory(last_full_import_at=timezone.now())
    KeyFactory(store=store, owner=None, name="ownerless-key", labels={"purpose": "data-encryption"})
    return services.check_run_start(trigger=RunTrigger.COMMAND, background=False)


def result_of(run, guideline_id) -> CheckResult:
    return CheckResult.objects.get(run=run, guideline_id=guideline_id)


# name -> expected status of: run list, run detail, result detail, API list, API detail
READ_MATRIX = {
    "anonymous": (302, 302, 302, 401, 401),
    "grc": (200, 200, 200, 200, 200),
    "owner": (403, 403, 403, 403, 403),
    "other_owner": (403, 403, 403, 403, 403),
    "auditor": (200, 200, 200, 200, 200),
    "expired_auditor": (302, 302, 302, 401, 401),  # their session ends: back to the login page
    "outsider": (403, 403, 403, 403, 403),
}


def test_read_permissions(role, run):
    name, _user, client = role
    urls = [
        reverse("evidence:checkrun-list"),
        reverse("evidence:checkrun-detail", args=[run.pk]),
        reverse("evidence:checkresult-detail", args=[result_of(run, "CCM-2").pk]),
        reverse("api-check-run-list"),
        reverse("api-check-run-detail", args=[run.pk]),
    ]
    got = tuple(client.get(url).status_code for url in urls)
    assert got == READ_MATRIX[name]


@pytest.mark.parametrize("name", ["auditor", "owner", "outsider"])
def test_only_grc_runs_checks(name, request, run):
    from tests.conftest import login

    user = request.getfixturevalue(name)
    client = login(user)
    assert client.post(reverse("evidence:checkrun-start")).status_code == 403
    assert client.post(reverse("api-check-run-list")).status_code == 403
    assert client.post(reverse("evidence:checkrun-retry", args=[run.pk])).status_code == 403
    assert CheckRun.objects.count() == 1


def test_the_pages_name_a_run_by_its_date_never_its_number(auditor_client, run):
    when = words_datetime(run.created_at)
    assert run.title == f"Check run of {when}"
    result = result_of(run, "CCM-2")
    pages = {
        "list": auditor_client.get(reverse("evidence:checkrun-list")).content.decode(),
        "run": auditor_client.get(run.get_absolute_url()).content.decode(),
        "result": auditor_client.get(reverse("evidence:checkresult-detail", args=[result.pk])).content.decode(),
        "dashboard": auditor_client.get(reverse("home")).content.decode(),
    }
    text = {name: re.sub(r"<[^>]+>", "", html) for name, html in pages.items()}
    assert f'<a href="{run.get_absolute_url()}"><time' in pages["list"]  # the run's date links to it
    assert f"<h1>Check run of {when}</h1>" in pages["run"]
    assert f"CCM-2 in the check run of {when}" in text["result"] and f">{run.title}</a>" in pages["result"]
    assert f"From the check run of {when}" in text["dashboard"] and "Details of this run" in text["dashboard"]
    for name, html in pages.items():
        assert f"#{run.pk}<" not in html and f"#{run.pk} " not in html and f"Run #{run.pk}" not in html, name


def test_grc_runs_checks_from_the_ui(grc_client, run):
    response = grc_client.post(reverse("evidence:checkrun-start"), follow=True)
    new = CheckRun.objects.exclude(pk=run.pk).get()
    assert new.trigger == RunTrigger.UI and new.status == RunStatus.SUCCEEDED
    page = response.content.decode()
    assert f"{new.title} finished" in page and f"#{new.pk}" not in page
    # The ownerless key fails CCM-2: 1 of 2 subjects (store and key) pass, so fail, and its row says so.
    assert result_of(new, "CCM-2").status == "fail"
    row = re.search(r'<tr data-guideline="CCM-2">.*?</tr>', page, re.S)
    assert row and 'class="badge check-fail"' in row.group(0) and "1 of 2" in row.group(0)


def test_broker_down_message(grc_client, settings, monkeypatch):
    from kombu.exceptions import OperationalError

    settings.CEK_CHECKS_INLINE_KEYS = 0
    KeyFactory()
    monkeypatch.setattr("cek.jobs.queue.send", lambda *a, **k: (_ for _ in ()).throw(OperationalError("down")))
    response = grc_client.post(reverse("evidence:checkrun-start"), follow=True)
    assert "cannot be reached" in response.content.decode()
    assert not CheckRun.objects.exists()


def test_failed_run_shows_reason_and_retries(grc_client, auditor_client):
    failed = CheckRun.objects.create(
        trigger=RunTrigger.UI, status=RunStatus.FAILED, catalog_version="x", last_error="Worker lost"
    )
    url = reverse("evidence:checkrun-detail", args=[failed.pk])
    page = grc_client.get(url).content.decode()
    assert "Worker lost" in page and "Retry" in page
    assert "Retry" not in auditor_client.get(url).content.decode()
    response = grc_client.post(reverse("evidence:checkrun-retry", args=[failed.pk]))
    new = CheckRun.objects.exclude(pk=failed.pk).get()
    assert response.status_code == 302 and response["Location"] == new.get_absolute_url()
    assert new.status == RunStatus.SUCCEEDED


def test_result_page_lists_failing_subjects(grc_client, run, settings):
    result = result_of(run, "CCM-2")
    page = grc_client.get(reverse("evidence:checkresult-detail", args=[result.pk])).content.decode()
    assert "ownerless-key" in page and "No owner." in page
    assert "?rule=ccm-2-inventory" in page
    assert "Live findings of ccm-2-inventory" not in page  # the rule's title, not its id
    assert f"<dd>{escape(rule_title('ccm-2-inventory'))} <span" in page
    # each subject says what it is by name, never by an internal reference
    assert '<div class="small muted">Key</div>' in page and "inventory.key" not in page
    # paginated from the stored JSON
    CheckResult.objects.filter(pk=result.pk).update(
        failing=[{"type": "inventory.key", "id": n, "label": f"k-{n}", "reason": "No owner."} for n in range(1, 121)],
        failing_count=120,
    )
    settings.CEK_PAGE_SIZE = 50
    second = grc_client.get(reverse("evidence:checkresult-detail", args=[result.pk]) + "?page=2").content.decode()
    assert "k-51" in second and "k-50<" not in second and "Page 2 of 3" in second
    assert grc_client.get(reverse("evidence:checkresult-detail", args=[result.pk]) + "?page=abc").status_code == 200


def test_manual_evidence_from_the_result_page(grc_client, auditor_client, owner, run):
    result = result_of(run, "AG-8")
    url = reverse("evidence:checkresult-evidence", args=[result.pk])
    page = grc_client.get(reverse("evidence:checkresult-detail", args=[result.pk])).content.decode()
    assert "Record evidence" in page
    response = grc_client.post(
        url,
        {
            "note": "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----",
            "assessment": "pass",
        },
    )
    assert response.status_code == 200 and not ManualEvidence.objects.exists()
    assert "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC" not in response.content.decode()
    document = SimpleUploadedFile("checkov.txt", b"0 failed")
    response = grc_client.post(url, {"note": "Checkov run reviewed.", "assessment": "pass", "document": document})
    assert response.status_code == 302
    evidence = ManualEvidence.objects.get()
    assert evidence.guideline_id == "AG-8" and len(evidence.sha256) == 64
    download = auditor_client.get(reverse("evidence:checkevidence-document", args=[evidence.pk]))
    assert download.status_code == 200 and b"".join(download.streaming_content) == b"0 failed"
    from tests.conftest import login

    assert login(owner).post(url, {"note": "x"}).status_code == 403
    # not a manual guideline
    other = result_of(run, "AG-1")
    refused = grc_client.post(reverse("evidence:checkresult-evidence", args=[other.pk]), {"note": "x"}, follow=True)
    assert "takes no manual evidence" in refused.content.decode()
    assert ManualEvidence.objects.count() == 1


def test_run_list_constant_queries(grc_client, django_assert_max_num_queries):
    for _ in range(3):
        services.check_run_start(trigger=RunTrigger.COMMAND, background=False)
    url = reverse("evidence:checkrun-list")
    with CaptureQueriesContext(connection) as few:
        assert grc_client.get(url).status_code == 200
    for _ in range(5):
        services.check_run_start(trigger=RunTrigger.COMMAND, background=False)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert grc_client.get(url).status_code == 200


def _crafted_run(guidelines, *, subjects: int, evidence) -> CheckRun:
    """A run with one failing result per guideline in ``guidelines``, each with ``subjects`` failing keys and
    the given manual evidence: the number of results and of subjects differ between the runs compared."""
    from cek.control import load_control
    from evidence.models import CheckStatus

    run = CheckRun.objects.create(
        trigger=RunTrigger.UI,
        status=RunStatus.SUCCEEDED,
        catalog_version=load_control().version,
        started_at=timezone.now(),
        finished_at=timezone.now(),
    )
    for position, guideline in enumerate(guidelines):
        failing = [
            {"type": "inventory.key", "id": key.pk, "label": key.name, "reason": "No owner."}
            for key in KeyFactory.create_batch(subjects)
        ]
        CheckResult.objects.create(
            run=run,
            guideline_id=guideline,
            position=position,
            status=CheckStatus.FAIL,
            metric=f"0 of {subjects} keys in use",
            numerator=0,
            denominator=subjects,
            failing=failing,
            failing_count=subjects,
            manual_evidence=evidence,
        )
    return run


def test_run_detail_constant_queries(grc_client, grc_user, django_assert_max_num_queries):
    from evidence.checks.registry import CHECKS

    evidence = ManualEvidence.objects.create(guideline_id="AG-8", note="Reviewed.", created_by=grc_user)
    small = _crafted_run(["AG-8"], subjects=1, evidence=evidence)
    with CaptureQueriesContext(connection) as queries:
        assert grc_client.get(reverse("evidence:checkrun-detail", args=[small.pk])).status_code == 200
    large = _crafted_run([check.guideline_id for check in CHECKS], subjects=4, evidence=evidence)
    assert large.results.count() == 13 and small.results.count() == 1
    with django_assert_max_num_queries(len(queries.captured_queries)):
        response = grc_client.get(reverse("evidence:checkrun-detail", args=[large.pk]))
    assert response.status_code == 200
    assert "CCM-3" in response.content.decode()


# name -> (status of the manual-evidence POST, the form shown on the result page)
MANUAL_EVIDENCE_MATRIX = {
    "anonymous": (302, False),
    "grc": (302, True),
    "owner": (403, False),
    "other_owner": (403, False),
    "auditor": (403, False),  # auditors read the evidence and assess the app; they change nothing
    "expired_auditor": (302, False),
    "outsider": (403, False),
}


def test_only_grc_records_manual_evidence(role, run):
    name, _user, client = role
    result = result_of(run, "AG-8")
    expected_status, form_shown = MANUAL_EVIDENCE_MATRIX[name]
    page = client.get(reverse("evidence:checkresult-detail", args=[result.pk]))
    assert ("Record evidence" in page.content.decode()) is form_shown
    response = client.post(
        reverse("evidence:checkresult-evidence", args=[result.pk]), {"note": "Reviewed.", "assessment": "pass"}
    )
    assert response.status_code == expected_status
    if name in ("anonymous", "expired_auditor"):
        assert "/accounts/login/" in response["Location"]
    recorded = list(ManualEvidence.objects.values_list("created_by__username", "assessment"))
    assert recorded == ([(_user.username, "pass")] if name == "grc" else [])


def test_api_post_and_read(grc_client, auditor_client, run):
    response = grc_client.post(reverse("api-check-run-list"))
    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "succeeded" and body["trigger"] == "api"
    assert response["Location"].endswith(f"/check-runs/{body['id']}/")
    listing = auditor_client.get(reverse("api-check-run-list")).json()
    assert listing["count"] == 2 and listing["results"][0]["id"] == body["id"]
    detail = auditor_client.get(reverse("api-check-run-detail", args=[body["id"]])).json()
    assert [r["guideline_id"] for r in detail["results"]][:2] == ["AG-1", "AG-2"]
    assert auditor_client.post(reverse("api-check-run-list")).status_code == 403


def test_api_conflict_while_running(grc_client):
    CheckRun.objects.create(
        trigger=RunTrigger.UI, status=RunStatus.RUNNING, catalog_version="x", started_at=timezone.now()
    )
    response = grc_client.post(reverse("api-check-run-list"))
    assert response.status_code == 409 and "still running" in response.json()["detail"]


def test_api_list_constant_queries(grc_client, django_assert_max_num_queries):
    for _ in range(2):
        services.check_run_start(trigger=RunTrigger.COMMAND, background=False)
    with CaptureQueriesContext(connection) as few:
        assert grc_client.get(reverse("api-check-run-list")).json()["count"] == 2
    for _ in range(4):
        services.check_run_start(trigger=RunTrigger.COMMAND, background=False)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = grc_client.get(reverse("api-check-run-list"))
    assert response.status_code == 200 and response.json()["count"] == 6


def test_keystore_confirm_inventory(grc_client, auditor_client, grc_user):
    store = KeyStoreFactory()
    url = reverse("inventory:keystore-confirm-inventory", args=[store.pk])
    page = grc_client.get(store.get_absolute_url()).content.decode()
    assert "Confirm inventory complete" in page
    assert "Confirm inventory complete" not in auditor_client.get(store.get_absolute_url()).content.decode()
    assert auditor_client.post(url).status_code == 403
    assert grc_client.post(url).status_code == 302
    store = KeyStore.objects.get(pk=store.pk)
    assert store.inventory_confirmed_at is not None and store.inventory_confirmed_by == grc_user
    run = services.check_run_start(trigger=RunTrigger.COMMAND, background=False)
    assert not any(s["type"] == "inventory.keystore" for s in result_of(run, "CCM-2").failing)


def test_nav_link_for_grc_and_auditors(grc_client, owner_client):
    assert reverse("evidence:checkrun-list") in grc_client.get(reverse("home")).content.decode()
    assert reverse("evidence:checkrun-list") not in owner_client.get(reverse("home")).content.decode()
