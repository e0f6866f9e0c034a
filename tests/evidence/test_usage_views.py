"""Key usage where people see it outside the usage pages (issue 13): the dashboard's "Key usage (AG-9)" card and each
pending attestation's recent principals in the attestation inbox. (The evidence pack: ``test_usage_pack.py``.)"""

from __future__ import annotations

import datetime as dt
import re
from html import unescape

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from evidence.campaigns import services as campaigns
from evidence.dashboard.selectors import dashboard
from evidence.findings.models import Finding
from evidence.usage.figures import usage_figures
from evidence.usage.misuse import MISUSE_RULES
from tests.evidence.usage_figures_support import aggregate
from tests.factories import KeyFactory, KeyStoreFactory

pytestmark = pytest.mark.django_db


def words(html: bytes) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html.decode())).split())


# --- The dashboard -------------------------------------------------------------------------------------------


@pytest.fixture
def usage_world():
    fresh, stale, silent = KeyStoreFactory(name="kms-fresh"), KeyStoreFactory(name="kms-stale"), KeyStoreFactory()
    used = KeyFactory(name="used", store=fresh, state="active")
    suspended = KeyFactory(name="used-suspended", store=stale, state="suspended")
    KeyFactory(name="unused", store=fresh, state="active")
    KeyFactory(name="silent", store=silent, state="active")
    destroyed = KeyFactory(name="gone", store=fresh, state="destroyed")
    aggregate(key=used, count=50, days_ago=1)
    aggregate(key=used, operation="Sign", error_code="AccessDeniedException", count=4, days_ago=3)
    aggregate(key=used, error_code="DisabledException", count=100, days_ago=8)  # failed, but not in the last 7 days
    aggregate(key=suspended, count=2, days_ago=30)  # its store's newest usage: 30 days old, stale
    aggregate(key=destroyed, error_code="KMSInvalidStateException", count=6, days_ago=2)  # not a key in use
    aggregate(store=fresh, key_ref="alias/ghost", count=9, days_ago=2)
    aggregate(store=fresh, key_ref="alias/ghost", principal="other", count=1, days_ago=2)
    aggregate(store=fresh, key_ref="alias/phantom", count=1, days_ago=120)  # past 90 days
    aggregate(store=stale, key_ref="alias/ghost", count=1, days_ago=40)  # the same reference in another store
    aggregate(key=used, count=1, days_ago=100)


def test_the_dashboard_shows_the_usage_figures(usage_world, grc_client, grc_user):
    board = dashboard(user=grc_user, today=timezone.localdate())
    usage = board.usage
    assert (usage.stores_with_usage, usage.fresh_stores, usage.fresh_days) == (2, 1, 7)
    assert (usage.keys_used, board.keys.in_use) == (2, 4)  # used, used-suspended of the four keys in use
    assert (usage.unknown_refs, usage.failed_calls) == (2, 10)
    text = words(grc_client.get(reverse("home")).content)
    assert "Key usage (AG-9)" in text
    assert "1 of 2 stores with usage ingested within 7 days" in text
    assert "2 of 4 keys in use with recorded use (90 days)" in text
    assert "2 unknown key references (90 days)" in text and "10 failed calls (7 days)" in text
    assert "0 open misuse findings" in text
    html = grc_client.get(reverse("home")).content.decode()
    assert f'href="{reverse("evidence:usage-ingestion-list")}">Usage logs' in html


def test_the_dashboard_counts_open_misuse_findings_as_ag9_does(usage_world, grc_user):
    from evidence.usage.findings import usage_misuse_evaluate

    usage_misuse_evaluate(source="test")  # "used" (a data-encryption key) was asked to Sign: a purpose mismatch
    opened = Finding.objects.filter(rule__in=MISUSE_RULES, status="open")
    assert opened.exists()
    assert usage_figures(today=timezone.localdate()).misuse_open == opened.count()
    opened.update(status="resolved")
    assert usage_figures(today=timezone.localdate()).misuse_open == 0


def test_the_fresh_window_is_the_setting(usage_world, settings, grc_user):
    settings.CEK_USAGE_FRESH_DAYS = 30
    assert usage_figures(today=timezone.localdate()).fresh_stores == 2


def test_the_dashboard_without_usage_says_how_to_ingest(grc_client, auditor_client):
    KeyFactory(state="active")
    text = words(grc_client.get(reverse("home")).content)
    assert "No usage log ingested yet." in text
    assert "manage.py ingest_usage" in text and "POST /api/v1/usage-ingestions/" in text
    html = grc_client.get(reverse("home")).content.decode()
    assert f'<a href="{reverse("evidence:usage-ingestion-list")}">usage logs page</a>' in html
    # Auditors see the card; the upload page is GRC's, so it is named without a link.
    html = auditor_client.get(reverse("home")).content.decode()
    assert "No usage log ingested yet." in html and reverse("evidence:usage-ingestion-list") not in html


def test_a_key_owner_sees_no_usage_card(usage_world, owner_client, owner):
    assert dashboard(user=owner, today=timezone.localdate()).usage is None
    assert "Key usage (AG-9)" not in owner_client.get(reverse("home")).content.decode()


def test_the_usage_figures_take_three_queries_whatever_the_aggregates(usage_world, django_assert_num_queries):
    today = timezone.localdate()
    with django_assert_num_queries(3):
        usage_figures(today=today)
    for n in range(6):
        store = KeyStoreFactory()
        aggregate(key=KeyFactory(store=store, state="active"), count=n + 1, error_code="X" if n % 2 else "")
        aggregate(store=store, key_ref=f"alias/unknown-{n}")
    with django_assert_num_queries(3):
        figures = usage_figures(today=today)
    assert (figures.stores_with_usage, figures.keys_used, figures.unknown_refs) == (8, 8, 8)


# --- The attestation inbox -----------------------------------------------------------------------------------

ROLE = "arn:aws:iam::111122223333:role/orders-api"


def launch(grc_user):
    campaign = campaigns.campaign_create(actor=grc_user, name="Q4", due_on=timezone.localdate())
    return campaigns.campaign_launch(campaign=campaign, actor=grc_user)


def inbox_rows(client) -> dict[str, str]:
    html = client.get(reverse("evidence:attestation-inbox")).content.decode()
    rows = re.findall(r'<tr data-key="([^"]+)"[^>]*>(.*?)</tr>', html, re.S)
    return {name: " ".join(unescape(re.sub(r"<[^>]+>", " ", row)).split()) for name, row in rows}


def test_each_pending_key_shows_its_recent_principals(grc_user, owner, owner_client):
    logged, quiet = KeyStoreFactory(name="kms-logged"), KeyStoreFactory(name="kms-quiet")
    busy = KeyFactory(name="busy-dek", owner=owner, store=logged)
    idle = KeyFactory(name="idle-dek", owner=owner, store=logged)
    unlogged = KeyFactory(name="unlogged-dek", owner=owner, store=quiet)
    for n, principal in enumerate([ROLE, "svc-b", "svc-c", "svc-d", "svc-e"]):
        aggregate(key=busy, principal=principal, count=100 - n, days_ago=n + 1)
    aggregate(key=busy, principal="svc-e", operation="Encrypt", count=50, days_ago=2)  # svc-e: 146 calls in all
    aggregate(key=busy, principal="svc-old", count=1000, days_ago=120)  # past 90 days
    aggregate(key=idle, principal=ROLE, count=5, days_ago=100)  # used, but not in the last 90 days
    launch(grc_user)
    rows = inbox_rows(owner_client)
    yesterday = timezone.now().date() - dt.timedelta(days=1)
    last = f"{yesterday.day} {yesterday:%b %Y}"  # in words, as the page says it
    assert rows["busy-dek"].startswith(
        f"busy-dek Used in 90 days by svc-e (146 calls), {ROLE} (100 calls), svc-b (99 calls) and 2 more; "
        f"last used {last}"
    ), rows["busy-dek"]
    assert "svc-old" not in rows["busy-dek"]
    assert "No recorded use in 90 days" in rows["idle-dek"]
    assert "Used in" not in rows["unlogged-dek"] and "No recorded use" not in rows["unlogged-dek"]
    assert unlogged.store == quiet


def test_without_any_usage_the_inbox_is_as_before(grc_user, owner, owner_client):
    KeyFactory(name="plain-dek", owner=owner)
    launch(grc_user)
    row = inbox_rows(owner_client)["plain-dek"]
    assert row.startswith("plain-dek") and "Used in" not in row and "No recorded use" not in row


def test_the_inbox_takes_one_query_more_whatever_the_keys_and_principals(grc_user, owner, owner_client):
    store = KeyStoreFactory()
    first = KeyFactory(name="k-first", owner=owner, store=store)
    launch(grc_user)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert owner_client.get(reverse("evidence:attestation-inbox")).status_code == 200
        return len(queries)

    without_usage = count()
    aggregate(key=first, principal=ROLE)
    with_usage = count()
    assert with_usage == without_usage + 1
    for n in range(12):
        key = KeyFactory(name=f"k-{n:02d}", owner=owner, store=store)
        for p in range(n % 5 + 1):
            aggregate(key=key, principal=f"svc-{p}", count=p + 1, days_ago=p + 1)
    launch(grc_user)
    assert count() == with_usage
    rows = inbox_rows(owner_client)
    assert len(rows) == 13  # k-first is in both campaigns
    assert "svc-4 (5 calls), svc-3 (4 calls), svc-2 (3 calls) and 2 more" in rows["k-04"]
