from __future__ import annotations

from django.apps import AppConfig


class CekConfig(AppConfig):
    name = "cek"
    verbose_name = "CEK-11 control and accounts"

    def ready(self) -> None:
        from cek import snapshot

        snapshot.connect()  # stored figures (the dashboard's, the key list's counts) go with any write they count
