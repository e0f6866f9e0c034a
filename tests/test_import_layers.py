"""The dependency rule of ARCHITECTURE.md, checked by import-linter on every test run: ``evidence`` may import
``inventory`` and ``cek``, ``inventory`` may import ``cek``, ``cek`` imports neither app, and nothing imports views
(only URL confs route to them). The contracts are in ``pyproject.toml`` (``[tool.importlinter]``); imports inside
functions count as much as those at the top of a module."""

from __future__ import annotations

from pathlib import Path

import pytest
from importlinter import api  # importing it configures import-linter, as its command line does
from importlinter.application import output
from importlinter.application.use_cases import lint_imports

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"


def test_the_import_contracts_are_declared():
    contracts = api.read_configuration(str(PYPROJECT))["contracts_options"]
    assert {contract["id"] for contract in contracts} >= {"layers", "no-views"}
    layers = next(contract for contract in contracts if contract["id"] == "layers")
    assert layers["layers"] == ["evidence", "inventory", "cek"]


def test_no_module_imports_against_the_layers_or_imports_views():
    with output.console.capture() as captured:
        kept = lint_imports(config_filename=str(PYPROJECT), cache_dir=None, no_logo=True)
    if not kept:
        pytest.fail(f"An import breaks a contract of [tool.importlinter] in pyproject.toml:\n{captured.get()}")
