"""Django admin for superusers: every evidence record and its history, read-only.

Every write to these records has rules that live in the features' services (``evidence.<feature>.services``:
approved versions are frozen, approving supersedes, reviews and changes move due dates, sending e-mails each
recipient once, answers and closed campaigns are frozen, findings are upserted by rule and subject), so the
admin offers no add, change or delete: records are made in the app, where the services run.
"""

from __future__ import annotations

from django.contrib import admin
from django.db import models as db
from simple_history.admin import SimpleHistoryAdmin

from evidence import models


class NoWritesMixin:
    """No add, change or delete in the admin: these records are written by ``evidence.<feature>.services``."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class ReadOnlyAdmin(NoWritesMixin, SimpleHistoryAdmin):
    """Read-only, with the record's history."""

    formfield_overrides = {db.URLField: {"assume_scheme": "https"}}


@admin.register(models.Policy)
class PolicyAdmin(ReadOnlyAdmin):
    list_display = ("title", "kind", "owner", "current_version", "next_review_due_on", "retired_on")
    list_filter = ("kind", "retired_on")
    list_select_related = ("owner", "current_version")
    search_fields = ("title", "description", "scope")


@admin.register(models.PolicyVersion)
class PolicyVersionAdmin(ReadOnlyAdmin):
    list_display = ("policy", "label", "status", "document_kind", "document_sha256", "submitted_at")
    list_filter = ("status", "document_kind")
    list_select_related = ("policy",)
    search_fields = ("policy__title", "label", "document_sha256")


@admin.register(models.PolicyApproval)
class PolicyApprovalAdmin(ReadOnlyAdmin):
    list_display = ("version", "governance_body", "approver", "approved_on", "recorded_by")
    list_select_related = ("version__policy", "approver", "recorded_by")


@admin.register(models.Communication)
class CommunicationAdmin(ReadOnlyAdmin):
    list_display = ("version", "sent_at", "sent_by", "recipient_count")
    list_select_related = ("version__policy", "sent_by")


@admin.register(models.Acknowledgement)
class AcknowledgementAdmin(ReadOnlyAdmin):
    list_display = ("version", "recipient", "acknowledged_at")
    list_select_related = ("version__policy", "recipient")
    search_fields = ("recipient__username", "version__policy__title")


@admin.register(models.PolicyReview)
class PolicyReviewAdmin(ReadOnlyAdmin):
    list_display = ("policy", "reviewed_on", "reviewer", "outcome")
    list_filter = ("outcome",)
    list_select_related = ("policy", "reviewer")


@admin.register(models.ChangeEvent)
class ChangeEventAdmin(ReadOnlyAdmin):
    list_display = ("title", "kind", "occurred_on", "review_due_on", "recorded_by")
    list_filter = ("kind",)
    list_select_related = ("recorded_by",)


@admin.register(models.EffectivenessEvaluation)
class EffectivenessEvaluationAdmin(ReadOnlyAdmin):
    list_display = ("title", "kind", "performed_on", "result", "performed_by")
    list_filter = ("kind", "result")
    list_select_related = ("performed_by",)


@admin.register(models.PolicyDelivery)
class PolicyDeliveryAdmin(NoWritesMixin, admin.ModelAdmin):
    list_display = ("version", "email", "created_at", "emailed_at", "attempts", "last_error")
    list_filter = ("emailed_at",)
    list_select_related = ("version__policy",)


@admin.register(models.ReviewReminder)
class ReviewReminderAdmin(PolicyDeliveryAdmin):
    list_display = ("policy", "due_on", "days_before", "sent_on", "recipients")
    list_filter = ("days_before",)
    list_select_related = ("policy",)


@admin.register(models.Campaign)
class CampaignAdmin(ReadOnlyAdmin):
    list_display = ("name", "status", "due_on", "statement_version", "launched_at", "closed_at", "results_rows")
    list_filter = ("status", "statement_version")
    list_select_related = ("created_by",)
    search_fields = ("name", "statements_sha256", "results_sha256")


@admin.register(models.Attestation)
class AttestationAdmin(NoWritesMixin, admin.ModelAdmin):
    """Attestations keep no history: an answer is written once and then frozen (see the model)."""

    list_display = ("campaign", "key", "addressed_to", "status", "responded_by", "responded_at")
    list_filter = ("status",)
    list_select_related = ("campaign", "key", "addressed_to", "responded_by")
    search_fields = ("campaign__name", "key__name", "addressed_to__username", "responded_by__username")


@admin.register(models.Finding)
class FindingAdmin(ReadOnlyAdmin):
    list_display = ("rule", "subject_label", "severity", "status", "first_seen", "last_seen", "accepted_until")
    list_filter = ("status", "severity", "rule")
    search_fields = ("rule", "subject_label")


@admin.register(models.CheckRun)
class CheckRunAdmin(NoWritesMixin, admin.ModelAdmin):
    list_display = ("pk", "trigger", "triggered_by", "status", "created_at", "duration_ms", "keys_evaluated")
    list_filter = ("status", "trigger")
    list_select_related = ("triggered_by",)


@admin.register(models.CheckResult)
class CheckResultAdmin(NoWritesMixin, admin.ModelAdmin):
    list_display = ("run", "guideline_id", "status", "metric", "failing_count")
    list_filter = ("guideline_id", "status")
    list_select_related = ("run",)


@admin.register(models.ManualEvidence)
class ManualEvidenceAdmin(NoWritesMixin, admin.ModelAdmin):
    list_display = ("guideline_id", "assessment", "created_by", "created_at", "sha256")
    list_filter = ("guideline_id", "assessment")
    list_select_related = ("created_by",)


@admin.register(models.IacScan)
class IacScanAdmin(NoWritesMixin, admin.ModelAdmin):
    list_display = ("pk", "repository", "commit", "source", "passed", "violations_count", "recorded_by", "recorded_at")
    list_filter = ("passed", "source")
    search_fields = ("repository", "commit", "input_sha256")
    list_select_related = ("recorded_by",)


@admin.register(models.IacAddress)
class IacAddressAdmin(NoWritesMixin, admin.ModelAdmin):
    list_display = ("address", "repository", "first_seen_in")
    search_fields = ("address", "repository")


@admin.register(models.CaiqAnswer)
class CaiqAnswerAdmin(NoWritesMixin, admin.ModelAdmin):
    list_display = ("question_id", "party", "answer", "ownership", "status", "published_at", "sha256")
    list_filter = ("status", "answer", "ownership")
    list_select_related = ("party",)


@admin.register(models.EvidencePack)
class EvidencePackAdmin(NoWritesMixin, admin.ModelAdmin):
    list_display = ("uid", "window_from", "window_to", "party", "status", "requested_by", "requested_at", "sha256")
    list_filter = ("status",)
    list_select_related = ("party", "requested_by")


@admin.register(models.PackDownload)
class PackDownloadAdmin(NoWritesMixin, admin.ModelAdmin):
    list_display = ("pack", "user", "at", "ip")
    list_select_related = ("pack", "user")


@admin.register(models.UsageIngestion)
class UsageIngestionAdmin(NoWritesMixin, admin.ModelAdmin):
    list_display = ("pk", "file_name", "source", "store", "status", "created_by", "created_at", "sha256")
    list_filter = ("status", "source")
    search_fields = ("file_name", "sha256")
    list_select_related = ("store", "created_by")


@admin.register(models.UsageAggregate)
class UsageAggregateAdmin(NoWritesMixin, admin.ModelAdmin):
    list_display = ("day", "key_ref", "principal", "operation", "error_code", "count", "source")
    list_filter = ("source", "principal_type")
    search_fields = ("key_ref", "principal")
    list_select_related = ("key", "store")
