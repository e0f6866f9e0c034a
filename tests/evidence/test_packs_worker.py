"""End to end with a real Celery worker and broker and the real content and PDF: a requested pack is queued on
commit, built by the worker, stored, and verifies; its PDF carries the data manifest digest and the public key."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from evidence.models import EvidencePack, PackStatus
from evidence.packs import jobs
from evidence.packs.verify import verify_pack_file
from tests.conftest import wait_for
from tests.evidence import packs_support
from tests.evidence.packs_support import WINDOW, members, zip_bytes
from tests.factories import BindingFactory, KeyFactory, KeyStoreFactory, PartyFactory, UserFactory

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

signing_key = packs_support.signing_key


@pytest.fixture
def short_lived_connections(monkeypatch):
    """The worker thread closes its connection after each task (see test_policy_worker)."""
    from django.db import connections

    monkeypatch.setitem(connections.settings["default"], "CONN_MAX_AGE", 0)


def test_a_worker_builds_a_requested_pack_that_verifies(short_lived_connections, celery_worker, signing_key):
    auditor = UserFactory(username="audrey", roles=["auditors"])
    PartyFactory(name="Example AI Ltd", is_us=True, roles=["AP"])
    store = KeyStoreFactory(name="prod-kms")
    for n in range(8):
        BindingFactory(key=KeyFactory(name=f"orders-dek-{n}", store=store))

    pack = jobs.pack_request(actor=auditor, sample_size=5, sample_seed="worker-e2e", **WINDOW)
    assert EvidencePack.objects.get(pk=pack.pk).task_id  # queued when the request committed
    wait_for(lambda: EvidencePack.objects.get(pk=pack.pk).status in (PackStatus.READY, PackStatus.FAILED), timeout=240)
    pack.refresh_from_db()
    assert pack.status == PackStatus.READY, pack.last_error
    assert pack.attempts == 1 and pack.progress == 100 and pack.stats["keys"] == 9  # with the signing key

    data = zip_bytes(pack)
    report = verify_pack_file(io.BytesIO(data))
    assert report.ok, report.problems
    pdf = PdfReader(io.BytesIO(members(data)["evidence-pack.pdf"]))
    assert len(pdf.pages) == pack.pages
    text = " ".join(page.extract_text() or "" for page in pdf.pages[:2]).replace("\n", " ")
    digest = pack.stats["data_digest"]
    assert digest[:16] in text.replace(" ", "")
    assert str(pack.uid)[:8] in text
