"""The SSRM Control Ownership of CEK-11 from one party's point of view.

The catalog (``cek/control/cek-11.yaml``) gives the ownership per SSRM layer: PI "Shared CSP-MP", Model
"MP-Owned", Orchestrated Services "Shared MP-OSP", Application "Shared OSP-AP". A party *carries* a layer
when it acts there in one of the roles that own the layer:

- when the party has SSRM assignments (``inventory.SsrmAssignment``), its roles at a layer are the roles
  assigned to it at that layer (contracts say exactly where it acts);
- otherwise its roles (``Party.roles``) apply at every layer.

The ownership is then the AI-CAIQ value naming the owners of the carried layers together: one owner gives
"<ROLE>-Owned", a pair the vocabulary names gives "Shared X-Y", anything wider "Shared Across the Supply
Chain", and no carried layer "ND" (an AI Customer alone carries none of CEK-11's layers, so its answer is NA).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from cek.control import SSRM_ROLES, Control, load_control
from evidence.models import ControlOwnership
from inventory.models import Party, SsrmAssignment, SsrmRole

# Owner sets the AI-CAIQ vocabulary has a value for.
VOCABULARY: dict[frozenset[str], str] = {
    frozenset({"CSP"}): ControlOwnership.CSP,
    frozenset({"MP"}): ControlOwnership.MP,
    frozenset({"OSP"}): ControlOwnership.OSP,
    frozenset({"AP"}): ControlOwnership.AP,
    frozenset({"AIC"}): ControlOwnership.AIC,
    frozenset({"CSP", "MP"}): ControlOwnership.SHARED_CSP_MP,
    frozenset({"MP", "OSP"}): ControlOwnership.SHARED_MP_OSP,
    frozenset({"OSP", "AP"}): ControlOwnership.SHARED_OSP_AP,
    frozenset({"AP", "AIC"}): ControlOwnership.SHARED_AP_AIC,
}

SOURCE_ASSIGNMENTS = "assignments"
SOURCE_ROLES = "party roles"


@dataclass(frozen=True)
class LayerOwnership:
    layer: str  # inventory.SsrmLayer value
    short: str  # "PI"
    name: str
    catalog_ownership: str  # "Shared CSP-MP"
    owners: tuple[str, ...]  # the catalog's owning roles at this layer
    party_roles: tuple[str, ...]  # the party's roles at this layer
    carried_as: tuple[str, ...]  # the party's roles that own the layer (empty: not carried)
    others: tuple[str, ...]  # owning roles the party does not hold here (they share the control)

    @property
    def carried(self) -> bool:
        return bool(self.carried_as)


@dataclass(frozen=True)
class OwnershipResult:
    ownership: str  # ControlOwnership value
    roles: tuple[str, ...]  # the party's roles (Party.roles)
    source: str  # SOURCE_ASSIGNMENTS or SOURCE_ROLES
    layers: tuple[LayerOwnership, ...]

    @property
    def carried_layers(self) -> tuple[LayerOwnership, ...]:
        return tuple(layer for layer in self.layers if layer.carried)

    @property
    def is_determined(self) -> bool:
        return self.ownership != ControlOwnership.ND

    def explanation(self) -> str:
        if not self.carried_layers:
            roles = ", ".join(self.roles) or "no SSRM role"
            return (
                f"The party acts as {roles}; CEK-11's SSRM assigns the control to "
                + "; ".join(f"{layer.short}: {layer.catalog_ownership}" for layer in self.layers)
                + ", so none of its layers is carried by the party (ownership not determined)."
            )
        parts = [
            f"{layer.short} ({layer.catalog_ownership}) as {'/'.join(layer.carried_as)}"
            for layer in self.carried_layers
        ]
        return f"Carried layers: {'; '.join(parts)} (from {self.source}) → {self.ownership}."

    def as_facts(self) -> dict:
        return {
            "value": self.ownership,
            "roles": list(self.roles),
            "source": self.source,
            "explanation": self.explanation(),
            "layers": [
                {key: list(value) if isinstance(value, tuple) else value for key, value in asdict(layer).items()}
                for layer in self.layers
            ],
        }


def vocabulary_for(owners: set[str] | frozenset[str]) -> str:
    """The AI-CAIQ ownership value naming ``owners`` together (ND for nobody)."""
    if not owners:
        return ControlOwnership.ND
    return VOCABULARY.get(frozenset(owners), ControlOwnership.SHARED_SUPPLY_CHAIN)


def derive_ownership(
    *, roles, assignments: dict[str, set[str]] | None, control: Control | None = None
) -> OwnershipResult:
    """Pure derivation. ``assignments`` maps an SSRM layer to the party's roles there (None or empty: the
    party has no assignments and ``roles`` apply at every layer)."""
    control = control or load_control()
    roles = tuple(role for role in SSRM_ROLES if role in set(roles or ()))
    use_assignments = bool(assignments)
    layers = []
    carried_owners: set[str] = set()
    for row in control.ssrm:
        here = set(assignments.get(row.layer, ())) if use_assignments else set(roles)
        party_roles = tuple(role for role in SSRM_ROLES if role in here)
        carried_as = tuple(role for role in row.owners if role in here)
        if carried_as:
            carried_owners.update(row.owners)
        layers.append(
            LayerOwnership(
                layer=row.layer,
                short=row.short,
                name=row.name,
                catalog_ownership=row.ownership,
                owners=tuple(row.owners),
                party_roles=party_roles,
                carried_as=carried_as,
                others=tuple(role for role in row.owners if role not in here),
            )
        )
    return OwnershipResult(
        ownership=vocabulary_for(carried_owners),
        roles=roles,
        source=SOURCE_ASSIGNMENTS if use_assignments else SOURCE_ROLES,
        layers=tuple(layers),
    )


def party_ownership(party: Party) -> OwnershipResult:
    """The ownership of CEK-11 for ``party`` from its roles and SSRM assignments (one query)."""
    assignments: dict[str, set[str]] = {}
    for layer, role in SsrmAssignment.objects.filter(party=party).values_list("layer", "role"):
        assignments.setdefault(layer, set()).add(role)
    return derive_ownership(roles=party.roles, assignments=assignments)


def role_label(role: str) -> str:
    return SsrmRole(role).label if role in SsrmRole.values else role
