"""The key page's usage panel: principals and operations of the last 90 days, last used, failed calls and open
usage findings, through the inventory's panel seam; bounded rows and a fixed number of queries."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from evidence.usage.findings import usage_misuse_evaluate
from evidence.usage.panel import PANEL_ROWS
from tests.evidence.test_usage_misuse import INTRUDER, usage
from tests.factories import KeyFactory, KeyStoreFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def quiet(settings):
    settings.CEK_ALERT_WEBHOOKS = []


def page(client, key) -> str:
    response = client.get(reverse("inventory:key-detail", args=[key.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_the_panel_shows_principals_operations_last_use_failures_and_open_findings(grc_client):
    key = KeyFactory(name="orders-data")
    today = timezone.localdate()
    usage(key, operation="Decrypt", principal="arn:aws:iam::111122223333:role/app", count=40, day=today)
    usage(key, operation="Sign", principal=INTRUDER, count=3, error="InvalidKeyUsageException", day=today)
    usage(key, operation="Encrypt", principal="arn:aws:iam::111122223333:role/old", day=today - dt.timedelta(days=120))
    usage_misuse_evaluate(source="test")

    html = page(grc_client, key)

    assert 'id="usage"' in html
    assert "arn:aws:iam::111122223333:role/app" in html and INTRUDER in html
    assert "role/old" not in html  # outside the 90 days
    assert "43 by 2 principals, 2 operations" in html
    assert '<span class="badge badge-bad">3</span>' in html
    assert "The key was used for an operation outside its purpose" in html


def test_a_key_in_a_store_without_logs_says_so(grc_client):
    key = KeyFactory()
    assert "No usage log of this key's store is ingested" in page(grc_client, key)
    other = KeyFactory(store=key.store)
    usage(other)
    assert "never seen in the ingested logs" in page(grc_client, key)


def test_an_owner_sees_the_panel_of_their_key(owner_client, owner):
    key = KeyFactory(owner=owner)
    usage(key, principal="arn:aws:iam::111122223333:role/app")
    assert "arn:aws:iam::111122223333:role/app" in page(owner_client, key)


def test_rows_are_bounded_and_queries_fixed(grc_client, django_assert_max_num_queries):
    store = KeyStoreFactory()
    key = KeyFactory(store=store)
    usage(key)
    usage_misuse_evaluate(source="test")
    url = reverse("inventory:key-detail", args=[key.pk])
    with django_assert_max_num_queries(100) as captured:
        grc_client.get(url)
    few = len(captured)
    for i in range(PANEL_ROWS + 10):
        usage(key, principal=f"{INTRUDER}-{i}", operation="Sign", count=10)
    usage_misuse_evaluate(source="test")
    with django_assert_max_num_queries(few) as captured:
        html = grc_client.get(url).content.decode()
    assert html.count(f"{INTRUDER}-") == PANEL_ROWS
    assert f"The {PANEL_ROWS} busiest principal and operation pairs are shown." in html


def test_a_usage_finding_reads_on_its_page(grc_client, owner_client, owner):
    from evidence.models import Finding

    key = KeyFactory(name="orders-data", owner=owner)
    usage(key, operation="Sign", principal=INTRUDER, events=("ev-42",))
    usage(None, key_ref="arn:aws:kms:eu-west-1:111122223333:key/lost-1", store=key.store)
    usage_misuse_evaluate(source="test")
    mismatch = Finding.objects.get(rule="usage-purpose-mismatch")
    unknown = Finding.objects.get(rule="usage-unknown-key")
    html = grc_client.get(mismatch.get_absolute_url()).content.decode()
    assert "orders-data" in html and "ev-42" in html and "Sign" in html
    assert grc_client.get(unknown.get_absolute_url()).status_code == 200
    assert owner_client.get(mismatch.get_absolute_url()).status_code == 200
    assert owner_client.get(unknown.get_absolute_url()).status_code == 404  # not on a key of theirs
