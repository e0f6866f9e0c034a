"""The contract of every registered check: one fixture that must make it fail (for a manual guideline, the
non-pass result its rule allows: no evidence, or evidence assessed "fail") and one that must make it pass.

Parametrized over the registry, so a check added without fixtures here fails this module."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from django.utils import timezone

from evidence.answers.rules import effective_status
from evidence.checks.base import CheckContext
from evidence.checks.registry import CHECKS
from evidence.models import Attestation, AttestationStatus, Campaign, CampaignStatus, CheckStatus, ManualEvidence
from inventory.models import LifecyclePhase
from tests.evidence.iac_evidence_support import recorded_scan
from tests.evidence.test_checks_rules import _approved_policy, good_key
from tests.factories import AccessGrantFactory, BindingFactory, PartyFactory, ServiceFactory, UserFactory, purpose

pytestmark = pytest.mark.django_db

TODAY = dt.date.today()


def _closed_campaign(*, confirmed: list) -> Campaign:
    grc = UserFactory(roles=["grc"])
    campaign = Campaign.objects.create(
        name="Annual",
        due_on=TODAY,
        statements=["x"],
        statements_sha256="0" * 64,
        created_by=grc,
        status=CampaignStatus.CLOSED,
        closed_at=timezone.now(),
    )
    for key in confirmed:
        Attestation.objects.create(
            campaign=campaign,
            key=key,
            status=AttestationStatus.CONFIRMED,
            responded_by=grc,
            responded_at=timezone.now(),
            statements_sha256="0" * 64,
        )
    return campaign


def _bound(*, operations: list[str] | None = None, binding_purpose: str | None = None, ai: bool = False):
    key = good_key()
    service = ServiceFactory(lifecycle_phase=LifecyclePhase.DEPLOYMENT if ai else "")
    BindingFactory(
        key=key,
        service=service,
        operations=operations or ["encrypt", "decrypt"],
        **({"purpose": purpose(binding_purpose)} if binding_purpose else {}),
    )
    return key


def _shared_ai_key():
    key = _bound(ai=True)
    BindingFactory(key=key, service=ServiceFactory())
    return key


def _granted(**fields):
    AccessGrantFactory(key=good_key(), **fields)


def _exposed(**fields):
    good_key(**fields).exposed_to.add(PartyFactory())


def _manual(guideline: str, assessment: str):
    def make():
        ManualEvidence.objects.create(
            guideline_id=guideline, note="Reviewed.", assessment=assessment, created_by=UserFactory()
        )

    return make


def _nothing():
    pass


def _iac_scan(**fields):
    def make():
        recorded_scan(**fields)

    return make


def _used(operation: str = "Decrypt"):
    """A key whose store's usage logs are ingested today (AG-9), misused when ``operation`` is outside its purpose."""
    from evidence.usage.findings import usage_misuse_evaluate
    from tests.evidence.test_usage_misuse import usage

    usage(good_key(), operation=operation, day=timezone.localdate())
    usage_misuse_evaluate(source="contract")


# guideline -> (fixtures that must make it fail, fixture that must make it pass)
FIXTURES: dict[str, tuple[list[Callable[[], object]], Callable[[], object]]] = {
    "AG-1": ([lambda: good_key(purpose=None, purpose_justification="", purpose_reviewed_on=None)], good_key),
    "AG-2": ([lambda: good_key(purpose_justification="")], good_key),
    "AG-3": ([lambda: _bound(binding_purpose="tls-server")], _bound),
    "AG-4": ([lambda: _bound(operations=["encrypt", "sign"])], lambda: _bound(operations=["encrypt"])),
    "AG-5": ([_granted], lambda: _granted(approver=UserFactory(), approved_on=TODAY)),
    "AG-6": ([_shared_ai_key], lambda: _bound(ai=True)),
    "AG-7": ([lambda: good_key(labels={})], good_key),
    # AG-8: manual (its manual evidence counts) until an IaC scan is recorded, then computed from the scans.
    "AG-8": (
        [_nothing, _manual("AG-8", "fail"), _iac_scan(violations=1), _iac_scan(days_ago=45)],
        _iac_scan(days_ago=2),
    ),
    # AG-9: manual until usage logs are ingested, then computed from the usage and the misuse findings.
    "AG-9": ([_nothing, _manual("AG-9", "fail"), lambda: _used(operation="Sign")], _used),
    "AG-10": ([_exposed], lambda: _exposed(exposure_scope="Verifies webhooks only.", exposure_contract="MSA-12")),
    "CCM-1": (
        [_nothing, lambda: _approved_policy(approved_on=TODAY - dt.timedelta(days=800))],
        lambda: _approved_policy(approved_on=TODAY - dt.timedelta(days=30)),
    ),
    "CCM-2": ([lambda: good_key(owner=None)], good_key),
    "CCM-3": (
        [
            lambda: _closed_campaign(confirmed=[good_key(activated_on=TODAY - dt.timedelta(days=900))]),
            lambda: _closed_campaign(confirmed=[]) and good_key(),  # a key outside the closed campaign
        ],
        lambda: _closed_campaign(confirmed=[good_key()]),
    ),
}


def _status(check) -> str:
    """The status the answer counts: a manual guideline's is its assessment."""
    outcome = check.evaluate(CheckContext())
    if check.manual:
        assert outcome.status == CheckStatus.MANUAL
    return effective_status({"status": outcome.status, "manual_assessment": outcome.details.get("assessment", "")})


def _fixtures(check):
    if check.guideline_id not in FIXTURES:
        pytest.fail(f"{check.guideline_id} has no contract fixtures: add one that fails it and one that passes it.")
    return FIXTURES[check.guideline_id]


def test_every_fixture_names_a_registered_check():
    assert set(FIXTURES) == {check.guideline_id for check in CHECKS}


@pytest.mark.parametrize("check", CHECKS, ids=lambda check: check.guideline_id)
def test_the_pass_fixture_makes_the_check_pass(check):
    _, make_pass = _fixtures(check)
    make_pass()
    assert _status(check) == CheckStatus.PASS


@pytest.mark.parametrize(
    ("check", "variant"),
    [(check, index) for check in CHECKS for index in range(len(FIXTURES.get(check.guideline_id, ([None], None))[0]))],
    ids=lambda value: getattr(value, "guideline_id", f"fixture-{value}"),
)
def test_the_fail_fixture_makes_the_check_fail(check, variant):
    failing, _ = _fixtures(check)
    failing[variant]()
    status = _status(check)
    if check.accepts_manual_evidence and failing[variant] is _nothing:
        assert status == CheckStatus.MANUAL  # no evidence: awaiting assessment, never a pass
    else:
        assert status == CheckStatus.FAIL
