"""Pages and e-mails name people, not usernames: the pack page (who requested it, who downloaded it), the answer
pages, the usage-log pages and the campaign e-mail each print "Grace Hopper" where they used to print her username.
The viewer is someone else, so the header's own name does not make the assertion true."""

from __future__ import annotations

import datetime as dt
import gzip
import io

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from evidence.answers import services as answer_services
from evidence.campaigns import services as campaign_services
from evidence.models import PackDownload
from evidence.usage.models import UsageIngestion
from tests.conftest import login
from tests.evidence import packs_support
from tests.evidence.caiq import key_policy, make_run
from tests.evidence.packs_support import build
from tests.evidence.usage_support import CLOUDTRAIL
from tests.evidence.usage_support import inventory as usage_inventory
from tests.factories import KeyFactory, UserFactory

pytestmark = pytest.mark.django_db

signing_key, fake_pdf, inventory, us = (
    packs_support.signing_key,
    packs_support.fake_pdf,
    packs_support.inventory,
    packs_support.us,
)


@pytest.fixture
def grace(db):
    return UserFactory(
        username="ghopper42", first_name="Grace", last_name="Hopper", email="admiral@example.com", roles=["grc"]
    )


def test_the_pack_page_names_who_requested_and_who_downloaded(auditor_client, grace, inventory, signing_key, fake_pdf):
    pack = build(grace)
    ada = UserFactory(username="alovelace", first_name="Ada", last_name="Lovelace", roles=["auditors"])
    PackDownload.objects.create(pack=pack, user=ada, ip="198.51.100.7", user_agent="AuditBrowser/1.0")
    page = auditor_client.get(pack.get_absolute_url()).content.decode()
    assert "</time> by Grace Hopper</p>" in page
    assert "<td>Ada Lovelace</td>" in page
    assert "ghopper42" not in page and "alovelace" not in page
    listing = auditor_client.get(reverse("evidence:pack-list")).content.decode()
    assert "by Grace Hopper</div>" in listing and "ghopper42" not in listing


def test_the_answer_pages_name_who_created_and_published(auditor_client, grace, us):
    key_policy(grace)
    make_run()
    answer = answer_services.answer_generate(party=us, actor=grace)
    answer = answer_services.answer_publish(answer=answer, actor=grace)
    page = auditor_client.get(answer.get_absolute_url()).content.decode()
    assert "</time> by Grace Hopper</p>" in page and "</time> by Grace Hopper</dd>" in page
    listing = auditor_client.get(reverse("evidence:answer-list")).content.decode()
    assert "</a> · Grace Hopper</td>" in listing and "</a> by Grace Hopper</dd>" in listing
    assert "ghopper42" not in page + listing


def test_the_usage_log_pages_name_who_uploaded(grc_client, grace, monkeypatch):
    class Result:
        id = "task-1"

    monkeypatch.setattr("cek.jobs.queue.send", lambda name, args: Result())
    usage_inventory()
    file = io.BytesIO(gzip.compress(CLOUDTRAIL.read_bytes(), mtime=0))
    file.name = "trail.json.gz"
    page_url = "/evidence/usage/ingestions/"
    assert login(grace).post(page_url, {"file": file, "format": "cloudtrail"}).status_code == 302
    ingestion = UsageIngestion.objects.get()
    detail = grc_client.get(f"{page_url}{ingestion.pk}/").content.decode()
    listing = grc_client.get(page_url).content.decode()
    assert "</time> by Grace Hopper" in detail and "</time> by Grace Hopper</td>" in listing
    assert "ghopper42" not in detail + listing


def test_the_campaign_e_mail_greets_the_owner_by_name(grc_user):
    eve = UserFactory(username="eve7", first_name="<b>Eve</b>", last_name="Hopper", roles=["key-owners"])
    KeyFactory(owner=eve)
    campaign = campaign_services.campaign_create(
        actor=grc_user, name="Q1 attestation", due_on=timezone.localdate() + dt.timedelta(days=14)
    )
    campaign_services.campaign_launch(campaign=campaign, actor=grc_user)
    (message,) = mail.outbox
    html = message.alternatives[0][0]
    assert message.body.startswith("Hello <b>Eve</b> Hopper,")  # the text part: as written
    assert "Hello &lt;b&gt;Eve&lt;/b&gt; Hopper," in html  # the HTML part: escaped
    assert "eve7" not in message.body + html
