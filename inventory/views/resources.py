"""How each inventory model appears in the generic pages."""

from __future__ import annotations

from django.db.models import Count
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from cek.pages import EVERYONE
from inventory import forms, selectors, services
from inventory.display import col
from inventory.models import (
    AccessGrant,
    Binding,
    Key,
    KeyStore,
    Party,
    Purpose,
    Service,
    SsrmAssignment,
    Tenant,
)
from inventory.views.generic import Resource


def _save_key(*, form, actor):
    return services.key_save(key=form.instance, actor=actor, exposed_to=form.cleaned_data.get("exposed_to", []))


def _new_key_initial(user) -> dict:
    """Who approves a new mapping and when it was reviewed default to the GRC user entering it, today."""
    return {"purpose_approver": user.pk, "purpose_reviewed_on": timezone.localdate()}


def _save_party(*, form, actor):
    return services.party_save(party=form.instance, actor=actor)


def _save_purpose(*, form, actor):
    return services.purpose_save(purpose=form.instance, actor=actor)


def _delete_key(*, instance, actor):
    services.key_delete(key=instance, actor=actor)


def _key_count_link(obj, param: str, value) -> str:
    return format_html('<a href="{}?{}={}">{}</a>', reverse("inventory:key-list"), param, value, obj.key_count)


RESOURCES: dict[str, Resource] = {
    "party": Resource(
        name="party",
        model=Party,
        form_class=forms.PartyForm,
        title="Parties",
        intro="Organisations in the AI supply chain and their SSRM roles. Exactly one party is “us”.",
        columns=[
            col("Name", "name", link=True),
            col("Roles", lambda p: p.roles),
            col("Us", "is_us"),
            col("Contact", "contact"),
        ],
        save=_save_party,
        detail_prefetch=("assignments",),
    ),
    "ssrmassignment": Resource(
        name="ssrmassignment",
        model=SsrmAssignment,
        form_class=forms.SsrmAssignmentForm,
        title="SSRM assignments",
        columns=[col("Layer", "layer", link=True), col("Party", "party"), col("Role", "role")],
        queryset=lambda user: SsrmAssignment.objects.select_related("party"),
        search=("party__name",),
    ),
    "tenant": Resource(
        key_filter=("tenant", "slug"),
        name="tenant",
        model=Tenant,
        form_class=forms.TenantForm,
        title="Tenants",
        intro="Customers or business units whose data and keys must stay apart.",
        columns=[
            col("Name", "name", link=True),
            col("Slug", "slug"),
            col("Party", "party"),
            col("Active", "is_active"),
            col("Keys", lambda t: _key_count_link(t, "tenant", t.slug), css="num"),
        ],
        queryset=lambda user: Tenant.objects.select_related("party").annotate(key_count=Count("keys")),
        search=("name", "slug"),
    ),
    "service": Resource(
        name="service",
        model=Service,
        form_class=forms.ServiceForm,
        title="Services",
        intro="Workloads that use keys. Services with an AI lifecycle phase are part of an AI system.",
        columns=[
            col("Name", "name", link=True),
            col("Environment", "environment"),
            col("SSRM layer", "ssrm_layer"),
            col("AI lifecycle", "lifecycle_phase"),
            col("Operated by", "operating_party"),
            col("Owner", "owner"),
            col("Keys used", lambda s: _key_count_link(s, "service", s.slug), css="num"),
        ],
        queryset=lambda user: Service.objects.select_related("operating_party", "owner").annotate(
            key_count=Count("bindings__key", distinct=True)
        ),
        detail_prefetch=("bindings__key", "bindings__tenant", "bindings__purpose"),
        search=("name", "slug", "description"),
    ),
    "keystore": Resource(
        key_filter=("store", "pk"),
        name="keystore",
        model=KeyStore,
        form_class=forms.KeyStoreForm,
        title="Key stores",
        intro="Where keys live: KMS accounts and projects, vaults, HSMs, clusters.",
        columns=[
            col("Name", "name", link=True),
            col("Kind", "kind"),
            col("Account", "account"),
            col("Region", "region"),
            col("Operated by", "operating_party"),
            col("Purpose tag", "purpose_tag_key"),
            col("Keys", lambda s: _key_count_link(s, "store", s.pk), css="num"),
        ],
        queryset=lambda user: KeyStore.objects.select_related("operating_party").annotate(key_count=Count("keys")),
        search=("name", "account", "region"),
        initial_from_query=("name", "kind", "account", "region"),
    ),
    "purpose": Resource(
        key_filter=("purpose", "slug"),
        name="purpose",
        model=Purpose,
        form_class=forms.PurposeForm,
        title="Purposes",
        intro="The catalog of allowed purposes. Every key has exactly one. Cryptoperiods default to NIST SP 800-57 "
        "Part 1 Table 1.",
        columns=[
            col("Name", "name", link=True),
            col("Short name (tag value)", "slug"),
            col("Function", "function"),
            col("SP 800-57 key type", "key_type"),
            col("Max cryptoperiod (days)", "max_cryptoperiod_days", css="num"),
            col("AI", "is_ai_specific"),
            col("Active", "is_active"),
            col("Keys", lambda p: _key_count_link(p, "purpose", p.slug), css="num"),
        ],
        queryset=lambda user: selectors.purpose_list(user=user),
        read_roles=EVERYONE,
        save=_save_purpose,
        search=("name", "slug", "description"),
        ordering=("function", "name"),
    ),
    "key": Resource(
        name="key",
        model=Key,
        form_class=forms.KeyForm,
        title="Keys",
        columns=[],
        queryset=lambda user: selectors.key_list(user=user),
        read_roles=EVERYONE,
        initial=_new_key_initial,
        save=_save_key,
        delete=_delete_key,
    ),
    "binding": Resource(
        name="binding",
        model=Binding,
        form_class=forms.BindingForm,
        title="Bindings",
        intro="Which service (and tenant) uses which key, for what, as which principal.",
        columns=[
            col("Key", "key", link=False),
            col("Service", "service"),
            col("Tenant", "tenant"),
            col("Purpose", "purpose"),
            col("Principal", "principal"),
            col("Operations", lambda b: b.operations),
            col("", lambda b: format_html('<a href="{}">details</a>', b.get_absolute_url())),
        ],
        queryset=lambda user: selectors.binding_list(user=user),
        read_roles=EVERYONE,
        search=("key__name", "service__name", "principal"),
    ),
    "grant": Resource(
        name="grant",
        model=AccessGrant,
        form_class=forms.AccessGrantForm,
        title="Access grants",
        intro="Who may use a key, for which operations, approved by whom, until when.",
        columns=[
            col("Key", "key"),
            col("Principal", "principal"),
            col("Type", "principal_type"),
            col("Operations", lambda g: g.operations),
            col("Approver", "approver"),
            col("Expires", "expires_on"),
            col("", lambda g: format_html('<a href="{}">details</a>', g.get_absolute_url())),
        ],
        queryset=lambda user: selectors.grant_list(user=user),
        read_roles=EVERYONE,
        search=("key__name", "principal"),
    ),
}
