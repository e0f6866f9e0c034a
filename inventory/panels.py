"""Panels other apps add to inventory pages, without inventory importing them.

``inventory`` knows nothing of ``evidence`` (the import contract: evidence -> inventory -> cek). A page of the
inventory that shows what another app observed about a key (the usage panel from the usage logs) asks this
registry: the other app registers a provider when it is ready (``EvidenceConfig.ready``), and the key page renders
each provider's template with the context it returns. A provider returns None to show nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

KeyPanelProvider = Callable[..., "Panel | None"]


@dataclass(frozen=True)
class Panel:
    template: str
    context: dict[str, Any]


_KEY_PANELS: dict[str, KeyPanelProvider] = {}


def register_key_panel(name: str, provider: KeyPanelProvider) -> None:
    """Add (or replace, by ``name``) a provider ``provider(*, key, user) -> Panel | None`` of the key page."""
    _KEY_PANELS[name] = provider


def key_panels(*, key, user) -> list[Panel]:
    """The panels of ``key``'s page for ``user``, in registration order."""
    panels = []
    for provider in _KEY_PANELS.values():
        panel = provider(key=key, user=user)
        if panel is not None:
            panels.append(panel)
    return panels
