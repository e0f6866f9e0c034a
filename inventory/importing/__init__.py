"""Import services: turn a file into a plan (new / changed / unchanged / error per row), record it, apply it
atomically, or discard it. Every format goes through here; the importers only read files.

Rules (ARCHITECTURE "Flows" 1): imports preview a diff, then apply atomically; errors are per row; no partial
writes. A plan with any error cannot be applied: the user fixes the file and uploads it again. Apply plans
again against the inventory as it is then, inside the transaction that writes, so what changed since the
preview is caught. References (stores, purposes, users, tenants, services, parties) must exist: an import
never creates them.
"""

from __future__ import annotations

from inventory.importing.apply import ImportApplyError, import_percent, key_import_apply, key_import_run
from inventory.importing.jobs import (
    BROKER_DOWN,
    fail_stale_imports,
    key_import_retry,
    key_import_start,
    runs_in_background,
)
from inventory.importing.plan import Action, FieldChange, ImportPlan, RowPlan, RowWarning, WarningKind
from inventory.importing.planner import key_import_plan
from inventory.importing.progress import progress_percent, progress_read
from inventory.importing.records import (
    MAX_STORED_ERRORS,
    import_summary,
    key_import_discard,
    key_import_plan_for,
    key_import_preview,
    key_import_read,
)

__all__ = [
    "BROKER_DOWN",
    "MAX_STORED_ERRORS",
    "Action",
    "FieldChange",
    "ImportApplyError",
    "ImportPlan",
    "RowPlan",
    "RowWarning",
    "WarningKind",
    "fail_stale_imports",
    "import_percent",
    "import_summary",
    "key_import_apply",
    "key_import_discard",
    "key_import_plan",
    "key_import_plan_for",
    "key_import_preview",
    "key_import_read",
    "key_import_retry",
    "key_import_run",
    "key_import_start",
    "progress_percent",
    "progress_read",
    "runs_in_background",
]
