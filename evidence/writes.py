"""What the writes of every evidence feature (``evidence.<feature>.services``) share: the guards (GRC only, no
future dates, retired policies are records). Attribution in the history tables is ``cek.history``'s."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from cek.roles import is_grc
from evidence.models import Policy


def require_grc(actor, what: str) -> None:
    if not is_grc(actor):
        raise PermissionDenied(f"Only GRC staff can {what}.")


def today_local() -> dt.date:
    return timezone.localdate()


def not_in_future(day: dt.date | None, field: str, what: str) -> None:
    if day is not None and day > today_local():
        raise ValidationError({field: f"{what} cannot be in the future ({day:%Y-%m-%d} is after today)."})


def refuse_if_retired(policy: Policy) -> None:
    retired_on = Policy.objects.filter(pk=policy.pk).values_list("retired_on", flat=True).first()
    if retired_on is not None:
        raise ValidationError(
            f"“{policy}” was retired on {retired_on:%Y-%m-%d}; a retired policy is kept unchanged as a record."
        )
