"""The SSRM responsibilities for CEK-11 as an OSCAL 1.1.3 *component-definition*.

One component (type ``service``: the organisation's management of cryptographic keys for its AI services) with
one control implementation of CEK-11, whose source is the catalog resource (AICM and its version). It has one
implemented requirement per SSRM layer (Cloud/AI Processing Infrastructure, Model, Orchestrated Services,
Application), carrying:

- the catalog's SSRM control ownership of that layer ("Shared CSP-MP") and its text;
- one responsible role per SSRM role at that layer (``csp``, ``mp``, ``osp``, ``ap``, ``aic``): the roles the
  catalog names as owners, and any other role a party is assigned there, each with the parties assigned
  (``SsrmAssignment``) and their agreed responsibility as remarks. An owner role nobody is assigned to is listed
  without a party, with a remark saying so: that gap is what an assessor looks for.

The metadata lists the five SSRM roles and every party (organisations, with their SSRM roles and whether it is
"us"). ``last-modified`` is the newest change of a party or assignment (1970-01-01 when there is none), so the
same data gives the same file.
"""

from __future__ import annotations

from typing import Any

from cek.control import load_control
from evidence.oscal.common import (
    EPOCH,
    OSCAL_VERSION,
    catalog_resource,
    control_id,
    omit_empty,
    oscal_uuid,
    prop,
    props,
    text,
    timestamp,
)
from evidence.oscal.selectors import SsrmData
from inventory.models import SsrmLayer, SsrmRole


def role_id(role: str) -> str:
    return role.lower()


def party_uuid(party) -> str:
    return oscal_uuid("party", party.pk)


def _requirement(ownership, assignments: list, control: str) -> dict[str, Any]:
    """One SSRM layer: the catalog's owners and the parties assigned per role."""
    by_role: dict[str, list] = {}
    for assignment in assignments:
        by_role.setdefault(assignment.role, []).append(assignment)
    roles = [role for role in SsrmRole.values if role in ownership.owners or role in by_role]
    responsible = []
    for role in roles:
        assigned = by_role.get(role, [])
        notes = [f"{a.party.name}: {a.responsibility}" for a in assigned if a.responsibility.strip()]
        if not assigned:
            notes = [f"The catalog names {role} as an owner at this layer; no party is assigned to it."]
        responsible.append(
            omit_empty(
                {
                    "role-id": role_id(role),
                    "props": props(prop("catalog-owner", "yes" if role in ownership.owners else "no")),
                    "party-uuids": sorted({party_uuid(a.party) for a in assigned}),
                    "remarks": text(" ".join(notes)),
                }
            )
        )
    return omit_empty(
        {
            "uuid": oscal_uuid("ssrm-requirement", ownership.layer),
            "control-id": control_id(control),
            "description": text(f"{ownership.name}: {ownership.text}") or ownership.name,
            "props": props(
                prop("ssrm-layer", ownership.layer),
                prop("ssrm-control-ownership", ownership.ownership),
            ),
            "responsible-roles": responsible,
        }
    )


def build(data: SsrmData) -> dict[str, Any]:
    control = load_control()
    catalog = catalog_resource()
    by_layer: dict[str, list] = {}
    for assignment in data.assignments:
        by_layer.setdefault(assignment.layer, []).append(assignment)
    changed = [item.updated_at for item in (*data.parties, *data.assignments)]
    parties = [
        {
            "uuid": party_uuid(party),
            "type": "organization",
            "name": text(party.name),
            "props": props(
                *(prop("ssrm-role", role) for role in party.roles),
                prop("is-us", "yes") if party.is_us else None,
            ),
        }
        for party in data.parties
    ]
    component = {
        "uuid": oscal_uuid("component", "key-management"),
        "type": "service",
        "title": text(f"Management of cryptographic keys and secrets ({control.id} {control.title})"),
        "description": text(
            f"{control.specification} The SSRM layers, the parties assigned to each and their roles, as recorded "
            "in the app."
        ),
        "control-implementations": [
            {
                "uuid": oscal_uuid("control-implementation", control.id, control.version),
                "source": f"#{catalog['uuid']}",
                "description": text(f"{control.id} per SSRM layer, as in {control.version}."),
                "implemented-requirements": [
                    _requirement(ownership, by_layer.get(ownership.layer, []), control.id)
                    for ownership in control.ssrm
                    if ownership.layer in SsrmLayer.values
                ],
            }
        ],
    }
    return {
        "component-definition": {
            "uuid": oscal_uuid("component-definition", "ssrm"),
            "metadata": omit_empty(
                {
                    "title": text(f"{control.id} {control.title}: SSRM responsibilities"),
                    "last-modified": timestamp(max(changed, default=EPOCH)),
                    "version": control.version,
                    "oscal-version": OSCAL_VERSION,
                    "roles": [{"id": role_id(value), "title": label} for value, label in SsrmRole.choices],
                    "parties": parties,
                }
            ),
            "components": [component],
            "back-matter": {"resources": [catalog]},
        }
    }
