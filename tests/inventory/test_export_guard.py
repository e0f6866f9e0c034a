"""The export guard on the inventory's exports: key material already in the database (written before a rule
existed, or by a bug: simulated here with ``QuerySet.update``, which skips every validator) never leaves in a
CSV or CBOM download or the export command; the download answers 409 with where, never the value."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from inventory.models import Binding, Key, Service
from tests.factories import BindingFactory, KeyFactory, ServiceFactory

SECRET = "ghp_" + "Q7wE3rT9yU1iO5pA2sD8fG4hJ6kL0zX3cV9b"

pytestmark = pytest.mark.django_db


@pytest.fixture
def keys():
    found = [KeyFactory(name=f"key-{n:02d}") for n in range(5)]
    return found


def _download(client, name: str):
    return client.get(reverse(f"inventory:{name}"))


def _text(response) -> str:
    return b"".join(response.streaming_content).decode("utf-8")


@pytest.mark.parametrize("url", ["export-keys", "export-keys-cbom"])
def test_a_clean_inventory_still_downloads(grc_client, keys, url):
    response = _download(grc_client, url)
    assert response.status_code == 200
    assert "key-03" in _text(response)
    assert response["Cache-Control"] == "no-store"


@pytest.mark.parametrize(
    ("url", "field", "value", "where"),
    [
        ("export-keys", "description", f"legacy note {SECRET}", "column 'description'"),
        ("export-keys", "labels", {"ci": SECRET}, "column 'labels'"),
        ("export-keys-cbom", "description", SECRET, "component"),
        ("export-keys-cbom", "labels", {"ci": SECRET}, "component"),
        ("export-keys-cbom", "purpose_justification", f"token={SECRET}", "component"),
    ],
)
def test_a_key_holding_key_material_stops_the_download(grc_client, keys, url, field, value, where):
    Key.objects.filter(pk=keys[3].pk).update(**{field: value})
    response = _download(grc_client, url)
    assert response.status_code == 409
    text = response.content.decode()
    assert "was not produced" in text and where in text and "GitHub token" in text
    assert SECRET not in text and SECRET[:12] not in text


def test_the_csv_row_is_named(grc_client, keys):
    Key.objects.filter(pk=keys[2].pk).update(exposure_scope=SECRET)
    text = _download(grc_client, "export-keys").content.decode()
    ordered = list(Key.objects.order_by("name").values_list("pk", flat=True))  # the export's order
    assert f"row {ordered.index(keys[2].pk) + 2}, column 'exposure_scope'" in text


def test_services_and_bindings_exports_are_guarded_too(grc_client, keys):
    service = ServiceFactory()
    BindingFactory(key=keys[0], service=service)
    Service.objects.filter(pk=service.pk).update(description=SECRET)
    assert _download(grc_client, "export-services").status_code == 409
    Service.objects.filter(pk=service.pk).update(description="")
    Binding.objects.update(notes=f"password={SECRET}")
    response = _download(grc_client, "export-bindings")
    assert response.status_code == 409 and "column 'notes'" in response.content.decode()


@pytest.mark.parametrize("fmt", ["csv", "cbom"])
def test_the_export_command_refuses_and_leaves_no_file(keys, tmp_path, fmt):
    Key.objects.filter(pk=keys[1].pk).update(description=SECRET)
    output = tmp_path / "out.txt"
    with pytest.raises(CommandError, match="was not produced") as raised:
        call_command("export_keys", format=fmt, output=output)
    assert SECRET not in str(raised.value)
    assert not output.exists()
