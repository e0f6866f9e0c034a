"""Pages for importing keys (GRC only: upload -> preview -> apply or discard, past imports) and the exports
(keys as CSV or a CycloneDX CBOM for every role, narrowed to what the user may see; services and bindings).

The views only call ``inventory.importing`` (writes) and the selectors / exporters (reads)."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views import View
from django.views.generic import FormView, TemplateView

from cek.exportguard import guarded_download
from cek.forms import RefusesKeyMaterial
from cek.jobs.views import JobStatusView
from cek.pages import shown_value
from cek.roles import AnyRoleMixin, GrcRequiredMixin, ReadAllMixin
from inventory import exporters, importing, selectors
from inventory.exporters.csv import csv_chunks
from inventory.filters import BindingFilter, KeyFilter
from inventory.heldupload import HOLD_MINUTES, upload_held, upload_hold, upload_release, upload_take
from inventory.importers import REGISTRY, format_choices
from inventory.importers.commands import EXPORT_COMMANDS
from inventory.importers.csv import COLUMNS
from inventory.models import KeyImport, KeyStore, Service, StoreKind

PREVIEW_ROWS = 200  # new/changed rows shown on the preview page
PREVIEW_ERRORS = 500
PREVIEW_WARNINGS = 500
PREVIEW_MISSING = 100


def _megabytes(size: int) -> str:
    return f"{size / 1048576:.1f} MB"


class ImportUploadForm(RefusesKeyMaterial, forms.Form):
    format = forms.ChoiceField(choices=format_choices, initial="csv")
    file = forms.FileField(
        required=False,  # a file held after a rejected upload is used when none is chosen (see clean)
        help_text="A CSV file with the template's columns, or a platform's JSON export.",
    )
    store = forms.ModelChoiceField(
        queryset=KeyStore.objects.order_by("name"),
        required=False,
        empty_label="Match from the file",
        help_text="The key store the file was exported from. Platform exports are matched to a store by kind, "
        "account and region when you leave this empty; CSV and CBOM files may name the store in each row.",
    )
    full = forms.BooleanField(
        label="This file lists every key of the store",
        required=False,
        help_text='Keys of the store that the file does not list are marked "not seen since" today (never deleted).',
    )

    def __init__(self, *args, held: tuple[str, int] | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.held = held  # (name, size) of the file kept from a rejected upload, if any

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if not upload:
            if self.held is None:
                raise ValidationError("Choose the file to import.")
            return None
        limit = settings.CEK_IMPORT_MAX_BYTES
        if upload.size > limit:
            raise ValidationError(
                f"The file is {_megabytes(upload.size)}; the limit is {_megabytes(limit)}. Split it into several files."
            )
        return upload


class ImportUploadView(GrcRequiredMixin, FormView):
    """Upload a file for its preview. A file rejected before the preview (a wrong format, no matching store) is
    held for a while when nothing in it looks like key material (``inventory.heldupload``), so it need not be
    chosen again; when no store matched, the page links to the store's creation with the file's account and
    region filled in, and back here."""

    template_name = "inventory/import_form.html"
    form_class = ImportUploadForm

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "held": upload_held(request=self.request)}

    def get_initial(self):
        initial = super().get_initial()
        if self.request.GET.get("format") in REGISTRY:
            initial["format"] = self.request.GET["format"]
        return initial

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            columns=COLUMNS,
            required_columns=[column.name for column in COLUMNS if column.required],
            formats=[
                {
                    "label": importer.label,
                    "format": importer.format,
                    "help": importer.help,
                    "commands": EXPORT_COMMANDS.get(importer.format, ""),
                }
                for importer in REGISTRY.values()
            ],
            max_size=_megabytes(settings.CEK_IMPORT_MAX_BYTES),
            hold_minutes=HOLD_MINUTES,
            recent=KeyImport.objects.exclude(KeyImport.rejected_at_upload_q()).select_related("created_by")[:5],
            **kwargs,
        )

    def form_valid(self, form):
        upload = form.cleaned_data["file"]
        if upload:
            data, file_name = upload, upload.name  # read a block at a time (a large upload is a temporary file)
            upload_release(request=self.request)
        else:
            taken = upload_take(request=self.request)
            if taken is None:  # expired between the page and the submit
                form.held = None
                form.add_error("file", "The file kept from your last upload is no longer there; choose it again.")
                return self.form_invalid(form)
            data, file_name = taken
        format = form.cleaned_data["format"]
        record, plan = importing.key_import_preview(
            data=data,
            file_name=file_name,
            format=format,
            actor=self.request.user,
            store=form.cleaned_data["store"],
            full=form.cleaned_data["full"],
        )
        if not plan.file_error:
            return redirect("inventory:import-preview", pk=record.pk)
        # Never held when refused for key material or unsafe text; otherwise only when judged clean again.
        held = not plan.refused and upload_hold(request=self.request, data=_whole(data), file_name=record.file_name)
        form.held = upload_held(request=self.request) if held else None
        form.add_error("file", plan.file_error)
        return self.render_to_response(
            self.get_context_data(
                form=form,
                not_held=not held,
                create_store_url=_create_store_url(plan.store_to_create, format=format),
            )
        )


def _whole(data) -> bytes:
    """The bytes of a rejected upload, to hold it (bounded by CEK_IMPORT_MAX_BYTES, as the upload itself)."""
    if isinstance(data, bytes):
        return data
    data.seek(0)
    return data.read()


def _create_store_url(store_to_create: dict[str, str] | None, *, format: str) -> str:
    """The new key store form with the kind, account and region of a file no store matched, and a name made of
    them; it comes back to the upload page once the store is saved."""
    if not store_to_create:
        return ""
    kind = store_to_create["kind"]
    account, region = store_to_create.get("account", ""), store_to_create.get("region", "")
    name = " ".join(part for part in (StoreKind(kind).label, account, region) if part)
    back = f"{reverse('inventory:import')}?{urlencode({'format': format})}"
    query = {"kind": kind, "account": account, "region": region, "name": name, "next": back}
    return f"{reverse('inventory:keystore-create')}?{urlencode({k: v for k, v in query.items() if v})}"


class ImportPreviewView(GrcRequiredMixin, TemplateView):
    """The plan of a previewed import, computed again from its kept file against the inventory as it is
    now (so it shows what Apply would do). Applied, failed and discarded imports show what was recorded."""

    template_name = "inventory/import_preview.html"

    def get_context_data(self, **kwargs):
        record = get_object_or_404(
            KeyImport.objects.select_related("created_by", "applied_by", "store"), pk=self.kwargs["pk"]
        )
        context = super().get_context_data(record=record, **kwargs)
        if record.status != KeyImport.Status.PREVIEWED:
            context.update(
                counts=record.counts,
                errors=record.errors[:PREVIEW_ERRORS],
                warnings=record.warnings[:PREVIEW_WARNINGS],
                unknowns=record.unknowns,
                can_apply=False,
                percent=importing.import_percent(record) or 0,
            )
            return context
        plan = importing.key_import_plan_for(record)
        errors = [error.as_dict() for error in plan.errors] or (
            [{"row": None, "message": plan.file_error}] if plan.file_error else []
        )
        changes = plan.rows_with(importing.Action.NEW, importing.Action.CHANGED)
        context.update(
            plan=plan,
            counts=plan.counts,
            errors=errors[:PREVIEW_ERRORS],
            warnings=[warning.as_dict() for warning in plan.warnings[:PREVIEW_WARNINGS]],
            unknowns=plan.unknowns,
            missing=plan.missing[:PREVIEW_MISSING],
            in_background=importing.runs_in_background(record),
            changes=changes[:PREVIEW_ROWS],
            more_changes=max(0, len(changes) - PREVIEW_ROWS),
            can_apply=not plan.has_errors and not record.errors,
            # Apply found errors earlier (the inventory had changed); the record keeps them even if they are gone now.
            stale_errors=record.errors if record.errors and not plan.has_errors else [],
        )
        return context


class ImportApplyView(GrcRequiredMixin, View):
    http_method_names = ["post"]

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        record = get_object_or_404(KeyImport, pk=pk)
        try:
            record = importing.key_import_start(key_import=record, actor=request.user)
        except importing.ImportApplyError as exc:
            messages.error(request, str(exc))
            return redirect("inventory:import-preview", pk=pk)
        if record.status == KeyImport.Status.APPLYING:
            messages.info(request, f"Applying {record.file_name} in the background; this page shows its progress.")
            return redirect("inventory:import-preview", pk=pk)
        messages.success(request, importing.import_summary(record.counts))
        return redirect("inventory:import-list")


class ImportRetryView(GrcRequiredMixin, View):
    http_method_names = ["post"]

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        record = get_object_or_404(KeyImport, pk=pk)
        try:
            importing.key_import_retry(key_import=record, actor=request.user)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.info(request, "The import was planned again against the inventory as it is now; check and apply.")
        return redirect("inventory:import-preview", pk=pk)


class ImportStatusView(JobStatusView):
    """The status and progress of an import as JSON, polled by the progress bar: the common job status view
    (``cek.jobs.views``); without ``?shape=job`` it answers the fields this URL always answered. GRC only."""

    kind_name = "import"

    def legacy(self, status: dict, record: KeyImport) -> dict:
        applying = record.status == KeyImport.Status.APPLYING
        shown = applying or record.status == KeyImport.Status.APPLIED
        return {
            "id": record.pk,
            "status": record.status,
            "percent": status["progress"] if shown else 0,
            "phase": status["phase"] if applying else "",
            "done": (status["done"] or 0) if applying else 0,
            "total": (status["total"] or 0) if applying else 0,
            "last_error": record.last_error,
        }


class ImportDiscardView(GrcRequiredMixin, View):
    http_method_names = ["post"]

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        record = get_object_or_404(KeyImport, pk=pk)
        try:
            importing.key_import_discard(key_import=record, actor=request.user)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect("inventory:import-preview", pk=pk)
        messages.info(request, f"Discarded the import of {record.file_name}; nothing was written.")
        return redirect("inventory:import-list")


class ImportListView(GrcRequiredMixin, TemplateView):
    """Past imports. Uploads rejected before a preview (a wrong format, no matching store...) are no imports:
    they are listed apart (``?show=rejected``), with why; failed applies stay in the list, with their reason."""

    template_name = "inventory/import_list.html"

    def get_context_data(self, **kwargs):
        rejected = self.request.GET.get("show") == "rejected"
        imports = KeyImport.objects.select_related("created_by", "store")
        if rejected:
            imports = imports.filter(KeyImport.rejected_at_upload_q())
        else:
            imports = imports.exclude(KeyImport.rejected_at_upload_q())
        paginator = Paginator(imports, settings.CEK_PAGE_SIZE)
        page = paginator.get_page(self.request.GET.get("page"))
        return super().get_context_data(
            page_obj=page,
            paginator=paginator,
            is_paginated=page.has_other_pages(),
            imports=page.object_list,
            showing_rejected=rejected,
            rejected_count=None if rejected else KeyImport.objects.filter(KeyImport.rejected_at_upload_q()).count(),
            **kwargs,
        )


class ImportTemplateView(GrcRequiredMixin, View):
    """The CSV template: the header row and one example row."""

    def get(self, request: HttpRequest) -> HttpResponse:
        body = "".join(csv_chunks([c.name for c in COLUMNS], [[c.example for c in COLUMNS]]))
        response = HttpResponse(body, content_type=exporters.MEDIA_TYPES["csv"])
        response["Content-Disposition"] = 'attachment; filename="key-import-template.csv"'
        return response


def _csv_download(chunks, name: str) -> HttpResponse:
    # Built whole and checked by the export guard before the first byte is sent (see cek.exportguard).
    response = guarded_download(
        chunks, filename=f"{name}-{timezone.localdate():%Y-%m-%d}.csv", content_type=exporters.MEDIA_TYPES["csv"]
    )
    response["Cache-Control"] = "no-store"
    return response


def _invalid_filters(filterset) -> HttpResponse:
    # An unreadable filter must not silently widen the export to every key.
    # The filter by its label and the value given, never a value that looks like key material.
    problems = "; ".join(
        f"“{filterset.form[name].label}” does not accept "
        + (f"“{shown}”" if (shown := shown_value(filterset.data.getlist(name))) else "the value given")
        for name in filterset.errors
        if name in filterset.form.fields
    )
    return HttpResponseBadRequest(f"Invalid filter - {problems}", content_type="text/plain; charset=utf-8")


class KeyExportView(AnyRoleMixin, View):
    """Keys as CSV, with the key list's filters (same URL parameters); key owners get their own keys only."""

    def get(self, request: HttpRequest) -> HttpResponse:
        filterset = KeyFilter(request.GET, queryset=selectors.key_list(user=request.user), request=request)
        if not filterset.is_valid():
            return _invalid_filters(filterset)
        return _csv_download(exporters.get_exporter("csv", "keys")(filterset.qs), "keys")


class KeyCbomExportView(AnyRoleMixin, View):
    """Keys as a CycloneDX CBOM (``?spec=1.7`` for 1.7, else 1.6), with the same filters and visibility as
    :class:`KeyExportView`."""

    def get(self, request: HttpRequest) -> HttpResponse:
        spec = request.GET.get("spec") or None
        if spec is not None and spec not in exporters.SPECS["cbom"]:
            return HttpResponseBadRequest(
                f"Invalid spec - '{spec[:10]}' is no CycloneDX version this app writes; choose one of: "
                f"{', '.join(exporters.SPECS['cbom'])}.",
                content_type="text/plain; charset=utf-8",
            )
        filterset = KeyFilter(request.GET, queryset=selectors.key_list(user=request.user), request=request)
        if not filterset.is_valid():
            return _invalid_filters(filterset)
        # Written a chunk of components at a time (see inventory.exporters.cbom) into a spooled file: bounded memory for
        # any inventory, and checked by the export guard before the first byte is sent.
        chunks = exporters.get_exporter("cbom", "keys", spec=spec)(filterset.qs)
        response = guarded_download(
            chunks, filename="cek-inventory.cdx.json", content_type=exporters.MEDIA_TYPES["cbom"]
        )
        response["Cache-Control"] = "no-store"
        return response


class ServiceExportView(ReadAllMixin, View):
    def get(self, request: HttpRequest) -> HttpResponse:
        return _csv_download(exporters.get_exporter("csv", "services")(Service.objects.order_by("slug")), "services")


class BindingExportView(AnyRoleMixin, View):
    """Bindings as CSV (filters: key, service, tenant, purpose); key owners get their keys' bindings only."""

    def get(self, request: HttpRequest) -> HttpResponse:
        filterset = BindingFilter(request.GET, queryset=selectors.binding_list(user=request.user), request=request)
        if not filterset.is_valid():
            return _invalid_filters(filterset)
        queryset = filterset.qs.order_by("key__store__name", "key__external_id", "service__slug", "pk")
        return _csv_download(exporters.get_exporter("csv", "bindings")(queryset), "bindings")
