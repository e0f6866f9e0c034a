"""The home page's route, included by ``cek/urls.py`` at the site root by its dotted path (so the project package
imports nothing of ``evidence``). No ``app_name``: the page keeps its plain URL name, ``home``."""

from __future__ import annotations

from django.urls import path

from evidence.dashboard.views import DashboardView

urlpatterns = [
    path("", DashboardView.as_view(), name="home"),
]
