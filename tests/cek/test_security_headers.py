"""Response headers (Content-Security-Policy, Permissions-Policy, no-store for logged-in users), the Swagger
page's answers to bad tokens, and one log line per refused request."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.urls import reverse

from cek.apitokens import api_token_issue
from tests.conftest import login
from tests.evidence import packs_support
from tests.evidence.packs_support import build

pytestmark = pytest.mark.django_db

signing_key, fake_pdf, inventory, us = (
    packs_support.signing_key,
    packs_support.fake_pdf,
    packs_support.inventory,
    packs_support.us,
)

PAGES = {
    "grc": ["/", "/inventory/keys/", "/evidence/packs/", "/accounts/tokens/", "/control/", "/api/docs/"],
    "owner": ["/", "/inventory/keys/", "/accounts/password/change/"],
    "auditor": ["/", "/inventory/keys/", "/evidence/packs/"],
}
USERS = {"grc": "grc_user", "owner": "owner", "auditor": "auditor"}


def assert_policies(response) -> None:
    policy = response["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["script-src"] == "'self'" and directives["style-src"] == "'self'", policy
    assert directives["object-src"] == "'none'" and directives["frame-ancestors"] == "'none'", policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert "camera=()" in response["Permissions-Policy"] and "geolocation=()" in response["Permissions-Policy"]


@pytest.mark.parametrize(
    ("role", "path"), [(role, path) for role, paths in PAGES.items() for path in paths], ids=lambda value: value
)
def test_every_page_of_a_logged_in_user_has_the_policies_and_is_not_stored(role, path, request):
    client = login(request.getfixturevalue(USERS[role]))

    response = client.get(path)

    assert response.status_code == 200, (role, path)
    assert_policies(response)
    assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]


@pytest.mark.parametrize("path", ["/accounts/login/", "/accounts/password/reset/"])
def test_anonymous_pages_have_the_policies(path):
    response = Client().get(path)

    assert response.status_code == 200
    assert_policies(response)


def test_an_api_answer_to_a_token_is_not_stored(auditor):
    _, raw = api_token_issue(user=auditor, name="ci")

    response = Client(HTTP_AUTHORIZATION=f"Bearer {raw}").get("/api/v1/keys/")

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assert_policies(response)


def test_a_pack_download_is_not_stored(grc_user, auditor_client, inventory, signing_key, fake_pdf):
    pack = build(grc_user)

    response = auditor_client.get(reverse("evidence:pack-download", args=[pack.pk]))

    assert response.status_code == 200
    b"".join(response.streaming_content)
    assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]
    assert_policies(response)


def test_no_template_of_a_page_has_inline_scripts_styles_or_handlers():
    """E-mails and PDF templates are not pages (no CSP applies to them); every other template is."""
    offending = []
    for template in Path(django_settings.BASE_DIR, "templates").rglob("*.html"):
        if template.parts[-2] in ("emails", "pdf") or "pdf" in template.parts:
            continue
        text = template.read_text(encoding="utf-8")
        if re.search(r"<script(?![^>]*\bsrc=)[^>]*>|<style\b|\sstyle=|\son[a-z]+=", text):
            offending.append(str(template))
    assert offending == []


# --- The Swagger page ------------------------------------------------------------------------------------


@pytest.mark.parametrize("accept", ["application/json", "text/html", "*/*"])
def test_the_docs_answer_a_bad_token_with_a_401_in_json(accept):
    response = Client(HTTP_AUTHORIZATION="Bearer cek_not-a-token", HTTP_ACCEPT=accept).get("/api/docs/")

    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid, expired or revoked API token."}


def test_the_docs_answer_a_user_without_a_role_with_a_403_in_json(outsider):
    response = login(outsider).get("/api/docs/", HTTP_ACCEPT="application/json")

    assert response.status_code == 403 and "detail" in response.json()


def test_the_docs_init_script_is_served_by_the_page_itself(grc_client):
    page = grc_client.get("/api/docs/").content.decode()
    script_url = re.search(r'<script src="(/api/docs/\?script=[^"]*)"', page).group(1)

    script = grc_client.get(script_url)

    assert script.status_code == 200 and script["Content-Type"].startswith("application/javascript")
    assert reverse("api-schema") in script.content.decode()
    assert "<script>" not in page and "<style" not in page


# --- Refused requests in the log -----------------------------------------------------------------------


def test_a_refused_page_logs_one_warning_line_with_the_user_and_the_path(outsider, caplog):
    client = login(outsider)

    with caplog.at_level(logging.WARNING, logger="django.request"):
        response = client.get("/inventory/keys/")

    assert response.status_code == 403
    records = [record for record in caplog.records if record.name == "django.request"]
    assert len(records) == 1
    record = records[0]
    assert record.levelno == logging.WARNING and record.exc_info is None
    assert record.getMessage() == "Forbidden (Permission denied): /inventory/keys/ (user: mallory)"
    assert "Traceback" not in caplog.text


def test_a_refused_api_call_logs_one_line_too(outsider, caplog):
    _, raw = api_token_issue(user=outsider, name="ci")

    with caplog.at_level(logging.WARNING, logger="django.request"):
        response = Client(HTTP_AUTHORIZATION=f"Bearer {raw}").get("/api/v1/keys/")

    assert response.status_code == 403
    messages = [record.getMessage() for record in caplog.records if record.name == "django.request"]
    assert messages == ["Forbidden: /api/v1/keys/ (user: mallory)"]
    assert "Traceback" not in caplog.text
