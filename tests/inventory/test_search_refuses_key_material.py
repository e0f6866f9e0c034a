"""A search is free text in a URL: one that looks like key material is refused, not searched for, and never
written back (the search box, the export links, the refusal, the API's error)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.conftest import login
from tests.factories import KeyFactory

pytestmark = pytest.mark.django_db

SECRET = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7\n-----END PRIVATE KEY-----"
MARKERS = ("BEGIN PRIVATE", "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC", "BEGIN%20PRIVATE", "BEGIN+PRIVATE")


def test_the_key_list_refuses_a_search_for_key_material_without_writing_it_back(grc_user):
    KeyFactory.create_batch(2)
    response = login(grc_user).get(reverse("inventory:key-list"), {"q": SECRET})
    page = response.content.decode()
    assert response.status_code == 200
    assert not any(marker in page for marker in MARKERS)
    assert "Search" in page and "not applied" in page  # the refusal names the filter, not the value


def test_the_api_refuses_a_search_for_key_material_with_a_400_that_does_not_repeat_it(grc_user):
    response = login(grc_user).get("/api/v1/keys/", {"q": SECRET})
    assert response.status_code == 400
    body = response.content.decode()
    assert "q" in response.json()["errors"] and not any(marker in body for marker in MARKERS)


def test_the_usage_api_refuses_key_material_in_its_text_filters(grc_user):
    response = login(grc_user).get("/api/v1/usage/", {"principal": SECRET})
    assert response.status_code == 400
    assert not any(marker in response.content.decode() for marker in MARKERS)


@pytest.mark.parametrize(
    "url",
    [
        "/inventory/purposes/",
        "/inventory/services/",
        "/inventory/tenants/",
        "/inventory/parties/",
        "/evidence/policies/",
    ],
)
def test_every_list_page_refuses_a_search_for_key_material_without_writing_it_back(grc_user, url):
    response = login(grc_user).get(url, {"q": SECRET})
    page = response.content.decode()
    assert response.status_code == 200
    assert not any(marker in page for marker in MARKERS)
    assert "not applied" in page


def test_a_plain_search_still_applies_and_is_shown(grc_user):
    page = login(grc_user).get("/inventory/purposes/", {"q": "signing"}).content.decode()
    assert 'value="signing"' in page and "not applied" not in page
