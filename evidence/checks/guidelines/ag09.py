"""AG-9: usage logging captures purpose metadata and detects misuse (manual until usage records exist)."""

from __future__ import annotations

from evidence.checks.guidelines.manual import ManualCheck


class UsageLogging(ManualCheck):
    guideline_id = "AG-9"
    title = "Usage logs capture purpose and detect misuse"
    missing_data = "No key usage records (audit logs) are imported into the app yet."
