"""GRC's confirmation that a key store's inventory is complete (CEK-11 CCM-2)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.views import View

from cek.roles import GrcRequiredMixin
from inventory import services
from inventory.models import KeyStore


class KeyStoreConfirmInventoryView(GrcRequiredMixin, View):
    def post(self, request, pk: int):
        store = get_object_or_404(KeyStore, pk=pk)
        services.keystore_confirm_inventory(store=store, actor=request.user)
        messages.success(request, f"Confirmed that the inventory lists every key of {store}.")
        return HttpResponseRedirect(store.get_absolute_url())
