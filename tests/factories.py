"""factory_boy factories: each test builds its own data."""

from __future__ import annotations

import datetime as dt

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from inventory import models as m

PASSWORD = "correct-horse-battery-staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    password = factory.django.Password(PASSWORD)

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        for name in extracted or ():
            self.groups.add(Group.objects.get(name=name))


class PartyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.Party

    name = factory.Sequence(lambda n: f"Party {n}")
    roles = factory.LazyFunction(lambda: ["AP"])


class TenantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.Tenant

    name = factory.Sequence(lambda n: f"Tenant {n}")
    slug = factory.Sequence(lambda n: f"tenant-{n}")


class ServiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.Service

    name = factory.Sequence(lambda n: f"Service {n}")
    slug = factory.Sequence(lambda n: f"service-{n}")
    environment = m.Environment.PRODUCTION
    ssrm_layer = m.SsrmLayer.APPLICATION


class KeyStoreFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.KeyStore

    name = factory.Sequence(lambda n: f"store-{n}")
    kind = m.StoreKind.AWS_KMS
    account = "111122223333"
    region = "eu-west-1"


def purpose(slug: str = "data-encryption") -> m.Purpose:
    """A purpose from the seeded default catalog."""
    return m.Purpose.objects.get(slug=slug)


class PurposeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.Purpose

    slug = factory.Sequence(lambda n: f"purpose-{n}")
    name = factory.Sequence(lambda n: f"Purpose {n}")
    function = m.CryptoFunction.ENCRYPTION
    key_type = m.Sp80057KeyType.SYMMETRIC_DATA_ENCRYPTION
    allowed_kinds = factory.LazyFunction(lambda: ["symmetric-key"])
    allowed_operations = factory.LazyFunction(lambda: ["encrypt", "decrypt"])
    max_cryptoperiod_days = 730


class KeyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.Key

    name = factory.Sequence(lambda n: f"key-{n}")
    kind = m.KeyKind.SYMMETRIC_KEY
    algorithm = "AES-256-GCM"
    size_bits = 256
    store = factory.SubFactory(KeyStoreFactory)
    external_id = factory.Sequence(lambda n: f"arn:aws:kms:eu-west-1:111122223333:key/k-{n:06d}")
    purpose = factory.LazyFunction(lambda: purpose("data-encryption"))
    purpose_justification = "Encrypts the service's data at rest."
    purpose_reviewed_on = factory.LazyFunction(lambda: dt.date.today())
    state = m.KeyState.ACTIVE
    activated_on = factory.LazyFunction(lambda: dt.date.today() - dt.timedelta(days=30))


class BindingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.Binding

    key = factory.SubFactory(KeyFactory)
    service = factory.SubFactory(ServiceFactory)
    purpose = factory.LazyAttribute(lambda b: b.key.purpose)
    principal = "arn:aws:iam::111122223333:role/app"
    operations = factory.LazyFunction(lambda: ["encrypt", "decrypt"])


class AccessGrantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.AccessGrant

    key = factory.SubFactory(KeyFactory)
    principal_type = m.PrincipalType.SERVICE
    principal = "arn:aws:iam::111122223333:role/app"
    operations = factory.LazyFunction(lambda: ["encrypt", "decrypt"])
    justification = "The app encrypts its own records."


# --- Evidence: policies and reviews ---------------------------------------------------------------------

from django.utils import timezone  # noqa: E402

from evidence import models as ev  # noqa: E402


class PolicyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ev.Policy

    title = factory.Sequence(lambda n: f"Key management policy {n}")
    kind = ev.PolicyKind.POLICY
    owner = factory.SubFactory(UserFactory)
    description = "How keys are provisioned for exactly one purpose."
    scope = "All production key stores."
    areas = factory.LazyFunction(lambda: ["key-management"])


class PolicyVersionFactory(factory.django.DjangoModelFactory):
    """A draft version with a link (no upload): tests that need a document upload go through the service."""

    class Meta:
        model = ev.PolicyVersion

    policy = factory.SubFactory(PolicyFactory)
    label = factory.Sequence(lambda n: f"1.{n}")
    link = factory.Sequence(lambda n: f"https://intranet.example.com/policies/{n}")
    summary = "First issue."
    created_by = factory.SelfAttribute("policy.owner")


class ChangeEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ev.ChangeEvent

    kind = ev.ChangeKind.SYSTEM
    title = factory.Sequence(lambda n: f"Migration to a new KMS {n}")
    description = "Keys move to a new key management service."
    occurred_on = factory.LazyFunction(lambda: timezone.localdate())
    review_due_on = factory.LazyAttribute(lambda e: e.occurred_on + dt.timedelta(days=30))
    recorded_by = factory.SubFactory(UserFactory)


class EvaluationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ev.EffectivenessEvaluation

    kind = ev.EvaluationKind.INTERNAL_AUDIT
    title = factory.Sequence(lambda n: f"Internal audit {n}")
    performed_on = factory.LazyFunction(lambda: timezone.localdate())
    scope = "Key purpose mapping of production keys."
    result = ev.EvaluationResult.EFFECTIVE
    performed_by = factory.SubFactory(UserFactory)
    recorded_by = factory.SelfAttribute("performed_by")


# --- Evidence: campaigns and findings ---------------------------------------------------------------------


def keys_bulk(*, count: int, owners, store=None, backup_owners=None, **fields) -> list:
    """``count`` active keys in one store, owners assigned round-robin, inserted with ``bulk_create`` (no
    history rows): for campaign tests that need thousands of keys quickly."""
    store = store or KeyStoreFactory()
    data_encryption = purpose("data-encryption")
    owners = list(owners)
    backups = list(backup_owners or [])
    today = dt.date.today()
    keys = [
        m.Key(
            name=f"bulk-{store.pk}-{n:06d}",
            kind=m.KeyKind.SYMMETRIC_KEY,
            store=store,
            external_id=f"bulk/{store.pk}/{n:06d}",
            purpose=data_encryption,
            state=m.KeyState.ACTIVE,
            activated_on=today,
            owner=owners[n % len(owners)] if owners else None,
            backup_owner=backups[n % len(backups)] if backups else None,
            **fields,
        )
        for n in range(count)
    ]
    return m.Key.objects.bulk_create(keys, batch_size=1000)


class FindingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ev.Finding

    rule = "attestation-discrepancy"
    subject_type = "inventory.key"
    subject_id = factory.LazyFunction(lambda: KeyFactory().pk)
    subject_label = factory.Sequence(lambda n: f"key-{n}")
    severity = ev.Severity.HIGH
    first_seen = factory.LazyFunction(timezone.now)
    last_seen = factory.LazyFunction(timezone.now)
