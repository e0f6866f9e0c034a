"""Reads of the evidence-pack pages, each a fixed number of queries whatever the number of packs."""

from __future__ import annotations

from django.db.models import Count, Prefetch, QuerySet

from evidence.models import EvidencePack, PackDownload
from inventory.models import KeyStore, Tenant


def packs() -> QuerySet[EvidencePack]:
    """Every pack, newest first, with its party, requester, scope and number of downloads."""
    return (
        EvidencePack.objects.select_related("party", "requested_by")
        .prefetch_related(
            Prefetch("stores", queryset=KeyStore.objects.only("pk", "name").order_by("name")),
            Prefetch("tenants", queryset=Tenant.objects.only("pk", "name").order_by("name")),
        )
        .annotate(download_count=Count("downloads", distinct=True))
        .order_by("-requested_at", "-id")
    )


def downloads(pack: EvidencePack) -> QuerySet[PackDownload]:
    return PackDownload.objects.filter(pack=pack).select_related("user").order_by("-at", "-id")
