"""Campaigns over many keys (issue 17): a launch and an owner's "confirm all" run a fixed number of statements
whatever the number of keys, send no per-key values to the database, and write the same rows as before; a launch
stopped between chunks goes on where it stopped."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cek.tablestats import statistics_refresh
from evidence.campaigns import services
from evidence.models import Attestation, AttestationStatus, Campaign, CampaignStatus
from tests.factories import KeyFactory, keys_bulk

pytestmark = pytest.mark.django_db

# Statements of one launch (draft to launched, one chunk, two owners mailed) and of one "confirm all" (one
# campaign), with room for the savepoints and the job's progress writes; the point is that they do not grow.
LAUNCH_QUERIES = 40
CONFIRM_ALL_QUERIES = 8
# The most parameters a statement of either may have: its own values (the campaign's history row has 36 columns),
# never one per key.
MAX_PARAMS = 40


def _draft(grc, **scope) -> Campaign:
    return services.campaign_create(actor=grc, name="Q1", due_on=timezone.localdate() + dt.timedelta(days=14), **scope)


@pytest.fixture
def params_log(monkeypatch):
    """Record the number of parameters of every statement run (Django's query log has the SQL only)."""
    sizes: list[int] = []

    def wrapper(execute, sql, params, many, context):
        sizes.append(0 if many or params is None else len(params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(wrapper):
        yield sizes


@pytest.mark.parametrize("count", [3, 300, 2500])
def test_a_launch_runs_a_fixed_number_of_statements_with_no_value_per_key(
    grc_user, owner, other_owner, settings, count, django_assert_max_num_queries, params_log
):
    settings.CEK_CAMPAIGN_INLINE_KEYS = 10_000
    keys_bulk(count=count, owners=[owner, other_owner])
    campaign = _draft(grc_user)
    params_log.clear()
    with django_assert_max_num_queries(LAUNCH_QUERIES):
        launched = services.campaign_launch(campaign=campaign, actor=grc_user)
    assert launched.status == CampaignStatus.LAUNCHED and launched.keys_done == count
    assert Attestation.objects.filter(campaign=campaign).count() == count
    assert max(params_log) <= MAX_PARAMS


@pytest.mark.parametrize("count", [3, 300, 2500])
def test_confirm_all_runs_a_fixed_number_of_statements_with_no_value_per_key(
    grc_user, owner, other_owner, settings, count, django_assert_max_num_queries, params_log
):
    settings.CEK_CAMPAIGN_INLINE_KEYS = 10_000
    keys_bulk(count=count, owners=[owner], backup_owners=[other_owner])
    campaign = services.campaign_launch(campaign=_draft(grc_user), actor=grc_user)
    params_log.clear()
    with django_assert_max_num_queries(CONFIRM_ALL_QUERIES):
        assert services.attestation_confirm_all(actor=owner) == count
    assert max(params_log) <= MAX_PARAMS
    assert not Attestation.objects.filter(campaign=campaign, status=AttestationStatus.PENDING).exists()


def test_confirm_all_runs_the_same_statements_for_3_and_300_keys(grc_user, owner, settings):
    settings.CEK_CAMPAIGN_INLINE_KEYS = 10_000
    counts = []
    for count in (3, 300):
        store = keys_bulk(count=count, owners=[owner])[0].store
        campaign = services.campaign_launch(campaign=_draft(grc_user, store=store), actor=grc_user)
        with CaptureQueriesContext(connection) as queries:
            assert services.attestation_confirm_all(actor=owner, campaign=campaign) == count
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_a_launch_runs_the_same_statements_for_3_and_2500_keys(grc_user, owner, settings):
    settings.CEK_CAMPAIGN_INLINE_KEYS = 10_000
    counts = []
    for count in (3, 2500):
        store = keys_bulk(count=count, owners=[owner])[0].store
        campaign = _draft(grc_user, store=store)
        with CaptureQueriesContext(connection) as queries:
            assert services.campaign_launch(campaign=campaign, actor=grc_user).keys_done == count
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_a_launch_writes_the_rows_a_saved_attestation_would_have(grc_user, owner, other_owner):
    owned = KeyFactory(owner=owner, backup_owner=other_owner)
    backed = KeyFactory(owner=None, backup_owner=other_owner)
    orphan = KeyFactory(owner=None, backup_owner=None)
    campaign = services.campaign_launch(campaign=_draft(grc_user), actor=grc_user)
    rows = {a.key_id: a for a in Attestation.objects.filter(campaign=campaign)}
    assert {pk: a.addressed_to_id for pk, a in rows.items()} == {
        owned.pk: owner.pk,
        backed.pk: other_owner.pk,
        orphan.pk: None,
    }
    fresh = Attestation(campaign=campaign, key=owned)
    columns = [
        f.attname for f in Attestation._meta.concrete_fields if f.attname not in ("id", "key_id", "addressed_to_id")
    ]
    for attestation in rows.values():
        assert {c: getattr(attestation, c) for c in columns} == {c: getattr(fresh, c) for c in columns}


def test_confirm_all_confirms_each_attestation_once_and_only_of_launched_campaigns(grc_user, owner, other_owner):
    # Addressed to the owner and on their key (counted once); addressed to someone else but backed up by them;
    # addressed to them by reassignment on someone else's key.
    mine = KeyFactory(owner=owner)
    backed_up = KeyFactory(owner=other_owner, backup_owner=owner)
    reassigned = KeyFactory(owner=other_owner)
    others = KeyFactory(owner=other_owner)
    closed = services.campaign_launch(campaign=_draft(grc_user), actor=grc_user)
    services.campaign_close(campaign=closed, actor=grc_user)
    campaign = services.campaign_launch(campaign=_draft(grc_user), actor=grc_user)
    services.attestation_reassign(
        attestation=Attestation.objects.get(campaign=campaign, key=reassigned), actor=grc_user, to=owner
    )
    assert services.attestation_confirm_all(actor=owner) == 3
    statuses = dict(Attestation.objects.filter(campaign=campaign).values_list("key_id", "status"))
    assert statuses == {
        mine.pk: AttestationStatus.CONFIRMED,
        backed_up.pk: AttestationStatus.CONFIRMED,
        reassigned.pk: AttestationStatus.CONFIRMED,
        others.pk: AttestationStatus.PENDING,
    }
    answers = set(
        Attestation.objects.filter(campaign=campaign, status=AttestationStatus.CONFIRMED).values_list(
            "responded_by", "responded_at", "statement_version", "statements_sha256"
        )
    )
    assert len(answers) == 1  # one answer, recorded alike on each
    who, _when, version, digest = answers.pop()
    assert (who, version, digest) == (owner.pk, campaign.statement_version, campaign.statements_sha256)
    assert not Attestation.objects.filter(campaign=closed).exclude(status=AttestationStatus.PENDING).exists()
    assert services.attestation_confirm_all(actor=owner) == 0


def test_a_launch_stopped_between_chunks_goes_on_where_it_stopped(grc_user, owner, settings, monkeypatch):
    settings.CEK_CAMPAIGN_INLINE_KEYS = 10
    monkeypatch.setattr(services, "LAUNCH_CHUNK", 100)
    keys_bulk(count=250, owners=[owner])
    campaign = services.campaign_launch(campaign=_draft(grc_user), actor=grc_user)
    assert campaign.status == CampaignStatus.LAUNCHING
    insert = services._attestations_insert
    calls = []

    def stops_at_the_second_chunk(**kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise ConnectionError("the database went away")
        return insert(**kwargs)

    monkeypatch.setattr(services, "_attestations_insert", stops_at_the_second_chunk)
    with pytest.raises(ConnectionError):
        services.campaign_launch_run(campaign_id=campaign.pk)
    stopped = Campaign.objects.get(pk=campaign.pk)
    assert stopped.status == CampaignStatus.LAUNCHING and stopped.keys_done == 100
    assert "went away" in stopped.last_error
    assert Attestation.objects.filter(campaign=campaign).count() == 100

    assert services.campaign_launch_run(campaign_id=campaign.pk) == 150
    done = Campaign.objects.get(pk=campaign.pk)
    assert done.status == CampaignStatus.LAUNCHED and done.keys_done == done.keys_total == 250
    assert Attestation.objects.filter(campaign=campaign).values("key").distinct().count() == 250


@pytest.mark.skipif(connection.vendor != "postgresql", reason="planner statistics are PostgreSQL's")
def test_statistics_are_refreshed_after_a_write_as_large_as_the_table(grc_user, owner):
    KeyFactory(owner=owner)
    services.campaign_launch(campaign=_draft(grc_user), actor=grc_user)
    assert not statistics_refresh(Attestation, written=1)  # under the minimum
    assert statistics_refresh(Attestation, written=1, minimum=1)
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [Attestation._meta.db_table])
        assert cursor.fetchone()[0] == 1  # the row this transaction wrote is counted
    assert not statistics_refresh(Attestation, written=0, minimum=0)  # fewer rows written than it counts


def test_the_demo_campaigns_send_no_value_per_key(settings, params_log):
    from evidence.demo import demo_campaigns_seed
    from inventory.demo import demo_seed

    settings.CEK_CAMPAIGN_INLINE_KEYS = 0  # the large-inventory path: every launch over the inline limit
    demo_seed(keys=300)
    params_log.clear()
    assert demo_campaigns_seed() == {"campaigns": 2}
    assert max(params_log) <= MAX_PARAMS
