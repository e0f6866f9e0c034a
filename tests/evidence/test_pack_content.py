"""evidence.packs.content.collect and evidence.packs.sample: what an evidence pack shows, read from the database."""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter

import pytest
from django.utils import timezone

from evidence.models import AnswerStatus, CaiqAnswer, Finding, FindingStatus, RunStatus
from evidence.packs.content import collect
from evidence.packs.sample import describe_method, draw_sample, seed_number
from inventory.models import Key, KeyState, SsrmAssignment
from tests.evidence.packs_data import make_pack, make_run
from tests.factories import (
    AccessGrantFactory,
    BindingFactory,
    FindingFactory,
    KeyFactory,
    KeyStoreFactory,
    PartyFactory,
    PurposeFactory,
    UserFactory,
    keys_bulk,
    purpose,
)

# --- Sample ------------------------------------------------------------------------------------------------


def test_the_sample_is_reproducible_from_the_seed():
    population = list(range(1, 1001))
    first = draw_sample(population, 25, "audit-2026")
    assert first == draw_sample(list(reversed(population)), 25, "audit-2026")
    assert len(first) == 25 and len(set(first)) == 25 and first == sorted(first)
    assert set(first) <= set(population)


def test_a_different_seed_draws_different_keys():
    population = list(range(1, 1001))
    assert draw_sample(population, 25, "audit-2026") != draw_sample(population, 25, "audit-2027")


def test_the_sample_follows_the_documented_method_an_auditor_can_rerun():
    population = [17, 3, 99, 42, 8, 1000, 256, 77]
    expected = sorted(random.Random(seed_number("s")).sample(sorted(population), 3))
    assert draw_sample(population, 3, "s") == expected
    method = describe_method("s", 3)
    assert "sha256" in method.lower() and "random.Random" in method and "'s'" in method


def test_a_sample_as_large_as_the_population_takes_every_key_and_an_empty_one_none():
    assert draw_sample([5, 3, 3, 1], 10, "x") == [1, 3, 5]
    assert draw_sample([], 5, "x") == []
    assert draw_sample([1, 2], 0, "x") == []


# --- Inventory summary ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_inventory_figures_match_the_database():
    store = KeyStoreFactory(name="aws-prod")
    KeyFactory.create_batch(3, store=store)
    KeyFactory.create_batch(2, store=store, state=KeyState.DEACTIVATED, purpose=purpose("key-wrapping"))
    KeyFactory(store=store, purpose=None, purpose_justification="", purpose_reviewed_on=None, state=KeyState.ACTIVE)
    content = collect(make_pack())

    inventory = content.inventory
    assert inventory.total == Key.objects.count() == 6
    assert inventory.in_use == 4
    assert inventory.unassigned == 1
    by_purpose = {b.label: b.count for b in inventory.by_purpose}
    expected = Counter(k.purpose.name if k.purpose else "Purpose unassigned" for k in Key.objects.all())
    assert by_purpose == dict(expected)
    assert {b.value: b.count for b in inventory.by_state} == dict(Counter(Key.objects.values_list("state", flat=True)))
    assert {b.label: b.count for b in inventory.by_store} == {"aws-prod": 6}
    assert sum(b.count for b in inventory.by_function) == 6
    assert sum(b.count for b in inventory.by_layer) == 6


@pytest.mark.django_db
def test_a_scoped_pack_counts_only_the_keys_of_its_stores():
    inside, outside = KeyStoreFactory(), KeyStoreFactory()
    KeyFactory.create_batch(2, store=inside)
    KeyFactory.create_batch(3, store=outside)
    pack = make_pack()
    pack.stores.set([inside])
    content = collect(pack)
    assert content.inventory.total == 2
    assert content.cover.scope == f"key stores {inside.name}"
    assert set(content.sample.ids) <= set(Key.objects.filter(store=inside).values_list("pk", flat=True))


@pytest.mark.django_db
def test_collect_runs_a_fixed_number_of_queries_whatever_the_population(django_assert_max_num_queries):
    owner = UserFactory()
    store = KeyStoreFactory()
    keys_bulk(count=10, owners=[owner], store=store)
    pack = make_pack(sample_size=5)
    make_run()
    with django_assert_max_num_queries(60) as small:
        collect(pack)
    keys_bulk(count=400, owners=[owner], store=KeyStoreFactory())
    with django_assert_max_num_queries(len(small.captured_queries)):
        content = collect(pack)
    assert content.inventory.total == 410


# --- Findings ------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_findings_open_at_any_point_in_the_window_are_listed_with_their_handling():
    now = timezone.now()
    grace = UserFactory(first_name="Grace", last_name="Okafor")
    open_one = FindingFactory(rule="multi-purpose-key", first_seen=now - dt.timedelta(days=10), assigned_to=grace)
    accepted = FindingFactory(
        rule="purpose-unassigned",
        status=FindingStatus.RISK_ACCEPTED,
        first_seen=now - dt.timedelta(days=200),
        accepted_until=timezone.localdate() + dt.timedelta(days=30),
        accepted_by=grace,
        accepted_reason="Migration planned.",
    )
    resolved_in_window = FindingFactory(
        status=FindingStatus.RESOLVED,
        first_seen=now - dt.timedelta(days=200),
        resolved_at=now - dt.timedelta(days=5),
        resolved_by=grace,
    )
    FindingFactory(  # resolved before the window began
        status=FindingStatus.RESOLVED,
        first_seen=now - dt.timedelta(days=300),
        resolved_at=now - dt.timedelta(days=150),
    )
    pack = make_pack(window_to=timezone.localdate() - dt.timedelta(days=1))
    FindingFactory(first_seen=now + dt.timedelta(days=1))  # first seen after the window

    content = collect(pack)
    rows = content.findings.table.rows
    assert [r["id"] for r in rows] == [accepted.pk, resolved_in_window.pk, open_one.pk]
    assert content.findings.table.total == 3
    by_id = {r["id"]: r for r in rows}
    assert by_id[accepted.pk]["accepted_reason"] == "Migration planned."
    assert by_id[accepted.pk]["accepted_by"] == "Grace Okafor"
    assert by_id[open_one.pk]["assigned_to"] == "Grace Okafor"
    assert {s["status"]: s["count"] for s in content.findings.by_status} == {
        "open": 1,
        "risk-accepted": 1,
        "resolved": 1,
    }


@pytest.mark.django_db
def test_a_findings_table_longer_than_the_limit_goes_to_the_data_file_only(settings):
    settings.CEK_PACK_PDF_MAX_ROWS = 2
    key = KeyFactory()
    for rule in ("a", "b", "c"):
        Finding.objects.create(
            rule=rule,
            subject_type="inventory.key",
            subject_id=key.pk,
            subject_label=key.name,
            first_seen=timezone.now() - dt.timedelta(days=1),
            last_seen=timezone.now(),
        )
    content = collect(make_pack())
    assert content.findings.table.in_data_file_only
    assert content.findings.table.total == 3
    assert content.findings.table.data_file == "findings.csv"
    assert content.max_rows == 2


# --- Guidelines and answer ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_guidelines_come_from_the_newest_run_finished_by_the_window_end():
    pack = make_pack(window_to=timezone.localdate() - dt.timedelta(days=10))
    old = make_run(finished_at=timezone.now() - dt.timedelta(days=30), statuses={"AG-3": "fail"})
    make_run(finished_at=timezone.now(), statuses={"AG-3": "pass"})  # after the window: not used
    failed = make_run(finished_at=timezone.now() - dt.timedelta(days=20))
    failed.status = RunStatus.FAILED
    failed.save()

    guidelines = collect(pack).guidelines
    assert guidelines.run_id == old.pk
    ag3 = next(row for row in guidelines.rows if row.id == "AG-3")
    assert ag3.status == "fail" and ag3.failing_count == 1 and ag3.failing[0]["label"] == "bad-key"
    assert [row.id for row in guidelines.rows][:3] == ["AG-1", "AG-2", "AG-3"]
    assert len(guidelines.rows) == 13


@pytest.mark.django_db
def test_without_a_run_by_the_window_end_the_guidelines_say_so():
    pack = make_pack(window_to=timezone.localdate() - dt.timedelta(days=10))
    make_run(finished_at=timezone.now())
    guidelines = collect(pack).guidelines
    assert guidelines.run_id is None
    assert all(row.status == "" and row.status_label == "Not evaluated" for row in guidelines.rows)


@pytest.mark.django_db
def test_the_published_answer_wins_over_a_newer_draft():
    pack = make_pack()
    user = pack.requested_by
    fields = dict(party=pack.party, catalog_version="AICM 1.1.0", generated_answer="YES", created_by=user)
    CaiqAnswer.objects.create(
        **fields,
        answer="YES",
        implementation="Published text.",
        status=AnswerStatus.PUBLISHED,
        published_at=timezone.now(),
        published_by=user,
        sha256="0" * 64,
    )
    CaiqAnswer.objects.create(**fields, answer="NO", implementation="Draft text.")
    answer = collect(pack).answer
    assert answer.is_draft is False and answer.implementation == "Published text."


@pytest.mark.django_db
def test_a_draft_answer_is_marked_as_draft():
    pack = make_pack()
    CaiqAnswer.objects.create(
        party=pack.party,
        catalog_version="AICM 1.1.0",
        generated_answer="YES",
        answer="YES",
        implementation="Draft text.",
        created_by=pack.requested_by,
    )
    answer = collect(pack).answer
    assert answer.is_draft is True


# --- Control, purpose changes, sample records ----------------------------------------------------------------------


@pytest.mark.django_db
def test_the_control_lists_who_holds_which_role_per_layer():
    pack = make_pack()
    csp = PartyFactory(name="Nimbus Cloud", roles=["CSP"])
    SsrmAssignment.objects.create(layer="pi", party=csp, role="CSP", responsibility="Runs the KMS.")
    SsrmAssignment.objects.create(layer="application", party=pack.party, role="AP")
    control = collect(pack).control
    layers = {row.layer: row for row in control.ssrm}
    assert [h["party"] for h in layers["pi"].holders] == ["Nimbus Cloud"]
    assert layers["application"].holders[0]["is_us"] is True
    assert layers["model"].holders == []
    assert layers["pi"].ownership == "Shared CSP-MP"
    assert "unique purpose" in control.specification


@pytest.mark.django_db
def test_purpose_changes_in_the_window_come_from_the_key_history():
    key = KeyFactory(name="orders-key")
    key.description = "Only the description changes."
    key.save()
    key.purpose = purpose("key-wrapping")
    key._change_reason = "Re-mapped after review"
    key.save()
    other = KeyFactory(name="old-change")
    other.purpose = purpose("key-wrapping")
    other.save()
    Key.history.filter(id=other.pk, history_type="~").update(history_date=timezone.now() - dt.timedelta(days=200))

    changes = collect(make_pack()).purpose_changes
    assert changes.total == 1
    (row,) = changes.rows
    assert row["key"] == "orders-key"
    assert row["from"] == "Data encryption" or row["from"] == purpose("data-encryption").name
    assert row["to"] == purpose("key-wrapping").name
    assert row["reason"] == "Re-mapped after review"


@pytest.mark.django_db
def test_a_purpose_deleted_since_is_named_not_reported_as_unassigned():
    retired = PurposeFactory(name="Legacy token signing")
    key = KeyFactory(name="moved-key", purpose=retired)
    key.purpose = purpose("key-wrapping")
    key.save()
    retired.delete()
    (row,) = collect(make_pack()).purpose_changes.rows
    assert (row["from"], row["to"]) == ("Legacy token signing (deleted)", purpose("key-wrapping").name)


@pytest.mark.django_db
def test_sampled_keys_carry_their_full_record():
    owner = UserFactory(first_name="Olivia", last_name="Nguyen")
    key = KeyFactory(name="sampled", owner=owner)
    BindingFactory(key=key, principal="role/app")
    AccessGrantFactory(key=key, principal="role/reader", approver=owner)
    pack = make_pack(sample_size=5)
    sample = collect(pack).sample
    assert sample.ids == draw_sample([key.pk], 5, pack.sample_seed) == [key.pk]
    (record,) = sample.keys
    assert record.name == "sampled" and record.owner == "Olivia Nguyen"
    assert record.bindings[0]["principal"] == "role/app"
    assert record.grants[0]["principal"] == "role/reader" and record.grants[0]["approver"] == "Olivia Nguyen"
    assert sample.seed == pack.sample_seed and "random.Random" in sample.method


@pytest.mark.django_db
def test_the_sample_of_a_pack_is_drawn_from_its_population_with_its_seed():
    keys_bulk(count=60, owners=[UserFactory()])
    population = list(Key.objects.values_list("pk", flat=True))
    first = collect(make_pack(sample_size=7, seed="alpha")).sample
    assert first.ids == draw_sample(population, 7, "alpha")
    assert first.population == 60
    assert collect(make_pack(sample_size=7, seed="alpha")).sample.ids == first.ids
    assert collect(make_pack(sample_size=7, seed="beta")).sample.ids != first.ids


@pytest.mark.django_db
def test_progress_is_reported_up_to_100():
    seen = []
    collect(make_pack(), progress=lambda percent, phase: seen.append((percent, phase)))
    assert seen[0][0] == 0 and seen[-1][0] == 100
    assert [p for p, _ in seen] == sorted(p for p, _ in seen)


@pytest.mark.django_db
def test_campaigns_in_the_window_with_their_results():
    from evidence.models import Attestation, Campaign, CampaignStatus, statements_digest

    user = UserFactory()
    key_a, key_b = KeyFactory(), KeyFactory()
    campaign = Campaign.objects.create(
        name="Q4 attestation",
        statements=["s"],
        statements_sha256=statements_digest(["s"]),
        due_on=timezone.localdate(),
        status=CampaignStatus.LAUNCHED,
        created_by=user,
        launched_at=timezone.now() - dt.timedelta(days=3),
    )
    Attestation.objects.create(campaign=campaign, key=key_a)
    Attestation.objects.create(
        campaign=campaign,
        key=key_b,
        status="confirmed",
        responded_by=user,
        responded_at=timezone.now(),
        statements_sha256="x",
    )
    Campaign.objects.create(  # never launched
        name="Draft", statements=["s"], statements_sha256="x", due_on=timezone.localdate(), created_by=user
    )
    (row,) = collect(make_pack()).campaigns
    assert (row.name, row.total, row.confirmed, row.pending, row.percent) == ("Q4 attestation", 2, 1, 1, 50)


@pytest.mark.django_db
def test_purpose_changes_over_the_limit_are_kept_for_pack_json_but_not_printed(settings):
    settings.CEK_PACK_PDF_MAX_ROWS = 1
    for name in ("one", "two"):
        key = KeyFactory(name=name)
        key.purpose = purpose("key-wrapping")
        key.save()
    changes = collect(make_pack()).purpose_changes
    assert changes.total == 2 and len(changes.rows) == 2
    assert changes.in_data_file_only
    assert changes.data_file == "pack.json (content.purpose_changes)"


@pytest.mark.django_db
def test_a_scoped_pack_lists_findings_about_its_keys_and_findings_about_anything_else():
    inside, outside = KeyStoreFactory(), KeyStoreFactory()
    key_in, key_out = KeyFactory(store=inside), KeyFactory(store=outside)
    mine = FindingFactory(subject_id=key_in.pk, subject_label=key_in.name)
    FindingFactory(subject_id=key_out.pk, subject_label=key_out.name)
    policy_finding = FindingFactory(rule="policy-review-overdue", subject_type="evidence.policy", subject_id=1)
    pack = make_pack()
    pack.stores.set([inside])
    rows = collect(pack).findings.table.rows
    assert {r["id"] for r in rows} == {mine.pk, policy_finding.pk}
