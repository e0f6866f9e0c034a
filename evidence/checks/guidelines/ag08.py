"""AG-8: infrastructure-as-code enforces purpose separation (manual until IaC scans are recorded)."""

from __future__ import annotations

from evidence.checks.guidelines.manual import ManualCheck


class IacEnforcement(ManualCheck):
    guideline_id = "AG-8"
    title = "IaC and deployment templates enforce purpose separation"
    missing_data = "No infrastructure-as-code scan results are recorded in the app yet."
