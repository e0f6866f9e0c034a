"""Significant changes (which make policy reviews due) and effectiveness evaluations: list, detail, forms; and
recording a review of a policy."""

from __future__ import annotations

from django.conf import settings
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.views.generic import DetailView, ListView

from cek.history import combined_history
from cek.pages import LenientPages, LoadsObjects, ReadMixin, ServiceFormView
from cek.roles import GrcRequiredMixin
from cek.templatetags.dates import words_date
from evidence.models import (
    ChangeEvent,
    ChangeKind,
    EffectivenessEvaluation,
    EvaluationKind,
    EvaluationResult,
    Policy,
    PolicyReview,
)
from evidence.reviews import schedule as review_schedule
from evidence.reviews import selectors, services
from evidence.reviews.forms import ChangeEventForm, EvaluationForm, ReviewForm

# --- Change events -----------------------------------------------------------------------------------


class ChangeEventListView(LenientPages, ReadMixin, ListView):
    template_name = "evidence/changeevent_list.html"
    paginate_by = settings.CEK_PAGE_SIZE
    context_object_name = "events"

    def get_queryset(self):
        self.kind = self.choice_param("kind", "Kind", ChangeKind.values)
        events = selectors.change_event_list(user=self.request.user)
        return events.filter(kind=self.kind) if self.kind else events

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            kinds=ChangeKind.choices,
            kind=self.kind,
            review_days=settings.CEK_CHANGE_REVIEW_DAYS,
            today=timezone.localdate(),
            **kwargs,
        )


class ChangeEventDetailView(ReadMixin, DetailView):
    template_name = "evidence/changeevent_detail.html"
    context_object_name = "event"

    def get_queryset(self):
        return selectors.change_event_list(user=self.request.user)

    def get_context_data(self, **kwargs):
        event = self.object
        inputs = selectors.policy_review_inputs(policy_ids=[p.pk for p in event.policies.all()])
        affected = []
        for policy in event.policies.all():
            last = inputs[policy.pk].last_reviewed_on if policy.pk in inputs else None
            is_open = review_schedule.change_is_open(occurred_on=event.occurred_on, last_reviewed_on=last)
            affected.append((policy, is_open, last))
        return super().get_context_data(
            affected=affected, today=timezone.localdate(), history=combined_history([("Change", event)]), **kwargs
        )


class ChangeEventFormView(GrcRequiredMixin, LoadsObjects, ServiceFormView):
    template_name = "evidence/form.html"
    form_class = ChangeEventForm

    def load(self) -> None:
        self.object = get_object_or_404(ChangeEvent, pk=self.kwargs["pk"]) if "pk" in self.kwargs else ChangeEvent()

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "instance": self.object}

    def get_initial(self):
        initial = {} if self.object.pk else {"occurred_on": timezone.localdate()}
        if "policy" in self.request.GET and not self.object.pk:
            initial["policies"] = [self.request.GET["policy"]]
        return initial

    @property
    def success_message(self) -> str:
        if "pk" in self.kwargs:
            return "Change “{obj}” saved. Reviews of the affected policies are due by " + self._due() + "."
        return "Change “{obj}” recorded. Reviews of the affected policies are due by " + self._due() + "."

    def _due(self) -> str:
        return words_date(self.saved.review_due_on)

    def perform(self, form):
        return services.change_event_save(
            event=form.instance, actor=self.request.user, policies=form.cleaned_data["policies"]
        )

    def get_context_data(self, **kwargs):
        editing = self.object.pk is not None
        return super().get_context_data(
            title=f"Edit change “{self.object}”" if editing else "Record a significant change",
            back=self.object.get_absolute_url() if editing else None,
            cancel=reverse("evidence:changeevent-list"),
            submit="Save changes" if editing else "Record the change",
            intro=f"A significant system, model or regulatory change makes a review of the affected policies due "
            f"within {settings.CEK_CHANGE_REVIEW_DAYS} days (counted from the change, or from today if it is "
            "recorded late). The deadline is fixed when the change is recorded.",
            **kwargs,
        )


# --- Effectiveness evaluations ----------------------------------------------------------------------


class EvaluationListView(LenientPages, ReadMixin, ListView):
    template_name = "evidence/evaluation_list.html"
    paginate_by = settings.CEK_PAGE_SIZE
    context_object_name = "evaluations"

    def get_queryset(self):
        self.kind = self.choice_param("kind", "Kind", EvaluationKind.values)
        self.result = self.choice_param("result", "Result", EvaluationResult.values)
        evaluations = selectors.evaluation_list(user=self.request.user)
        if self.kind:
            evaluations = evaluations.filter(kind=self.kind)
        if self.result:
            evaluations = evaluations.filter(result=self.result)
        return evaluations

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            kinds=EvaluationKind.choices, results=EvaluationResult.choices, kind=self.kind, result=self.result, **kwargs
        )


class EvaluationDetailView(ReadMixin, DetailView):
    template_name = "evidence/evaluation_detail.html"
    context_object_name = "evaluation"

    def get_queryset(self):
        return selectors.evaluation_list(user=self.request.user)

    def get_context_data(self, **kwargs):
        return super().get_context_data(history=combined_history([("Evaluation", self.object)]), **kwargs)


class EvaluationFormView(GrcRequiredMixin, LoadsObjects, ServiceFormView):
    template_name = "evidence/form.html"
    form_class = EvaluationForm

    def load(self) -> None:
        self.object = (
            get_object_or_404(EffectivenessEvaluation, pk=self.kwargs["pk"])
            if "pk" in self.kwargs
            else EffectivenessEvaluation()
        )

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "instance": self.object}

    def get_initial(self):
        if self.object.pk:
            return {}
        initial = {"performed_on": timezone.localdate(), "performed_by": self.request.user.pk}
        if "policy" in self.request.GET:
            initial["policies"] = [self.request.GET["policy"]]
        return initial

    @property
    def success_message(self) -> str:
        return "Evaluation “{obj}” saved." if "pk" in self.kwargs else "Evaluation “{obj}” recorded."

    def perform(self, form):
        return services.evaluation_save(
            evaluation=form.instance, actor=self.request.user, policies=form.cleaned_data["policies"]
        )

    def get_context_data(self, **kwargs):
        editing = self.object.pk is not None
        return super().get_context_data(
            title=f"Edit evaluation “{self.object}”" if editing else "Record an effectiveness evaluation",
            back=self.object.get_absolute_url() if editing else None,
            cancel=reverse("evidence:evaluation-list"),
            submit="Save changes" if editing else "Record the evaluation",
            intro="Internal audits, technical reviews and encryption control validations of how the key "
            "management policies are applied (CEK-11 IG-5).",
            **kwargs,
        )


# --- Reviews -------------------------------------------------------------------------------------------


class ReviewCreateView(GrcRequiredMixin, LoadsObjects, ServiceFormView):
    """Record a review of a policy (periodic or after a change)."""

    template_name = "evidence/review_form.html"
    form_class = ReviewForm
    success_message = "Review recorded."

    def load(self) -> None:
        self.policy = get_object_or_404(Policy, pk=self.kwargs["pk"])

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "instance": PolicyReview(policy=self.policy)}

    def get_initial(self):
        return {"reviewed_on": timezone.localdate(), "reviewer": self.request.user.pk}

    def perform(self, form):
        data = form.cleaned_data
        return services.policy_review_record(
            policy=self.policy,
            actor=self.request.user,
            reviewer=data["reviewer"],
            reviewed_on=data["reviewed_on"],
            outcome=data["outcome"],
            notes=data["notes"],
        )

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            policy=self.policy, open_changes=selectors.open_changes(policy=self.policy), **kwargs
        )
