"""Validators and small helpers shared by the inventory's models."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.deconstruct import deconstructible

from cek.keymaterial import KeyMaterialValidator


# The path is the one migrations were written with (before models.py became a package): keep it stable.
@deconstructible(path="inventory.models.ChoiceListValidator")
class ChoiceListValidator:
    """A JSON list field holds only values from a fixed vocabulary."""

    def __init__(self, allowed: list[str], field: str) -> None:
        self.allowed, self.field = list(allowed), field

    def __call__(self, value) -> None:
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise ValidationError(f"{self.field} must be a list of values.", code="not_a_list")
        unknown = sorted(set(value) - set(self.allowed))
        if unknown:
            raise ValidationError(
                f"{self.field}: {', '.join(unknown)} not recognised; expected some of: {', '.join(self.allowed)}.",
                code="unknown_value",
            )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ChoiceListValidator) and (self.allowed, self.field) == (other.allowed, other.field)


def validate_choice_list(choices: type[models.TextChoices], field: str) -> ChoiceListValidator:
    return ChoiceListValidator(list(choices.values), field)


free_text = KeyMaterialValidator()


def days_after(start: dt.date, days: int) -> dt.date | None:
    """``start`` plus ``days``, or None when that is past the calendar's end (a period of millions of days never
    ends in practice; the arithmetic must not raise on it)."""
    try:
        return start + dt.timedelta(days=days)
    except OverflowError:
        return None
