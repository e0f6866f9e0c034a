"""The overview's sentence about purposes is derived from the inventory, never a fixed claim."""

from __future__ import annotations

from django.urls import reverse

from tests.factories import KeyFactory


def _subtitle(client) -> str:
    html = client.get(reverse("inventory:overview")).content.decode()
    start = html.index('<p class="sub">')
    return " ".join(html[start : html.index("</p>", start)].split())


def test_it_says_each_key_has_one_purpose_only_when_every_key_has_one(grc_client):
    KeyFactory.create_batch(3)
    assert "Each of the 3 keys has exactly one recorded purpose." in _subtitle(grc_client)


def test_it_counts_the_keys_without_a_purpose_instead(grc_client):
    KeyFactory.create_batch(2)
    KeyFactory(purpose=None, purpose_justification="", purpose_reviewed_on=None)
    subtitle = _subtitle(grc_client)
    assert "1 of the 3 keys has no recorded purpose yet." in subtitle
    assert "has exactly one recorded purpose" not in subtitle


def test_it_makes_no_claim_about_an_empty_inventory(grc_client):
    subtitle = _subtitle(grc_client)
    assert "recorded purpose" not in subtitle
