"""The key page and the API key detail run a fixed number of queries whatever the key carries: bindings, grants,
parties it is exposed to, usage rows, usage findings, attestations and changes in its history. Each bound is the
count measured when it was set: a new query per binding, grant, party, usage row or change fails the test, and so
does a new query of the page itself (lower the bound when a query is removed)."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core.serializers.json import DjangoJSONEncoder
from django.urls import reverse
from django.utils import timezone

from evidence.campaigns.models import Attestation, Campaign, CampaignStatus, statements_digest
from inventory.models import Key
from tests.conftest import login
from tests.evidence.test_usage_misuse import usage
from tests.factories import (
    AccessGrantFactory,
    BindingFactory,
    FindingFactory,
    KeyFactory,
    KeyStoreFactory,
    PartyFactory,
    ServiceFactory,
    TenantFactory,
    UserFactory,
    purpose,
)

pytestmark = pytest.mark.django_db

# The user and their roles (2); the key with its joins and whether it has exposure, bindings or grants; its people;
# its parties; its bindings; its grants; its history, and the rows its changes name (users, parties, purposes,
# tenants: 4); the usage figures (with whether the store has logs); the busiest principals; the open usage findings.
KEY_PAGE_QUERIES = 15
# A key without exposure, binding, grant, change, or call in the window: the user and roles, the key, its people,
# its history, the usage figures and the findings.
BARE_KEY_PAGE_QUERIES = 6
# The user and roles, the key, the parties it is exposed to.
API_KEY_DETAIL_QUERIES = 4


@pytest.fixture(autouse=True)
def quiet(settings):
    settings.CEK_ALERT_WEBHOOKS = []


def rich_key(*, rows: int, owner, approver) -> Key:
    """A key with ``rows`` of each thing its page lists or counts, and ``rows`` changes of each of its relations."""
    today = timezone.localdate()
    key = KeyFactory(
        store=KeyStoreFactory(),
        owner=owner,
        backup_owner=approver,
        purpose_approver=approver,
        tenant=TenantFactory(),
        custodian=PartyFactory(),
        labels={"purpose": "data-encryption"},
    )
    for n in range(rows):
        BindingFactory(key=key, service=ServiceFactory(), tenant=TenantFactory(), principal=f"role/app-{n}")
        AccessGrantFactory(key=key, principal=f"arn:aws:iam::111122223333:role/g-{n}", approver=UserFactory())
        key.exposed_to.add(PartyFactory())
        usage(key, principal=f"arn:aws:iam::111122223333:role/u-{n}", operation="Decrypt", count=4, day=today)
        usage(
            key, principal=f"arn:aws:iam::111122223333:role/u-{n}", operation="Sign", count=1, error="Denied", day=today
        )
        FindingFactory(rule=f"usage-test-{n}", subject_id=key.pk, subject_label=key.name)
        campaign = Campaign.objects.create(
            name=f"Q{n}",
            statements=["s"],
            statements_sha256=statements_digest(["s"]),
            due_on=today + dt.timedelta(days=30),
            status=CampaignStatus.LAUNCHED,
            created_by=approver,
        )
        Attestation.objects.create(campaign=campaign, key=key, addressed_to=owner)
        # A change of each relation the history shows by name, and of the purpose.
        key.owner = UserFactory()
        key.tenant = TenantFactory()
        key.custodian = PartyFactory()
        key.purpose = purpose("data-encryption" if n % 2 else "key-wrapping")
        key.description = f"change {n}"
        key.save()
    key.owner = owner  # back to the key owner of the test (a change of owner even with one row)
    key.save()
    return key


def get(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.parametrize("who", ["grc", "owner"])
def test_the_key_page_runs_the_same_queries_for_one_or_many_related_rows(
    who, grc_user, owner, grc_client, owner_client, django_assert_max_num_queries
):
    client = grc_client if who == "grc" else owner_client
    one = rich_key(rows=1, owner=owner, approver=grc_user)
    many = rich_key(rows=30, owner=owner, approver=grc_user)
    get(client, reverse("inventory:key-detail", args=[one.pk]))  # the drop-downs and catalogs go to the cache

    with django_assert_max_num_queries(KEY_PAGE_QUERIES) as few:
        get(client, reverse("inventory:key-detail", args=[one.pk]))
    with django_assert_max_num_queries(len(few)):
        html = get(client, reverse("inventory:key-detail", args=[many.pk]))

    assert html.count("role/app-") == 30  # every binding
    assert html.count("role/g-") == 30  # every grant
    assert html.count('<a href="/inventory/parties/') >= 30  # every party it is exposed to
    assert "150 by 30 principals, 2 operations" in html  # the usage figures count every row: 30 x (4 + 1)
    assert '<span class="badge badge-bad">30</span>' in html  # failed calls
    assert html.count("usage-test-") == 10  # the panel's open findings, bounded


def test_a_bare_key_page_reads_nothing_it_does_not_show(grc_client, django_assert_max_num_queries):
    key = KeyFactory()
    get(grc_client, reverse("inventory:key-detail", args=[key.pk]))
    with django_assert_max_num_queries(BARE_KEY_PAGE_QUERIES):
        html = get(grc_client, reverse("inventory:key-detail", args=[key.pk]))
    assert "No service is recorded as using this key." in html
    assert "No access grants recorded." in html
    assert "Not exposed to other parties." in html
    assert "No usage log of this key's store is ingested" in html


def test_a_key_owner_gets_a_404_for_a_key_they_do_not_own(owner_client, other_owner):
    key = KeyFactory(owner=other_owner)
    assert owner_client.get(reverse("inventory:key-detail", args=[key.pk])).status_code == 404
    assert owner_client.get(reverse("inventory:key-detail", args=[key.pk + 1000])).status_code == 404


def test_the_people_read_in_one_query_are_the_keys_own(grc_client, owner, grc_user):
    backup = UserFactory(first_name="Bea", last_name="Backup")
    key = KeyFactory(owner=owner, backup_owner=backup, purpose_approver=grc_user)
    html = get(grc_client, reverse("inventory:key-detail", args=[key.pk]))
    for person in (owner, backup, grc_user):
        assert (person.get_full_name() or person.username) in html


@pytest.mark.parametrize("who", ["grc", "owner"])
def test_the_api_key_detail_runs_the_same_queries_for_one_or_many_parties(
    who, grc_user, owner, grc_client, owner_client, django_assert_max_num_queries
):
    client = grc_client if who == "grc" else owner_client
    one = rich_key(rows=1, owner=owner, approver=grc_user)
    many = rich_key(rows=12, owner=owner, approver=grc_user)
    with django_assert_max_num_queries(API_KEY_DETAIL_QUERIES) as few:
        get(client, f"/api/v1/keys/{one.pk}/")
    with django_assert_max_num_queries(len(few)):
        response = client.get(f"/api/v1/keys/{many.pk}/")
    assert len(response.json()["exposed_to"]) == 12


def test_the_api_key_detail_is_the_key_serializers_representation(grc_user, owner, varied_inventory, rf):
    """The detail is built like the list's rows (KeyListRows), not by KeySerializer: it must still be exactly what
    KeySerializer gives each key, field order included (the list's rows are compared with the detail)."""
    from rest_framework.request import Request

    from inventory.serializers import KeySerializer

    keys = [*varied_inventory, rich_key(rows=3, owner=owner, approver=grc_user)]
    client = login(grc_user)
    for key in Key.objects.filter(pk__in=[key.pk for key in keys]):
        request = Request(rf.get(f"/api/v1/keys/{key.pk}/", secure=True))
        expected = KeySerializer(key, context={"request": request}).data
        detail = client.get(f"/api/v1/keys/{key.pk}/", secure=True).json()
        assert list(detail) == list(expected)
        assert detail == json.loads(json.dumps(expected, cls=DjangoJSONEncoder))


def test_the_api_key_detail_answers_404_for_what_it_cannot_show(owner_client, other_owner, grc_client):
    hidden = KeyFactory(owner=other_owner)
    assert owner_client.get(f"/api/v1/keys/{hidden.pk}/").status_code == 404
    assert grc_client.get(f"/api/v1/keys/{hidden.pk + 1000}/").status_code == 404
    assert grc_client.get("/api/v1/keys/abc/").status_code == 404
    assert grc_client.get(f"/api/v1/keys/{hidden.pk}.json").json()["url"].endswith(f"/api/v1/keys/{hidden.pk}.json")
