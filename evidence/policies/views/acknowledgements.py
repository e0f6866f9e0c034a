"""Acknowledgements: the user's pending versions with a one-click Acknowledge button, and their record."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.views import View
from django.views.generic import TemplateView

from cek.pages import ReadMixin, safe_next
from cek.templatetags.dates import words_datetime
from evidence.models import PolicyVersion
from evidence.policies import selectors, services


class AcknowledgementListView(ReadMixin, TemplateView):
    template_name = "evidence/acknowledgement_list.html"

    def get_context_data(self, **kwargs):
        user = self.request.user
        return super().get_context_data(
            pending=list(selectors.acknowledgements_pending(user=user)),
            done=list(selectors.acknowledgements_of(user=user)[:100]),
            **kwargs,
        )


class AcknowledgeView(ReadMixin, View):
    """POST: the signed-in user acknowledges a version in force that was sent to them (one click)."""

    http_method_names = ["post"]

    def post(self, request, pk: int):
        version = get_object_or_404(PolicyVersion.objects.select_related("policy"), pk=pk)
        back = safe_next(request, reverse("evidence:acknowledgement-list"))
        try:
            acknowledgement, created = services.acknowledgement_record(version=version, user=request.user)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect(back)
        when = timezone.localtime(acknowledgement.acknowledged_at)
        if created:
            messages.success(request, f"You acknowledged {version} on {words_datetime(when)}.")
        else:
            messages.info(request, f"You had already acknowledged {version} on {words_datetime(when)}.")
        return redirect(back)
