"""The evidence app's Celery tasks live with their feature (``evidence.<feature>.tasks``). This module only imports
those modules, because the worker finds tasks by autodiscovery (``cek/celery.py``), which imports ``<app>.tasks``.

Listed here rather than in ``cek/celery.py``: the project package then knows nothing of the evidence features, and
a feature that adds tasks adds its name to ``FEATURES_WITH_TASKS``. Every task keeps its name
``evidence.tasks.<name>`` (the beat schedule in ``cek/settings.py`` and messages already queued use it); code
imports a task from its feature's module, never from this one.
"""

from __future__ import annotations

import importlib

FEATURES_WITH_TASKS = ("policies", "reviews", "campaigns", "findings", "checks", "packs", "usage", "alerts")

for feature in FEATURES_WITH_TASKS:
    importlib.import_module(f"evidence.{feature}.tasks")
