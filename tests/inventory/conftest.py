"""Fixtures shared by the inventory tests."""

from __future__ import annotations

from tests.inventory.importers.test_cbom_import import varied_inventory  # noqa: F401 - a varied inventory
