"""Role x endpoint x method matrix for /api/v1/, with exact status codes.

- anonymous and an auditor whose access expired: 401 (the session no longer authenticates);
- a user without a role: 403;
- auditors: read everything, every write 403;
- key owners: read keys, bindings and grants of the keys they own or back up (another owner's are 404) and
  the purpose catalog; everything else, and every write, 403;
- GRC: everything.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

import pytest

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
    Tenant,
)
from tests.conftest import login
from tests.factories import (
    AccessGrantFactory,
    BindingFactory,
    KeyFactory,
    KeyStoreFactory,
    PartyFactory,
    PurposeFactory,
    ServiceFactory,
    TenantFactory,
)

pytestmark = pytest.mark.django_db


@dataclass(frozen=True)
class Endpoint:
    model: type
    make: Callable  # (owner) -> an object owned (or backed up) by ``owner`` where that applies
    create: Callable[[], dict]
    update: dict
    owner_readable: bool = False
    owner_scoped: bool = False  # visible to key owners only for their own keys


ENDPOINTS: dict[str, Endpoint] = {
    "keys": Endpoint(
        Key,
        # Pre-activation, so that GRC's delete succeeds (other keys stay for the audit trail: see test_api).
        lambda owner: KeyFactory(owner=owner, state=KeyState.PRE_ACTIVATION),
        lambda: {
            "name": "new-key",
            "purpose": "data-encryption",
            "store": KeyStoreFactory().pk,
            "external_id": "arn:aws:kms:eu-west-1:111122223333:key/new",
        },
        {"description": "Rotated yearly by the platform team."},
        owner_readable=True,
        owner_scoped=True,
    ),
    "purposes": Endpoint(
        Purpose,
        lambda owner: PurposeFactory(),
        lambda: {
            "slug": "prompt-encryption",
            "name": "Prompt encryption",
            "function": "encryption",
            "key_type": "symmetric-data-encryption",
            "allowed_operations": ["encrypt", "decrypt"],
        },
        {"description": "Prompts stored for evaluation."},
        owner_readable=True,
    ),
    "services": Endpoint(
        Service,
        lambda owner: ServiceFactory(),
        lambda: {"name": "Chat", "slug": "chat", "lifecycle_phase": "deployment"},
        {"description": "Customer chat."},
    ),
    "tenants": Endpoint(
        Tenant, lambda owner: TenantFactory(), lambda: {"name": "Acme", "slug": "acme"}, {"description": "A customer."}
    ),
    "parties": Endpoint(
        Party,
        lambda owner: PartyFactory(),
        lambda: {"name": "Model Co", "roles": ["MP"]},
        {"contact": "grc@model.example"},
    ),
    "key-stores": Endpoint(
        KeyStore,
        lambda owner: KeyStoreFactory(),
        lambda: {"name": "vault-eu", "kind": "vault-kv"},
        {"region": "eu-west-2"},
    ),
    "bindings": Endpoint(
        Binding,
        lambda owner: BindingFactory(key=KeyFactory(owner=owner)),
        lambda: {"key": KeyFactory().pk, "service": ServiceFactory().slug, "purpose": "data-encryption"},
        {"notes": "Checked in the Q3 review."},
        owner_readable=True,
        owner_scoped=True,
    ),
    "grants": Endpoint(
        AccessGrant,
        # Backed up rather than owned: backup owners see the key and what hangs off it too.
        lambda owner: AccessGrantFactory(key=KeyFactory(backup_owner=owner)),
        lambda: {"key": KeyFactory().pk, "principal": "role/reporting", "operations": ["decrypt"]},
        {"justification": "Reads the monthly report."},
        owner_readable=True,
        owner_scoped=True,
    ),
    "ssrm-assignments": Endpoint(
        SsrmAssignment,
        lambda owner: SsrmAssignment.objects.create(layer="pi", party=PartyFactory(), role="CSP"),
        lambda: {"layer": "model", "party": PartyFactory().pk, "role": "MP"},
        {"responsibility": "Keys of the model weights."},
    ),
}

ACTIONS = ["list", "retrieve", "create", "update", "replace", "delete"]
WRITES = {"create", "update", "replace", "delete"}
GRC_STATUS = {"list": 200, "retrieve": 200, "create": 201, "update": 200, "replace": 200, "delete": 204}


def expected_status(role: str, endpoint: str, action: str) -> int:
    spec = ENDPOINTS[endpoint]
    if role in ("anonymous", "expired_auditor"):
        return 401
    if role == "grc":
        return GRC_STATUS[action]
    if role == "auditor":
        return 403 if action in WRITES else 200
    if role in ("owner", "other_owner"):
        if not spec.owner_readable or action in WRITES:
            return 403
        if action == "retrieve" and spec.owner_scoped and role == "other_owner":
            return 404
        return 200
    return 403  # outsider: no role


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
def test_the_api_answers_each_role_as_specified(role, endpoint, action, owner, grc_user):
    name, _user, client = role
    spec = ENDPOINTS[endpoint]
    obj = spec.make(owner)
    detail = f"/api/v1/{endpoint}/{obj.pk}/"
    count_before = spec.model.objects.count()

    if action == "list":
        response = client.get(f"/api/v1/{endpoint}/")
    elif action == "retrieve":
        response = client.get(detail)
    elif action == "create":
        response = client.post(f"/api/v1/{endpoint}/", json.dumps(spec.create()), content_type="application/json")
    elif action == "update":
        response = client.patch(detail, json.dumps(spec.update), content_type="application/json")
    elif action == "replace":
        # The object as GRC reads it, sent back whole (read-only fields are ignored).
        body = login(grc_user).get(detail).json()
        response = client.put(detail, json.dumps({**body, **spec.update}), content_type="application/json")
    else:
        response = client.delete(detail)

    status = expected_status(name, endpoint, action)
    assert response.status_code == status, response.content
    if status != 204:
        assert response["Content-Type"] == "application/json"
    if status >= 400:
        assert set(response.json()) == {"detail"}

    exists = spec.model.objects.filter(pk=obj.pk).exists()
    if action == "delete":
        assert exists == (status != 204)
    elif action == "create":
        assert spec.model.objects.count() - count_before == (1 if status == 201 else 0)
    elif action in ("update", "replace"):
        changed = all(getattr(spec.model.objects.get(pk=obj.pk), k) == v for k, v in spec.update.items())
        assert changed == (status == 200)
    elif action == "list" and status == 200 and spec.owner_scoped:
        ids = [row["id"] for row in response.json()["results"]]
        assert (obj.pk in ids) == (name != "other_owner")


def test_a_key_owner_sees_exactly_the_keys_they_own_or_back_up(owner, other_owner):
    owned, backed_up = KeyFactory(owner=owner), KeyFactory(backup_owner=owner)
    KeyFactory(owner=other_owner)
    KeyFactory()

    response = login(owner).get("/api/v1/keys/")

    assert response.status_code == 200
    assert sorted(row["id"] for row in response.json()["results"]) == sorted([owned.pk, backed_up.pk])


@pytest.mark.parametrize("endpoint", ["bindings", "grants"])
def test_a_key_owner_cannot_reach_another_owners_bindings_or_grants_through_filters(endpoint, owner, other_owner):
    theirs = KeyFactory(owner=other_owner)
    (BindingFactory if endpoint == "bindings" else AccessGrantFactory)(key=theirs)

    response = login(owner).get(f"/api/v1/{endpoint}/?key={theirs.pk}")

    assert response.status_code == 200 and response.json()["count"] == 0


def test_an_auditor_reads_everything(auditor, owner):
    KeyFactory(owner=owner)
    KeyFactory()

    response = login(auditor).get("/api/v1/keys/")

    assert response.json()["count"] == 2
