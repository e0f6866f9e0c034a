"""Every list page of the app paginates leniently: a page number past the end shows the last page, a page that is
not a number the first, never a 404 (a bookmarked or shared link keeps working as the list shrinks)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from inventory.models import Key
from tests.factories import KeyFactory, keys_bulk

pytestmark = pytest.mark.django_db

LISTS = [
    "inventory:key-list",
    "inventory:my-keys",
    "inventory:purpose-list",
    "inventory:service-list",
    "inventory:tenant-list",
    "evidence:answer-list",
    "evidence:checkrun-list",
    "evidence:policy-list",
    "evidence:changeevent-list",
    "evidence:evaluation-list",
    "evidence:usage-ingestion-list",
    "evidence:finding-list",
    "evidence:pack-list",
    "evidence:campaign-list",
    "evidence:attestation-inbox",
    "evidence:iacscan-list",
    "evidence:alert-list",
]


@pytest.mark.parametrize("name", LISTS)
@pytest.mark.parametrize("page", ["999", "junk", "-1", "0"])
def test_a_page_out_of_range_or_not_a_number_is_never_a_404(grc_client, grc_user, name, page):
    KeyFactory.create_batch(3, owner=grc_user)
    response = grc_client.get(reverse(name), {"page": page})
    assert response.status_code == 200, (name, page)


def test_past_the_end_shows_the_last_page(grc_client, grc_user):
    keys_bulk(count=60, owners=[grc_user])
    names = sorted(Key.objects.values_list("name", flat=True))
    response = grc_client.get(reverse("inventory:key-list"), {"page": "999", "ordering": "name"})
    page = response.context["page_obj"]
    assert page.number == page.paginator.num_pages == 2
    assert names[-1] in response.content.decode() and names[0] not in response.content.decode()
