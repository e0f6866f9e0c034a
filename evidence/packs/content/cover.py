"""The cover page (``templates/pdf/_cover.html``): who the pack is for, its scope and window, who generated it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone

import cek
from cek.people import person_name
from evidence.models import EvidencePack
from evidence.packs.scope import organisation_name, scope_label


@dataclass
class Cover:
    organisation: str
    perspective: str  # the party whose point of view the pack takes
    perspective_roles: list[str]
    scope: str
    window_from: dt.date
    window_to: dt.date
    generated_at: dt.datetime
    generated_by: str
    pack_id: str
    catalog: str  # "CEK-11 (AICM 1.1.0)"
    software: str  # "CEK-11 Key Purpose evidence 0.6.0": the version that built the pack


def cover_section(pack: EvidencePack, control) -> Cover:
    return Cover(
        organisation=organisation_name(pack),
        perspective=pack.party.name,
        perspective_roles=pack.party.role_labels,
        scope=scope_label(pack),
        window_from=pack.window_from,
        window_to=pack.window_to,
        generated_at=timezone.now(),
        generated_by=person_name(pack.requested_by),
        pack_id=str(pack.uid),
        catalog=control.qualified_id,
        software=f"CEK-11 Key Purpose evidence {cek.__version__}",
    )
