"""evidence.checks.registry: checks register themselves, in the catalog's order, from the modules of a package."""

from __future__ import annotations

import importlib
import pkgutil
import sys
import textwrap

import pytest
from django.core.exceptions import ImproperlyConfigured

from cek.control import load_control
from evidence.checks import guidelines, registry

CHECK = """
from evidence.checks.base import Check, CheckContext, Outcome
from evidence.models import CheckStatus


class {name}(Check):
    guideline_id = "{guideline}"
    title = "{name}"

    def evaluate(self, ctx: CheckContext) -> Outcome:
        return Outcome(status=CheckStatus.MANUAL)
"""


@pytest.fixture
def plugins(tmp_path, monkeypatch, request):
    """A package of check modules written for the test: ``write(module, name, guideline)``, then ``load()``."""
    package = f"extra_checks_{request.node.name.replace('[', '_').replace(']', '_').replace('-', '_')}"
    folder = tmp_path / package
    folder.mkdir()
    (folder / "__init__.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path))

    def write(module: str, name: str, guideline: str) -> None:
        (folder / f"{module}.py").write_text(textwrap.dedent(CHECK.format(name=name, guideline=guideline)))

    def load():
        return importlib.import_module(package)

    yield write, load
    for module in [m for m in sys.modules if m == package or m.startswith(f"{package}.")]:
        del sys.modules[module]


def test_every_guideline_of_the_catalog_has_one_check_in_catalog_order():
    catalog = [guideline.id for guideline in load_control().auditing_guidelines]
    assert [check.guideline_id for check in registry.CHECKS] == catalog
    assert list(registry.BY_GUIDELINE) == catalog and registry.get("AG-3") is registry.BY_GUIDELINE["AG-3"]
    assert registry.MANUAL_GUIDELINES == ("AG-8", "AG-9")
    assert len(set(registry.OWNED_RULES)) == len(registry.OWNED_RULES)


def test_every_module_of_the_guidelines_package_is_picked_up():
    modules = {module.name for module in pkgutil.iter_modules(guidelines.__path__, f"{guidelines.__name__}.")}
    registered = {type(check).__module__ for check in registry.CHECKS}
    assert registered == modules - {f"{guidelines.__name__}.manual"}  # manual.py is the base of AG-8 and AG-9


def test_a_new_module_is_a_new_check_ordered_by_the_catalog_not_by_file_name(plugins):
    write, load = plugins
    write("a_first_file", "LaterInCatalog", "CCM-2")
    write("z_last_file", "EarlierInCatalog", "AG-10")
    checks = registry.discover(load())
    assert [(type(c).__name__, c.guideline_id) for c in checks] == [
        ("EarlierInCatalog", "AG-10"),
        ("LaterInCatalog", "CCM-2"),
    ]


def test_a_guideline_checked_twice_is_refused(plugins):
    write, load = plugins
    write("one", "One", "AG-1")
    write("two", "Two", "AG-1")
    with pytest.raises(ImproperlyConfigured, match="AG-1 is checked twice"):
        registry.discover(load())


def test_a_guideline_the_catalog_does_not_have_is_refused(plugins):
    write, load = plugins
    write("bogus", "Bogus", "AG-11")
    with pytest.raises(ImproperlyConfigured, match="'AG-11', which is not an auditing guideline"):
        registry.discover(load())
