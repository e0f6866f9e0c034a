"""Reads a directory of ``.tf`` files (python-hcl2) into the same shape as a plan: values that are literals, and
configuration expressions whose references (``${aws_kms_key.logs.arn}``) tell which key a consumer points at.
Local modules (``source = "./..."``) are read too; others are left out."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

import hcl2
from lark.exceptions import LarkError

from evidence.iac.model import ConfigModule, Infrastructure, Resource, UnreadableInput, module_prefix

_INTERPOLATION = re.compile(r"\$\{([^}]*)\}")
_REFERENCE = re.compile(r"(?<![\w.\"])((?:data\.)?[A-Za-z_][\w-]*\.[A-Za-z_][\w-]*(?:\.[A-Za-z_][\w-]*)?)")
_MAX_DEPTH = 10


def read_directory(path: Path, *, max_bytes: int) -> Infrastructure:
    reader = _Reader(max_bytes)
    root = reader.module(path, ())
    return Infrastructure(reader.resources, root, reader.digest.hexdigest(), "hcl")


class _Reader:
    def __init__(self, max_bytes: int):
        self.max_bytes, self.total = max_bytes, 0
        self.digest = hashlib.sha256()
        self.resources: list[Resource] = []

    def module(self, path: Path, module: tuple[str, ...]) -> ConfigModule:
        files = sorted(path.glob("*.tf"))
        if not module and not files:
            raise UnreadableInput(f"{path} holds no .tf file.")
        out = ConfigModule()
        for file in files:
            try:
                self.document(self.load(file), path, module, out)
            except (AttributeError, TypeError, ValueError):
                raise UnreadableInput(f"{file}: a block does not have the shape of Terraform configuration.") from None
        return out

    def load(self, file: Path) -> dict[str, Any]:
        try:
            raw = file.read_bytes()
        except OSError as exc:
            raise UnreadableInput(f"Cannot read {file}: {exc.strerror}.") from None
        self.total += len(raw)
        if self.total > self.max_bytes:
            raise UnreadableInput(f"The .tf files are over the limit of {self.max_bytes} bytes (CEK_IAC_MAX_BYTES).")
        self.digest.update(file.name.encode() + b"\0" + raw)
        try:
            return hcl2.loads(raw.decode("utf-8"))
        except UnicodeDecodeError:
            raise UnreadableInput(f"{file} is not UTF-8 text.") from None
        except (LarkError, ValueError) as exc:
            where = f" at line {exc.line}" if getattr(exc, "line", None) else ""
            raise UnreadableInput(f"{file}: HCL syntax error{where}.") from None

    def document(self, document: dict[str, Any], path: Path, module: tuple[str, ...], out: ConfigModule) -> None:
        prefix = module_prefix(module)
        for mode, blocks in (("managed", document.get("resource") or []), ("data", document.get("data") or [])):
            for block in blocks:
                for rtype, named in block.items():
                    for name, body in named.items():
                        rtype, name = _unquote(rtype), _unquote(name)
                        local = f"{rtype}.{name}" if mode == "managed" else f"data.{rtype}.{name}"
                        values, expressions = _split(body)
                        out.resources[local] = expressions
                        computed = frozenset(name for name, expression in expressions.items() if name not in values)
                        self.resources.append(Resource(prefix + local, rtype, mode, values, "declared", computed))
        for block in document.get("module") or []:
            for name, body in block.items():
                name = _unquote(name)
                values, expressions = _split(body)
                source = values.get("source")
                called = ConfigModule()
                if isinstance(source, str) and source.startswith(("./", "../")) and len(module) < _MAX_DEPTH:
                    child = (path / source).resolve()
                    if child.is_dir():
                        called = self.module(child, (*module, name))
                out.calls[name] = (expressions, called)
        for block in document.get("output") or []:
            for name, body in block.items():
                out.outputs[_unquote(name)] = _split(body)[1].get("value", {})


def _unquote(text: Any) -> Any:
    if isinstance(text, str) and len(text) >= 2 and text[0] == text[-1] == '"':
        return text[1:-1]
    return text


def _split(body: Any) -> tuple[Any, Any]:
    """(literal values, expressions) of an attribute or a block, in the plan's shapes."""
    if isinstance(body, dict):
        values, expressions = {}, {}
        for key, item in body.items():
            if key.startswith("__"):
                continue
            value, expression = _split(item)
            key = _unquote(key)
            if value is not None:
                values[key] = value
            expressions[key] = expression
        return values, expressions
    if isinstance(body, list):
        pairs = [_split(item) for item in body]
        if all(isinstance(item, dict) for item in body):  # nested blocks
            return [value for value, _ in pairs], [expression for _, expression in pairs]
        known = [value for value, _ in pairs]
        references = [ref for _, expression in pairs for ref in expression.get("references", [])]
        return (None if None in known else known), ({"references": references} if references else {})
    if isinstance(body, str):
        found = _INTERPOLATION.findall(body)
        if found:
            references = [ref for part in found for ref in _REFERENCE.findall(part)]
            return None, {"references": references}
        text = _unquote(body)
        if text is body and _REFERENCE.fullmatch(body):  # a bare reference, as hcl2 writes some
            return None, {"references": [body]}
        return text, {"constant_value": text}
    return body, {"constant_value": body}
