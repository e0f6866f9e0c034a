from __future__ import annotations

from django.apps import AppConfig


class CekConfig(AppConfig):
    name = "cek"
    verbose_name = "CEK-11 control and accounts"
