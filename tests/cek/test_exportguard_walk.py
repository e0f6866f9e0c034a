"""cek.exportguard.check_tree's fast paths: the set of strings already judged harmless lets whole mappings and
lists of mappings through at C speed (the CBOM's properties); nothing it skips can be key material.

Every secret of the corpus (``tests/corpus/``) is put into a CBOM-shaped component whose other strings the guard
has seen (so every fast path is taken around it) and must still stop the export, named by its path."""

from __future__ import annotations

import pytest

from cek import exportguard
from cek.exportguard import ExportRefused, check_tree
from tests.corpus.loader import entry_id, load

SECRETS = load("secrets")
LOOKALIKES = load("lookalikes")
DIGEST = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"  # SHA-256 of "test"


def component(**replace) -> dict:
    """A key component as the CBOM export writes it; ``replace`` sets a property's value by its index."""
    properties = [
        {"name": "cek:owner", "value": "olivia"},
        {"name": "cek:purpose", "value": "token-signing"},
        {"name": "cek:store", "value": "aws-kms-ml"},
        {"name": "cek:labels:env", "value": "production"},
    ]
    for index, value in replace.items():
        properties[int(index.removeprefix("p"))]["value"] = value
    return {
        "bom-ref": "key:2:arn:aws:kms:us-east-1:444455556666:key/0000662d-e33f-439a-ba8d-a3a899fa2d9c",
        "cryptoProperties": {
            "assetType": "related-crypto-material",
            "relatedCryptoMaterialProperties": {"id": "k-1", "securedBy": {"mechanism": "AWS KMS"}, "size": 256},
        },
        "name": "token-signing-shared-011728",
        "properties": properties,
        "type": "cryptographic-asset",
    }


@pytest.fixture
def warm():
    """The guard as a worker has it after an export: every string of a clean component known to be harmless."""
    exportguard._CLEAN.clear()
    exportguard._CLEAN.add("")
    check_tree(component(), export="The CBOM export", where="component 1")
    assert "token-signing" in exportguard._CLEAN and exportguard._all_clean_mappings(component()["properties"])
    yield
    exportguard._CLEAN.clear()
    exportguard._CLEAN.add("")


@pytest.mark.parametrize("entry", SECRETS, ids=[entry_id(n, e) for n, e in enumerate(SECRETS)])
def test_a_secret_among_known_harmless_properties_stops_the_export(warm, entry):
    with pytest.raises(ExportRefused) as refused:
        check_tree(component(p2=entry["value"]), export="The CBOM export", where="component 7")
    assert refused.value.where == "component 7.properties[2].value"
    assert entry["value"] not in str(refused.value)


@pytest.mark.parametrize("entry", SECRETS[::7], ids=[entry_id(n * 7, e) for n, e in enumerate(SECRETS[::7])])
def test_a_secret_as_a_member_name_or_a_list_item_stops_the_export(warm, entry):
    tree = component()
    tree["properties"][1] = {"name": "cek:owner", entry["value"]: "olivia"}  # values known harmless
    with pytest.raises(ExportRefused) as refused:
        check_tree(tree, export="The CBOM export", where="component 7")
    assert refused.value.where == "a member name in component 7.properties[1]"
    tree = component()
    tree["tags"] = ["production", "olivia", entry["value"]]
    with pytest.raises(ExportRefused) as refused:
        check_tree(tree, export="The CBOM export", where="component 7")
    assert refused.value.where == "component 7.tags[2]"


def test_a_list_of_strings_is_never_read_as_a_list_of_mappings(warm):
    """Iterating a string gives its characters: single characters known harmless must not pass the string."""
    secret = SECRETS[0]["value"]
    exportguard._CLEAN.update(set(secret))
    with pytest.raises(ExportRefused):
        check_tree({"values": [secret]}, export="x")
    with pytest.raises(ExportRefused):
        check_tree({"values": [{"a": "b"}, secret]}, export="x")


def test_a_digest_let_through_in_its_own_member_is_not_remembered_as_harmless(warm):
    check_tree({"sha256": DIGEST}, export="pack.json", computed=frozenset({"sha256"}))
    assert DIGEST not in exportguard._CLEAN
    with pytest.raises(ExportRefused, match="hexadecimal"):
        check_tree({"description": DIGEST}, export="pack.json", computed=frozenset({"sha256"}))
    with pytest.raises(ExportRefused, match="hexadecimal"):
        check_tree([{"name": "x", "value": DIGEST}], export="pack.json", computed=frozenset({"sha256"}))


def test_look_alikes_pass_and_are_then_skipped(warm):
    values = [entry["value"] for entry in LOOKALIKES]
    check_tree([{"name": "cek:labels:x", "value": value} for value in values], export="x")
    assert exportguard._all_clean_mappings([{"name": "cek:labels:x", "value": value} for value in values[:50]])


def test_the_set_of_harmless_strings_is_bounded(warm, monkeypatch):
    monkeypatch.setattr(exportguard, "_CLEAN_MAX", 10)
    check_tree({"names": [f"harmless-name-{n}" for n in range(25)]}, export="x")
    assert len(exportguard._CLEAN) <= 10
