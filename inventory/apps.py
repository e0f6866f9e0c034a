from __future__ import annotations

from django.apps import AppConfig


class InventoryConfig(AppConfig):
    name = "inventory"
    verbose_name = "Key inventory"

    def ready(self) -> None:
        from inventory.filter_choices import connect_signals

        connect_signals()
