"""Inventory pages: generic per-model pages described by ``Resource`` rows, plus the key list and detail,
the SSRM page and the overview. Reads go through ``inventory.selectors``; writes through ``inventory.services``.
"""

from __future__ import annotations

from inventory.views.generic import ObjectDeleteView, ObjectDetailView, ObjectFormView, ObjectListView, Resource
from inventory.views.keys import KeyDetailView, KeyListView, MyKeysView
from inventory.views.pages import OverviewView, SsrmView
from inventory.views.resources import RESOURCES

__all__ = [
    "RESOURCES",
    "KeyDetailView",
    "KeyListView",
    "MyKeysView",
    "ObjectDeleteView",
    "ObjectDetailView",
    "ObjectFormView",
    "ObjectListView",
    "OverviewView",
    "Resource",
    "SsrmView",
]
