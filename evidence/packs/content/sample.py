"""The key sample section (``templates/pdf/_sample.html``): the reproducible random sample of the population and
the full record of each sampled key (how the sample is drawn: :mod:`evidence.packs.sample`)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from evidence.models import EvidencePack
from evidence.packs.content.table import person
from evidence.packs.sample import describe_method, draw_sample
from inventory.models import AccessGrant, Binding, Key


@dataclass
class SampledKey:
    id: int
    name: str
    kind: str
    algorithm: str
    size_bits: int | None
    store: str
    external_id: str
    tenant: str
    state: str
    ssrm_layer: str
    purpose: str
    purpose_function: str
    purpose_justification: str
    purpose_approver: str
    purpose_reviewed_on: dt.date | None
    owner: str
    backup_owner: str
    custodian: str
    created_on: dt.date | None
    activated_on: dt.date | None
    last_rotated_on: dt.date | None
    expires_on: dt.date | None
    rotation_period_days: int | None
    cryptoperiod_ends_on: dt.date | None
    labels: dict
    exposed_to: list[str]
    bindings: list[dict]
    grants: list[dict]


@dataclass
class SampleSection:
    seed: str
    size: int  # as requested
    population: int
    method: str
    ids: list[int]
    keys: list[SampledKey] | None  # None when more than max_rows were drawn (pack.json holds them)


def sample_section(pack: EvidencePack, keys, limit: int) -> SampleSection:
    population = list(keys.order_by("pk").values_list("pk", flat=True))
    ids = draw_sample(population, pack.sample_size, pack.sample_seed)
    records = None
    if len(ids) <= limit:
        records = sampled_keys(ids)
    return SampleSection(
        seed=pack.sample_seed,
        size=pack.sample_size,
        population=len(population),
        method=describe_method(pack.sample_seed, pack.sample_size),
        ids=ids,
        keys=records,
    )


def sampled_keys(ids: list[int]) -> list[SampledKey]:
    """The full record of each key in ``ids`` (in that order), in a fixed number of queries."""
    keys = {
        key.pk: key
        for key in Key.objects.filter(pk__in=ids)
        .select_related("store", "tenant", "purpose", "purpose_approver", "owner", "backup_owner", "custodian")
        .prefetch_related("exposed_to")
    }
    bindings: dict[int, list[dict]] = {pk: [] for pk in ids}
    for b in (
        Binding.objects.filter(key_id__in=ids)
        .select_related("service", "tenant", "purpose")
        .order_by("service__name", "id")
    ):
        bindings[b.key_id].append(
            {
                "service": b.service.name,
                "tenant": b.tenant.name if b.tenant else "",
                "purpose": b.purpose.name,
                "principal": b.principal,
                "operations": ", ".join(b.operations or []),
            }
        )
    grants: dict[int, list[dict]] = {pk: [] for pk in ids}
    for g in AccessGrant.objects.filter(key_id__in=ids).select_related("approver").order_by("principal", "id"):
        grants[g.key_id].append(
            {
                "principal_type": g.get_principal_type_display(),
                "principal": g.principal,
                "operations": ", ".join(g.operations or []),
                "justification": g.justification,
                "approver": person(g.approver),
                "approved_on": g.approved_on,
                "expires_on": g.expires_on,
            }
        )
    records = []
    for pk in ids:
        key = keys.get(pk)
        if key is None:
            continue
        records.append(
            SampledKey(
                id=key.pk,
                name=key.name,
                kind=key.get_kind_display(),
                algorithm=key.algorithm,
                size_bits=key.size_bits,
                store=key.store.name,
                external_id=key.external_id,
                tenant=key.tenant.name if key.tenant else "",
                state=key.get_state_display(),
                ssrm_layer=key.get_ssrm_layer_display(),
                purpose=key.purpose.name if key.purpose else "Purpose unassigned",
                purpose_function=key.purpose.get_function_display() if key.purpose else "",
                purpose_justification=key.purpose_justification,
                purpose_approver=person(key.purpose_approver),
                purpose_reviewed_on=key.purpose_reviewed_on,
                owner=person(key.owner),
                backup_owner=person(key.backup_owner),
                custodian=key.custodian.name if key.custodian else "",
                created_on=key.created_on,
                activated_on=key.activated_on,
                last_rotated_on=key.last_rotated_on,
                expires_on=key.expires_on,
                rotation_period_days=key.rotation_period_days,
                cryptoperiod_ends_on=key.cryptoperiod_ends_on,
                labels=dict(key.labels or {}),
                exposed_to=[party.name for party in key.exposed_to.all()],
                bindings=bindings.get(pk, []),
                grants=grants.get(pk, []),
            )
        )
    return records
