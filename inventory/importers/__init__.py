"""Importers: one module per file format, each turning a file into ``KeyRow`` objects (see ``base``).

Adding a format is adding a module (or a package) here with an ``Importer`` subclass that sets ``format``,
``label`` and ``order``: the class registers itself when it is defined (``Importer.__init_subclass__``), and this
package imports every module in it, so :data:`REGISTRY` lists the new format without an edit here. ``order``
places it among the others in the format choices and in :func:`guess_formats`.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

from inventory.importers.base import Importer, ImportFileError, registered_importers


def import_modules() -> None:
    """Import every module of this package (``__path__``), so that each importer class registers itself."""
    for module in pkgutil.iter_modules(__path__, prefix=f"{__name__}."):
        importlib.import_module(module.name)


def build_registry() -> dict[str, Importer]:
    """One instance of each importer the package's modules define, by format, in their ``order``."""
    import_modules()
    return {cls.format: cls() for cls in registered_importers()}


REGISTRY: dict[str, Importer] = build_registry()


def get_importer(format: str) -> Importer:
    try:
        return REGISTRY[format]
    except KeyError:
        raise ImportFileError(
            f"Unknown import format '{format[:40]}'; expected one of: {', '.join(REGISTRY)}."
        ) from None


def guess_formats(data: bytes, document: Any) -> list[Importer]:
    """The importers whose ``sniff`` accepts the file (``document``: its parsed JSON, or None)."""
    found = []
    for importer in REGISTRY.values():
        try:
            recognised = importer.sniff(data, document)
        except Exception:  # a sniffer that trips on an odd file does not recognise it
            recognised = False
        if recognised:
            found.append(importer)
    return found


def format_choices() -> list[tuple[str, str]]:
    return [(name, importer.label) for name, importer in REGISTRY.items()]
