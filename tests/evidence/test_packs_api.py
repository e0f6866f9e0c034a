"""``/api/v1/packs/``: the pack pages' permissions over REST (GRC and auditors; the requester or GRC cancels and
retries), request -> 202 with a status URL (queued on commit; broker down -> 503 and no row), live progress, cancel
and retry answered 409 when the state does not allow them, the logged streamed download, and verifying an upload
(bounded by CEK_PACK_VERIFY_MAX_BYTES)."""

from __future__ import annotations

import json

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from kombu.exceptions import OperationalError

from cek.jobs.progress import progress_key
from evidence.models import EvidencePack, PackDownload, PackStatus
from tests.conftest import login
from tests.evidence import packs_support
from tests.evidence.packs_support import build, flip, request_pack, zip_bytes
from tests.hostile_files import zip_bomb_pack

pytestmark = pytest.mark.django_db

signing_key, fake_pdf, inventory, us, queued = (
    packs_support.signing_key,
    packs_support.fake_pdf,
    packs_support.inventory,
    packs_support.us,
    packs_support.queued,
)

URL = "/api/v1/packs/"
REQUEST = {"window_from": "2026-01-01", "window_to": "2026-06-30"}


@pytest.fixture
def ready(grc_user, inventory, signing_key, fake_pdf):
    return build(grc_user)


def upload(data: bytes, name: str = "pack.zip") -> dict:
    return {"file": SimpleUploadedFile(name, data, content_type="application/zip")}


def post_json(client, url, body=None):
    return client.post(url, json.dumps(body or {}), content_type="application/json")


# --- Permission matrix ----------------------------------------------------------------------------------------

ACTIONS = ["list", "retrieve", "create", "cancel", "retry", "download", "verify"]
AUDITOR = {"list": 200, "retrieve": 200, "create": 202, "cancel": 403, "retry": 403, "download": 200, "verify": 200}
GRC = {**AUDITOR, "cancel": 200, "retry": 200}


@pytest.mark.parametrize("action", ACTIONS)
def test_the_packs_api_answers_each_role_as_specified(role, action, ready, grc_user, queued):
    name, _user, client = role
    running = request_pack(grc_user)  # GRC's: an auditor may not cancel or retry it
    failed = request_pack(grc_user)
    EvidencePack.objects.filter(pk=failed.pk).update(status=PackStatus.FAILED, last_error="Worker lost")
    before = EvidencePack.objects.count()
    if action == "list":
        response = client.get(URL)
    elif action == "retrieve":
        response = client.get(f"{URL}{ready.pk}/")
    elif action == "create":
        response = post_json(client, URL, REQUEST)
    elif action == "cancel":
        response = post_json(client, f"{URL}{running.pk}/cancel/")
    elif action == "retry":
        response = post_json(client, f"{URL}{failed.pk}/retry/")
    elif action == "download":
        response = client.get(f"{URL}{ready.pk}/download/")
    else:
        response = client.post(f"{URL}verify/", upload(zip_bytes(ready)))

    expected = {"grc": GRC, "auditor": AUDITOR}.get(name, {})
    status = 401 if name in ("anonymous", "expired_auditor") else expected.get(action, 403)
    assert response.status_code == status, response.content if action != "download" else response
    if status >= 400:
        assert response.json().keys() == {"detail"}
    assert EvidencePack.objects.count() - before == (1 if action == "create" and status == 202 else 0)
    cancelled = EvidencePack.objects.get(pk=running.pk).status == PackStatus.CANCELLED
    assert cancelled == (action == "cancel" and status == 200)
    retried = EvidencePack.objects.get(pk=failed.pk).status == PackStatus.QUEUED
    assert retried == (action == "retry" and status == 200)
    assert PackDownload.objects.count() == (1 if action == "download" and status == 200 else 0)


# --- Request, status ----------------------------------------------------------------------------------------


def test_an_auditor_requests_a_pack_202_with_its_status_url(
    auditor_client, auditor, us, inventory, queued, django_capture_on_commit_callbacks
):
    body = {**REQUEST, "stores": [inventory["prod"].pk], "sample_size": 10, "sample_seed": "fy26-audit"}
    with django_capture_on_commit_callbacks(execute=True):
        response = post_json(auditor_client, URL, body)
    assert response.status_code == 202, response.content
    pack = EvidencePack.objects.get()
    assert response["Location"] == f"{URL}{pack.pk}/" and queued == [pack.pk]
    data = response.json()
    assert (data["status"], data["party"], data["stores"], data["sample_seed"]) == (
        "queued",
        us.name,
        ["prod-kms"],
        "fy26-audit",
    )
    assert data["requested_by"] == "dave" and data["may_manage"] is True and data["download_url"] is None
    status = auditor_client.get(data["status_url"])
    assert status.status_code == 200 and status.json()["state"] == "queued"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"window_from": "2026-06-30", "window_to": "2026-01-01"}, "window_to"),
        ({"window_from": "2026-01-01", "window_to": "2999-01-01"}, "window_to"),
        ({**REQUEST, "sample_size": 0}, "sample_size"),
        ({**REQUEST, "sample_seed": "has spaces"}, "sample_seed"),
        ({**REQUEST, "sample_seed": "sk_live_4eC39HqLyjWDarjtT1zdp7dc"}, "sample_seed"),
        ({**REQUEST, "stores": [999999]}, "stores"),
        ({"window_to": "2026-01-01"}, "window_from"),
    ],
)
def test_a_bad_request_is_a_400_and_records_nothing(body, field, grc_client, us, queued):
    response = post_json(grc_client, URL, body)
    assert response.status_code == 400, response.content
    assert field in response.json()["errors"]
    assert "4eC39HqLyjWDarjtT1zdp7dc" not in response.content.decode()
    assert EvidencePack.objects.count() == 0 and queued == []


def test_the_broker_down_is_a_503_and_no_pack(transactional_catalog, monkeypatch):
    from tests.factories import PartyFactory, UserFactory

    PartyFactory(name="Us", is_us=True)

    def down(name, args):
        raise OperationalError("Connection refused")

    monkeypatch.setattr("cek.jobs.queue.send", down)
    response = post_json(login(UserFactory(roles=["auditors"])), URL, REQUEST)
    assert response.status_code == 503 and "worker queue cannot be reached" in response.json()["detail"]
    assert EvidencePack.objects.count() == 0


def test_the_detail_shows_the_workers_live_progress(grc_client, grc_user, us):
    pack = request_pack(grc_user)
    EvidencePack.objects.filter(pk=pack.pk).update(status=PackStatus.BUILDING, progress=10, phase="snapshot")
    cache.set(progress_key(EvidencePack.job, pack.pk), {"percent": 55, "phase": "rendering the PDF"}, 60)
    data = grc_client.get(f"{URL}{pack.pk}/").json()
    assert (data["status"], data["progress"], data["phase"]) == ("building", 55, "rendering the PDF")


def test_the_list_filters_by_status_and_runs_a_constant_number_of_queries(
    grc_client, grc_user, auditor, us, inventory, django_assert_max_num_queries
):
    for n in range(3):
        request_pack(grc_user if n % 2 else auditor, stores=[inventory["prod"], inventory["dev"]])
    with django_assert_max_num_queries(9) as small:
        assert grc_client.get(URL).json()["count"] == 3
    for _n in range(25):
        request_pack(auditor, stores=[inventory["prod"]])
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert grc_client.get(URL, {"page_size": 50}).json()["count"] == 28
    assert grc_client.get(URL, {"status": "ready"}).json()["count"] == 0
    assert grc_client.get(URL, {"status": "bogus"}).status_code == 400


# --- Cancel, retry ----------------------------------------------------------------------------------------------


def test_the_requester_cancels_and_a_second_cancel_is_a_409(auditor_client, auditor, us):
    pack = request_pack(auditor)
    response = post_json(auditor_client, f"{URL}{pack.pk}/cancel/")
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    again = post_json(auditor_client, f"{URL}{pack.pk}/cancel/")
    assert again.status_code == 409 and "Only a queued or building pack" in again.json()["detail"]


def test_grc_retries_a_failed_pack_and_a_ready_one_is_a_409(
    grc_client, grc_user, ready, queued, django_capture_on_commit_callbacks
):
    pack = request_pack(grc_user)
    EvidencePack.objects.filter(pk=pack.pk).update(status=PackStatus.FAILED, last_error="Worker lost")
    with django_capture_on_commit_callbacks(execute=True):
        response = post_json(grc_client, f"{URL}{pack.pk}/retry/")
    assert response.status_code == 200 and response.json()["status"] == "queued" and queued == [pack.pk]
    refused = post_json(grc_client, f"{URL}{ready.pk}/retry/")
    assert refused.status_code == 409 and "Only a failed pack can be retried" in refused.json()["detail"]


# --- Download -----------------------------------------------------------------------------------------------


def test_an_auditor_downloads_the_signed_zip_streamed_and_logged(auditor_client, auditor, ready):
    listed = auditor_client.get(f"{URL}{ready.pk}/").json()
    response = auditor_client.get(listed["download_url"], HTTP_USER_AGENT="audit-bot/1", HTTP_ACCEPT="application/zip")
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    assert response.streaming and b"".join(response.streaming_content) == zip_bytes(ready)
    assert "attachment" in response["Content-Disposition"]
    download = PackDownload.objects.get()
    assert (download.user, download.user_agent) == (auditor, "audit-bot/1")


def test_a_pack_that_is_not_ready_is_a_409_to_download(grc_client, grc_user, us):
    pack = request_pack(grc_user)
    response = grc_client.get(f"{URL}{pack.pk}/download/")
    assert response.status_code == 409 and "queued" in response.json()["detail"]
    assert PackDownload.objects.count() == 0
    assert grc_client.get(f"{URL}999999/download/").status_code == 404


# --- Verify ---------------------------------------------------------------------------------------------------


def test_verify_confirms_an_intact_pack_and_names_it(auditor_client, ready):
    response = auditor_client.post(f"{URL}verify/", upload(zip_bytes(ready)))
    data = response.json()
    assert response.status_code == 200 and data["verified"] is True and data["problems"] == []
    assert data["known_pack"] == ready.pk and data["signature_valid_app_key"] is True
    assert data["files"] and all(check["status"] == "ok" for check in data["files"])
    assert data["lines"][-1].startswith("VERIFIED")


def test_verify_says_what_differs_in_an_altered_pack(auditor_client, ready):
    data = zip_bytes(ready)
    response = auditor_client.post(f"{URL}verify/", upload(flip(data, len(data) // 3)))
    body = response.json()
    assert response.status_code == 200 and body["verified"] is False and body["problems"]


@pytest.mark.parametrize("content", [b"not a zip at all", zip_bomb_pack()])
def test_verify_reports_a_hostile_or_unreadable_upload_without_failing(content, auditor_client, signing_key):
    response = auditor_client.post(f"{URL}verify/", upload(content))
    assert response.status_code == 200 and response.json()["verified"] is False


def test_verify_is_bounded_by_the_setting(auditor_client, settings, signing_key):
    settings.CEK_PACK_VERIFY_MAX_BYTES = 2048
    response = auditor_client.post(f"{URL}verify/", upload(b"x" * 4096))
    assert response.status_code == 413 and "the limit is 2,048 bytes" in response.json()["detail"]
    big = auditor_client.post(f"{URL}verify/", upload(b"x" * (70 * 1024)))  # refused from its declared length
    assert big.status_code == 413
    assert auditor_client.post(f"{URL}verify/", {}).status_code == 400
