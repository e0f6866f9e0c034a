"""The app's own "not found" page (cek/errorpages.py): a key owner who opens another owner's key, or a finding on it,
reads where to go instead, with DEBUG on (the demo runs so) as without it."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.factories import FindingFactory, KeyFactory

pytestmark = pytest.mark.django_db

TECHNICAL = "Django"  # Django's debug 404 page names itself ("Raised by", "Using the URLconf", "You're seeing this")


@pytest.fixture(params=[True, False], ids=["debug", "no-debug"])
def debug(request, settings):
    settings.DEBUG = request.param
    return request.param


def test_a_key_owner_opening_another_owners_key_reads_that_it_is_not_theirs(debug, owner_client, other_owner):
    key = KeyFactory(owner=other_owner, name="someone-elses-key")
    response = owner_client.get(reverse("inventory:key-detail", args=[key.pk]))
    assert response.status_code == 404
    assert response.templates[0].name == "404.html"
    body = response.content.decode()
    assert TECHNICAL not in body and "someone-elses-key" not in body  # nothing about the key itself
    assert "This key is not one of your keys" in body
    assert "ask GRC" in body
    assert f'href="{reverse("inventory:my-keys")}"' in body


def test_a_key_owner_opening_a_finding_on_another_owners_key_reads_so(debug, owner_client, other_owner):
    finding = FindingFactory(subject_id=KeyFactory(owner=other_owner).pk)
    response = owner_client.get(reverse("evidence:finding-detail", args=[finding.pk]))
    assert response.status_code == 404
    body = response.content.decode()
    assert TECHNICAL not in body and "This finding is not about your keys" in body
    assert f'href="{reverse("evidence:finding-list")}"' in body


def test_grc_opening_a_key_that_does_not_exist_reads_that_it_does_not(debug, grc_client):
    response = grc_client.get(reverse("inventory:key-detail", args=[999_999]))
    assert response.status_code == 404
    body = response.content.decode()
    assert TECHNICAL not in body and "This key does not exist" in body
    assert "not one of your keys" not in body  # GRC sees every key
    assert f'href="{reverse("inventory:key-list")}"' in body


def test_the_key_owner_still_opens_their_own_key(debug, owner_client, owner):
    key = KeyFactory(owner=owner)
    assert owner_client.get(reverse("inventory:key-detail", args=[key.pk])).status_code == 200


def test_an_address_that_matches_nothing_gets_the_apps_page_without_debug(settings, grc_client):
    settings.DEBUG = False
    response = grc_client.get("/no-such-page/")
    assert response.status_code == 404
    body = response.content.decode()
    assert "Nothing here" in body and TECHNICAL not in body


def test_the_api_keeps_its_json_404(settings, owner_client, other_owner):
    settings.DEBUG = True
    key = KeyFactory(owner=other_owner)
    response = owner_client.get(f"/api/v1/keys/{key.pk}/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
