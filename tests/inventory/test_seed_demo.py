"""The demo inventory (``manage.py seed_demo``) and the demo accounts (``manage.py demo_users``)."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import CommandError, call_command
from django.db import transaction
from django.db.models import Count
from django.test import RequestFactory, override_settings
from django.utils import timezone

from cek.models import UserAccess
from inventory import demo
from inventory.models import (
    AccessGrant,
    Binding,
    Key,
    KeyState,
    KeyStore,
    Party,
    Service,
    SsrmAssignment,
    SsrmLayer,
    StoreKind,
    Tenant,
)
from inventory.services import key_validate_purpose

User = get_user_model()
ROLE_USERS = {"grace": "grc", "olivia": "key-owners", "omar": "key-owners", "audrey": "auditors"}


def run(command: str, **options) -> str:
    out = StringIO()
    call_command(command, stdout=out, stderr=StringIO(), **options)
    return out.getvalue()


@pytest.fixture(scope="class")
def seeded_once(django_db_setup, django_db_blocker):
    """Seed once per test class, in a transaction rolled back after the class (each test still runs in its
    own savepoint through ``db``), so the many read-only assertions do not each pay for a seed."""
    hashers = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    with django_db_blocker.unblock(), override_settings(PASSWORD_HASHERS=hashers), transaction.atomic():
        yield run("seed_demo", force=True)
        transaction.set_rollback(True)


@pytest.fixture
def seeded(seeded_once, db) -> str:
    return seeded_once


def key(name: str) -> Key:
    return Key.objects.get(name=name)


def snapshot() -> dict[str, int]:
    models = [Party, SsrmAssignment, Tenant, Service, KeyStore, Key, Binding, AccessGrant, User, UserAccess]
    counts = {model.__name__: model.objects.count() for model in models}
    counts |= {f"history {model.__name__}": model.history.count() for model in models[:8]}
    return counts


# --- The hand-made organisation ---------------------------------------------------------------------


class TestTheHandMadeInventory:
    def test_it_creates_the_supply_chain_with_exactly_one_us_party(self, seeded):
        roles = dict(Party.objects.values_list("name", "roles"))
        assert roles == {
            "Northwind AI Ltd": ["AP", "OSP"],
            "Nimbus Cloud": ["CSP"],
            "Helix Models Inc": ["MP"],
            "Acme Health": ["AIC"],
            "Globex Retail": ["AIC"],
        }
        assert list(Party.objects.filter(is_us=True).values_list("name", flat=True)) == ["Northwind AI Ltd"]
        assert set(Tenant.objects.values_list("slug", "party__name")) == {
            ("acme-health", "Acme Health"),
            ("globex-retail", "Globex Retail"),
        }

    def test_ssrm_assignments_match_the_cek11_catalog(self, seeded):
        assert set(SsrmAssignment.objects.values_list("layer", "role")) == {
            (SsrmLayer.PI, "CSP"),
            (SsrmLayer.PI, "MP"),
            (SsrmLayer.MODEL, "MP"),
            (SsrmLayer.ORCHESTRATED, "MP"),
            (SsrmLayer.ORCHESTRATED, "OSP"),
            (SsrmLayer.APPLICATION, "OSP"),
            (SsrmLayer.APPLICATION, "AP"),
        }

    def test_services_and_stores_are_described_and_operated_by_a_party(self, seeded):
        assert Service.objects.count() == len(demo.SERVICES)
        assert not Service.objects.filter(operating_party=None).exists()
        assert not Service.objects.filter(owner=None).exists()
        gateway = Service.objects.get(slug="inference-gateway")
        assert (gateway.ssrm_layer, gateway.lifecycle_phase, gateway.operating_party.name) == (
            "orchestrated",
            "delivery",
            "Northwind AI Ltd",
        )
        assert not Service.objects.get(slug="billing").is_ai
        assert set(KeyStore.objects.values_list("kind", flat=True)) == set(StoreKind.values) - {StoreKind.OTHER}
        assert KeyStore.objects.filter(kind=StoreKind.AWS_KMS).values("account", "region").distinct().count() == 2
        assert not KeyStore.objects.filter(operating_party=None).exists()

    def test_every_key_has_one_purpose_that_fits_its_kind_and_one_history_row(self, seeded):
        keys = list(Key.objects.select_related("purpose", "store"))
        assert len(keys) == len(demo.KEYS)
        for item in keys:
            key_validate_purpose(item)  # raises if the purpose does not allow the kind
            assert item.cryptoperiod_ends_on == item.compute_cryptoperiod_end()
            assert item.history.filter(history_type="+", history_change_reason=demo.SEED_REASON).count() == 1

    def test_it_assigns_the_keys_to_the_demo_owners(self, seeded):
        owners = set(Key.objects.exclude(owner=None).values_list("owner__username", flat=True))
        backups = set(Key.objects.exclude(backup_owner=None).values_list("backup_owner__username", flat=True))
        assert owners == backups == {"olivia", "omar"}
        assert set(Key.objects.values_list("purpose_approver__username", flat=True)) == {"grace"}
        assert User.objects.filter(username__in=[*ROLE_USERS, "admin"]).count() == 5

    def test_running_it_twice_changes_nothing(self, seeded):
        before = snapshot()
        output = run("seed_demo", force=True)
        assert snapshot() == before
        assert "nothing to create" in output

    def test_it_prints_the_deliberate_problems(self, seeded):
        for problem in demo.PROBLEMS:
            assert problem.code in seeded
            assert problem.key in seeded


# --- Deliberate problems ---------------------------------------------------------------------------


def _multi_purpose(k: Key) -> bool:
    bindings = k.bindings.all()
    return len({b.purpose_id for b in bindings}) == 2 and len({b.service_id for b in bindings}) == 2


def _cross_tenant(k: Key) -> bool:
    return k.purpose.is_ai_specific and k.bindings.values("tenant").distinct().count() == 2


def _grant(k: Key) -> AccessGrant:
    (grant,) = k.grants.all()  # ValueError when a key has no grant or several: not this problem
    return grant


PROBLEM_CHECKS = {
    "multi-purpose-binding": _multi_purpose,
    "cross-tenant-ai-key": _cross_tenant,
    "purpose-label-mismatch": lambda k: k.labels[k.store.purpose_tag_key] != k.purpose.slug,
    "missing-justification": lambda k: k.purpose_justification == "",
    "stale-purpose-review": lambda k: k.purpose_reviewed_on < timezone.localdate() - dt.timedelta(days=365),
    "cryptoperiod-overdue": lambda k: k.is_cryptoperiod_overdue,
    "active-key-without-owner": lambda k: k.state == KeyState.ACTIVE and k.owner is None and k.backup_owner is None,
    "wildcard-grant": lambda k: _grant(k).is_wildcard and _grant(k).principal.startswith("arn:aws:iam::"),
    "expired-grant": lambda k: _grant(k).is_expired,
    "grant-operations-outside-purpose": lambda k: bool(set(_grant(k).operations) - set(k.purpose.allowed_operations)),
    "exposed-without-scope": lambda k: (
        any("AIC" in party.roles for party in k.exposed_to.all()) and not (k.exposure_scope or k.exposure_contract)
    ),
    "platform-usage-mismatch": lambda k: k.platform_usage == "SIGN_VERIFY" and k.purpose.function == "encryption",
}


# The problems the inventory itself carries; the usage log's and the IaC repository's are recorded by evidence.demo
# (tests/evidence/test_demo.py checks every problem against the check run's findings).
KEY_PROBLEMS = [problem for problem in demo.PROBLEMS if problem.where == "key"]


def test_every_documented_problem_has_a_check_here():
    assert {p.code for p in KEY_PROBLEMS} == set(PROBLEM_CHECKS)
    assert {p.where for p in demo.PROBLEMS} == {"key", "usage", "iac"}


class TestTheDeliberateProblems:
    @pytest.mark.parametrize("problem", KEY_PROBLEMS, ids=lambda p: p.code)
    def test_the_documented_key_has_the_problem(self, seeded, problem):
        assert PROBLEM_CHECKS[problem.code](key(problem.key)), problem.description

    @pytest.mark.parametrize("code", sorted(PROBLEM_CHECKS))
    def test_no_other_hand_made_key_has_the_problem(self, seeded, code):
        """So a check finds exactly the documented key, not noise from the rest of the demo."""
        problem_key = next(p.key for p in KEY_PROBLEMS if p.code == code)
        offenders = []
        for other in Key.objects.exclude(name=problem_key).select_related("purpose", "store"):
            try:
                if PROBLEM_CHECKS[code](other):
                    offenders.append(other.name)
            except ValueError:
                continue
        assert offenders == []


# --- Generated keys --------------------------------------------------------------------------------


class TestGeneratedKeys:
    def test_keys_option_adds_valid_keys_with_unique_ids_and_derived_cryptoperiods(self, seeded):
        output = run("seed_demo", keys=500, force=True)
        assert "500 created now" in output
        bulk = list(demo.bulk_keys().select_related("purpose", "store"))
        assert len(bulk) == 500
        assert Key.objects.count() == len(demo.KEYS) + 500
        duplicates = Key.objects.values("store", "external_id").annotate(n=Count("id")).filter(n__gt=1)
        assert not duplicates.exists()
        for item in bulk:
            item.clean_fields()  # field validators, including the key-material check, as if entered by hand
            key_validate_purpose(item)
            assert item.cryptoperiod_ends_on is not None
            assert item.cryptoperiod_ends_on == item.compute_cryptoperiod_end()
            assert item.labels[item.store.purpose_tag_key] == item.purpose.slug
        assert len({k.store_id for k in bulk}) == len(demo.STORES)
        assert len({k.purpose_id for k in bulk}) >= 15
        assert len({k.tenant_id for k in bulk}) == 3  # two tenants and none
        assert len({k.owner_id for k in bulk} - {None}) == 2
        assert sum(k.state == KeyState.ACTIVE for k in bulk) > 0.75 * len(bulk)
        assert all(k.created_at <= k.updated_at <= timezone.now() for k in bulk)
        assert len({k.updated_at for k in bulk}) > 450  # spread out, as in a live inventory

    def test_each_generated_key_has_one_creation_history_row(self, seeded):
        run("seed_demo", keys=50, force=True)
        bulk = {k.pk: k for k in demo.bulk_keys()}
        history = list(Key.history.filter(id__in=bulk))
        assert len(history) == 50
        for row in history:
            assert (row.history_type, row.history_change_reason, row.history_user) == ("+", demo.SEED_REASON, None)
            original = bulk[row.id]
            assert (row.name, row.external_id, row.purpose_id, row.labels, row.cryptoperiod_ends_on) == (
                original.name,
                original.external_id,
                original.purpose_id,
                original.labels,
                original.cryptoperiod_ends_on,
            )

    def test_keys_option_is_idempotent_and_reproducible(self, seeded):
        run("seed_demo", keys=120, force=True)
        run("seed_demo", keys=200, force=True)
        assert "0 created now" in run("seed_demo", keys=200, force=True)
        fields = ("name", "external_id", "store__name", "purpose__slug", "state", "owner__username")
        in_two_steps = list(demo.bulk_keys().order_by("name").values_list(*fields))
        demo.bulk_keys().delete()
        run("seed_demo", keys=200, force=True)
        assert len(in_two_steps) == 200
        assert list(demo.bulk_keys().order_by("name").values_list(*fields)) == in_two_steps

    def test_a_different_seed_gives_different_keys(self, seeded):
        demo.demo_bulk_keys_ensure(total=50, seed=1)
        first = list(demo.bulk_keys().order_by("name").values_list("name", flat=True))
        demo.bulk_keys().delete()
        demo.demo_bulk_keys_ensure(total=50, seed=2)
        assert list(demo.bulk_keys().order_by("name").values_list("name", flat=True)) != first


# --- Production guard --------------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["seed_demo", "demo_users"])
def test_it_refuses_without_debug_or_force(db, settings, command):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="CEK_DEBUG=1"):
        run(command)
    assert not User.objects.exists()
    assert not Key.objects.exists()


def test_seed_demo_runs_when_debug_is_on(db, settings):
    settings.DEBUG = True
    run("seed_demo")
    assert Key.objects.count() == len(demo.KEYS)


# --- Demo users ----------------------------------------------------------------------------------------


def login_request():
    """Login throttling (django-axes) authenticates only with the request the attempt came in."""
    return RequestFactory().post("/accounts/login/")


def test_demo_users_creates_one_user_per_role_and_prints_the_passwords(db):
    output = run("demo_users", force=True)
    for username, group in ROLE_USERS.items():
        user = User.objects.get(username=username)
        assert list(user.groups.values_list("name", flat=True)) == [group]
        assert not user.is_superuser
        assert f"demo-{username}-2026" in output
        assert authenticate(login_request(), username=username, password=f"demo-{username}-2026") == user
    admin = User.objects.get(username="admin")
    assert admin.is_superuser
    assert admin.is_staff
    assert "demo-admin-2026" in output
    expires = UserAccess.objects.get(user__username="audrey").expires_at
    assert dt.timedelta(days=89) < expires - timezone.now() <= dt.timedelta(days=90)
    assert not UserAccess.objects.exclude(user__username="audrey").exists()


def test_demo_users_is_idempotent_and_keeps_changed_passwords(db):
    run("demo_users", force=True)
    grace = User.objects.get(username="grace")
    grace.set_password("a-password-grace-chose")
    grace.save()
    output = run("demo_users", force=True)
    assert User.objects.count() == 5
    assert User.objects.get(username="grace").groups.count() == 1
    assert "already existed" in output
    assert authenticate(login_request(), username="grace", password="a-password-grace-chose") is not None
    run("demo_users", force=True, reset_passwords=True)
    assert authenticate(login_request(), username="grace", password="demo-grace-2026") is not None
