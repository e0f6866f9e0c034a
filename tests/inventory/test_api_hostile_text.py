"""Hostile text through the REST API (issue 11): every text field and the labels refuse NUL and other control
characters, unpaired surrogates and bidi overrides with a 400 naming the field (never a 500 from the
database, never the value echoed), multi-line fields keep their line breaks, and a body nested too deeply
for the parser is a 400 too."""

from __future__ import annotations

import json

import pytest

from cek.textsafety import find_unsafe_text, loads_json, scrub
from inventory.models import Key, Party, Purpose
from tests.factories import KeyFactory, KeyStoreFactory
from tests.inventory.test_api import key_payload, send

pytestmark = pytest.mark.django_db

HOSTILE = {
    "nul": "x\x00y",
    "lone-surrogate": "x\ud800y",
    "bell": "x\x07y",
    "escape": "x\x1b[2Jy",
    "c1-control": "x\x9by",
    "bidi-override": "invoice\u202efdp.exe",
    "bidi-isolate": "x\u2067y\u2069",
}
ONE_LINE = ["name", "algorithm", "external_id", "platform_usage", "exposure_contract"]
MULTI_LINE = ["description", "exposure_scope", "purpose_justification"]


def _body(data: dict) -> str:
    return json.dumps(data)  # ensure_ascii: a lone surrogate travels as \ud800, valid JSON


@pytest.mark.parametrize("shape", HOSTILE)
@pytest.mark.parametrize("field", ONE_LINE + MULTI_LINE)
def test_hostile_text_in_a_key_field_is_a_400_naming_the_field(grc_client, field, shape):
    payload = key_payload(KeyStoreFactory(), **{field: HOSTILE[shape]})
    response = send(grc_client, "post", "/api/v1/keys/", _body(payload))

    assert response.status_code == 400, response.content[:300]
    errors = response.json()["errors"]
    assert list(errors) == [field]
    assert any(f"'{field}'" in message or "not allowed" in message for message in errors[field])
    assert HOSTILE[shape].encode("utf-8", "surrogatepass") not in response.content
    assert not Key.objects.exists()


@pytest.mark.parametrize("shape", HOSTILE)
def test_hostile_text_in_a_label_name_or_value_is_a_400(grc_client, shape):
    for labels in ({"team": HOSTILE[shape]}, {HOSTILE[shape]: "x"}):
        response = send(grc_client, "post", "/api/v1/keys/", _body(key_payload(KeyStoreFactory(), labels=labels)))
        assert response.status_code == 400, response.content[:300]
        assert list(response.json()["errors"]) == ["labels"]
    assert not Key.objects.exists()


@pytest.mark.parametrize("shape", ["nul", "lone-surrogate", "bidi-override"])
def test_hostile_text_in_an_update_leaves_the_key_as_it_was(grc_client, shape):
    key = KeyFactory(name="inference-logs")
    response = send(grc_client, "patch", f"/api/v1/keys/{key.pk}/", _body({"name": HOSTILE[shape]}))
    assert response.status_code == 400 and list(response.json()["errors"]) == ["name"]
    key.refresh_from_db()
    assert key.name == "inference-logs"


@pytest.mark.parametrize(("url", "payload", "field"), [
    ("/api/v1/parties/", {"name": "Acme\u202e", "roles": ["CSP"]}, "name"),
    ("/api/v1/purposes/", {"slug": "x", "name": "Sign\x00", "function": "signing"}, "name"),
    ("/api/v1/tenants/", {"slug": "acme", "name": "Acme", "description": "a\ud800"}, "description"),
])  # fmt: skip
def test_other_inventory_objects_refuse_hostile_text(grc_client, url, payload, field):
    before = (Party.objects.count(), Purpose.objects.count())
    response = send(grc_client, "post", url, _body(payload))
    assert response.status_code == 400 and field in response.json()["errors"]
    assert (Party.objects.count(), Purpose.objects.count()) == before


def test_line_breaks_and_tabs_are_kept_in_multi_line_fields_only(grc_client):
    text = "Encrypts inference logs.\r\n\tReviewed yearly."
    response = send(grc_client, "post", "/api/v1/keys/", _body(key_payload(KeyStoreFactory(), description=text)))
    assert response.status_code == 201 and Key.objects.get().description == text
    response = send(grc_client, "post", "/api/v1/keys/", _body(key_payload(KeyStoreFactory(), name="two\nlines")))
    assert response.status_code == 400 and "line break" in response.json()["errors"]["name"][0]


def test_a_body_nested_too_deeply_is_a_400(grc_client):
    body = _body(key_payload(KeyStoreFactory(), labels={"x": "@"})).replace('"@"', "[" * 5000 + "]" * 5000)
    response = send(grc_client, "post", "/api/v1/keys/", body)
    assert response.status_code == 400 and "nested too deeply" in response.json()["detail"]


# --- The check itself -------------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", HOSTILE)
def test_every_hostile_shape_is_found_one_line_and_multi_line(shape):
    assert find_unsafe_text(HOSTILE[shape]) and find_unsafe_text(HOSTILE[shape], multiline=True)


@pytest.mark.parametrize(
    "text", ["Schlüssel für Modelle", "鍵の目的", "مفتاح", "emoji 🔑", "arn:aws:kms:eu-west-1:1:key/x", "a\u200db"]
)
def test_ordinary_text_in_any_script_passes(text):
    assert find_unsafe_text(text) is None


def test_loads_json_bounds_depth_and_text():
    assert loads_json('{"a": ["b"]}') == {"a": ["b"]}
    for text in ("[" * 5000 + "]" * 5000, "[" * 40 + "]" * 40, '{"a": "\\u0000"}', '{"\\ud800": 1}'):
        with pytest.raises(ValueError, match=r"nested more than|NUL|surrogate"):
            loads_json(text)
    assert scrub("a\x00b\u202ec") == "a\ufffdb\ufffdc"


@pytest.mark.parametrize("shape", ["nul", "lone-surrogate", "bidi-override"])
@pytest.mark.parametrize("field", ["purpose", "owner", "backup_owner", "tenant", "purpose_approver"])
def test_hostile_text_in_a_reference_is_a_400_not_a_database_error(grc_client, field, shape):
    """A NUL in a slug or username reached the lookup, and PostgreSQL refused the query (a 500)."""
    response = send(
        grc_client, "post", "/api/v1/keys/", _body(key_payload(KeyStoreFactory(), **{field: HOSTILE[shape]}))
    )
    assert response.status_code == 400 and list(response.json()["errors"]) == [field]
    assert not Key.objects.exists()


def test_an_import_upload_naming_a_store_with_a_nul_is_a_400(grc_client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    file = SimpleUploadedFile("kms.json", b"[]", content_type="application/json")
    response = grc_client.post("/api/v1/imports/", {"file": file, "format": "aws-kms", "store": "prod\x00"})
    assert response.status_code == 400 and list(response.json()["errors"]) == ["store"]
