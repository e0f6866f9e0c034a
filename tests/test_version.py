"""One version, ``cek.__version__``, the latest in CHANGELOG.md, shown where an adopter or an auditor looks: every
page's footer, ``/healthz``, the API schema, and the cover of every evidence pack."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.test import Client

import cek
from evidence.packs.content import collect
from evidence.packs.pdf import render_pack_pdf
from tests.conftest import login
from tests.evidence.packs_data import make_pack
from tests.evidence.test_pack_pdf import flat, pdf_text

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[1]


def test_the_version_is_the_changelog_s_latest_and_the_door_files_exist():
    latest = re.search(r"^## (\d+\.\d+\.\d+) ", (ROOT / "CHANGELOG.md").read_text(), re.M).group(1)
    assert cek.__version__ == latest
    assert "Apache License" in (ROOT / "LICENSE").read_text() and "Version 2.0" in (ROOT / "LICENSE").read_text()
    assert "Cloud Security Alliance" in (ROOT / "NOTICE").read_text()
    assert f"{cek.__version__.rsplit('.', 1)[0]}.x" in (ROOT / "SECURITY.md").read_text()


def test_every_page_and_healthz_and_the_schema_say_the_version(grc_user):
    footer = Client().get("/accounts/login/").content.decode()
    assert f"CEK-11 Key Purpose evidence {cek.__version__}" in footer
    assert Client().get("/healthz").json()["version"] == cek.__version__
    schema = login(grc_user).get("/api/schema/", HTTP_ACCEPT="application/json").json()
    assert schema["info"]["version"] == cek.__version__


def test_the_pack_cover_names_the_version_that_built_it():
    pack = make_pack(sample_size=1)
    text = flat(pdf_text(render_pack_pdf(pack, collect(pack), data_digest="ab12" * 16).data))
    assert f"with CEK-11 Key Purpose evidence {cek.__version__}" in text
