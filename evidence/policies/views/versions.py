"""Policy versions: create and edit drafts, submit, withdraw, delete drafts, record approval, send to
audiences, and download the document."""

from __future__ import annotations

import base64
import logging

from django.contrib import messages
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils.html import format_html
from django.views import View
from django.views.generic import TemplateView

from cek.pages import EVERYONE, LoadsObjects, ReadMixin, ServiceFormView
from cek.roles import GrcRequiredMixin
from evidence.documents.uploads import CONTENT_TYPES, file_sha256
from evidence.models import Policy, PolicyVersion, VersionStatus
from evidence.policies import selectors, services
from evidence.policies.forms import GOVERNANCE_BODIES, ApprovalForm, CommunicationForm, PolicyVersionForm

logger = logging.getLogger(__name__)


class VersionMixin(LoadsObjects):
    """Loads ``self.version`` (any version: these views are GRC's)."""

    def load(self) -> None:
        self.version = get_object_or_404(PolicyVersion.objects.select_related("policy"), pk=self.kwargs["pk"])

    def get_context_data(self, **kwargs):
        return super().get_context_data(version=self.version, policy=self.version.policy, **kwargs)


class VersionFormView(GrcRequiredMixin, LoadsObjects, ServiceFormView):
    """Create a version of a policy (``policy_pk``) or edit a draft (``pk``)."""

    template_name = "evidence/version_form.html"
    form_class = PolicyVersionForm

    def load(self) -> None:
        if "pk" in self.kwargs:
            self.object = get_object_or_404(PolicyVersion.objects.select_related("policy"), pk=self.kwargs["pk"])
            self.policy = self.object.policy
        else:
            self.policy = get_object_or_404(Policy, pk=self.kwargs["policy_pk"])
            self.object = PolicyVersion(policy=self.policy)

    def get(self, request, *args, **kwargs):
        refused = self._refusal()
        return refused or super().get(request, *args, **kwargs)

    def post(self, request, *args, **kwargs):
        refused = self._refusal()
        return refused or super().post(request, *args, **kwargs)

    def _refusal(self):
        if self.object.pk and not self.object.is_editable:
            messages.error(
                self.request,
                f"Version {self.object.label} is {self.object.get_status_display().lower()} and frozen: it cannot be "
                "edited. Create a new version instead.",
            )
            return redirect(self.policy.get_absolute_url())
        if self.policy.is_retired:
            messages.error(self.request, f"“{self.policy}” is retired; it gets no new versions.")
            return redirect(self.policy.get_absolute_url())
        return None

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "instance": self.object}

    def perform(self, form):
        return services.policy_version_save(version=form.instance, actor=self.request.user, document=form.inspected)

    @property
    def success_message(self) -> str:
        if "pk" in self.kwargs:
            return "Version {obj.label} saved."
        return "Version {obj.label} created as a draft. Submit it for approval when it is ready."

    def get_context_data(self, **kwargs):
        return super().get_context_data(policy=self.policy, version=self.object if self.object.pk else None, **kwargs)


class VersionActionView(GrcRequiredMixin, VersionMixin, View):
    """A POST-only state change of a version through a service."""

    http_method_names = ["post"]
    action = None  # the service
    done = ""

    def post(self, request, *args, **kwargs):
        try:
            type(self).action(version=self.version, actor=request.user)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, self.done.format(version=self.version))
        return redirect(self.version.policy.get_absolute_url())


class VersionSubmitView(VersionActionView):
    action = services.policy_version_submit
    done = "Version {version.label} submitted for approval: its content is fixed now."


class VersionWithdrawView(VersionActionView):
    action = services.policy_version_withdraw
    done = "Version {version.label} is a draft again."


class VersionDeleteView(GrcRequiredMixin, VersionMixin, TemplateView):
    template_name = "evidence/version_confirm_delete.html"

    def post(self, request, *args, **kwargs):
        try:
            services.policy_version_delete(version=self.version, actor=request.user)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, f"Draft version {self.version.label} deleted.")
        return redirect(self.version.policy.get_absolute_url())


class VersionApproveView(GrcRequiredMixin, VersionMixin, ServiceFormView):
    """Record the governance body's approval (GRC only)."""

    template_name = "evidence/version_approve.html"
    form_class = ApprovalForm

    def get_initial(self):
        return {"approver": self.request.user.pk}

    def perform(self, form):
        services.policy_version_approve(version=self.version, actor=self.request.user, **form.cleaned_data)
        return self.version

    def form_valid(self, form):
        response = super().form_valid(form)
        if response.status_code == 302:
            previous = self.version.policy.versions.filter(superseded_by=self.version).first()
            note = f" Version {previous.label} is superseded." if previous else ""
            messages.success(
                self.request,
                format_html(
                    "Version {} approved and in force.{} Send it to its audiences so they acknowledge it.",
                    self.version.label,
                    note,
                ),
            )
        return response

    def get_success_url(self) -> str:
        return self.version.policy.get_absolute_url()

    def get_context_data(self, **kwargs):
        return super().get_context_data(governance_bodies=GOVERNANCE_BODIES, **kwargs)

    def get(self, request, *args, **kwargs):
        if self.version.status != VersionStatus.IN_APPROVAL:
            messages.error(
                request,
                f"Version {self.version.label} is {self.version.get_status_display().lower()}; only a version "
                "submitted for approval can be approved.",
            )
            return redirect(self.version.policy.get_absolute_url())
        return super().get(request, *args, **kwargs)


class VersionSendView(GrcRequiredMixin, VersionMixin, ServiceFormView):
    """Send the version in force to audience groups."""

    template_name = "evidence/version_send.html"
    form_class = CommunicationForm

    def get_form(self, form_class=None):
        form = super().get_form(form_class)
        groups = Group.objects.annotate(members=Count("user", filter=Q(user__is_active=True))).order_by("name")
        form.fields["audiences"].queryset = groups
        form.fields["audiences"].label_from_instance = lambda g: f"{g.name} ({g.members} active members)"
        return form

    def get(self, request, *args, **kwargs):
        if self.version.status != VersionStatus.APPROVED:
            messages.error(request, "Only the approved version in force can be sent.")
            return redirect(self.version.policy.get_absolute_url())
        return super().get(request, *args, **kwargs)

    def perform(self, form):
        self.result = services.communication_send(
            version=self.version,
            audiences=form.cleaned_data["audiences"],
            actor=self.request.user,
            message=form.cleaned_data["message"],
        )
        return self.version

    def form_valid(self, form):
        response = super().form_valid(form)
        if response.status_code == 302:
            result = self.result
            parts = [f"{result.emailed} recipient{'s' if result.emailed != 1 else ''} will be e-mailed"]
            if result.already:
                parts.append(f"{result.already} had been sent this version before (not e-mailed again)")
            if result.without_email:
                parts.append(f"{result.without_email} have no e-mail address and see it in the app only")
            messages.success(self.request, f"Version {self.version.label} sent: {'; '.join(parts)}.")
        return response

    def get_success_url(self) -> str:
        return self.version.policy.get_absolute_url()


class VersionDocumentView(ReadMixin, View):
    """The uploaded document, as an attachment, after checking it still matches its recorded SHA-256."""

    allowed_roles = EVERYONE

    def get(self, request, pk: int):
        version = get_object_or_404(selectors.versions_for(request.user).select_related("policy"), pk=pk)
        if not version.document:
            raise Http404("This version has no uploaded document.")
        try:
            digest = file_sha256(version.document)
        except FileNotFoundError:
            logger.error("Policy document of version %s is missing from storage: %s", version.pk, version.document.name)
            raise Http404("The document file is missing from storage; tell an administrator.") from None
        if digest != version.document_sha256:
            logger.error("Policy document of version %s does not match its SHA-256.", version.pk)
            return HttpResponse(
                "The stored document no longer matches the SHA-256 recorded when it was uploaded, so it is not "
                "served. Tell an administrator: the file was changed outside the application.",
                status=409,
                content_type="text/plain; charset=utf-8",
            )
        response = FileResponse(
            version.document.open("rb"),
            as_attachment=True,
            filename=version.document_name or version.document.name.rsplit("/", 1)[-1],
            content_type=CONTENT_TYPES[version.document_kind],
        )
        response["X-Content-Type-Options"] = "nosniff"
        response["Content-Security-Policy"] = "default-src 'none'; sandbox"
        response["Cache-Control"] = "private, no-store"
        response["Repr-Digest"] = f"sha-256=:{base64.b64encode(bytes.fromhex(digest)).decode()}:"
        return response
