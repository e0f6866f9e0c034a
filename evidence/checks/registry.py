"""The registered checks, in catalog order (AG-1..AG-10, then CCM-1..CCM-3).

Checks register themselves: every module of ``evidence.checks.guidelines`` is imported here, and each ``Check``
subclass in them that names a ``guideline_id`` was recorded when it was defined (``Check.__init_subclass__``).
Adding a check is adding one file to ``guidelines/``. The order is the control catalog's (``cek.control``),
whatever the file names; a guideline the catalog does not have, or one two checks claim, stops the import.
"""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType

from django.core.exceptions import ImproperlyConfigured

from cek.control import load_control
from evidence.checks import guidelines
from evidence.checks.base import Check, checks_defined_in


def discover(package: ModuleType) -> tuple[Check, ...]:
    """One instance of each check defined in the modules of ``package``, in the catalog's order."""
    for module in pkgutil.iter_modules(package.__path__, f"{package.__name__}."):
        importlib.import_module(module.name)
    catalog = [guideline.id for guideline in load_control().auditing_guidelines]
    found: dict[str, type[Check]] = {}
    for cls in checks_defined_in(package.__name__):
        name = f"{cls.__module__}.{cls.__qualname__}"
        if cls.guideline_id not in catalog:
            raise ImproperlyConfigured(
                f"{name} checks {cls.guideline_id!r}, which is not an auditing guideline of the control catalog; "
                f"expected one of: {', '.join(catalog)}."
            )
        if cls.guideline_id in found:
            other = found[cls.guideline_id]
            raise ImproperlyConfigured(
                f"{cls.guideline_id} is checked twice, by {other.__module__}.{other.__qualname__} and {name}: "
                "keep one check per guideline."
            )
        found[cls.guideline_id] = cls
    return tuple(found[guideline_id]() for guideline_id in catalog if guideline_id in found)


CHECKS: tuple[Check, ...] = discover(guidelines)

BY_GUIDELINE: dict[str, Check] = {check.guideline_id: check for check in CHECKS}
# The guidelines GRC may record manual evidence for (AG-8 counts it only while no IaC scan is recorded).
MANUAL_GUIDELINES: tuple[str, ...] = tuple(check.guideline_id for check in CHECKS if check.accepts_manual_evidence)
OWNED_RULES: tuple[str, ...] = tuple(check.rule for check in CHECKS if check.rule)


def get(guideline_id: str) -> Check:
    return BY_GUIDELINE[guideline_id]
