"""Writing the hand-made demo set (organisation, keys, bindings, grants) through ``inventory.services``,
idempotently: everything is looked up by its natural key first."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from django.db import models, transaction
from django.utils import timezone

from cek.demo import demo_users_ensure
from inventory.demo.bulk import bulk_keys, demo_bulk_keys_ensure
from inventory.demo.data import (
    ASSIGNMENTS,
    DEFAULT_SEED,
    KEYS,
    PARTIES,
    SEED_REASON,
    SERVICES,
    STORES,
    TENANTS,
    US,
    KeySpec,
    external_id,
)
from inventory.models import (
    AccessGrant,
    Binding,
    Key,
    KeyState,
    KeyStore,
    Party,
    Purpose,
    Service,
    SsrmAssignment,
    StoreKind,
    Tenant,
)
from inventory.services import key_save, keystore_confirm_inventory, object_save, party_save


@dataclass
class SeedReport:
    created: Counter = field(default_factory=Counter)
    bulk_created: int = 0
    bulk_total: int = 0
    warnings: list[str] = field(default_factory=list)


def _existing(report: SeedReport, model: type[models.Model], lookup: dict[str, Any]) -> Any:
    """The object matching ``lookup``, or None after counting one to be created (the caller saves it)."""
    existing = model.objects.filter(**lookup).first()
    if existing is None:
        report.created[str(model._meta.verbose_name_plural)] += 1
    return existing


def demo_seed(*, keys: int = 0, seed: int = DEFAULT_SEED, actor=None) -> SeedReport:
    """Create the demo organisation, its hand-made keys and ``keys`` bulk keys; idempotent (see module doc)."""
    report = SeedReport()
    users = {name: result.user for name, result in demo_users_ensure().items()}
    with transaction.atomic():
        _seed_organisation(report, users, actor)
        _seed_keys(report, users, actor)
    if keys:
        report.bulk_created, report.bulk_total = demo_bulk_keys_ensure(total=keys, seed=seed, users=users)
    else:
        report.bulk_total = bulk_keys().count()
    return report


def _seed_organisation(report: SeedReport, users: dict, actor) -> None:
    other_us = Party.objects.filter(is_us=True).exclude(name=US).first()
    if other_us is not None:
        report.warnings.append(f"'{other_us}' is already marked as us; {US} was left without the mark.")
    for name, roles, is_us, description in PARTIES:
        if _existing(report, Party, {"name": name}) is None:
            party = Party(name=name, roles=roles, is_us=is_us and other_us is None, description=description)
            party_save(party=party, actor=actor)
    parties = {p.name: p for p in Party.objects.filter(name__in=[p[0] for p in PARTIES])}
    for layer, party, role, text in ASSIGNMENTS:
        lookup = {"layer": layer, "party": parties[party], "role": role}
        if _existing(report, SsrmAssignment, lookup) is None:
            object_save(instance=SsrmAssignment(**lookup, responsibility=text), actor=actor, reason=SEED_REASON)
    for slug, name, party in TENANTS:
        if _existing(report, Tenant, {"slug": slug}) is None:
            tenant = Tenant(slug=slug, name=name, party=parties[party], description=f"{name}'s workloads.")
            object_save(instance=tenant, actor=actor, reason=SEED_REASON)
    for slug, name, env, arch, layer, phase, party, owner in SERVICES:
        if _existing(report, Service, {"slug": slug}) is None:
            service = Service(
                slug=slug,
                name=name,
                environment=env,
                architectural_layer=arch,
                ssrm_layer=layer,
                lifecycle_phase=phase,
                operating_party=parties[party],
                owner=users[owner],
            )
            object_save(instance=service, actor=actor, reason=SEED_REASON)
    for name, kind, account, region, party, description in STORES:
        if _existing(report, KeyStore, {"name": name}) is None:
            store = KeyStore(
                name=name,
                kind=kind,
                account=account,
                region=region,
                operating_party=parties[party],
                description=description,
            )
            store = object_save(instance=store, actor=actor, reason=SEED_REASON)
            # GRC has checked that the hand-made inventory lists every key of the store (CCM-2): the demo's stores
            # are not imported in full, and an unconfirmed store is not one of its deliberate problems.
            keystore_confirm_inventory(store=store, actor=users["grace"])


def principal_for(store: KeyStore, service: str) -> str:
    """The workload identity a service would use against ``store``."""
    return {
        StoreKind.AWS_KMS: f"arn:aws:iam::{store.account}:role/{service}",
        StoreKind.GCP_KMS: f"{service}@{store.account}.iam.gserviceaccount.com",
        StoreKind.AZURE_KV: f"mi-{service}",
        StoreKind.VAULT_TRANSIT: f"vault:role/{service}",
        StoreKind.VAULT_KV: f"vault:role/{service}",
        StoreKind.K8S_SECRETS: f"system:serviceaccount:inference:{service}",
    }.get(store.kind, f"{service}@northwind")


def _seed_keys(report: SeedReport, users: dict, actor) -> None:
    today = timezone.localdate()
    refs = {
        "parties": {p.name: p for p in Party.objects.filter(name__in=[p[0] for p in PARTIES])},
        "services": {s.slug: s for s in Service.objects.filter(slug__in=[s[0] for s in SERVICES])},
        "tenants": {t.slug: t for t in Tenant.objects.filter(slug__in=[t[0] for t in TENANTS])},
        "purposes": {p.slug: p for p in Purpose.objects.all()},
        "users": users,
    }
    stores = {
        s.name: s for s in KeyStore.objects.select_related("operating_party").filter(name__in=[s[0] for s in STORES])
    }
    services, tenants, purposes = refs["services"], refs["tenants"], refs["purposes"]
    for spec in KEYS:
        store = stores[spec.store]
        ext_id = external_id(store, spec.name)
        key = _existing(report, Key, {"store": store, "external_id": ext_id})
        if key is None:
            key = _build_key(spec, store, ext_id, refs, today, actor)
        service_grant = next((g for g in spec.grants if g[0] == "service"), None)
        for service, tenant, purpose_slug in (
            spec.bindings if spec.bindings is not None else ((spec.service, spec.tenant, None),)
        ):
            purpose = purposes[purpose_slug or spec.purpose]
            lookup = {"key": key, "service": services[service], "tenant": tenants.get(tenant or ""), "purpose": purpose}
            if _existing(report, Binding, lookup) is None:
                binding = Binding(
                    **lookup,
                    principal=service_grant[1] if service_grant else principal_for(store, service),
                    operations=list(service_grant[2]) if service_grant else list(purpose.allowed_operations),
                )
                object_save(instance=binding, actor=actor, reason=SEED_REASON)
        for principal_type, principal, ops, expires_in in spec.grants:
            if _existing(report, AccessGrant, {"key": key, "principal": principal}) is None:
                grant = AccessGrant(
                    key=key,
                    principal_type=principal_type,
                    principal=principal,
                    operations=list(ops),
                    justification=f"{services[spec.service].name} uses the key for {key.purpose.name.lower()}.",
                    approver=users["grace"],
                    approved_on=today - dt.timedelta(days=120),
                    expires_on=today + dt.timedelta(days=expires_in) if expires_in is not None else None,
                )
                object_save(instance=grant, actor=actor, reason=SEED_REASON)


def _build_key(spec: KeySpec, store: KeyStore, ext_id: str, refs: dict, today: dt.date, actor) -> Key:
    parties, users = refs["parties"], refs["users"]
    created = today - dt.timedelta(days=spec.age_days)
    labels = {
        store.purpose_tag_key: spec.purpose,
        "service": spec.service,
        "env": refs["services"][spec.service].environment,
    }
    if spec.owner:
        labels["owner"] = spec.owner
    labels.update(spec.labels)
    key = Key(
        name=spec.name,
        kind=spec.kind,
        algorithm=spec.algorithm,
        size_bits=spec.size,
        store=store,
        external_id=ext_id,
        platform_usage=spec.usage,
        tenant=refs["tenants"].get(spec.tenant or ""),
        owner=users.get(spec.owner or ""),
        backup_owner=users.get(spec.backup or ""),
        custodian=parties.get(spec.custodian or "") or store.operating_party,
        ssrm_layer=spec.layer,
        state=spec.state,
        created_on=created,
        activated_on=None if spec.state == KeyState.PRE_ACTIVATION else created,
        last_rotated_on=today - dt.timedelta(days=spec.rotated_days_ago) if spec.rotated_days_ago else None,
        rotation_period_days=spec.rotation_days,
        labels=labels,
        exposure_scope=spec.exposure_scope,
        exposure_contract=spec.exposure_contract,
        purpose=refs["purposes"][spec.purpose],
        purpose_justification=spec.justification,
        purpose_approver=users["grace"],
        purpose_reviewed_on=today - dt.timedelta(days=spec.reviewed_days_ago),
    )
    return key_save(key=key, actor=actor, exposed_to=[parties[p] for p in spec.exposed_to], reason=SEED_REASON)
