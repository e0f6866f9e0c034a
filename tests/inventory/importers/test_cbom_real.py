"""Real CBOMs from public repositories (tests/inventory/fixtures/cbom-real, sources and licences in its README):
each one imports through preview and apply, or is refused for a private value naming the component.

The figures are the table of the issue's closing note: keys imported, with an algorithm, with a size, public
keys fingerprinted, and the importer's warnings (references that name nothing, unreadable public key values,
nameless public keys)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from django.forms.models import model_to_dict

from inventory import importing
from inventory.importers import get_importer, guess_formats
from inventory.importers.base import ImportFileError
from inventory.models import Key
from tests.factories import KeyStoreFactory
from tests.inventory.fixtures import FIXTURES

REAL = FIXTURES / "cbom-real"

# file: (keys imported, with an algorithm, with a size, public keys fingerprinted, importer warnings)
IMPORTED: dict[str, tuple[int, int, int, int, int]] = {
    "bomex-certificate.cdx.json": (1, 1, 1, 0, 0),
    "bomex-key.cdx.json": (1, 1, 1, 0, 0),
    "bomex-protocol.cdx.json": (1, 1, 1, 0, 0),
    "cbomkit-frontend-keycloak-2024-09.cdx.json": (4, 4, 2, 0, 0),
    "cbomkit-frontend-keycloak.cdx.json": (3, 3, 0, 0, 0),
    "cbomkit-kafka-2024-11.cdx.json": (6, 6, 2, 0, 0),
    "cbomkit-kafka.cdx.json": (4, 4, 2, 0, 0),
    "cbomkit-keycloak-2024-11.cdx.json": (3, 3, 2, 0, 0),
    "cbomkit-keycloak.cdx.json": (3, 3, 1, 0, 0),
    "spec-certificate-1.7.cdx.json": (1, 1, 1, 0, 1),
    "spec-certificate-advanced-1.7.cdx.json": (2, 2, 2, 0, 4),
    "spec-full-1.7.cdx.json": (1, 0, 1, 0, 3),
    "theia-0-empty-out.cdx.json": (1, 1, 1, 0, 0),
    "theia-1-exclude-single-algorithm-out.cdx.json": (5, 5, 5, 4, 0),
    "theia-1-out.cdx.json": (1, 1, 1, 0, 1),
    "theia-2-tomcat-in.cdx.json": (2, 2, 1, 0, 0),
    "theia-2-tomcat-out.cdx.json": (6, 6, 5, 5, 0),
    "theia-3-certificates-out-2024-07.cdx.json": (8, 8, 8, 0, 0),
    "theia-3-certificates-out.cdx.json": (7, 7, 7, 7, 0),
    "theia-4-unknown-key-size-out.cdx.json": (1, 1, 1, 0, 0),
    "theia-4-unknown-key-size.cdx.json": (5, 5, 5, 4, 2),
    "theia-5-single-certificate-out-2024-07.cdx.json": (1, 1, 1, 0, 0),
    "theia-5-single-certificate-out.cdx.json": (1, 1, 1, 1, 0),
    "theia-6-malformed-java-security-out.cdx.json": (1, 1, 1, 1, 0),
    "theia-7-private-key-out.cdx.json": (2, 1, 1, 1, 0),
    "theia-8-secrets-out-2024-08.cdx.json": (6, 1, 1, 1, 0),
    "theia-8-secrets-out.cdx.json": (7, 1, 1, 1, 0),
    "theia-protocol.cdx.json": (1, 1, 1, 0, 1),
    "theia-unknown-key-size-in.cdx.json": (1, 1, 1, 0, 0),
}
# file: (component name, bom-ref) of the private-key component whose value refuses the file
REFUSED: dict[str, tuple[str, str]] = {
    "spec-full-1.6.cdx.json": ("Name here", "asset-4"),
    "spec-full-deprecated-1.7.cdx.json": ("Name here", "asset-4"),
}
FILES = sorted(REAL.glob("*.json"))


def _values(document: dict[str, Any]) -> list[str]:
    """Every relatedCryptoMaterialProperties.value of the file."""
    found: list[str] = []

    def visit(items: Any) -> None:
        for component in items or ():
            material = (component.get("cryptoProperties") or {}).get("relatedCryptoMaterialProperties") or {}
            if material.get("value"):
                found.append(material["value"])
            visit(component.get("components"))

    visit(document.get("components"))
    return found


def _kept_text(key: Key) -> str:
    return json.dumps(model_to_dict(key), default=str)


def test_every_real_file_is_in_the_table():
    assert sorted(path.name for path in FILES) == sorted([*IMPORTED, *REFUSED])
    assert len(FILES) >= 20


@pytest.mark.parametrize("path", FILES, ids=lambda path: path.name)
def test_a_real_cbom_is_recognised_as_a_cbom_and_nothing_else(path: Path):
    data = path.read_bytes()
    assert [importer.format for importer in guess_formats(data, json.loads(data))] == ["cbom"]


@pytest.mark.parametrize("path", [REAL / name for name in IMPORTED], ids=lambda path: path.name)
def test_a_real_cbom_imports_keeping_public_key_fingerprints_never_values(path: Path, grc_user):
    data = path.read_bytes()
    keys, with_algorithm, with_size, fingerprinted, warned = IMPORTED[path.name]
    parsed = get_importer("cbom").parse(data, file_name=path.name)
    assert len(parsed.warnings) == warned, [str(warning) for warning in parsed.warnings]
    store = KeyStoreFactory()

    record, plan = importing.key_import_preview(
        data=data, file_name=path.name, format="cbom", actor=grc_user, store=store
    )
    assert plan.file_error == "" and plan.errors == []
    # The importer's warnings are shown in the preview and recorded, with the planner's own.
    shown = {(warning.row, warning.message) for warning in plan.warnings}
    assert {(warning.row, warning.message) for warning in parsed.warnings} <= shown
    importing.key_import_apply(key_import=record, actor=grc_user)

    imported = list(Key.objects.filter(store=store))
    assert len(imported) == keys
    assert sum(1 for key in imported if key.algorithm) == with_algorithm
    assert sum(1 for key in imported if key.size_bits) == with_size
    prints = [
        key.platform_details["public_key_sha256"] for key in imported if "public_key_sha256" in key.platform_details
    ]
    assert len(prints) == fingerprinted
    assert all(re.fullmatch(r"sha256:[0-9a-f]{64}", fingerprint) for fingerprint in prints)
    kept = "".join(_kept_text(key) for key in imported)
    for value in _values(json.loads(data)):
        body = "".join(re.sub(r"-----[A-Z ]+-----", "", value).replace("...", "").split())
        assert len(body) < 16 or body[-16:] not in kept  # the end of a key is its own (the start is a header)


@pytest.mark.parametrize("path", [REAL / name for name in REFUSED], ids=lambda path: path.name)
def test_a_real_cbom_with_a_private_value_is_refused_naming_the_component(path: Path):
    name, ref = REFUSED[path.name]
    with pytest.raises(ImportFileError) as caught:
        get_importer("cbom").parse(path.read_bytes(), file_name=path.name)
    message = str(caught.value)
    assert message.startswith(f"The component '{name}' (bom-ref '{ref}', at components[")
    assert "has relatedCryptoMaterialProperties.value set" in message
    for value in _values(json.loads(path.read_bytes())):
        assert value not in message
