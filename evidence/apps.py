from __future__ import annotations

from django.apps import AppConfig


class EvidenceConfig(AppConfig):
    name = "evidence"
    verbose_name = "Evidence"

    def ready(self) -> None:
        # The key page's usage panel (inventory cannot import evidence: it asks inventory.panels).
        from evidence.usage.panel import usage_panel
        from inventory.panels import register_key_panel

        register_key_panel("usage", usage_panel)
