"""The importer registry: every importer module of ``inventory.importers`` registers itself, in its ``order``."""

from __future__ import annotations

import sys
import textwrap

import pytest

import inventory.importers as importers
from inventory.importers import base

FORMATS = ["csv", "aws-kms", "gcp-kms", "azure-kv", "vault-transit", "vault-kv", "cbom"]

NEW_MODULE = "inventory.importers.plain_list_for_test"
NEW_IMPORTER = """
from inventory.importers.base import Importer, ParseResult


class PlainListImporter(Importer):
    format = "plain-list"
    label = "Plain list"
    order = 25  # between AWS KMS and Google Cloud KMS

    def parse(self, data, *, file_name):
        return ParseResult()

    def sniff(self, data, document):
        return data.startswith(b"plain-list")
"""


@pytest.fixture
def package_with_a_new_module(tmp_path, monkeypatch):
    """``inventory.importers`` with one more module, as if a file had been added to its folder; the registry as
    it was afterwards."""
    (tmp_path / f"{NEW_MODULE.rsplit('.', 1)[1]}.py").write_text(textwrap.dedent(NEW_IMPORTER), encoding="utf-8")
    monkeypatch.setattr(importers, "__path__", [*importers.__path__, str(tmp_path)])
    monkeypatch.setattr(base, "_REGISTERED", dict(base._REGISTERED))
    yield
    sys.modules.pop(NEW_MODULE, None)
    if hasattr(importers, NEW_MODULE.rsplit(".", 1)[1]):
        delattr(importers, NEW_MODULE.rsplit(".", 1)[1])


def test_the_registry_lists_the_formats_in_their_order():
    assert list(importers.REGISTRY) == FORMATS
    assert [name for name, _label in importers.format_choices()] == FORMATS
    assert [cls.order for cls in base.registered_importers()] == sorted(
        cls.order for cls in base.registered_importers()
    )


def test_a_new_importer_module_is_picked_up_without_editing_the_registry(package_with_a_new_module, monkeypatch):
    registry = importers.build_registry()

    assert list(registry) == ["csv", "aws-kms", "plain-list", *FORMATS[2:]]
    assert type(registry["plain-list"]).__module__ == NEW_MODULE
    monkeypatch.setattr(importers, "REGISTRY", registry)
    assert importers.get_importer("plain-list") is registry["plain-list"]
    assert importers.format_choices()[2] == ("plain-list", "Plain list")
    assert [importer.format for importer in importers.guess_formats(b"plain-list\nkey-1\n", None)] == ["plain-list"]


def test_an_importer_without_an_order_is_refused(monkeypatch):
    monkeypatch.setattr(base, "_REGISTERED", dict(base._REGISTERED))
    with pytest.raises(TypeError, match="must set order"):

        class Unordered(base.Importer):
            format = "unordered"
            label = "Unordered"


def test_two_importers_may_not_claim_one_format(monkeypatch):
    monkeypatch.setattr(base, "_REGISTERED", dict(base._REGISTERED))
    with pytest.raises(TypeError, match="Two importers name the format 'csv'"):

        class AnotherCsv(base.Importer):
            format = "csv"
            label = "Another CSV"
            order = 99

    assert base._REGISTERED["csv"].__module__ == "inventory.importers.csv"


def test_shared_bases_register_nothing():
    assert base.JsonImporter not in base.registered_importers()
    assert len(base.registered_importers()) == len(FORMATS)
