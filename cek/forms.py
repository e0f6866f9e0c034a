from __future__ import annotations

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils import formats


class LoginForm(AuthenticationForm):
    """The standard login form, plus a clear reason when an account's access limit has passed.

    The reason is given only after the correct password, so it reveals nothing to a guesser.
    """

    error_messages = {
        **AuthenticationForm.error_messages,
        "access_expired": "Your access ended on %(date)s. Ask a GRC administrator to extend it.",
    }

    def clean(self):
        try:
            return super().clean()
        except forms.ValidationError:
            # Noted by cek.access.ExpiringAccessBackend when the password was right: checking it again here
            # would hash twice for existing usernames only, which tells them apart by timing.
            ended_at = getattr(self.request, "cek_access_ended_at", None)
            if ended_at is not None:
                raise forms.ValidationError(
                    self.error_messages["access_expired"],
                    code="access_expired",
                    params={"date": formats.date_format(ended_at, "DATETIME_FORMAT")},
                ) from None
            raise
