"""Fixtures shared by the inventory tests."""

from __future__ import annotations

import pytest

from tests.conftest import login
from tests.inventory.fixtures import make_references
from tests.inventory.importers.test_cbom_import import varied_inventory  # noqa: F401 - a varied inventory


@pytest.fixture
def tmp_media(settings, tmp_path):
    """Uploads of this test go to a folder of its own (and can be listed: nothing refused may be there)."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def refs(db):
    return make_references()


@pytest.fixture
def alice_client(refs):
    return login(refs["users"]["alice"])
