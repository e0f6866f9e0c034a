"""The export guard on the evidence exports: key material already in the database (simulated with
``QuerySet.update``, which skips every validator, as legacy rows or a bug would) never reaches a signed pack,
a CAIQ answer file or the campaign results; the refusal names the file, row and field, never the value."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from cek.exportguard import ExportRefused, check_html_text
from evidence.answers.services import answer_generate
from evidence.campaigns.services import campaign_close
from evidence.models import Attestation, CaiqAnswer, CheckResult, EvidencePack, Finding, PackStatus
from evidence.packs import builder
from inventory.models import Key
from tests.evidence import caiq, packs_support
from tests.evidence.caiq import key_policy, make_run
from tests.evidence.packs_support import FakeRendered, build, members, request_pack, zip_bytes
from tests.evidence.test_campaign_results import campaign  # noqa: F401 (fixture)
from tests.factories import FindingFactory

pytestmark = pytest.mark.django_db

signing_key, fake_pdf, inventory, us = (
    packs_support.signing_key,
    packs_support.fake_pdf,
    packs_support.inventory,
    packs_support.us,
)

SECRET = "ghp_" + "M4nB7vC1xZ9lK3jH6gF2dS8aP5oI0uY7tR4e"


def _failed_build(actor, **fields) -> EvidencePack:
    pack = request_pack(actor, **fields)
    built = builder.build_pack(pack.pk)
    assert built.status == PackStatus.FAILED
    return built


def _assert_names_not_value(reason: str, *parts: str) -> None:
    assert "was not produced" in reason and "GitHub token" in reason, reason
    for part in parts:
        assert part in reason, reason
    assert SECRET not in reason and SECRET[4:16] not in reason


def test_a_clean_pack_still_builds(grc_user, inventory, signing_key, fake_pdf):
    assert build(grc_user).status == PackStatus.READY


def test_a_key_description_with_a_token_fails_the_pack_naming_keys_csv(grc_user, inventory, signing_key, fake_pdf):
    target = inventory["keys"][2]
    Key.objects.filter(pk=target.pk).update(purpose_justification=f"rotated; old value {SECRET}")
    pack = _failed_build(grc_user)
    position = sorted(key.pk for key in inventory["keys"]).index(target.pk) + 2  # keys.csv is ordered by id
    _assert_names_not_value(pack.last_error, "keys.csv", f"row {position}, column 'purpose_justification'")
    media = Path(settings.MEDIA_ROOT)
    assert not pack.file and not (media.exists() and any(media.rglob("*.zip")))  # nothing was stored


def test_a_label_holding_a_token_fails_the_pack(grc_user, inventory, signing_key, fake_pdf):
    Key.objects.filter(pk=inventory["keys"][0].pk).update(labels={"ci": SECRET})
    _assert_names_not_value(_failed_build(grc_user).last_error, "keys.csv", "column 'labels'")


def test_a_finding_reason_and_an_attestation_comment_are_guarded(
    grc_user,
    inventory,
    signing_key,
    fake_pdf,
    campaign,  # noqa: F811
):
    finding = FindingFactory()
    in_window = {"first_seen": timezone.make_aware(dt.datetime(2026, 6, 1)), "accepted_reason": f"api_key={SECRET}"}
    Finding.objects.filter(pk=finding.pk).update(**in_window)
    _assert_names_not_value(_failed_build(grc_user).last_error, "findings.csv", "column 'accepted_reason'")
    Finding.objects.filter(pk=finding.pk).update(accepted_reason="")
    Attestation.objects.filter(campaign=campaign).update(comment=SECRET)
    today = timezone.localdate()
    window = {"window_from": today - dt.timedelta(days=30), "window_to": today}
    _assert_names_not_value(_failed_build(grc_user, **window).last_error, "attestations.csv", "column 'comment'")


def test_the_apps_own_digests_do_not_stop_a_pack_but_a_bare_hex_key_elsewhere_does(
    grc_user, inventory, signing_key, fake_pdf
):
    digest = hashlib.sha256(b"statements v1").hexdigest()
    finding = FindingFactory(details={"statements_sha256": digest, "comment": "see the campaign"})
    run = make_run({"AG-2": "partial"})
    CheckResult.objects.filter(run=run).update(evidence=[{"label": "Key policy 1.0", "sha256": digest}])
    today = timezone.localdate()
    window = {"window_from": today - dt.timedelta(days=30), "window_to": today}
    files = members(zip_bytes(build(grc_user, **window)))
    assert digest.encode() in files["findings.csv"] and digest.encode() in files["check-results.csv"]
    # The same shape where the app puts no digest is what an AES-256 key looks like printed: refused.
    Finding.objects.filter(pk=finding.pk).update(details={"comment": os.urandom(32).hex()})
    pack = _failed_build(grc_user, **window)
    assert "findings.csv" in pack.last_error and "column 'details'" in pack.last_error


def test_a_token_given_as_sample_seed_never_reaches_pack_json(grc_user, inventory, signing_key, fake_pdf):
    pack = request_pack(grc_user, sample_seed="audit-2026")
    EvidencePack.objects.filter(pk=pack.pk).update(sample_seed=SECRET)
    built = builder.build_pack(pack.pk)
    assert built.status == PackStatus.FAILED
    _assert_names_not_value(built.last_error, "pack.json", "sample")


def test_text_only_the_pdf_shows_is_checked_before_it_is_signed(
    grc_user, inventory, signing_key, fake_pdf, monkeypatch
):
    def render(pack, content, data_digest, data_manifest, data_rows=None):
        html = f"<h2>Key inventory</h2><table><tr><td>{SECRET}</td></tr></table>"
        return FakeRendered(data=b"%PDF-1.7\n%%EOF\n", pages=1, seconds=0.0, html=html)

    monkeypatch.setattr(builder, "_render", render)
    pack = _failed_build(grc_user)
    _assert_names_not_value(pack.last_error, "evidence-pack.pdf", "Key inventory")


def test_the_pdf_check_lets_the_signing_public_key_and_digests_through(signing_key):
    digest = hashlib.sha256(b"data").hexdigest()
    html = f"<h1>About</h1><p>{digest}</p><p>SHA-256 {digest}</p><p>Ed25519 {signing_key.public_key}</p>"
    with pytest.raises(ExportRefused):
        check_html_text(html, export="evidence-pack.pdf")
    check_html_text(html, export="evidence-pack.pdf", allowed=[signing_key.public_key])
    with pytest.raises(ExportRefused, match="About"):  # the rest of the text around it is still checked
        check_html_text(html.replace("Ed25519", SECRET), export="evidence-pack.pdf", allowed=[signing_key.public_key])


def test_a_real_clean_pack_passes_every_guard(grc_user, inventory, signing_key):
    """The real content and PDF (digests, the signing key's public half, the data digest on the cover) are no
    false positives: the pack builds."""
    key_policy(grc_user)
    make_run({"AG-2": "partial"})
    FindingFactory(details={"statements_sha256": hashlib.sha256(b"v1").hexdigest()})
    today = timezone.localdate()
    built = build(grc_user, window_from=today - dt.timedelta(days=30), window_to=today)
    assert built.status == PackStatus.READY and built.pages > 1


def test_a_real_pack_with_a_token_in_a_policy_title_fails_visibly(grc_user, grc_client, inventory, signing_key):
    from evidence.models import Policy

    key_policy(grc_user)
    Policy.objects.update(title=f"Key policy {SECRET}")
    pack = _failed_build(grc_user)
    assert "pack.json" in pack.last_error or "policies.csv" in pack.last_error
    page = grc_client.get(pack.get_absolute_url()).content.decode()
    assert "was not produced" in page and SECRET not in page


@pytest.fixture
def draft(grc_user):
    key_policy(grc_user)
    make_run({"AG-2": "partial"})
    return answer_generate(party=caiq.us(), actor=grc_user)


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "json"])
def test_an_answer_holding_a_token_is_not_exported(grc_client, draft, fmt):
    CaiqAnswer.objects.filter(pk=draft.pk).update(customer_responsibilities=f"Use token {SECRET}")
    response = grc_client.get(reverse("evidence:answer-export", args=[draft.pk, fmt]))
    assert response.status_code == 409
    _assert_names_not_value(response.content.decode(), "customer_responsibilities")


def test_a_clean_answer_still_exports(grc_client, draft):
    assert grc_client.get(reverse("evidence:answer-export", args=[draft.pk, "csv"])).status_code == 200


def test_the_campaign_results_export_refuses_a_comment_holding_a_token(grc_client, campaign):  # noqa: F811
    assert grc_client.get(reverse("evidence:campaign-export", args=[campaign.pk])).status_code == 200
    Attestation.objects.filter(campaign=campaign, key__name="beta-key").update(comment=SECRET)
    response = grc_client.get(reverse("evidence:campaign-export", args=[campaign.pk]))
    assert response.status_code == 409
    _assert_names_not_value(response.content.decode(), "campaign results", "row 3, column 'comment'")
    # Closing is not stopped by legacy data (its digest reads the same rows); only the export is.
    closed = campaign_close(campaign=campaign, actor=campaign.created_by)
    assert closed.results_rows == 4
