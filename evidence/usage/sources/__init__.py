"""Usage-log sources: one module per log format, each turning a file into the normalized rows of ``base``.

Adding a source is adding a module here with a ``UsageSource`` subclass that sets ``format``, ``label`` and
``order``: it registers itself when it is defined, and this package imports every module in it, so
:data:`REGISTRY` lists it without an edit here.
"""

from __future__ import annotations

import importlib
import pkgutil

from evidence.usage.sources.base import UsageFileError, UsageSource, registered_sources


def build_registry() -> dict[str, UsageSource]:
    """One instance of each source the package's modules define, by format, in their ``order``."""
    for module in pkgutil.iter_modules(__path__, prefix=f"{__name__}."):
        importlib.import_module(module.name)
    return {cls.format: cls() for cls in registered_sources()}


REGISTRY: dict[str, UsageSource] = build_registry()


def get_source(format: str) -> UsageSource:
    try:
        return REGISTRY[format]
    except KeyError:
        raise UsageFileError(
            f"Unknown usage log format '{format[:40]}'; expected one of: {', '.join(REGISTRY)}."
        ) from None


def format_choices() -> list[tuple[str, str]]:
    return [(name, source.label) for name, source in REGISTRY.items()]
