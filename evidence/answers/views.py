"""The CEK-11.1 answer pages: choose the party, generate a draft, review the facts and the fill rules, edit,
publish (GRC), history per party, downloads (xlsx / CSV / JSON) and "fill my template". Auditors read and
download; key owners have no access (the answer speaks for the whole organisation)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import NoReverseMatch, reverse
from django.utils.text import get_valid_filename
from django.views import View
from django.views.generic import DetailView, ListView

from cek.exportguard import ExportRefused
from cek.pages import Confirmation, LenientPages, confirmation_page, errors_to_form
from cek.roles import GrcRequiredMixin, ReadAllMixin, is_grc
from evidence.answers import export, rules, selectors, services
from evidence.answers.forms import (
    AnswerForm,
    DisclosureFormSet,
    MilestoneFormSet,
    PartyForm,
    TemplateUploadForm,
    rows_of,
)
from evidence.answers.ownership import party_ownership
from evidence.answers.template import TemplateError, fill_template
from evidence.checks import selectors as check_selectors
from evidence.models import AnswerStatus, CaiqAnswer
from evidence.writes import today_local
from inventory.models import Party

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def run_link(run) -> str:
    """The check run's page, when the checks pages are installed."""
    if run is None:
        return ""
    try:
        return run.get_absolute_url()
    except NoReverseMatch:
        return ""


def _chosen_party(request) -> Party | None:
    party_id = str(request.GET.get("party") or request.POST.get("party") or "")
    if party_id:
        # ASCII digits only ("²".isdigit() is true but int("²") fails) and within a bigint.
        valid = party_id.isascii() and party_id.isdigit() and len(party_id) < 19
        party = selectors.parties().filter(pk=party_id).first() if valid else None
        if party is not None:
            return party
    return selectors.party_us() or selectors.parties().first()


class AnswerListView(LenientPages, ReadAllMixin, ListView):
    """The party's current answer, its live ownership, the generate button and the history of its answers."""

    template_name = "evidence/answer_list.html"
    context_object_name = "answers"
    paginate_by = settings.CEK_PAGE_SIZE

    def get_queryset(self):
        self.party = _chosen_party(self.request)
        given = (self.request.GET.get("party") or "").strip()
        if given and (self.party is None or str(self.party.pk) != given):
            self.refuse_filter("party", "Party", given)
        if self.party is None:
            return CaiqAnswer.objects.none()
        return selectors.answer_history(party=self.party)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        party = self.party
        latest = check_selectors.latest_run()
        context.update(
            party=party,
            party_form=PartyForm(initial={"party": party}),
            can_edit=is_grc(self.request.user),
            ownership=party_ownership(party) if party else None,
            published=selectors.latest_published(party=party) if party else None,
            draft=selectors.latest_draft(party=party) if party else None,
            latest_run=latest,
            latest_run_url=run_link(latest),
            significance=rules.SIGNIFICANCE_TABLE,
        )
        return context


class AnswerGenerateView(GrcRequiredMixin, View):
    def post(self, request):
        form = PartyForm(request.POST)
        if not form.is_valid():
            messages.error(request, "Choose the party to answer for.")
            return HttpResponseRedirect(reverse("evidence:answer-list"))
        try:
            answer = services.answer_generate(party=form.cleaned_data["party"], actor=request.user)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return HttpResponseRedirect(f"{reverse('evidence:answer-list')}?party={form.cleaned_data['party'].pk}")
        note = "" if answer.check_run_id else " No check run exists yet: run the checks before publishing."
        messages.success(request, f"Draft generated: the evidence gives {answer.generated_answer}.{note}")
        return HttpResponseRedirect(answer.get_absolute_url())


class AnswerDetailView(ReadAllMixin, DetailView):
    template_name = "evidence/answer_detail.html"
    context_object_name = "answer"

    def get_queryset(self):
        return selectors.answers()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        answer = self.object
        facts = answer.facts or {}
        is_draft = answer.status == AnswerStatus.DRAFT
        context.update(
            can_edit=is_grc(self.request.user) and is_draft,
            can_publish=is_grc(self.request.user) and is_draft,
            is_draft=is_draft,
            column_e=export.column_e(answer),
            violations=rules.validate(answer, today=today_local()) if is_draft else [],
            assessment=rules.assess(facts.get("guidelines", [])),
            significance=rules.SIGNIFICANCE_TABLE,
            run_url=run_link(answer.check_run),
            facts=facts,
            template_form=TemplateUploadForm(),
        )
        return context


class AnswerEditView(GrcRequiredMixin, View):
    """A draft's fields, its disclosed gaps and its corrective-action plan (structured forms)."""

    template_name = "evidence/answer_form.html"

    def load(self, pk) -> CaiqAnswer | None:
        answer = get_object_or_404(selectors.answers(), pk=pk)
        if answer.status == AnswerStatus.PUBLISHED:
            messages.error(self.request, "This answer is published and frozen; generate a new draft to change it.")
            return None
        return answer

    def render(self, answer, form, disclosures, milestones):
        context = {"answer": answer, "form": form, "disclosures": disclosures, "milestones": milestones}
        return render(self.request, self.template_name, context, status=400 if form.is_bound else 200)

    def get(self, request, pk):
        answer = self.load(pk)
        if answer is None:
            return HttpResponseRedirect(reverse("evidence:answer-detail", args=[pk]))
        plan = answer.corrective_action or {}
        form = AnswerForm(
            generated_answer=answer.generated_answer,
            initial={
                "answer": answer.answer,
                "override_reason": answer.override_reason,
                "ownership": answer.ownership,
                "implementation": answer.implementation,
                "customer_responsibilities": answer.customer_responsibilities,
                "na_justification": answer.na_justification,
                "plan_owner": plan.get("owner", ""),
                "plan_due": rules.parse_day(plan.get("due")),
            },
        )
        disclosures = DisclosureFormSet(
            prefix="disclosures",
            initial=[{**item, "due": rules.parse_day(item.get("due"))} for item in answer.disclosures or []],
        )
        milestones = MilestoneFormSet(
            prefix="milestones",
            initial=[{**item, "due": rules.parse_day(item.get("due"))} for item in plan.get("milestones", [])],
        )
        return self.render(answer, form, disclosures, milestones)

    def post(self, request, pk):
        answer = self.load(pk)
        if answer is None:
            return HttpResponseRedirect(reverse("evidence:answer-detail", args=[pk]))
        form = AnswerForm(request.POST, generated_answer=answer.generated_answer)
        disclosures = DisclosureFormSet(request.POST, prefix="disclosures")
        milestones = MilestoneFormSet(request.POST, prefix="milestones")
        if form.is_valid() and disclosures.is_valid() and milestones.is_valid():
            data = form.cleaned_data
            plan_rows = rows_of(milestones, ("text", "due"))
            plan = {}
            if data["plan_owner"] or data["plan_due"] or plan_rows:
                plan = {
                    "owner": data["plan_owner"],
                    "milestones": plan_rows,
                    "due": data["plan_due"].isoformat() if data["plan_due"] else "",
                }
            try:
                services.answer_update(
                    answer,
                    actor=request.user,
                    answer=data["answer"],
                    override_reason=data["override_reason"],
                    ownership=data["ownership"],
                    implementation=data["implementation"],
                    customer_responsibilities=data["customer_responsibilities"],
                    na_justification=data["na_justification"],
                    disclosures=rows_of(disclosures, ("guideline", "gap", "remediation", "due")),
                    corrective_action=plan,
                )
            except ValidationError as exc:
                errors_to_form(form, exc)
            else:
                messages.success(request, "Draft saved. Check the fill rules below, then publish.")
                return HttpResponseRedirect(reverse("evidence:answer-detail", args=[answer.pk]))
        return self.render(answer, form, disclosures, milestones)


class AnswerPublishView(GrcRequiredMixin, View):
    def get(self, request, pk):
        """What publishing will do, and the fill rules still broken (then nothing can be published)."""
        answer = get_object_or_404(CaiqAnswer.objects.select_related("party"), pk=pk)
        if answer.status == AnswerStatus.PUBLISHED:
            messages.info(request, "This answer is already published.")
            return HttpResponseRedirect(reverse("evidence:answer-detail", args=[pk]))
        violations = [violation.message for violation in rules.validate(answer, today=today_local())]
        consequences = [
            f"The {answer.question_id} answer for {answer.party.name} (“{answer.get_answer_display()}”, "
            f"{len(answer.implementation):,} characters of implementation description) is frozen: it can no longer be edited.",
            "Its SHA-256 is recorded; auditors, the workbook export and evidence packs use this published text.",
            "To change it later, generate a new draft from a newer check run.",
        ]
        return confirmation_page(
            request,
            Confirmation(
                title=f"Publish the {answer.title}?",
                subject=f"{answer.party.name} · {answer.catalog_version}",
                consequences=consequences,
                button="Publish and freeze",
                action=reverse("evidence:answer-publish", args=[pk]),
                cancel=reverse("evidence:answer-detail", args=[pk]),
                warning=(
                    f"It cannot be published yet: {len(violations)} fill rule{'s are' if len(violations) != 1 else ' is'}"
                    f" not met — {' '.join(violations)}"
                    if violations
                    else ""
                ),
                disabled=bool(violations),
            ),
        )

    def post(self, request, pk):
        answer = get_object_or_404(CaiqAnswer, pk=pk)
        try:
            answer = services.answer_publish(answer=answer, actor=request.user)
        except ValidationError as exc:
            problems = exc.messages
            messages.error(
                request,
                f"Not published: {len(problems)} fill rule{'s are' if len(problems) != 1 else ' is'} not met — "
                + " ".join(problems),
            )
        else:
            messages.success(request, f"Published and frozen; SHA-256 {answer.sha256}.")
        return HttpResponseRedirect(reverse("evidence:answer-detail", args=[pk]))


def _download(content: bytes | str, *, content_type: str, name: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


class AnswerExportView(ReadAllMixin, View):
    formats = {
        "xlsx": (export.to_xlsx, XLSX),
        "csv": (export.to_csv, "text/csv; charset=utf-8"),
        "json": (export.to_json, "application/json"),
    }

    def get(self, request, pk, fmt):
        if fmt not in self.formats:
            raise Http404("Unknown export format.")
        answer = get_object_or_404(selectors.answers(), pk=pk)
        writer, content_type = self.formats[fmt]
        try:
            content = writer(answer)
        except ExportRefused as exc:
            return HttpResponse(str(exc), status=409, content_type="text/plain; charset=utf-8")
        return _download(content, content_type=content_type, name=export.filename(answer, fmt))


class AnswerTemplateView(ReadAllMixin, View):
    """Upload the blank official AI-CAIQ workbook; get it back with C-F of the CEK-11.1 row filled."""

    template_name = "evidence/answer_template.html"

    def get(self, request, pk):
        answer = get_object_or_404(selectors.answers(), pk=pk)
        return render(request, self.template_name, {"answer": answer, "form": TemplateUploadForm()})

    def post(self, request, pk):
        answer = get_object_or_404(selectors.answers(), pk=pk)
        form = TemplateUploadForm(request.POST, request.FILES)
        if form.is_valid():
            row = export.answer_row(answer)
            try:
                export.answer_check(answer)  # the filled workbook is an export of the answer too
                filled = fill_template(
                    form.cleaned_data["workbook"].read(),
                    question_id=answer.question_id,
                    values={"C": row[2], "D": row[3], "E": row[4], "F": row[5]},
                )
            except (TemplateError, ExportRefused) as exc:
                form.add_error("workbook", str(exc))
            else:
                stem, extension = get_valid_filename(form.cleaned_data["workbook"].name).rsplit(".", 1)
                return _download(filled, content_type=XLSX, name=f"{stem}-{answer.question_id}.{extension}")
        return render(request, self.template_name, {"answer": answer, "form": form}, status=400)
