"""What the readers produce: the resources of a plan or a directory, and the configuration that tells which key a
consumer points at when the key's ARN or id is not known before apply."""

from __future__ import annotations

import gc
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache, cached_property
from typing import Any


class UnreadableInput(Exception):
    """The input cannot be read as a plan or a directory of ``.tf`` files; the message is one line, safe to print."""


@dataclass
class ConfigModule:
    """One module of the configuration: ``resources`` by their address inside the module (``type.name`` or
    ``data.type.name``) to their ``expressions``; module calls by name to (their expressions, the called module);
    ``outputs`` by name to their expression."""

    resources: dict[str, dict[str, Any]] = field(default_factory=dict)
    calls: dict[str, tuple[dict[str, Any], ConfigModule]] = field(default_factory=dict)
    outputs: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass
class Resource:
    address: str  # the instance address, e.g. module.logs.aws_kms_key.this[0]
    type: str
    mode: str  # "managed" or "data"
    values: dict[str, Any]  # known values (unknown ones are absent)
    action: str  # "create", "update", "no-op", "replace", "read", "declared" (a .tf directory)
    unknown: frozenset[str] = frozenset()  # top-level attributes known only after apply (or computed in HCL)

    @cached_property
    def config_address(self) -> str:
        return _INDEX.sub("", self.address)

    @cached_property
    def module_path(self) -> tuple[str, ...]:
        return module_path(self.config_address)

    @cached_property
    def local_address(self) -> str:
        """The address inside its module (``type.name`` or ``data.type.name``)."""
        parts = self.config_address.split(".")
        while parts and parts[0] == "module":
            parts = parts[2:]
        return ".".join(parts)


@dataclass
class Infrastructure:
    resources: list[Resource]
    config: ConfigModule | None
    sha256: str
    source: str  # "plan" or "hcl"


_INDEX = re.compile(r"\[[^\]]*\]")


def module_path(config_address: str) -> tuple[str, ...]:
    parts, path = config_address.split("."), []
    while len(parts) > 2 and parts[0] == "module":
        path.append(parts[1])
        parts = parts[2:]
    return tuple(path)


@cache
def module_prefix(path: tuple[str, ...]) -> str:
    return "".join(f"module.{name}." for name in path)


@contextmanager
def paused_gc() -> Iterator[None]:
    """Reading a plan and linking its resources make many objects and no cycles worth collecting: without the
    cyclic collector's passes (each over the whole heap) the time grows linearly with the plan."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
