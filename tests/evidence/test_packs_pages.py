"""The evidence-pack pages: the role matrix, requesting (queued on commit; broker down), the list in a constant
number of queries, the page and its JSON status, cancel and retry, the logged download, and the verify page."""

from __future__ import annotations

import datetime as dt
import io
import re
import time

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from kombu.exceptions import OperationalError

from cek.jobs.progress import progress_key
from evidence.models import EvidencePack, PackDownload, PackStatus
from tests.conftest import login
from tests.evidence import packs_support
from tests.evidence.packs_support import build, flip, members, request_pack, rezip, zip_bytes
from tests.hostile_files import zip_bomb_pack

pytestmark = pytest.mark.django_db

signing_key, fake_pdf, inventory, us, queued = (
    packs_support.signing_key,
    packs_support.fake_pdf,
    packs_support.inventory,
    packs_support.us,
    packs_support.queued,
)


@pytest.fixture
def ready(grc_user, inventory, signing_key, fake_pdf):
    return build(grc_user)


ALLOWED = {"grc", "auditor"}


@pytest.mark.parametrize(
    "name",
    ["pack-list", "pack-request", "pack-verify", "pack-detail", "pack-status", "pack-download"],
)
def test_only_grc_and_auditors_reach_the_pack_pages(role, name, ready):
    role_name, _, client = role
    args = [ready.pk] if name in ("pack-detail", "pack-status", "pack-download") else []
    response = client.get(reverse(f"evidence:{name}", args=args))
    if role_name in ("anonymous", "expired_auditor"):  # an expired auditor's session ends: back to log in
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    elif role_name in ALLOWED:
        assert response.status_code == 200
    else:
        assert response.status_code == 403


@pytest.mark.parametrize("name", ["pack-cancel", "pack-retry"])
def test_key_owners_and_outsiders_cannot_cancel_or_retry(owner_client, outsider, name, ready):
    assert owner_client.post(reverse(f"evidence:{name}", args=[ready.pk])).status_code == 403
    assert login(outsider).post(reverse(f"evidence:{name}", args=[ready.pk])).status_code == 403
    assert owner_client.post(reverse("evidence:pack-request"), {}).status_code == 403


def form_data(**extra):
    return {"window_from": "2026-01-01", "window_to": "2026-06-30", "sample_size": 25, **extra}


def test_an_auditor_requests_a_pack_and_it_is_queued_on_commit(
    auditor_client, auditor, us, inventory, queued, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = auditor_client.post(
            reverse("evidence:pack-request"),
            form_data(party=us.pk, stores=[inventory["prod"].pk], sample_seed="fy26-audit"),
        )
    pack = EvidencePack.objects.get()
    assert response.status_code == 302 and response["Location"] == pack.get_absolute_url()
    assert queued == [pack.pk]
    assert (pack.requested_by, pack.sample_seed, list(pack.stores.all())) == (
        auditor,
        "fy26-audit",
        [inventory["prod"]],
    )
    page = auditor_client.get(pack.get_absolute_url()).content.decode()
    assert 'data-progress-running="queued building"' in page and "cek/progress.js" in page


def test_the_form_shows_its_errors_instead_of_failing(grc_client, us):
    response = grc_client.post(
        reverse("evidence:pack-request"),
        form_data(party=us.pk, window_from="2026-07-01", window_to="2026-06-01", sample_seed="no spaces!"),
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "must end on or after" in page and "letters, digits" in page
    assert EvidencePack.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_the_broker_down_gives_a_clear_message_and_no_pack(transactional_catalog, monkeypatch):
    """Outside a test transaction the build is queued as the request's transaction commits, as in production."""

    def down(name, args):
        raise OperationalError("Connection refused")

    monkeypatch.setattr("cek.jobs.queue.send", down)
    party = packs_support.PartyFactory(is_us=True)
    client = login(packs_support.UserFactory(username="grace", roles=["grc"]))
    response = client.post(reverse("evidence:pack-request"), form_data(party=party.pk))
    assert response.status_code == 200
    assert "queue cannot be reached" in response.content.decode()
    assert EvidencePack.objects.count() == 0


def test_the_list_runs_a_constant_number_of_queries(grc_client, grc_user, us, inventory, django_assert_max_num_queries):
    for n in range(12):
        pack = request_pack(grc_user, stores=[inventory["prod"]] if n % 2 else [])
        PackDownload.objects.create(pack=pack, user=grc_user, ip="127.0.0.1")
    with django_assert_max_num_queries(12):
        response = grc_client.get(reverse("evidence:pack-list"))
    assert response.status_code == 200
    assert response.content.decode().count("data-pack=") == 12


def test_the_status_json_reports_the_live_progress(grc_client, grc_user, us):
    pack = request_pack(grc_user)
    assert grc_client.get(reverse("evidence:pack-status", args=[pack.pk])).json()["status"] == "queued"
    EvidencePack.objects.filter(pk=pack.pk).update(status=PackStatus.BUILDING, progress=5, phase="starting")
    cache.set(progress_key(EvidencePack.job, pack.pk), {"percent": 37, "phase": "collecting the evidence", "at": 0})
    data = grc_client.get(reverse("evidence:pack-status", args=[pack.pk])).json()
    cache.delete(progress_key(EvidencePack.job, pack.pk))
    assert data == {
        "status": "building",
        "percent": 37,
        "phase": "collecting the evidence",
        "message": "collecting the evidence",
        "error": "",
    }


def test_a_download_is_logged_and_listed_on_the_pack_page(auditor_client, auditor, ready):
    response = auditor_client.get(
        reverse("evidence:pack-download", args=[ready.pk]),
        HTTP_USER_AGENT="AuditBrowser/1.0",
        REMOTE_ADDR="198.51.100.7",
    )
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    assert b"".join(response.streaming_content) == zip_bytes(ready)
    download = PackDownload.objects.get()
    assert (download.user, download.ip, download.user_agent) == (auditor, "198.51.100.7", "AuditBrowser/1.0")
    page = auditor_client.get(ready.get_absolute_url()).content.decode()
    assert "198.51.100.7" in page and "AuditBrowser/1.0" in page and ready.sha256 in page
    assert ready.signing_public_key in page


def test_a_pack_that_is_not_ready_cannot_be_downloaded(grc_client, grc_user, us):
    pack = request_pack(grc_user)
    assert grc_client.get(reverse("evidence:pack-download", args=[pack.pk])).status_code == 404
    assert PackDownload.objects.count() == 0


def test_the_requester_cancels_a_running_pack(auditor_client, auditor, us):
    pack = request_pack(auditor)
    response = auditor_client.post(reverse("evidence:pack-cancel", args=[pack.pk]))
    assert response.status_code == 302
    assert EvidencePack.objects.get(pk=pack.pk).status == PackStatus.CANCELLED


def test_an_auditor_cannot_cancel_someone_elses_pack(auditor_client, grc_user, us):
    pack = request_pack(grc_user)
    assert auditor_client.post(reverse("evidence:pack-cancel", args=[pack.pk])).status_code == 403
    assert EvidencePack.objects.get(pk=pack.pk).status == PackStatus.QUEUED


def test_grc_retries_a_failed_pack(grc_client, grc_user, us, queued, django_capture_on_commit_callbacks):
    pack = request_pack(grc_user)
    EvidencePack.objects.filter(pk=pack.pk).update(status=PackStatus.FAILED, last_error="Worker lost")
    page = grc_client.get(pack.get_absolute_url()).content.decode()
    assert "Worker lost" in page and "Retry" in page
    with django_capture_on_commit_callbacks(execute=True):
        grc_client.post(reverse("evidence:pack-retry", args=[pack.pk]))
    assert EvidencePack.objects.get(pk=pack.pk).status == PackStatus.QUEUED and queued == [pack.pk]


def test_a_retry_of_a_ready_pack_is_refused_with_a_message(grc_client, ready):
    response = grc_client.post(reverse("evidence:pack-retry", args=[ready.pk]), follow=True)
    assert "Only a failed pack can be retried" in response.content.decode()


def upload(data: bytes, name: str = "pack.zip") -> dict:
    return {"file": SimpleUploadedFile(name, data, content_type="application/zip")}


def test_the_verify_page_confirms_an_intact_pack(auditor_client, ready):
    response = auditor_client.post(reverse("evidence:pack-verify"), upload(zip_bytes(ready)))
    page = response.content.decode()
    assert response.status_code == 200 and "Verified." in page
    assert ready.get_absolute_url() in page  # recognised as a pack built here


def test_the_verify_page_says_exactly_what_differs(auditor_client, ready):
    files = members(zip_bytes(ready))
    files["keys.csv"] = flip(files["keys.csv"], 40)
    response = auditor_client.post(reverse("evidence:pack-verify"), upload(rezip(files).getvalue()))
    page = response.content.decode()
    assert "Not verified." in page and "keys.csv: SHA-256 is" in page


def test_the_verify_page_shows_no_matching_badge_when_a_file_differs_and_the_altered_file_leads(auditor_client, ready):
    files = members(zip_bytes(ready))
    assert list(files).index("keys.csv") > 0  # not first in the archive: leading is the page's doing
    files["keys.csv"] = flip(files["keys.csv"], 40)
    response = auditor_client.post(reverse("evidence:pack-verify"), upload(rezip(files).getvalue()))
    page = response.content.decode()
    # The data manifest digest still matches the list in manifest.json (the tamperer left it alone), but not the
    # files: the page must not say it matches them.
    assert "matches the files" not in page and "the files differ" in page
    assert "1 file in the archive differs from the list" in page
    rows = re.findall(r'<tr data-file="([^"]+)"( class="verify-differs")?', page)
    assert rows[0] == ("keys.csv", ' class="verify-differs"')
    assert all(not highlighted for _name, highlighted in rows[1:])


def test_the_verify_page_says_the_data_matches_the_files_of_an_intact_pack(auditor_client, ready):
    page = auditor_client.post(reverse("evidence:pack-verify"), upload(zip_bytes(ready))).content.decode()
    assert "matches the files" in page and "verify-differs" not in page


def test_the_verify_page_refuses_a_zip_bomb_at_once(auditor_client, signing_key):
    started = time.monotonic()
    response = auditor_client.post(reverse("evidence:pack-verify"), upload(zip_bomb_pack()))
    elapsed = time.monotonic() - started
    page = response.content.decode()
    assert response.status_code == 200 and "Not verified." in page and "a zip bomb" in page
    assert elapsed < 5, f"took {elapsed:.1f} s"


def test_the_verify_page_handles_a_file_that_is_not_a_zip(auditor_client, signing_key):
    response = auditor_client.post(reverse("evidence:pack-verify"), upload(b"hello", "notes.txt"))
    assert response.status_code == 200 and "not a readable .zip" in response.content.decode()
    assert auditor_client.post(reverse("evidence:pack-verify"), {}).status_code == 200


def test_the_nav_shows_evidence_packs_to_grc_and_auditors_only(grc_client, auditor_client, owner_client):
    url = reverse("evidence:pack-list")
    assert url in grc_client.get(reverse("home")).content.decode()
    assert url in auditor_client.get(reverse("home")).content.decode()
    assert url not in owner_client.get(reverse("home")).content.decode()


def test_an_expired_pack_keeps_its_digests_on_its_page(grc_client, ready):
    EvidencePack.objects.filter(pk=ready.pk).update(status=PackStatus.EXPIRED, file="")
    page = grc_client.get(ready.get_absolute_url()).content.decode()
    assert "expired" in page and ready.sha256 in page
    assert reverse("evidence:pack-download", args=[ready.pk]) not in page


__all__ = ["dt", "io"]
