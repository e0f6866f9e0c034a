"""The policy list (with the user's pending acknowledgements), the policy page and the policy form. Recording a
review is in ``evidence.reviews.views``."""

from __future__ import annotations

from django.conf import settings
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.views.generic import DetailView, ListView

from cek.history import combined_history
from cek.pages import LenientPages, LoadsObjects, ReadMixin, ServiceFormView
from cek.roles import GrcRequiredMixin, can_read_all
from evidence.models import Policy, PolicyArea, PolicyKind, VersionStatus
from evidence.policies import selectors, services
from evidence.policies.forms import PolicyForm
from evidence.reviews import schedule as review_schedule


class PolicyListView(LenientPages, ReadMixin, ListView):
    """Every policy: status, version in force, last review, next due (overdue in red), acknowledgement
    coverage. Filters and sorting go through the URL. The user's pending acknowledgements come first."""

    template_name = "evidence/policy_list.html"
    paginate_by = settings.CEK_PAGE_SIZE
    context_object_name = "policies"

    def get_queryset(self):
        self.today = timezone.localdate()
        params = self.request.GET
        self.filters = {
            "q": self.text_param("q", "Search"),
            "status": self.choice_param("status", "Status", selectors.POLICY_STATUSES),
            "kind": self.choice_param("kind", "Kind", PolicyKind.values),
            "area": self.choice_param("area", "Area", PolicyArea.values),
            "overdue": self.choice_param("overdue", "Review overdue only", ("1",)) == "1",
        }
        self.ordering = params.get("ordering", "title")
        return selectors.policy_list(user=self.request.user, today=self.today, ordering=self.ordering, **self.filters)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        for policy in context["policies"]:
            policy.coverage_percent = selectors.coverage_percent(policy.acknowledged, policy.recipients)
            policy.overdue = policy.is_review_overdue(self.today)
            policy.status_label = selectors.POLICY_STATUSES.get(policy.status_code, policy.status_code)
        context.update(
            today=self.today,
            filters=self.filters,
            ordering=self.ordering,
            statuses=list(selectors.POLICY_STATUSES.items()),
            kinds=PolicyKind.choices,
            areas=PolicyArea.choices,
            counts=selectors.policy_review_status_counts(today=self.today),
            pending=list(selectors.acknowledgements_pending(user=self.request.user)),
            filtered=any(self.filters.values()),
        )
        return context


class PolicyDetailView(ReadMixin, DetailView):
    """One policy: versions with their approval, document and SHA-256, communications and coverage per
    audience, reviews, changes, evaluations and the change history."""

    template_name = "evidence/policy_detail.html"
    context_object_name = "policy"

    def get_queryset(self):
        return selectors.policy_detail(user=self.request.user)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        policy: Policy = self.object
        user = self.request.user
        today = timezone.localdate()
        versions = policy.visible_versions
        sent = [v for v in versions if v.communications.all()]
        coverage = selectors.version_coverage(versions=sent)
        for version in versions:
            version.coverage = coverage.get(version.pk)
        reviews = list(policy.reviews.all())
        approvals = [v.approval.approved_on for v in versions if hasattr(v, "approval")]
        last = review_schedule.last_reviewed(
            max((r.reviewed_on for r in reviews), default=None), max(approvals, default=None)
        )
        changes = sorted(policy.change_events.all(), key=lambda e: (e.occurred_on, e.pk), reverse=True)
        for event in changes:
            event.is_open = review_schedule.change_is_open(occurred_on=event.occurred_on, last_reviewed_on=last)
        current = policy.current_version
        pending_for_me = (
            current is not None and selectors.acknowledgements_pending(user=user).filter(pk=current.pk).exists()
        )
        acknowledged_by_me = (
            current is not None and current.acknowledgements.filter(recipient=user).values("acknowledged_at").first()
        )
        history_records = [("Policy", policy)] + [(f"Version {v.label}", v) for v in versions]
        context.update(
            today=today,
            versions=versions,
            reviews=reviews,
            changes=changes,
            evaluations=sorted(policy.evaluations.all(), key=lambda e: (e.performed_on, e.pk), reverse=True),
            last_reviewed_on=last,
            overdue=policy.is_review_overdue(today),
            days_left=review_schedule.days_until(policy.next_review_due_on, today)
            if policy.next_review_due_on
            else None,
            pending_for_me=pending_for_me,
            acknowledged_by_me=acknowledged_by_me,
            show_names=can_read_all(user),
            history=combined_history(history_records),
            statuses=VersionStatus,
        )
        return context


class PolicyFormView(GrcRequiredMixin, LoadsObjects, ServiceFormView):
    """Create (no pk) or edit (pk) a policy's own fields."""

    template_name = "evidence/form.html"
    form_class = PolicyForm

    def load(self) -> None:
        self.object = get_object_or_404(Policy, pk=self.kwargs["pk"]) if "pk" in self.kwargs else Policy()

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "instance": self.object}

    def get_initial(self):
        return {"owner": self.request.user.pk} if self.object.pk is None else {}

    @property
    def success_message(self) -> str:
        return "Policy “{obj}” saved." if "pk" in self.kwargs else "Policy “{obj}” created. Add its first version."

    def perform(self, form):
        return services.policy_save(policy=form.instance, actor=self.request.user)

    def get_context_data(self, **kwargs):
        editing = self.object.pk is not None
        return super().get_context_data(
            title=f"Edit “{self.object}”" if editing else "New policy or procedure",
            back=self.object.get_absolute_url() if editing else None,
            cancel=reverse("evidence:policy-list"),
            submit="Save changes" if editing else "Create",
            intro="Metadata only: never paste a key, secret, token or password into any field.",
            **kwargs,
        )
