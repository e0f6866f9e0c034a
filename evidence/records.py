"""What the evidence records of several features share: the ``WriteOnceModel`` base and the
``FrozenRecordError`` a write to a frozen record raises (the ``TimeStamped`` base is in ``cek.models``, shared
with the inventory).

Records that are evidence once written are frozen in the model as well as in the services, so no path (form,
service, admin, shell, ``QuerySet.update``) can change them. A ``WriteOnceModel`` (policy approvals,
communications, acknowledgements, manual evidence) is saved once and never changed or deleted; other records
freeze part of themselves (an approved policy version, a published answer, a closed campaign, a ready pack) and
raise ``FrozenRecordError`` in their own ``save``.

``WriteOnceModel`` is abstract: migrations do not name it.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models


class FrozenRecordError(ValidationError):
    """A write to a record that is frozen (an approved version, an approval, an acknowledgement...)."""


class WriteOnceQuerySet(models.QuerySet):
    """Bulk updates and deletes are refused: the rows are evidence."""

    def update(self, **kwargs):
        raise FrozenRecordError(f"{self.model._meta.verbose_name_plural.capitalize()} cannot be changed once recorded.")

    def delete(self):
        raise FrozenRecordError(f"{self.model._meta.verbose_name_plural.capitalize()} cannot be deleted.")


class WriteOnceModel(models.Model):
    """Saved once, never changed or deleted afterwards (many-to-many values are set by the creating service)."""

    objects = WriteOnceQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise FrozenRecordError(
                f"This {self._meta.verbose_name} was recorded on {self.recorded_on_display()} and cannot be changed; "
                "record a new one instead."
            )
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise FrozenRecordError(f"{self._meta.verbose_name.capitalize()}s are evidence and cannot be deleted.")

    def recorded_on_display(self) -> str:
        return "an earlier date"
