"""Personal API tokens page: list your tokens, create one (its value is shown once), revoke one.

Any logged-in user manages their own tokens; what a token may do is decided by the user's role when it is
used. The raw token is never stored, logged or put in the session: it is rendered in the response to the
POST that created it (marked not cacheable) and is gone after that.
"""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from cek.apitokens import api_token_issue, api_token_revoke
from cek.forms import DateInput, RefusesKeyMaterial
from cek.keymaterial import check_text
from cek.models import ApiToken, TokenScope
from cek.roles import is_grc


def expiry_from_date(day: dt.date | None) -> dt.datetime | None:
    """A token with expiry date D works through D and stops at the start of the next day (local time)."""
    if day is None:
        return None
    return timezone.make_aware(dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min))


class ApiTokenForm(RefusesKeyMaterial, forms.Form):
    name = forms.CharField(max_length=100, help_text="What the token is for, e.g. “CI pipeline” or “nightly export”.")
    scope = forms.ChoiceField(
        choices=TokenScope.choices,
        initial=TokenScope.FULL,
        label="What it may do",
        help_text="A CI pipeline that records IaC scans needs nothing more: a token limited to that cannot read "
        "or change anything else if it leaks.",
    )
    expires_on = forms.DateField(
        required=False,
        label="Expires on",
        widget=DateInput(),
        help_text="The token works through this date. Leave empty for no expiry (revoke it when done).",
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        if not is_grc(user):  # only GRC can record scans, so only GRC is offered the scope
            del self.fields["scope"]

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        check_text(name, field="The token name")
        return name

    def clean_expires_on(self) -> dt.date | None:
        day = self.cleaned_data.get("expires_on")
        if day is not None and day < timezone.localdate():
            raise forms.ValidationError("The expiry date is in the past; choose today or a later date.")
        return day


@method_decorator(never_cache, name="dispatch")
class TokenListView(View):
    template_name = "cek/tokens.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        return self._render(request, form=ApiTokenForm(user=request.user))

    def post(self, request: HttpRequest) -> HttpResponse:
        form = ApiTokenForm(request.POST, user=request.user)
        if not form.is_valid():
            return self._render(request, form=form)
        token, raw = api_token_issue(
            user=request.user,
            name=form.cleaned_data["name"],
            expires_at=expiry_from_date(form.cleaned_data["expires_on"]),
            scope=form.cleaned_data.get("scope") or TokenScope.FULL,
        )
        return self._render(request, form=ApiTokenForm(user=request.user), new_token=token, raw_token=raw)

    def _render(self, request: HttpRequest, *, form: ApiTokenForm, **extra) -> HttpResponse:
        tokens = list(ApiToken.objects.filter(user=request.user).order_by("-created_at"))
        for token in tokens:
            token.password_changed = token.outlived_password(encoded_password=request.user.password)
        return render(request, self.template_name, {"form": form, "tokens": tokens, **extra})


@require_POST
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    """Revoke one of your own tokens; someone else's token is a 404 (not a 403: its existence is private)."""
    token = get_object_or_404(ApiToken, pk=pk, user=request.user)
    already = token.revoked_at is not None
    api_token_revoke(token=token)
    if already:
        messages.info(request, f"The token “{token.name}” was already revoked.")
    else:
        messages.success(request, f"The token “{token.name}” is revoked: requests that use it are now refused.")
    return redirect("api-tokens")
