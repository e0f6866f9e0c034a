"""The usage misuse rules: each fires on what the aggregates show, resolves when it no longer holds, leaves
platform-managed keys and platform services alone, announces a new finding once, and runs a fixed number of
queries whatever the number of aggregates."""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools

import pytest
import time_machine
from django.utils import timezone

from evidence.alerts.models import AlertDelivery
from evidence.alerts.services import rule_title
from evidence.checks.registry import OWNED_RULES
from evidence.models import Finding, FindingStatus
from evidence.usage.findings import usage_misuse_evaluate
from evidence.usage.misuse import RULES, operation_of
from evidence.usage.models import UnknownUsageKey, UsageAggregate
from evidence.usage.services import usage_ingest_path
from inventory.models import KeyState
from tests.evidence.usage_support import CLOUDTRAIL, inventory, records, write_lines
from tests.factories import AccessGrantFactory, BindingFactory, KeyFactory, KeyStoreFactory, TenantFactory, purpose

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)
APP = "arn:aws:iam::111122223333:role/app"
INTRUDER = "arn:aws:iam::111122223333:role/intruder"
_seq = itertools.count()


def usage(
    key=None,
    *,
    operation="Decrypt",
    principal=APP,
    principal_type="role",
    day=None,
    count=3,
    error="",
    context=None,
    key_ref="",
    store=None,
    events=("ev-1",),
) -> UsageAggregate:
    day = day or NOW.date()
    at = dt.datetime.combine(day, dt.time(10), tzinfo=dt.UTC)
    return UsageAggregate.objects.create(
        dimensions=hashlib.sha256(str(next(_seq)).encode()).hexdigest(),
        source="cloudtrail",
        key=key,
        store=store or (key.store if key else None),
        account="111122223333",
        region="eu-west-1",
        key_ref=key_ref or (key.external_id if key else "unknown"),
        principal=principal,
        principal_type=principal_type,
        operation=operation,
        error_code=error,
        day=day,
        count=count,
        first_seen=at,
        last_seen=at,
        sample_event_ids=list(events),
        context=context or {},
    )


def evaluate(**kwargs):
    with time_machine.travel(NOW, tick=False):
        return usage_misuse_evaluate(source="test", **kwargs)


def findings(rule: str) -> list[Finding]:
    return list(Finding.objects.filter(rule=rule).order_by("pk"))


@pytest.fixture(autouse=True)
def no_webhooks(settings):
    settings.CEK_ALERT_WEBHOOKS = []
    settings.CEK_ALERT_EMAIL_SEVERITIES = frozenset({"low", "medium", "high", "critical"})


def test_no_usage_rule_is_owned_by_a_check_and_each_has_a_sentence():
    assert not set(RULES) & set(OWNED_RULES)
    for rule, (sentence, _severity) in RULES.items():
        assert rule_title(rule) == sentence


@pytest.mark.parametrize(
    ("name", "operation"),
    [
        ("Decrypt", "decrypt"),
        ("GenerateDataKeyWithoutPlaintext", "generate-data-key"),
        ("ReEncrypt", "re-encrypt"),
        ("AsymmetricSign", "sign"),
        ("KeyWrap", "wrap"),
        ("transit/hmac", "generate-mac"),
        ("DeriveSharedSecret", "agree"),
        ("ListKeys", None),
    ],
)
def test_platform_operations_map_to_the_inventory_vocabulary(name, operation):
    assert operation_of(name) == operation


def test_a_data_encryption_key_used_to_sign_is_a_purpose_finding_that_resolves_when_the_purpose_allows_it():
    key = KeyFactory(name="orders-data")
    usage(key, operation="Decrypt")
    usage(key, operation="GenerateDataKey")
    usage(key, operation="Sign", count=4, error="InvalidKeyUsageException", events=("ev-sign",))

    evaluate()

    [finding] = findings("usage-purpose-mismatch")
    assert finding.subject_id == key.pk and finding.severity == "high"
    assert finding.details["key"] == "orders-data"
    assert finding.details["purpose"] == "Data encryption"
    assert [op["operation"] for op in finding.details["operations"]] == ["Sign"]
    assert finding.details["calls"] == 4 and finding.details["failed_calls"] == 4
    assert finding.details["sample_event_ids"] == ["ev-sign"]

    key.purpose = purpose("key-wrapping")  # still no signing
    key.save()
    evaluate()
    assert findings("usage-purpose-mismatch")[0].status == FindingStatus.OPEN

    key.purpose = purpose("entity-authentication")  # signs; Decrypt and GenerateDataKey now misuse it
    key.save()
    evaluate()
    finding.refresh_from_db()
    assert sorted(op["operation"] for op in finding.details["operations"]) == ["Decrypt", "GenerateDataKey"]


def test_a_finding_resolves_when_its_calls_leave_the_window_and_reopens_when_seen_again():
    key = KeyFactory()
    usage(key, operation="Sign", day=NOW.date() - dt.timedelta(days=10))
    evaluate()
    [finding] = findings("usage-purpose-mismatch")

    with time_machine.travel(NOW + dt.timedelta(days=90), tick=False):
        usage_misuse_evaluate(source="test")
    finding.refresh_from_db()
    assert finding.status == FindingStatus.RESOLVED and finding.resolved_by is None
    assert finding.history.first().history_change_reason == "Resolved automatically: no longer seen in usage logs"

    usage(key, operation="Sign", day=(NOW + dt.timedelta(days=90)).date())
    with time_machine.travel(NOW + dt.timedelta(days=90), tick=False):
        changes = usage_misuse_evaluate(source="test")
    finding.refresh_from_db()
    assert finding.status == FindingStatus.OPEN and changes.reopened == 1
    assert changes.alerted == []  # announced once in its life


def test_calls_after_a_key_was_destroyed_are_critical_and_before_it_count_for_nothing():
    with time_machine.travel(NOW - dt.timedelta(days=20), tick=False):
        key = KeyFactory(name="old-orders")
    usage(key, operation="Decrypt", day=NOW.date() - dt.timedelta(days=15))
    with time_machine.travel(NOW - dt.timedelta(days=5), tick=False):
        key.state = KeyState.DESTROYED
        key.save()
    evaluate()
    assert findings("usage-unusable-key") == []  # the calls were before it was destroyed

    usage(key, operation="Decrypt", day=NOW.date() - dt.timedelta(days=2), error="KMSInvalidStateException", count=7)
    evaluate()
    [finding] = findings("usage-unusable-key")
    assert finding.severity == "critical"
    assert finding.details["state"] == "Destroyed"
    assert finding.details["failed_calls"] == 7 and finding.details["days"] == 1
    assert finding.details["state_since"] == (NOW - dt.timedelta(days=5)).date().isoformat()


def test_a_deactivated_key_called_is_high():
    key = KeyFactory(state=KeyState.DEACTIVATED)
    usage(key)
    evaluate()
    assert findings("usage-unusable-key")[0].severity == "high"


def test_a_principal_without_grant_or_binding_is_found_only_on_keys_whose_grants_are_recorded():
    key = KeyFactory(name="ledger")
    ungranted_key = KeyFactory(name="no-grants")
    AccessGrantFactory(key=key, principal=APP)
    BindingFactory(key=key, principal="arn:aws:iam::111122223333:role/batch")
    usage(key, principal=APP.upper())  # the grant, compared without case
    usage(key, principal="arn:aws:iam::111122223333:role/batch")  # bound
    usage(key, principal=INTRUDER, count=2)
    usage(key, principal="kms.amazonaws.com", principal_type="service")  # the platform itself
    usage(ungranted_key, principal=INTRUDER)

    evaluate()

    [finding] = findings("usage-unknown-principal")
    assert finding.subject_id == key.pk
    assert [p["principal"] for p in finding.details["principals"]] == [INTRUDER]
    assert finding.details["calls"] == 2

    AccessGrantFactory(key=key, principal=INTRUDER)
    evaluate()
    finding.refresh_from_db()
    assert finding.status == FindingStatus.RESOLVED


def test_an_expired_grant_does_not_cover_later_calls():
    key = KeyFactory()
    AccessGrantFactory(key=key, principal=APP, expires_on=NOW.date() - dt.timedelta(days=3))
    usage(key, principal=APP, day=NOW.date() - dt.timedelta(days=5))
    evaluate()
    assert findings("usage-unknown-principal") == []
    usage(key, principal=APP, day=NOW.date())
    evaluate()
    assert len(findings("usage-unknown-principal")) == 1


def test_an_encryption_context_naming_another_tenant_is_found():
    acme, globex = TenantFactory(name="Acme", slug="acme"), TenantFactory(name="Globex", slug="globex")
    key = KeyFactory(name="acme-data", tenant=acme)
    usage(key, context={"tenant_id": ["acme"], "purpose": ["orders"]})
    evaluate()
    assert findings("usage-context-mismatch") == []

    usage(key, context={"tenant_id": ["globex", "(withheld: looks like a token)"]}, principal=INTRUDER)
    evaluate()
    [finding] = findings("usage-context-mismatch")
    assert finding.details["mismatches"] == ["tenant_id=globex"]
    assert finding.details["tenant"] == "Acme"
    assert globex.pk  # named by the context only


def test_a_key_the_inventory_lacks_is_a_medium_finding_on_its_reference_until_it_is_imported():
    store = KeyStoreFactory(name="kms-prod")
    ref = "arn:aws:kms:eu-west-1:111122223333:key/lost-1"
    usage(None, key_ref=ref, store=store, count=5)
    usage(None, key_ref="alias/aws/s3", store=store)  # AWS-managed
    usage(None, key_ref="arn:aws:kms:eu-west-1:111122223333:key/aws-1", store=store, principal_type="service")

    evaluate()

    [finding] = findings("usage-unknown-key")
    subject = UnknownUsageKey.objects.get()
    assert finding.subject_type == "evidence.unknownusagekey" and finding.subject_id == subject.pk
    assert finding.severity == "medium" and finding.details["store"] == "kms-prod" and finding.details["calls"] == 5
    evaluate()
    assert UnknownUsageKey.objects.count() == 1 and len(findings("usage-unknown-key")) == 1

    KeyFactory(store=store, external_id=ref)
    evaluate()
    finding.refresh_from_db()
    assert finding.status == FindingStatus.RESOLVED


def test_platform_managed_keys_are_never_usage_findings():
    key = KeyFactory(platform_managed=True, state=KeyState.DESTROYED)
    AccessGrantFactory(key=key, principal=APP)
    usage(key, operation="Sign", principal=INTRUDER, context={"tenant": ["other"]})
    evaluate()
    assert Finding.objects.filter(rule__startswith="usage-").count() == 0


def test_a_key_unused_for_the_dormant_days_in_an_ingested_store_is_low_and_resolves_when_used(settings):
    settings.CEK_USAGE_DORMANT_DAYS = 30
    settings.CEK_USAGE_FRESH_DAYS = 7
    with time_machine.travel(NOW - dt.timedelta(days=100), tick=False):
        store = KeyStoreFactory(name="kms-prod")
        unlogged = KeyStoreFactory(name="kms-other")
        busy = KeyFactory(name="busy", store=store, activated_on=None)
        idle = KeyFactory(name="idle", store=store, activated_on=None)
        KeyFactory(name="elsewhere", store=unlogged, activated_on=None)
        KeyFactory(name="aws-managed", store=store, platform_managed=True, activated_on=None)
    with time_machine.travel(NOW - dt.timedelta(days=5), tick=False):
        KeyFactory(name="new", store=store, activated_on=NOW.date() - dt.timedelta(days=5))
        KeyFactory(
            name="new-here-old-there", store=store, activated_on=None, created_on=NOW.date() - dt.timedelta(days=400)
        )
        KeyFactory(
            name="activated-lately",
            store=store,
            activated_on=NOW.date() - dt.timedelta(days=10),
            created_on=NOW.date() - dt.timedelta(days=400),
        )
    usage(busy, day=NOW.date() - dt.timedelta(days=60))  # the store's logs reach back past the period
    usage(idle, day=NOW.date() - dt.timedelta(days=45))
    usage(busy, day=NOW.date() - dt.timedelta(days=1))

    evaluate()

    assert sorted(f.subject_label for f in findings("usage-dormant-key")) == ["idle", "new-here-old-there"]
    [finding] = [f for f in findings("usage-dormant-key") if f.subject_label == "idle"]
    assert finding.severity == "low"
    assert finding.details["last_used"].startswith((NOW.date() - dt.timedelta(days=45)).isoformat())

    usage(idle, day=NOW.date())
    evaluate()
    finding.refresh_from_db()
    assert finding.status == FindingStatus.RESOLVED


def test_no_key_is_dormant_where_the_logs_are_stale(settings):
    settings.CEK_USAGE_DORMANT_DAYS = 30
    with time_machine.travel(NOW - dt.timedelta(days=100), tick=False):
        key = KeyFactory(activated_on=None)
    usage(key, day=NOW.date() - dt.timedelta(days=60))
    evaluate()
    assert findings("usage-dormant-key") == []


def test_a_new_finding_is_mailed_to_grc_and_the_key_owner_once(
    grc_user, owner, mailoutbox, django_capture_on_commit_callbacks
):
    key = KeyFactory(owner=owner)
    usage(key, operation="Sign")
    with django_capture_on_commit_callbacks(execute=True):
        changes = evaluate()
    assert len(changes.alerted) == 1
    deliveries = AlertDelivery.objects.all()
    assert {d.target for d in deliveries} == {grc_user.email.lower(), owner.email.lower()}
    with django_capture_on_commit_callbacks(execute=True):
        again = evaluate()
    assert again.alerted == [] and AlertDelivery.objects.count() == deliveries.count()


def test_the_evaluation_runs_a_fixed_number_of_queries(django_assert_max_num_queries, settings):
    settings.CEK_USAGE_DORMANT_DAYS = 30

    def build(n):
        for i in range(n):
            key = KeyFactory(tenant=TenantFactory())
            AccessGrantFactory(key=key, principal=APP)
            usage(key, operation="Sign", principal=f"{INTRUDER}-{i}", context={"tenant": ["nobody"]})
            usage(None, key_ref=f"lost-{i}-{next(_seq)}", store=key.store)

    build(2)
    evaluate()  # first sighting
    build(10)
    with django_assert_max_num_queries(60) as captured:
        evaluate()
    small = len(captured)
    build(20)
    with django_assert_max_num_queries(small) as captured:
        evaluate()
    assert Finding.objects.filter(rule="usage-purpose-mismatch").count() == 32


def test_an_ingestion_evaluates_the_rules_when_it_succeeds(grc_user, settings, tmp_path):
    settings.CEK_ALERT_WEBHOOKS = [("https://siem.example.com/hooks/cek", frozenset({"high", "critical"}))]
    keys = inventory()
    AccessGrantFactory(key=keys["key"], principal="arn:aws:iam::111122223333:role/nobody")
    ingestion = usage_ingest_path(source="cloudtrail", path=str(CLOUDTRAIL), user=grc_user)
    assert ingestion.status == "succeeded"
    rules = set(Finding.objects.filter(rule__startswith="usage-").values_list("rule", flat=True))
    assert "usage-unknown-principal" in rules  # Alice and the role have no grant on orders-data
    assert "usage-unknown-key" in rules  # the fixture's unknown key
    assert not Finding.objects.filter(subject_type="inventory.key", subject_id=keys["trail_key"].pk).exists()
    hooks = AlertDelivery.objects.filter(channel="webhook")
    assert hooks.count() == Finding.objects.filter(rule__startswith="usage-", severity__in=["high", "critical"]).count()
    assert {hook.payload["source"] for hook in hooks} == {f"usage ingestion #{ingestion.pk} (cloudtrail-kms.json)"}
    again = usage_ingest_path(
        source="cloudtrail", path=str(write_lines(tmp_path / "again.jsonl", records())), user=grc_user
    )
    assert again.status == "succeeded" and AlertDelivery.objects.filter(channel="webhook").count() == hooks.count()


def test_the_daily_task_is_scheduled_and_evaluates(settings):
    from evidence.usage.tasks import usage_misuse_evaluate as task

    entry = settings.CELERY_BEAT_SCHEDULE["evidence-usage-misuse-daily"]
    assert entry["task"] == task.name == "evidence.tasks.usage_misuse_evaluate"
    key = KeyFactory()
    usage(key, operation="Sign", day=timezone.localdate())
    assert task()["opened"] == 1


def test_a_finding_seen_again_moves_its_last_sighting_without_a_history_row():
    key = KeyFactory()
    usage(key, operation="Sign", day=NOW.date() - dt.timedelta(days=1))
    evaluate()
    [finding] = findings("usage-purpose-mismatch")
    rows = finding.history.count()
    with time_machine.travel(NOW + dt.timedelta(hours=5), tick=False):
        changes = usage_misuse_evaluate(source="test")
    finding.refresh_from_db()
    assert finding.last_seen == NOW + dt.timedelta(hours=5)
    assert finding.history.count() == rows and changes.seen == 1
    usage(key, operation="Sign", day=NOW.date(), count=9)  # new figures: the details follow, still no history row
    evaluate()
    finding.refresh_from_db()
    assert finding.details["calls"] == 12 and finding.history.count() == rows
