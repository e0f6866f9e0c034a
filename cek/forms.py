from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import AuthenticationForm
from django.utils import formats

from cek.access import access_expired


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
            username, password = self.cleaned_data.get("username"), self.cleaned_data.get("password")
            user = get_user_model()._default_manager.filter(username=username).select_related("access").first()
            if user is not None and user.is_active and user.check_password(password or "") and access_expired(user):
                raise forms.ValidationError(
                    self.error_messages["access_expired"],
                    code="access_expired",
                    params={"date": formats.date_format(user.access.expires_at, "DATETIME_FORMAT")},
                ) from None
            raise
