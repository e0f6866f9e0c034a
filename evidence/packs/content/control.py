"""The control section (``templates/pdf/_control.html``): CEK-11's text, its SSRM layers with the parties holding
each role and the keys at each layer, and the parties of the supply chain."""

from __future__ import annotations

from dataclasses import dataclass

from evidence.packs.content.inventory import InventorySection
from inventory.models import Party, SsrmAssignment, SsrmLayer, SsrmRole


@dataclass
class SsrmLayerRow:
    layer: str
    name: str
    ownership: str
    label: str
    text: str
    holders: list[dict]  # {"party": ..., "role": ..., "role_label": ..., "responsibility": ..., "is_us": bool}
    keys: int  # keys of the population at this layer


@dataclass
class ControlSection:
    id: str
    version: str
    title: str
    domain: str
    specification: str
    implementation_guidelines: list[dict]  # {"id", "text"}
    ssrm: list[SsrmLayerRow]
    parties: list[dict]  # {"name", "roles": [...], "is_us"}
    attribution: str


def control_section(control, inventory: InventorySection) -> ControlSection:
    holders: dict[str, list[dict]] = {layer: [] for layer in SsrmLayer.values}
    for assignment in SsrmAssignment.objects.select_related("party").order_by("layer", "party__name", "role"):
        holders.setdefault(assignment.layer, []).append(
            {
                "party": assignment.party.name,
                "role": assignment.role,
                "role_label": SsrmRole(assignment.role).label if assignment.role in SsrmRole.values else "",
                "responsibility": assignment.responsibility,
                "is_us": assignment.party.is_us,
            }
        )
    keys_per_layer = {bucket.value: bucket.count for bucket in inventory.by_layer}
    return ControlSection(
        id=control.id,
        version=control.version,
        title=control.title,
        domain=f"{control.domain.id}: {control.domain.title}",
        specification=control.specification,
        implementation_guidelines=[{"id": g.id, "text": g.text} for g in control.implementation_guidelines],
        ssrm=[
            SsrmLayerRow(
                layer=row.layer,
                name=row.name,
                ownership=row.ownership,
                label=row.label,
                text=row.text,
                holders=holders.get(row.layer, []),
                keys=keys_per_layer.get(row.layer, 0),
            )
            for row in control.ssrm
        ],
        parties=[
            {"name": p.name, "roles": p.role_labels, "is_us": p.is_us} for p in Party.objects.order_by("-is_us", "name")
        ],
        attribution=control.attribution.text,
    )
