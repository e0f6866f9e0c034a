"""The streamed CBOM export writes exactly what cyclonedx-python-lib writes for each component.

``inventory.exporters.cbom.export_keys`` builds each component's JSON itself (the library's per-component
serialiser was most of the time of a 100,000-key export); these tests compare it, text for text, with the
document the library writes for the same keys (``build_bom``'s components, joined the way the export joined them
before), for both spec versions and every shape of key."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from inventory.exporters import cbom
from inventory.exporters.cyclonedx17 import as_1_7
from inventory.models import Key, KeyState, StoreKind
from tests.factories import (
    BindingFactory,
    KeyFactory,
    KeyStoreFactory,
    PartyFactory,
    ServiceFactory,
    TenantFactory,
    purpose,
)
from tests.inventory.test_cbom_export import inventory  # noqa: F401  (the fixture: one key of each shape)


def library_export(queryset, spec: str) -> str:
    """The export as it was written before: every component serialised by the library (``Component.as_json``)."""
    writer, view = cbom._WRITERS[spec]
    bom, root = cbom._skeleton_bom()
    frame = json.loads(writer(bom).output_as_string())
    frame.pop("components", None)
    frame.pop("dependencies", None)
    parts = [json.dumps(frame)[:-1] + ', "components": [']
    refs = []
    for number, component in enumerate(cbom._components(queryset)):
        refs.append(component.bom_ref.value)
        text = component.as_json(view_=view)
        if spec == "1.7":
            text = json.dumps(as_1_7(json.loads(text)))
        parts.append(("," if number else "") + "\n" + text)
    parts.append("\n], " + json.dumps({"dependencies": [{"ref": root.bom_ref.value, "dependsOn": refs}]})[1:] + "\n")
    return "".join(parts)


def split(text: str) -> tuple[dict, str]:
    """The frame without what differs between two runs (serial number, time), and the rest as text."""
    head, _, rest = text.partition(', "components": [')
    frame = json.loads(head + "}")
    frame.pop("serialNumber")
    frame["metadata"].pop("timestamp")
    return frame, rest


@pytest.fixture
def every_shape(inventory, owner, other_owner, grc_user):  # noqa: F811
    """The export tests' inventory plus a key with every field, one with non-ASCII text and a zero-day dates mix."""
    key = KeyFactory(
        store=KeyStoreFactory(name="prod-kms-eu", kind=StoreKind.GCP_KMS),
        kind="certificate-private-key",
        algorithm="ECDH P-384 key wrap",
        purpose=purpose("digital-signature"),
        purpose_justification="Signs release artefacts.",
        purpose_approver=grc_user,
        purpose_reviewed_on=dt.date(2026, 1, 15),
        owner=owner,
        backup_owner=other_owner,
        custodian=PartyFactory(name="Example Cloud"),
        platform_usage="SIGN_VERIFY",
        rotation_period_days=365,
        cryptoperiod_days=1095,
        exposure_scope="Partner Labs verifies signatures.",
        exposure_contract="MSA-2025-014",
        description="Release signing key, «prod» ✓",
        platform_managed=True,
        platform_details={"Origin": "AWS_KMS", "MultiRegion": True, "n": 3},
        labels={"aws:cloudformation:stack-name": "release", "empty": "", "z": "ü"},
        created_on=dt.date(2020, 2, 29),
        activated_on=dt.date(2020, 3, 1),
        last_rotated_on=dt.date(2026, 1, 1),
        expires_on=dt.date(2030, 12, 31),
    )
    key.exposed_to.set([PartyFactory(name="Partner Labs; EU"), PartyFactory(name='Ärzte "Nord"')])
    BindingFactory(key=key, service=ServiceFactory(slug="release-pipeline"), operations=["verify", "sign"])
    BindingFactory(
        key=key,
        service=ServiceFactory(slug="gateway"),
        tenant=TenantFactory(slug="globex"),
        principal="",
        operations=[],
    )
    KeyFactory(
        name='Schlüssel 東京 \\ "quoted"',
        external_id="key/ü ?&#%",
        description="",
        algorithm="ML-KEM-768",
        size_bits=0,
        state=KeyState.COMPROMISED,
        purpose=None,
        purpose_justification="",
        purpose_reviewed_on=None,
    )
    return Key.objects.order_by("store__name", "external_id")


@pytest.mark.parametrize("spec", cbom.SPEC_VERSIONS)
def test_the_streamed_components_are_the_library_s_own_json(every_shape, spec):
    streamed = "".join(cbom.export_keys(every_shape, spec=spec))
    expected = library_export(every_shape, spec)
    assert split(streamed) == split(expected)  # the components and dependencies byte for byte, the frame parsed
    assert json.loads(streamed)["components"] == json.loads(expected)["components"]
    assert len(json.loads(streamed)["components"]) == every_shape.count() + 5  # + one per distinct algorithm


def test_the_streamed_export_is_still_guarded(every_shape):
    from cek.exportguard import ExportRefused

    key = every_shape.get(algorithm="ML-KEM-768")
    secret = "ghp_" + "Q7wE3rT9yU1iO5pA2sD8fG4hJ6kL0zX3cV9b"
    Key.objects.filter(pk=key.pk).update(description=f"legacy {secret}")
    position = [tree["bom-ref"] for tree in cbom._component_trees(every_shape)].index(cbom.key_bom_ref(key)) + 1
    for spec in cbom.SPEC_VERSIONS:
        with pytest.raises(ExportRefused, match=rf"component {position}\.description") as refused:
            "".join(cbom.export_keys(every_shape, spec=spec))
        assert secret not in str(refused.value)


def test_large_exports_come_in_chunks_of_components(db, monkeypatch):
    store = KeyStoreFactory()
    for number in range(5):
        KeyFactory(store=store, external_id=f"k{number}", algorithm="AES-256-GCM")
    monkeypatch.setattr(cbom, "CHUNK_SIZE", 2)
    chunks = list(cbom.export_keys(Key.objects.order_by("external_id")))
    # head, then 6 components (one algorithm, five keys) in chunks of two, then the dependencies
    assert len(chunks) == 1 + 3 + 1
    assert len(json.loads("".join(chunks))["components"]) == 6
