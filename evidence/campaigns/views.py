"""Attestation campaigns: GRC's campaign pages (list, create, progress, launch, close, reassign, CSV export) and
the key owner's inbox (confirm selected / all, report a discrepancy). Auditors read campaigns; key owners see
their inbox. The findings pages are in ``evidence.findings.views``."""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import View
from django.views.generic import DetailView, ListView

from cek.exportguard import guarded_download
from cek.jobs.views import JobStatusView
from cek.pages import LenientPages, ServiceFormView, confirmation_page
from cek.roles import AnyRoleMixin, GrcRequiredMixin, ReadAllMixin, is_grc
from evidence.campaigns import confirm, results, selectors, services
from evidence.campaigns.facts import attach_facts
from evidence.campaigns.forms import AttestationFilterForm, CampaignForm, ReassignForm
from evidence.models import (
    Attestation,
    AttestationStatus,
    Campaign,
    CampaignStatus,
)
from evidence.usage.figures import RECENT_DAYS, recent_principals, store_has_usage

logger = logging.getLogger(__name__)


# --- Campaigns (GRC writes, auditors read) ------------------------------------------------------------------


class CampaignListView(LenientPages, ReadAllMixin, ListView):
    template_name = "evidence/campaign_list.html"
    context_object_name = "campaigns"
    paginate_by = settings.CEK_PAGE_SIZE

    def get_queryset(self):
        return selectors.campaign_list()

    def get_context_data(self, **kwargs):
        return super().get_context_data(can_edit=is_grc(self.request.user), today=timezone.localdate(), **kwargs)


class CampaignCreateView(GrcRequiredMixin, ServiceFormView):
    template_name = "evidence/campaign_form.html"
    form_class = CampaignForm
    success_message = "Campaign “{obj}” drafted: check its scope, then launch it."

    def perform(self, form):
        data = form.cleaned_data
        return services.campaign_create(
            actor=self.request.user,
            name=data["name"],
            due_on=data["due_on"],
            reminder_days=data["reminder_days"],
            statement_version=data["statement_version"] or None,
            store=data["store"],
            purpose=data["purpose"],
            tenant=data["tenant"],
            service=data["service"],
            only_changed=data["only_changed"],
        )


def _requeue_stalled_launches() -> None:
    """A launch lost with its task is queued again from the page too, so it recovers without beat; the page
    matters more than this sweep (beat, or the next view, runs it again)."""
    try:
        services.campaigns_requeue_stalled()
    except Exception:
        logger.exception("Queueing stalled campaign launches again failed")


class CampaignDetailView(ReadAllMixin, DetailView):
    """Progress overall and per owner, the statements and their digest, the keys without an addressee, and
    (for GRC) launch, close and reassign."""

    template_name = "evidence/campaign_detail.html"
    context_object_name = "campaign"
    queryset = Campaign.objects.select_related(
        "created_by", "launched_by", "closed_by", "scope_store", "scope_purpose", "scope_tenant", "scope_service"
    )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        campaign = self.object
        if campaign.status == CampaignStatus.LAUNCHING:
            _requeue_stalled_launches()
        today = timezone.localdate()
        context.update(
            today=today,
            can_edit=is_grc(self.request.user),
            progress=selectors.campaign_progress(campaign=campaign, today=today),
            in_scope=services.campaign_keys(campaign).count() if campaign.status == CampaignStatus.DRAFT else None,
            unaddressed=list(
                selectors.campaign_attestations(campaign=campaign).filter(
                    addressed_to__isnull=True, status=AttestationStatus.PENDING
                )[:50]
            ),
        )
        if campaign.keys_carried_over:
            # The first 50 carried-over keys with the attestation standing for each (one query).
            context["carried_over"] = list(
                campaign.carried_over.select_related("key", "attestation__campaign").order_by("key__name", "pk")[:50]
            )
        if context["unaddressed"] and context["can_edit"]:
            # One select per row, each named after its key (no shared id): the choices are read once.
            context["reassign_choices"] = [(v, label) for v, label in ReassignForm().fields["to"].choices if v]
        return context


class CampaignAttestationListView(LenientPages, ReadAllMixin, ListView):
    """Every attestation of a campaign, filtered by status, addressee or key name, with (for GRC) a reassign
    form on each pending one of a launched campaign."""

    template_name = "evidence/campaign_attestations.html"
    context_object_name = "attestations"
    paginate_by = settings.CEK_PAGE_SIZE

    def get_queryset(self):
        self.campaign = get_object_or_404(Campaign, pk=self.kwargs["pk"])
        self.filters = self.lenient_form(AttestationFilterForm, self.request.GET)
        data = self.filters.cleaned_data if self.filters.is_bound and self.filters.is_valid() else {}
        return selectors.campaign_attestations(
            campaign=self.campaign,
            status=data.get("status") or None,
            addressed_to=data.get("addressed_to"),
            unaddressed=bool(data.get("unaddressed")),
            key_name=data.get("q") or "",
        )

    def get_context_data(self, **kwargs):
        query = self.request.GET.copy()
        query.pop("page", None)
        return super().get_context_data(
            campaign=self.campaign,
            filters=self.filters,
            querystring=query.urlencode(),
            can_reassign=is_grc(self.request.user) and self.campaign.status == CampaignStatus.LAUNCHED,
            user_choices=[(value, label) for value, label in ReassignForm().fields["to"].choices if value],
            **kwargs,
        )


class CampaignStatusView(JobStatusView):
    """JSON for the launch progress bar: the common job status view (``cek.jobs.views``); without ``?shape=job``
    it answers the fields this URL always answered (status and keys done of total)."""

    kind_name = "campaign-launch"

    def legacy(self, status: dict, campaign: Campaign) -> dict:
        return {
            "status": campaign.status,
            "done": campaign.keys_done,
            "total": campaign.keys_total,
            "percent": campaign.launch_percent,
            "error": campaign.last_error,
        }


class CampaignActionView(GrcRequiredMixin, View):
    """GET: what launching or closing will do, with the button that does it; POST: do it, then back to the
    campaign page."""

    action = ""

    def get(self, request, pk):
        campaign = get_object_or_404(Campaign, pk=pk)
        expected = CampaignStatus.DRAFT if self.action == "launch" else CampaignStatus.LAUNCHED
        if campaign.status != expected:
            messages.info(
                request, f"“{campaign}” is {campaign.get_status_display().lower()}: nothing to {self.action}."
            )
            return HttpResponseRedirect(campaign.get_absolute_url())
        build = confirm.launch_confirmation if self.action == "launch" else confirm.close_confirmation
        return confirmation_page(request, build(campaign))

    def post(self, request, pk):
        campaign = get_object_or_404(Campaign, pk=pk)
        try:
            if self.action == "launch":
                campaign = services.campaign_launch(campaign=campaign, actor=request.user)
                if campaign.status == CampaignStatus.LAUNCHING:
                    messages.success(
                        request, f"Launching {campaign.keys_total} keys on a worker; progress shows below."
                    )
                else:
                    messages.success(request, f"Launched: {campaign.keys_done} attestations, owners e-mailed.")
            else:
                closed = services.campaign_close(campaign=campaign, actor=request.user)
                messages.success(
                    request,
                    f"Campaign closed: its attestations are frozen as evidence; the results ({closed.results_rows} "
                    f"rows) have SHA-256 {closed.results_sha256}.",
                )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        return HttpResponseRedirect(campaign.get_absolute_url())


class AttestationReassignView(GrcRequiredMixin, View):
    def post(self, request, pk):
        attestation = get_object_or_404(Attestation.objects.select_related("campaign", "key"), pk=pk)
        form = ReassignForm(request.POST)
        if not form.is_valid():
            messages.error(request, "Choose the user to address the attestation to.")
        else:
            try:
                services.attestation_reassign(attestation=attestation, actor=request.user, to=form.cleaned_data["to"])
                messages.success(request, f"{attestation.key} is now addressed to {form.cleaned_data['to']}.")
            except ValidationError as exc:
                messages.error(request, " ".join(exc.messages))
        back = request.POST.get("next", "")
        if url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
            return HttpResponseRedirect(back)
        return HttpResponseRedirect(attestation.campaign.get_absolute_url())


class CampaignExportView(ReadAllMixin, View):
    """The campaign's results as CSV, one row per key (streamed; one query). The bytes are those of
    ``results.campaign_results_csv``, so a closed campaign's export hashes to its recorded results digest."""

    def get(self, request, pk):
        campaign = get_object_or_404(Campaign, pk=pk)
        # Built whole (spooled) and checked by the export guard before the first byte is sent.
        return guarded_download(
            results.campaign_results_csv(campaign),
            filename=f"campaign-{campaign.pk}-results.csv",
            content_type="text/csv; charset=utf-8",
        )


# --- The key owner's inbox ----------------------------------------------------------------------------------


class InboxView(LenientPages, AnyRoleMixin, ListView):
    """Pending attestations the user may answer, with bulk confirm and per-key discrepancy forms."""

    template_name = "evidence/campaign_inbox.html"
    context_object_name = "attestations"
    paginate_by = 100

    def get_queryset(self):
        return selectors.attestation_inbox(user=self.request.user).annotate(store_has_usage=store_has_usage())

    def get_context_data(self, **kwargs):
        """Each pending attestation's key gets its recent principals from the usage logs (``recent_usage``): one
        query for the page's keys. Each also gets the facts it asks about and the warnings the checks found
        (``facts.attach_facts``: three queries for the page). The keys are those the user is asked to attest, so their callers are theirs to
        see (the evidence for "access is limited to the listed principals")."""
        context = super().get_context_data(**kwargs)
        context["answered"] = list(selectors.attestations_answered_by(user=self.request.user))
        context["today"] = timezone.localdate()
        attestations = context["attestations"]
        with_usage = [a.key_id for a in attestations if a.store_has_usage]
        recent = recent_principals(with_usage, today=context["today"]) if with_usage else {}
        for attestation in attestations:
            attestation.recent_usage = recent.get(attestation.key_id)
        attach_facts(attestations, today=context["today"])
        context["usage_days"] = RECENT_DAYS
        return context


class InboxConfirmView(AnyRoleMixin, View):
    """Confirm the selected keys, or all pending ones; only with "I have reviewed …" ticked (a confirmation is a
    statement about each key, not a click)."""

    def post(self, request):
        if request.POST.get("reviewed") != "1":
            messages.error(
                request,
                "Nothing was confirmed: tick “I have reviewed these keys” once you have checked each key's purpose, "
                "bindings and access.",
            )
            return HttpResponseRedirect(reverse("evidence:attestation-inbox"))
        try:
            if request.POST.get("all") == "1":
                count = services.attestation_confirm_all(actor=request.user)
            else:
                ids = [int(v) for v in request.POST.getlist("attestation") if v.isdigit()]
                count = services.attestation_confirm(attestations=ids, actor=request.user)
            messages.success(request, f"Confirmed {count} key{'s' if count != 1 else ''}.")
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        return HttpResponseRedirect(reverse("evidence:attestation-inbox"))


class InboxDiscrepancyView(AnyRoleMixin, View):
    def post(self, request, pk):
        attestation = get_object_or_404(Attestation, pk=pk)
        try:
            answered, _finding = services.attestation_report_discrepancy(
                attestation=attestation, actor=request.user, comment=request.POST.get("comment", "")
            )
            messages.success(request, f"Discrepancy on {answered.key} reported; GRC will follow it up as a finding.")
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        return HttpResponseRedirect(reverse("evidence:attestation-inbox"))
