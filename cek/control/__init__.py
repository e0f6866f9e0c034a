"""The control catalog: AICM control CEK-11 "Key Purpose" as frozen dataclasses.

The text lives in ``cek/control/cek-11.yaml``; :func:`load_control` parses it with ``yaml.safe_load``,
checks its shape and caches the result, so every page, check and export reads the same object::

    control = load_control()
    control.guideline("AG-3").text
    control.ssrm_for("pi").ownership          # "Shared CSP-MP"
    [g.id for g in control.auditing_guidelines]  # AG-1 .. AG-10, CCM-1 .. CCM-3

IDs are only meaningful with the catalog version (``control.version``, e.g. "AICM 1.1.0"): AICM renumbers
IDs between versions, so anything that stores a guideline or question ID also stores the version.

This package must not import ``inventory`` or ``evidence``: they depend on the catalog, never the reverse.
The codes that other apps store are therefore repeated here (``SSRM_LAYERS``, ``SSRM_ROLES``) and a test
checks they agree with ``inventory.models``. The dataclasses are in :mod:`.catalog`, the loading and its checks
in :mod:`.loader`; every name is importable from here.
"""

from __future__ import annotations

from cek.control.catalog import (
    SSRM_LAYERS,
    SSRM_ROLES,
    Attribution,
    Control,
    Domain,
    GapLevel,
    Guideline,
    GuidelineKind,
    LifecyclePhase,
    Lineage,
    Question,
    SsrmOwnership,
    StandardMapping,
    StandardReference,
    Term,
)
from cek.control.loader import CATALOG_PATH, SCHEMA_VERSION, ControlCatalogError, load_control, parse_control

__all__ = [
    "CATALOG_PATH",
    "SCHEMA_VERSION",
    "SSRM_LAYERS",
    "SSRM_ROLES",
    "Attribution",
    "Control",
    "ControlCatalogError",
    "Domain",
    "GapLevel",
    "Guideline",
    "GuidelineKind",
    "LifecyclePhase",
    "Lineage",
    "Question",
    "SsrmOwnership",
    "StandardMapping",
    "StandardReference",
    "Term",
    "load_control",
    "parse_control",
]
