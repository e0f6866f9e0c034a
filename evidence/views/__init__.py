"""Evidence pages. Reads go through ``evidence.selectors``; writes through ``evidence.services``."""

from __future__ import annotations

from evidence.views.records import (
    ChangeEventDetailView,
    ChangeEventFormView,
    ChangeEventListView,
    EvaluationDetailView,
    EvaluationFormView,
    EvaluationListView,
)

__all__ = [
    "ChangeEventDetailView",
    "ChangeEventFormView",
    "ChangeEventListView",
    "EvaluationDetailView",
    "EvaluationFormView",
    "EvaluationListView",
]
