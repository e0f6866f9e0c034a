"""Reads a Terraform/OpenTofu plan as ``terraform show -json`` writes it (format 1.x)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from evidence.iac.model import ConfigModule, Infrastructure, Resource, UnreadableInput, paused_gc


def read_plan(path: Path, *, max_bytes: int) -> Infrastructure:
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise UnreadableInput(f"{path} is {size} bytes, over the limit of {max_bytes} (CEK_IAC_MAX_BYTES).")
        raw = path.read_bytes()
    except OSError as exc:
        raise UnreadableInput(f"Cannot read {path}: {exc.strerror}.") from None
    return parse_plan(raw, name=str(path))


def parse_plan(raw: bytes, *, name: str = "the plan") -> Infrastructure:
    try:
        with paused_gc():
            plan = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        where = f" (line {exc.lineno}, column {exc.colno})" if isinstance(exc, json.JSONDecodeError) else ""
        raise UnreadableInput(f"{name} is not JSON{where}: write it with `terraform show -json PLANFILE`.") from None
    if not isinstance(plan, dict) or not str(plan.get("format_version", "")).startswith("1."):
        raise UnreadableInput(
            f"{name} is not a Terraform plan in JSON format 1.x (no format_version 1.x): "
            "write it with `terraform show -json PLANFILE`."
        )
    if not any(isinstance(plan.get(part), dict | list) for part in ("planned_values", "resource_changes")):
        raise UnreadableInput(f"{name} has neither planned_values nor resource_changes: it is not a plan.")
    try:
        with paused_gc():
            resources = _resources(plan)
        config = plan.get("configuration")
        root = _config_module(config.get("root_module") or {}) if isinstance(config, dict) else None
    except (AttributeError, TypeError, KeyError) as exc:
        raise UnreadableInput(f"{name} does not have the shape of a Terraform plan ({type(exc).__name__}).") from None
    return Infrastructure(resources, root, hashlib.sha256(raw).hexdigest(), "plan")


def _unknown(change: dict[str, Any]) -> frozenset[str]:
    after_unknown = (change.get("change") or {}).get("after_unknown")
    return (
        frozenset(name for name, value in after_unknown.items() if value)
        if isinstance(after_unknown, dict)
        else frozenset()
    )


def _actions(plan: dict[str, Any]) -> tuple[dict[str, str], dict[str, dict[str, Any]]]:
    actions, after = {}, {}
    for change in plan.get("resource_changes") or []:
        steps = (change.get("change") or {}).get("actions") or []
        if not isinstance(steps, list):
            raise TypeError("actions is not a list")
        action = "replace" if {"create", "delete"} <= set(steps) else (steps[0] if len(steps) == 1 else "update")
        actions[_text(change["address"])] = action
        if isinstance((change.get("change") or {}).get("after"), dict):
            after[change["address"]] = change
    return actions, after


def _resources(plan: dict[str, Any]) -> list[Resource]:
    actions, changes = _actions(plan)
    found: dict[str, Resource] = {}
    root = _object(plan.get("planned_values")).get("root_module")
    stack = [] if root is None else [root]
    while stack:
        module = _object(stack.pop())
        for item in module.get("resources") or []:
            address = _text(item["address"])
            found[address] = Resource(
                address,
                _text(item["type"]),
                item.get("mode", "managed"),
                _object(item.get("values")),
                actions.get(address, "no-op"),
                _unknown(changes[address]) if address in changes else frozenset(),
            )
        stack.extend(module.get("child_modules") or [])
    for address, change in changes.items():  # a plan without planned_values: the changes' "after"
        if address not in found and actions[address] != "delete":
            found[address] = Resource(
                _text(address),
                _text(change["type"]),
                change.get("mode", "managed"),
                change["change"]["after"],
                actions[address],
                _unknown(change),
            )
    return [found[address] for address in sorted(found)]


def _config_module(module: dict[str, Any]) -> ConfigModule:
    out = ConfigModule()
    for item in module.get("resources") or []:
        out.resources[_text(item["address"])] = _object(item.get("expressions"))
    for name, call in (module.get("module_calls") or {}).items():
        out.calls[name] = (_object(call.get("expressions")), _config_module(call.get("module") or {}))
    for name, output in (module.get("outputs") or {}).items():
        out.outputs[name] = _object(output.get("expression"))
    return out


def _text(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise TypeError("an address or type is not text")
    return value


def _object(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise TypeError("values or expressions are not an object")
    return value
