"""The inbox shows, for each pending attestation, the facts it asks about (purpose and its operations, bindings,
grants with expiry, rotation, open findings) and warnings for what the checks found; a fixed number of queries
whatever the number of attestations."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from evidence.campaigns import services
from evidence.findings.services import finding_upsert
from tests.factories import AccessGrantFactory, BindingFactory, KeyFactory, ServiceFactory, TenantFactory

pytestmark = pytest.mark.django_db


def _words(day: dt.date) -> str:
    """A date as pages print it for people: 6 Dec 2026."""
    return f"{day.day} {day:%b %Y}"


def _day(day: dt.date) -> str:
    """The element pages print a date in: words, ISO in ``datetime``."""
    return f'<time datetime="{day.isoformat()}">{_words(day)}</time>'


def _launch(grc_user, name="Q1"):
    campaign = services.campaign_create(actor=grc_user, name=name, due_on=timezone.localdate() + dt.timedelta(days=7))
    services.campaign_launch(campaign=campaign, actor=grc_user)
    return campaign


def _row(page: str, key_name: str) -> str:
    match = re.search(rf'<tr data-key="{re.escape(key_name)}".*?</tr>', page, re.S)
    assert match, key_name
    return match.group(0)


def test_each_pending_key_shows_its_facts_and_warnings(grc_user, owner, owner_client):
    today = timezone.localdate()
    risky = KeyFactory(
        owner=owner, name="risky-key", rotation_period_days=30, last_rotated_on=today - dt.timedelta(days=100)
    )
    BindingFactory(key=risky, service=ServiceFactory(name="Billing"), tenant=TenantFactory(name="Acme"))
    AccessGrantFactory(key=risky, principal="role/old-batch", expires_on=today - dt.timedelta(days=3))
    AccessGrantFactory(key=risky, principal="role/app", expires_on=today + dt.timedelta(days=30))
    finding_upsert(rule="multi-purpose", subject=risky, severity="high", details={}, seen_at=timezone.now())
    clean = KeyFactory(owner=owner, name="clean-key", rotation_period_days=365, last_rotated_on=today)
    _launch(grc_user)

    page = owner_client.get(reverse("evidence:attestation-inbox")).content.decode()
    row = _row(page, "risky-key")
    assert "<details" in row and risky.get_absolute_url() in row
    assert "encrypt, decrypt" in row  # the purpose's allowed operations
    assert "Billing (tenant Acme)" in row
    assert "role/old-batch" in row and f"until {_day(today - dt.timedelta(days=3))}" in row
    assert f"until {_day(today + dt.timedelta(days=30))}" in row
    assert "every 30 days" in row and "(overdue)" in row
    assert "Open findings</dt><dd>1: " in row and "multi-purpose" in row
    warnings = re.search(r'<ul class="inbox-warnings.*?</ul>', row, re.S).group(0)
    assert f"Grant to role/old-batch expired on {_words(today - dt.timedelta(days=3))}" in warnings
    assert "role/app" not in warnings
    assert "Rotation overdue (every 30 days)" in warnings and "1 open finding" in warnings

    other = _row(page, "clean-key")
    assert "inbox-warnings" not in other and "every 365 days" in other and "(overdue)" not in other
    assert "Bindings</dt><dd>none recorded" in other and "Open findings</dt><dd>none" in other
    assert clean.get_absolute_url() in other


def test_a_passed_cryptoperiod_is_a_warning(grc_user, owner, owner_client):
    today = timezone.localdate()
    key = KeyFactory(owner=owner, name="old-key", cryptoperiod_ends_on=today - dt.timedelta(days=5))
    assert key.is_cryptoperiod_overdue
    _launch(grc_user)
    row = _row(owner_client.get(reverse("evidence:attestation-inbox")).content.decode(), "old-key")
    assert f"Cryptoperiod ended on {_words(key.cryptoperiod_ends_on)}" in row


def test_the_inbox_runs_a_fixed_number_of_queries(grc_user, owner, owner_client, django_assert_max_num_queries):
    today = timezone.localdate()

    def grow(n: int, tag: str) -> None:
        for i in range(n):
            key = KeyFactory(owner=owner, name=f"{tag}-{i}", rotation_period_days=10, last_rotated_on=today)
            BindingFactory(key=key)
            AccessGrantFactory(key=key, expires_on=today - dt.timedelta(days=1))
            AccessGrantFactory(key=key, principal=f"role/{tag}-{i}")
            finding_upsert(rule="multi-purpose", subject=key, severity="low", details={}, seen_at=timezone.now())
        _launch(grc_user, name=f"c-{tag}")

    url = reverse("evidence:attestation-inbox")
    grow(2, "small")
    with CaptureQueriesContext(connection) as small:
        owner_client.get(url)
    grow(20, "large")
    with django_assert_max_num_queries(len(small)):
        page = owner_client.get(url).content.decode()
    assert (
        page.count('<details class="inbox-facts"') == 24 and page.count("1 open finding") == 24
    )  # 2 + 22 keys in the second campaign
