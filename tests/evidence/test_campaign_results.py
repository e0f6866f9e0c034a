"""A closed campaign's results as evidence (the CSV digest recorded at close and reproduced by the export),
the read-only admin of campaigns, attestations and findings, the key owner's Findings link, and discrepancy
comments that hold key material."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from evidence.campaigns import results, services
from evidence.findings.services import finding_upsert
from evidence.models import Attestation, AttestationStatus, Campaign, CampaignStatus, Finding
from tests.conftest import login
from tests.factories import KeyFactory, UserFactory

pytestmark = pytest.mark.django_db

PEM = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----"


@pytest.fixture
def campaign(grc_user, owner, other_owner) -> Campaign:
    """A launched campaign: two keys of owner, one of other_owner, one without an addressee."""
    KeyFactory(owner=owner, name="alpha-key")
    KeyFactory(owner=owner, name="beta-key")
    KeyFactory(owner=other_owner, name="gamma-key")
    KeyFactory(owner=None, name="orphan-key")
    drafted = services.campaign_create(
        actor=grc_user, name="Q2 attestation, “EU”", due_on=timezone.localdate() + dt.timedelta(days=7)
    )
    return services.campaign_launch(campaign=drafted, actor=grc_user)


def answered(campaign: Campaign, owner, other_owner) -> Campaign:
    services.attestation_confirm_all(actor=owner, campaign=campaign)
    services.attestation_report_discrepancy(
        attestation=Attestation.objects.get(campaign=campaign, key__name="gamma-key"),
        actor=other_owner,
        comment="Also used by the reporting service; the binding is missing. Ünïcode survives.",
    )
    return campaign


def export(client, campaign: Campaign) -> bytes:
    response = client.get(reverse("evidence:campaign-export", args=[campaign.pk]))
    assert response.status_code == 200
    return b"".join(response.streaming_content)


# --- 1. Results recorded at close -------------------------------------------------------------------------


def test_closing_records_the_digest_and_row_count_of_the_results_csv(campaign, grc_user, owner, other_owner):
    answered(campaign, owner, other_owner)
    assert (campaign.results_sha256, campaign.results_rows) == ("", None)

    closed = services.campaign_close(campaign=campaign, actor=grc_user)

    closed.refresh_from_db()
    body = b"".join(results.campaign_results_csv(closed))
    assert closed.results_sha256 == hashlib.sha256(body).hexdigest()
    assert closed.results_rows == 4
    rows = list(csv.DictReader(io.StringIO(body.decode())))
    assert [(r["key"], r["status"]) for r in rows] == [
        ("alpha-key", "confirmed"),
        ("beta-key", "confirmed"),
        ("gamma-key", "discrepancy"),
        ("orphan-key", "not answered"),
    ]
    assert closed.history.first().results_sha256 == closed.results_sha256  # the digest is in the history too


def test_the_export_of_a_closed_campaign_reproduces_the_recorded_digest(
    campaign, grc_user, owner, other_owner, auditor
):
    answered(campaign, owner, other_owner)
    closed = services.campaign_close(campaign=campaign, actor=grc_user)

    for client in (login(grc_user), login(auditor)):
        body = export(client, closed)
        assert hashlib.sha256(body).hexdigest() == closed.results_sha256
        assert len(body.decode().splitlines()) == closed.results_rows + 1  # plus the header
    assert export(login(grc_user), closed) == export(login(grc_user), closed)


def test_the_export_of_an_open_campaign_is_the_same_shared_csv(campaign, grc_user, owner):
    services.attestation_confirm_all(actor=owner, campaign=campaign)
    body = export(login(grc_user), campaign)
    assert body == b"".join(results.campaign_results_csv(campaign))
    assert body.startswith(b"campaign,key,store,external_id,purpose,addressed_to,status,")
    statuses = [r["status"] for r in csv.DictReader(io.StringIO(body.decode()))]
    assert statuses == ["confirmed", "confirmed", "pending", "pending"]  # not "not answered" while open


def test_an_empty_result_set_still_has_a_digest_and_zero_rows(grc_user):
    key = KeyFactory(owner=None, name="only-key")
    campaign = services.campaign_launch(
        campaign=services.campaign_create(
            actor=grc_user, name="Tiny", due_on=timezone.localdate() + dt.timedelta(days=1)
        ),
        actor=grc_user,
    )
    assert campaign.attestations.get().key == key
    closed = services.campaign_close(campaign=campaign, actor=grc_user)
    assert closed.results_rows == 1 and len(closed.results_sha256) == 64


def test_the_campaign_page_shows_the_results_digest_once_closed(campaign, grc_client, grc_user, owner):
    url = campaign.get_absolute_url()
    assert "results-digest" not in grc_client.get(url).content.decode()

    response = grc_client.post(reverse("evidence:campaign-close", args=[campaign.pk]), follow=True)

    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.CLOSED
    page = response.content.decode()
    assert campaign.results_sha256 in page  # in the success message and on the page
    assert f'<code class="small results-digest">{campaign.results_sha256}</code>' in page
    assert "4 rows, recorded at close" in page


# --- 2. Read-only admin ----------------------------------------------------------------------------------


@pytest.mark.parametrize("model", ["campaign", "attestation", "finding"])
def test_the_admin_shows_campaigns_attestations_and_findings_read_only(model, campaign, grc_user, owner, other_owner):
    answered(campaign, owner, other_owner)
    services.campaign_close(campaign=campaign, actor=grc_user)
    obj = {
        "campaign": campaign,
        "attestation": Attestation.objects.get(campaign=campaign, key__name="gamma-key"),
        "finding": Finding.objects.get(),
    }[model]
    client = login(UserFactory(username="root", is_staff=True, is_superuser=True))

    assert client.get(reverse(f"admin:evidence_{model}_changelist")).status_code == 200
    change_url = reverse(f"admin:evidence_{model}_change", args=[obj.pk])
    page = client.get(change_url)
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()  # a view, not a form
    assert client.post(change_url, {}).status_code == 403
    assert client.get(reverse(f"admin:evidence_{model}_add")).status_code == 403
    assert client.post(reverse(f"admin:evidence_{model}_delete", args=[obj.pk]), {"post": "yes"}).status_code == 403
    if model != "attestation":  # an attestation is written once and frozen: it keeps no history
        assert client.get(reverse(f"admin:evidence_{model}_history", args=[obj.pk])).status_code == 200
    assert type(obj).objects.filter(pk=obj.pk).exists()


# --- 3. The key owner's Findings link --------------------------------------------------------------------


# role -> has a Findings link in the main navigation (GRC and auditors in the Evidence menu)
FINDINGS_LINK_BY_ROLE = {
    "anonymous": False,
    "grc": True,
    "owner": True,
    "other_owner": True,
    "auditor": True,
    "expired_auditor": False,
    "outsider": False,
}


def nav(client) -> str:
    page = client.get(reverse("home"), follow=True).content.decode()
    if '<nav class="mainnav"' not in page:
        return ""
    start = page.index('<nav class="mainnav"')
    return page[start : page.index("</nav>", start)]


def test_key_owners_get_a_findings_link_in_the_navigation(role):
    name, _user, client = role
    link = f'href="{reverse("evidence:finding-list")}"'
    assert (link in nav(client)) is FINDINGS_LINK_BY_ROLE[name]


def test_the_findings_link_leads_to_the_owners_own_findings_and_is_active_there(owner, other_owner):
    mine = KeyFactory(owner=owner, name="mine")
    theirs = KeyFactory(owner=other_owner, name="theirs")
    for key in (mine, theirs):
        finding_upsert(rule="multi-purpose", subject=key, severity="high", details={}, seen_at=timezone.now())
    client = login(owner)
    page = client.get(reverse("evidence:finding-list")).content.decode()
    assert "mine" in page and "theirs" not in page
    assert f'<a href="{reverse("evidence:finding-list")}" class="active">Findings</a>' in page


# --- 5. Key material in a discrepancy comment ------------------------------------------------------------


def test_it_refuses_a_pem_private_key_in_the_discrepancy_comment_and_writes_nothing(campaign, owner):
    attestation = Attestation.objects.get(campaign=campaign, key__name="alpha-key")
    history = attestation.key.history.count()

    with pytest.raises(ValidationError) as refused:
        services.attestation_report_discrepancy(
            attestation=attestation, actor=owner, comment=f"The key is wrong, here it is:\n{PEM}"
        )

    message = " ".join(refused.value.messages)
    assert message.startswith("The discrepancy comment looks like it contains a PEM private key block.")
    assert "never the key" in message and "MIIEv" not in message
    attestation.refresh_from_db()
    assert (attestation.status, attestation.comment, attestation.responded_by) == (
        AttestationStatus.PENDING,
        "",
        None,
    )
    assert not Finding.objects.exists() and attestation.key.history.count() == history


def test_the_inbox_shows_the_refusal_and_keeps_the_attestation_pending(campaign, owner):
    attestation = Attestation.objects.get(campaign=campaign, key__name="alpha-key")
    response = login(owner).post(
        reverse("evidence:attestation-discrepancy", args=[attestation.pk]), {"comment": PEM}, follow=True
    )
    page = response.content.decode()
    assert "The discrepancy comment looks like it contains a PEM private key block." in page
    assert "MIIEv" not in page
    attestation.refresh_from_db()
    assert attestation.status == AttestationStatus.PENDING and not Finding.objects.exists()
