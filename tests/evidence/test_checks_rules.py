"""Each check on crafted data: pass, fail, partial and the edge cases (no keys, destroyed, platform-managed)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from evidence.checks.base import CheckContext, status_for
from evidence.checks.registry import BY_GUIDELINE, CHECKS
from evidence.models import (
    Attestation,
    AttestationStatus,
    Campaign,
    CampaignStatus,
    CheckStatus,
    ManualEvidence,
    PolicyApproval,
    VersionStatus,
)
from inventory.models import KeyState, LifecyclePhase
from tests.factories import (
    AccessGrantFactory,
    BindingFactory,
    KeyFactory,
    KeyStoreFactory,
    PartyFactory,
    PolicyFactory,
    PolicyVersionFactory,
    ServiceFactory,
    TenantFactory,
    UserFactory,
    purpose,
)

pytestmark = pytest.mark.django_db

TODAY = dt.date.today()


def evaluate(guideline_id: str):
    return BY_GUIDELINE[guideline_id].evaluate(CheckContext())


def good_key(**fields):
    """A key that passes every key check: owned, justified, reviewed, tagged, current store."""
    store = fields.pop("store", None) or KeyStoreFactory(last_full_import_at=timezone.now())
    fields.setdefault("owner", UserFactory())
    fields.setdefault("labels", {"purpose": "data-encryption"})
    fields.setdefault("platform_usage", "ENCRYPT_DECRYPT")
    return KeyFactory(store=store, **fields)


def failing_ids(outcome) -> set[int]:
    return {subject.id for subject in outcome.failing}


def test_status_rule():
    assert status_for(0, 0) == CheckStatus.NOT_APPLICABLE
    assert status_for(10, 10) == CheckStatus.PASS
    assert status_for(10, 10, unverified=True) == CheckStatus.PARTIAL
    assert status_for(95, 100) == CheckStatus.PARTIAL
    assert status_for(94, 100) == CheckStatus.FAIL


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.guideline_id)
def test_no_keys_at_all(check):
    outcome = check.evaluate(CheckContext())
    if check.accepts_manual_evidence:  # AG-9, and AG-8 without any recorded IaC scan
        assert outcome.status == CheckStatus.MANUAL
    elif check.guideline_id == "CCM-1":
        assert outcome.status == CheckStatus.FAIL  # no policy: a failing guideline even without keys
    else:
        assert outcome.status == CheckStatus.NOT_APPLICABLE
        assert outcome.explanation


def test_ag1_pass_fail_and_partial():
    keys = [good_key() for _ in range(3)]
    assert evaluate("AG-1").status == CheckStatus.PASS
    wrong_usage = good_key(platform_usage="SIGN_VERIFY")
    unassigned = good_key(purpose=None, purpose_justification="", purpose_reviewed_on=None)
    outcome = evaluate("AG-1")
    assert outcome.status == CheckStatus.FAIL
    assert failing_ids(outcome) == {wrong_usage.pk, unassigned.pk}
    assert outcome.metric == "3 of 5 keys in use"
    assert "digital signature" in next(s.reason for s in outcome.failing if s.id == wrong_usage.pk)
    for _ in range(40):
        keys.append(good_key())
    assert evaluate("AG-1").status == CheckStatus.PARTIAL  # 43 of 45 pass: 95.6 %
    KeyFactory._meta.model.objects.filter(pk__in=[unassigned.pk, wrong_usage.pk]).update(state=KeyState.DESTROYED)
    outcome = evaluate("AG-1")
    assert outcome.status == CheckStatus.PASS  # destroyed keys never fail
    assert "2 destroyed" in outcome.explanation


def test_ag1_destroyed_and_platform_managed_keys():
    good_key(state=KeyState.DESTROYED, platform_usage="SIGN_VERIFY")
    managed = good_key(platform_managed=True, owner=None, labels={}, purpose_justification="", purpose_reviewed_on=None)
    outcome = evaluate("AG-1")
    assert outcome.status == CheckStatus.PASS
    assert outcome.denominator == 1
    # platform-managed: counted, exempt from owner (CCM-2), justification (AG-2) and tags (AG-7)
    for guideline in ("AG-2", "AG-7", "CCM-2"):
        result = evaluate(guideline)
        assert managed.pk not in failing_ids(result), guideline


def test_ag2_justification_and_review(settings):
    settings.CEK_PURPOSE_REVIEW_DAYS = 365
    good_key()
    stale = good_key(purpose_reviewed_on=TODAY - dt.timedelta(days=400))
    unjustified = good_key(purpose_justification="")
    outcome = evaluate("AG-2")
    assert outcome.status == CheckStatus.FAIL
    assert failing_ids(outcome) == {stale.pk, unjustified.pk}
    # Plain words: the figure and dates as a person reads them, no setting name, no ISO date.
    oldest = TODAY - dt.timedelta(days=365)
    assert f"within the last 365 days (reviewed on or after {oldest.day} {oldest:%b %Y})" in outcome.explanation
    assert "CEK_" not in outcome.explanation
    reviewed = TODAY - dt.timedelta(days=400)
    assert next(s.reason for s in outcome.failing if s.id == stale.pk) == (
        f"The purpose mapping was last reviewed on {reviewed.day} {reviewed:%b %Y}."
    )
    settings.CEK_PURPOSE_REVIEW_DAYS = 500
    assert failing_ids(evaluate("AG-2")) == {unjustified.pk}


def test_ag3_bindings_and_labels():
    ok = good_key()
    BindingFactory(key=ok)
    rebound = good_key()
    BindingFactory(key=rebound, purpose=purpose("tls-server"))
    mislabelled = good_key(labels={"purpose": "tls-server"})
    outcome = evaluate("AG-3")
    assert failing_ids(outcome) == {rebound.pk, mislabelled.pk}
    assert "tls-server" in next(s.reason for s in outcome.failing if s.id == rebound.pk)


def test_ag4_operations_restricted():
    key = good_key()
    ok = BindingFactory(key=key, operations=["encrypt"])
    wide = BindingFactory(key=key, operations=["encrypt", "sign"])
    grant_ok = AccessGrantFactory(key=key, operations=["decrypt"])
    grant_wide = AccessGrantFactory(key=key, operations=["decrypt", "verify"])
    outcome = evaluate("AG-4")
    assert {(s.type, s.id) for s in outcome.failing} == {
        ("inventory.binding", wide.pk),
        ("inventory.accessgrant", grant_wide.pk),
    }
    assert outcome.denominator == 4
    assert ok.pk and grant_ok.pk


def test_ag5_grants():
    approver = UserFactory()
    key = good_key()
    fine = AccessGrantFactory(key=key, approver=approver, approved_on=TODAY)
    wildcard = AccessGrantFactory(key=key, approver=approver, approved_on=TODAY, principal="arn:aws:iam::1:role/*")
    unapproved = AccessGrantFactory(key=key)
    expired = AccessGrantFactory(key=key, approver=approver, approved_on=TODAY, expires_on=TODAY - dt.timedelta(days=1))
    outcome = evaluate("AG-5")
    assert failing_ids(outcome) == {wildcard.pk, unapproved.pk, expired.pk}
    assert fine.pk not in failing_ids(outcome)
    assert outcome.status == CheckStatus.FAIL


def test_ag6_ai_keys_not_shared():
    ai_service = ServiceFactory(lifecycle_phase=LifecyclePhase.DEPLOYMENT)
    other = ServiceFactory()
    solo = good_key()
    BindingFactory(key=solo, service=ai_service)
    shared = good_key()
    BindingFactory(key=shared, service=ai_service)
    BindingFactory(key=shared, service=other)
    tenants = good_key(tenant=TenantFactory())
    BindingFactory(key=tenants, service=ai_service, tenant=TenantFactory())
    good_key()  # not AI: not counted
    outcome = evaluate("AG-6")
    assert failing_ids(outcome) == {shared.pk, tenants.pk}
    assert outcome.denominator == 3


def test_ag6_not_applicable_without_ai_keys():
    good_key()
    outcome = evaluate("AG-6")
    assert outcome.status == CheckStatus.NOT_APPLICABLE
    assert "AI" in outcome.explanation


def test_ag7_purpose_tag_and_untaggable_stores():
    good_key()
    untagged = good_key(labels={})
    wrong = good_key(labels={"purpose": "signing"})
    outcome = evaluate("AG-7")
    assert failing_ids(outcome) == {untagged.pk, wrong.pk}
    KeyFactory._meta.model.objects.filter(pk__in=[untagged.pk, wrong.pk]).update(state=KeyState.DEACTIVATED)
    assert evaluate("AG-7").status == CheckStatus.PASS
    good_key(store=KeyStoreFactory(purpose_tag_key=""), labels={})
    outcome = evaluate("AG-7")
    assert outcome.status == CheckStatus.PARTIAL
    assert "could not be verified" in outcome.explanation


def test_ag8_ag9_manual_with_evidence():
    author = UserFactory(username="grc-eve")
    assert evaluate("AG-8").metric == "No manual evidence recorded"
    ManualEvidence.objects.create(
        guideline_id="AG-8", note="Terraform module rejects multi-use keys.", assessment="pass", created_by=author
    )
    outcome = evaluate("AG-8")
    assert outcome.status == CheckStatus.MANUAL
    assert "pass" in outcome.metric and author.get_full_name() in outcome.metric  # the person, not the username
    assert "grc-eve" not in outcome.metric
    assert outcome.manual_evidence is not None
    assert evaluate("AG-9").manual_evidence is None


def test_ag10_exposure():
    party = PartyFactory()
    scoped = good_key(exposure_scope="Verifies webhooks only.", exposure_contract="MSA-12")
    scoped.exposed_to.add(party)
    bare = good_key()
    bare.exposed_to.add(party)
    good_key()
    outcome = evaluate("AG-10")
    assert failing_ids(outcome) == {bare.pk}
    assert outcome.denominator == 2


def _approved_policy(*, approved_on: dt.date):
    version = PolicyVersionFactory()
    PolicyVersionFactory._meta.model.objects.filter(pk=version.pk).update(status=VersionStatus.APPROVED)
    PolicyApproval.objects.create(
        version=version,
        governance_body="Security board",
        approver=version.created_by,
        approved_on=approved_on,
        recorded_by=version.created_by,
    )
    policy = version.policy
    type(policy).objects.filter(pk=policy.pk).update(current_version=version)
    return policy


def test_ccm1_policy_in_force_and_reviewed():
    assert evaluate("CCM-1").status == CheckStatus.FAIL
    PolicyFactory()  # no approved version: does not count
    assert evaluate("CCM-1").metric == "No approved key-management policy"
    current = _approved_policy(approved_on=TODAY - dt.timedelta(days=30))
    outcome = evaluate("CCM-1")
    assert outcome.status == CheckStatus.PASS
    assert any(ref.get("url") == current.get_absolute_url() for ref in outcome.evidence)
    overdue = _approved_policy(approved_on=TODAY - dt.timedelta(days=800))
    outcome = evaluate("CCM-1")
    assert outcome.status == CheckStatus.FAIL  # 1 of 2 reviewed: under 95 %, the one status rule says fail
    assert (outcome.numerator, outcome.denominator) == (1, 2)
    assert failing_ids(outcome) == {overdue.pk}
    for _ in range(19):
        _approved_policy(approved_on=TODAY - dt.timedelta(days=30))
    outcome = evaluate("CCM-1")
    assert (outcome.status, outcome.numerator, outcome.denominator) == (CheckStatus.PARTIAL, 20, 21)


def test_ccm1_without_a_policy_fails_as_zero_of_one_required():
    outcome = evaluate("CCM-1")
    assert (outcome.status, outcome.numerator, outcome.denominator) == (CheckStatus.FAIL, 0, 1)


def test_ccm2_inventory_complete(settings):
    settings.CEK_INVENTORY_FRESH_DAYS = 90
    fresh = KeyStoreFactory(last_full_import_at=timezone.now())
    confirmed = KeyStoreFactory(inventory_confirmed_at=timezone.now() - dt.timedelta(days=10))
    stale = KeyStoreFactory(last_full_import_at=timezone.now() - dt.timedelta(days=200))
    never = KeyStoreFactory()
    good_key(store=fresh)
    ownerless = good_key(store=confirmed, owner=None)
    outcome = evaluate("CCM-2")
    assert {(s.type, s.id) for s in outcome.failing} == {
        ("inventory.keystore", stale.pk),
        ("inventory.keystore", never.pk),
        ("inventory.key", ownerless.pk),
    }
    assert outcome.denominator == 6
    assert "within the last 90 days (" in outcome.explanation and "CEK_" not in outcome.explanation


def test_ccm3_cryptoperiod_rotation_and_attestation():
    grc = UserFactory(username="grc-ccm3", roles=["grc"])
    ok = good_key()
    expired = good_key(activated_on=TODAY - dt.timedelta(days=900))  # data-encryption max cryptoperiod < 900 d
    override = good_key(cryptoperiod_days=10, activated_on=TODAY - dt.timedelta(days=20))
    unrotated = good_key(rotation_period_days=7, activated_on=TODAY - dt.timedelta(days=20))
    managed = good_key(platform_managed=True, rotation_period_days=7, activated_on=TODAY - dt.timedelta(days=20))
    suspended = good_key(state=KeyState.SUSPENDED, activated_on=TODAY - dt.timedelta(days=900))
    outcome = evaluate("CCM-3")
    assert failing_ids(outcome) == {expired.pk, override.pk, unrotated.pk}
    assert outcome.status == CheckStatus.FAIL
    assert "No attestation campaign is closed" in outcome.explanation
    assert managed.pk not in failing_ids(outcome) and suspended.pk not in failing_ids(outcome)
    campaign = Campaign.objects.create(
        name="Q3",
        due_on=TODAY,
        statements=["x"],
        statements_sha256="0" * 64,
        created_by=grc,
        status=CampaignStatus.CLOSED,
        closed_at=timezone.now(),
    )
    Attestation.objects.create(campaign=campaign, key=ok, status=AttestationStatus.PENDING)
    Attestation.objects.create(
        campaign=campaign,
        key=managed,
        status=AttestationStatus.CONFIRMED,
        responded_by=grc,
        responded_at=timezone.now(),
        statements_sha256="0" * 64,
    )
    outcome = evaluate("CCM-3")
    assert ok.pk in failing_ids(outcome)
    assert "not confirmed" in next(s.reason for s in outcome.failing if s.id == ok.pk)
    assert managed.pk not in failing_ids(outcome)  # confirmed in the campaign, rotated by its platform


def test_ccm3_counts_an_active_key_outside_the_last_closed_campaign_as_not_attested():
    grc = UserFactory(username="grc-ccm3", roles=["grc"])
    attested = good_key()
    outside = good_key()
    campaign = Campaign.objects.create(
        name="Q3 store A",
        due_on=TODAY,
        statements=["x"],
        statements_sha256="0" * 64,
        created_by=grc,
        status=CampaignStatus.CLOSED,
        closed_at=timezone.now(),
    )
    Attestation.objects.create(
        campaign=campaign,
        key=attested,
        status=AttestationStatus.CONFIRMED,
        responded_by=grc,
        responded_at=timezone.now(),
        statements_sha256="0" * 64,
    )
    outcome = evaluate("CCM-3")
    assert failing_ids(outcome) == {outside.pk}
    assert "not part of the last closed campaign “Q3 store A”" in outcome.failing[0].reason
    assert outcome.status == CheckStatus.FAIL


def test_ag3_and_ag4_for_a_key_without_purpose():
    unassigned = good_key(purpose=None, purpose_justification="", purpose_reviewed_on=None)
    BindingFactory(key=unassigned, purpose=purpose("data-encryption"), operations=["encrypt", "sign"])
    single = good_key(purpose=None, purpose_justification="", purpose_reviewed_on=None)
    BindingFactory(key=single, purpose=purpose("data-encryption"))
    assert failing_ids(evaluate("AG-3")) == set()
    BindingFactory(key=unassigned, purpose=purpose("tls-server"), operations=[])
    outcome = evaluate("AG-3")
    assert failing_ids(outcome) == {unassigned.pk}
    assert "2 purposes" in outcome.failing[0].reason
    ag4 = evaluate("AG-4")
    assert [(s.type, "sign" in s.reason) for s in ag4.failing] == [("inventory.binding", True)]
    assert ag4.denominator == 3
