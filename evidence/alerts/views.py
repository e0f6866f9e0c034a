"""The log of notifications (GRC): every e-mail and webhook sent about new findings, its status and attempts, why
a failed one failed, and a button to retry it."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.views import View
from django.views.generic import ListView

from cek.jobs.watchdog import watchdog_soon
from cek.pages import LenientPages
from cek.roles import RoleRequiredMixin
from evidence.alerts import selectors
from evidence.alerts.models import AlertChannel, AlertDelivery, AlertStatus
from evidence.alerts.services import alert_delivery_retry, webhook_label


class AlertDeliveryListView(LenientPages, RoleRequiredMixin, ListView):
    template_name = "evidence/alert_list.html"
    context_object_name = "deliveries"
    paginate_by = settings.CEK_PAGE_SIZE

    def filters(self) -> dict[str, str]:
        return {
            "status": self.choice_param("status", "Status", AlertStatus.values),
            "channel": self.choice_param("channel", "Channel", AlertChannel.values),
        }

    def get_queryset(self):
        watchdog_soon(AlertDelivery.job)
        return selectors.deliveries(**self.filters())

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            filters=self.filters(),
            statuses=AlertStatus.choices,
            channels=AlertChannel.choices,
            counts=selectors.status_counts(),
            webhooks=[
                (webhook_label(url), sorted(severities, key=selectors.SEVERITY_ORDER.index))
                for url, severities in settings.CEK_ALERT_WEBHOOKS
            ],
            email_severities=sorted(settings.CEK_ALERT_EMAIL_SEVERITIES, key=selectors.SEVERITY_ORDER.index),
            max_attempts=settings.CEK_ALERT_MAX_ATTEMPTS,
        )
        return context


class AlertDeliveryRetryView(RoleRequiredMixin, View):
    def post(self, request, pk: int):
        delivery = get_object_or_404(AlertDelivery, pk=pk)
        try:
            alert_delivery_retry(delivery=delivery, actor=request.user)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(
                request, f"The {delivery.get_channel_display().lower()} to {delivery.target} is queued again."
            )
        return redirect("evidence:alert-list")
