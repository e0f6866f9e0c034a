"""The registered checks, in catalog order (AG-1..AG-10, then CCM-1..CCM-3)."""

from __future__ import annotations

from evidence.checks.ag01 import PurposeAssigned
from evidence.checks.ag02 import PurposeMappingReviewed
from evidence.checks.ag03 import NoPurposeReuse
from evidence.checks.ag04 import OperationsRestricted
from evidence.checks.ag05 import LeastPrivilegeAccess
from evidence.checks.ag06 import AiKeysNotShared
from evidence.checks.ag07 import PurposeTagged
from evidence.checks.ag08 import IacEnforcement
from evidence.checks.ag09 import UsageLogging
from evidence.checks.ag10 import ExposureScoped
from evidence.checks.base import Check
from evidence.checks.ccm1 import KeyManagementPolicy
from evidence.checks.ccm2 import InventoryComplete
from evidence.checks.ccm3 import ManagedPerPolicy

CHECKS: tuple[Check, ...] = (
    PurposeAssigned(),
    PurposeMappingReviewed(),
    NoPurposeReuse(),
    OperationsRestricted(),
    LeastPrivilegeAccess(),
    AiKeysNotShared(),
    PurposeTagged(),
    IacEnforcement(),
    UsageLogging(),
    ExposureScoped(),
    KeyManagementPolicy(),
    InventoryComplete(),
    ManagedPerPolicy(),
)

BY_GUIDELINE: dict[str, Check] = {check.guideline_id: check for check in CHECKS}
MANUAL_GUIDELINES: tuple[str, ...] = tuple(check.guideline_id for check in CHECKS if check.manual)
OWNED_RULES: tuple[str, ...] = tuple(check.rule for check in CHECKS if check.rule)


def get(guideline_id: str) -> Check:
    return BY_GUIDELINE[guideline_id]
