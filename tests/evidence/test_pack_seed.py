"""The pack's sample seed is printed in the signed PDF and ``pack.json``: a token or key given as the seed is
refused at the request (form, service, ``build_pack``), and nothing is stored (issue 11)."""

from __future__ import annotations

import string

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.urls import reverse

from evidence.models import EvidencePack
from evidence.packs import jobs
from tests.evidence import packs_support
from tests.evidence.packs_support import WINDOW

pytestmark = pytest.mark.django_db

us, queued = packs_support.us, packs_support.queued

# Seeds that pass the form's character rule ([A-Za-z0-9._-], 64 at most) but are secrets. Synthetic values.
TOKENS = [
    pytest.param("ghp_" + (string.ascii_letters + string.digits)[7:43], id="github-token"),
    pytest.param("glpat-" + "Zk3pQ9xR2mT7vW1yB4nC", id="gitlab-token"),
    pytest.param("5f0c3e9a1b2d4e6f8a7b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f", id="hex-256"),
    pytest.param("hvs.CAESIJ8x2kQ7mR4pT9vW3yB6nD1fH5jL0sU", id="vault-token"),
]


@pytest.mark.parametrize("token", TOKENS)
def test_the_service_refuses_a_secret_as_the_sample_seed(grc_user, us, token):
    with pytest.raises(ValidationError) as caught:
        jobs.pack_create(actor=grc_user, sample_seed=token, **WINDOW)
    message = " ".join(caught.value.message_dict["sample_seed"])
    assert message.startswith("The sample seed looks like it contains ") and token[:12] not in message
    assert EvidencePack.objects.count() == 0


@pytest.mark.parametrize("token", TOKENS)
def test_the_request_form_refuses_a_secret_as_the_sample_seed(grc_client, us, queued, token):
    response = grc_client.post(
        reverse("evidence:pack-request"),
        {
            "window_from": "2026-01-01",
            "window_to": "2026-06-30",
            "sample_size": 25,
            "party": us.pk,
            "sample_seed": token,
        },
    )
    assert response.status_code == 200
    errors = response.context["form"].errors["sample_seed"]
    assert any("looks like it contains" in error for error in errors)
    assert not [error for error in errors if token[:12] in error]
    assert EvidencePack.objects.count() == 0 and queued == []


def test_build_pack_refuses_a_secret_as_the_seed(grc_user, us, tmp_path):
    with pytest.raises(CommandError, match="The sample seed looks like it contains"):
        call_command(
            "build_pack",
            "--from", "2026-01-01", "--to", "2026-06-30", "--user", grc_user.username,
            "--seed", TOKENS[0].values[0], "--output", str(tmp_path / "pack.zip"),
        )  # fmt: skip
    assert EvidencePack.objects.count() == 0


def test_an_ordinary_seed_is_still_accepted(grc_user, us):
    assert jobs.pack_create(actor=grc_user, sample_seed="fy26-audit.q3_v2", **WINDOW).sample_seed == "fy26-audit.q3_v2"
