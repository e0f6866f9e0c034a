"""The key-material corpus through every input path (issue 11).

A sample of ``tests/corpus/`` (one secret of each family, a few dozen look-alikes of different shapes; the full
corpus runs in ``tests/cek/test_keymaterial_corpus.py``) is sent through each way text gets in: every text field
of every inventory form (web UI, as a GRC user), every text field of the API (PATCH /api/v1/...), every importer
(each string of a real-shaped export, tags and labels included; CSV cells), labels, comments (findings,
attestation discrepancies, policy reviews), policy and manual-evidence uploads, and the pack request.

For a secret: the request is refused, the answer does not carry the secret, nothing holding it is stored (the
tables of the app are searched for it) and no uploaded file keeps it on disk. For a look-alike: no key-material
refusal.

Two of these assertions need fixes made beside this test in issue 11: "re-rendered in the page" (a form puts a
refused value back into its field) and "kept on disk" (a refused import file is saved under MEDIA_ROOT). Each
failure names the corpus entry, the path and field, and which of the assertions failed. Within one test each value is sent inside a savepoint that is rolled back, so the values don't meet.
The fields of a path share the sample round-robin: every family reaches every path, and every field gets some.
"""

from __future__ import annotations

import copy
import csv
import datetime as dt
import html
import io
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone
from rest_framework import serializers as drf

from evidence.campaigns.services import campaign_create, campaign_launch
from evidence.checks.services import check_run_start
from evidence.models import Attestation, CheckResult, RunTrigger
from inventory import serializers as inventory_serializers
from inventory.models import SsrmAssignment
from inventory.views import RESOURCES
from tests import factories as f
from tests.conftest import login
from tests.corpus.loader import Entry, load, one_per_source
from tests.evidence.policies import policy_in_force

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).parent / "inventory" / "fixtures"
# How the app words a key-material refusal (the validator's message, an import's, an importer's own).
REFUSAL_WORDS = ("looks like it contains", "holds what looks like", "Key material is never stored here")


def _one_per_kind(entries: list[Entry]) -> list[Entry]:
    seen: set[str] = set()
    sample = []
    for entry in entries:
        if entry["kind"] not in seen:
            seen.add(entry["kind"])
            sample.append(entry)
    return sample


SECRETS = _one_per_kind(load("secrets"))
LOOKALIKES = one_per_source(load("lookalikes"))[::3]
SAMPLE: list[tuple[bool, Entry]] = [(True, e) for e in SECRETS] + [(False, e) for e in LOOKALIKES]


def test_the_sample_covers_every_family_and_a_few_dozen_lookalikes():
    assert len(SECRETS) == len({entry["kind"] for entry in load("secrets")}) >= 40
    assert 25 <= len(LOOKALIKES) <= 60


# --- what "refused", "echoed" and "stored" mean ---------------------------------------------------------------

_TOKEN = re.compile(r"[A-Za-z0-9+/=_.~-]{16,}")


def fragments(value: str) -> list[str]:
    """Distinctive 16-character pieces of the secret (from its longest random-looking runs), to look for in
    messages, pages, tables and files."""
    runs = sorted(_TOKEN.findall(value), key=len, reverse=True)[:2] or [value]
    return [run[i : i + 16] for run in runs for i in range(0, max(1, len(run) - 15), 8)]


def echoed(value: str, text: str) -> bool:
    return value in text or html.escape(value) in text or any(piece in text for piece in fragments(value))


def refused_for_material(text: str) -> bool:
    return any(word in text for word in REFUSAL_WORDS)


_TABLES: list[str] | None = None


def _tables() -> list[str]:
    global _TABLES
    if _TABLES is None:
        _TABLES = [
            model._meta.db_table
            for app in ("inventory", "evidence", "cek")
            if app in {config.label for config in apps.get_app_configs()}
            for model in apps.get_app_config(app).get_models()
            if not model._meta.proxy
        ]
    return _TABLES


def stored_in(value: str) -> list[str]:
    """The tables of the app that hold a row carrying a piece of ``value`` (PostgreSQL: each row as text, in one
    query over every table; SQLite, the embedded default: every row of every table read back, the test data is
    small)."""
    pieces = fragments(value)[:3]
    if connection.vendor != "postgresql":
        return [
            model._meta.db_table
            for model in _models()
            if any(piece in str(row) for row in model._base_manager.values_list() for piece in pieces)
        ]
    # Table names come from the app registry, never from input.
    select = "(SELECT '{0}' FROM \"{0}\" t WHERE t::text LIKE ANY(%s) LIMIT 1)"
    union = " UNION ALL ".join(select.format(table) for table in _tables())
    with connection.cursor() as cursor:
        cursor.execute(union, [[f"%{piece}%" for piece in pieces]] * len(_tables()))
        return [row[0] for row in cursor.fetchall()]


def _models() -> list:
    return [model for model in apps.get_models() if model._meta.db_table in set(_tables())]


def on_disk(value: str, root: Path) -> list[str]:
    pieces = [piece.encode() for piece in fragments(value)[:3]]
    return [
        str(path.relative_to(root))
        for path in root.rglob("*")
        if path.is_file() and any(piece in path.read_bytes() for piece in pieces)
    ]


def round_robin(targets: list[Any]) -> Iterator[tuple[bool, Entry, Any]]:
    for number, (is_secret, entry) in enumerate(SAMPLE):
        yield is_secret, entry, targets[number % len(targets)]


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MEDIA_ROOT.mkdir()
    return settings.MEDIA_ROOT


class Report:
    """Collects failures per value so one run lists them all, with the corpus source (never the value)."""

    def __init__(self) -> None:
        self.failures: list[str] = []

    def check(self, condition: bool, entry: Entry, where: str, what: str) -> None:
        if not condition:
            self.failures.append(f"{entry['kind']} / {entry['source']} via {where}: {what}")

    def done(self) -> None:
        assert not self.failures, "\n".join(self.failures)


def rolled_back() -> Any:
    class _Savepoint:
        def __enter__(self):
            self.atomic = transaction.atomic()
            self.atomic.__enter__()

        def __exit__(self, *exc):
            transaction.set_rollback(True)
            return self.atomic.__exit__(*exc)

    return _Savepoint()


# --- inventory forms (web UI) ----------------------------------------------------------------------------------


def _instance(name: str):
    if name == "ssrmassignment":
        return SsrmAssignment.objects.create(layer="model", party=f.PartyFactory(), role="MP")
    factory = {
        "party": f.PartyFactory,
        "tenant": f.TenantFactory,
        "service": f.ServiceFactory,
        "keystore": f.KeyStoreFactory,
        "purpose": f.PurposeFactory,
        "key": f.KeyFactory,
        "binding": f.BindingFactory,
        "grant": f.AccessGrantFactory,
    }[name]
    return factory()


def _text_fields(form_class) -> list[str]:
    from django import forms

    fields = form_class.base_fields
    return [
        name
        for name, field in fields.items()
        if isinstance(field, forms.CharField) or name == "labels"
        if not isinstance(field, (forms.EmailField, forms.URLField)) or name == "labels"
    ]


FORMS = {name: _text_fields(resource.form_class) for name, resource in RESOURCES.items()}


def _post_data(form) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for name, bound in form.fields.items():
        value = form[name].value()
        if hasattr(bound, "prepare_value"):
            value = bound.prepare_value(value)
        if value is None:
            continue
        if isinstance(value, bool):
            if value:
                data[name] = "on"
            continue
        if isinstance(value, (list, tuple)):
            data[name] = [str(getattr(v, "pk", v)) for v in value]
        elif isinstance(value, (dt.date, dt.datetime)):
            data[name] = value.isoformat()
        else:
            data[name] = str(getattr(value, "pk", value))
    return data


@pytest.mark.parametrize("resource", list(FORMS))
def test_inventory_form_fields(grc_client, resource):
    instance = _instance(resource)
    url = reverse(f"inventory:{resource}-update", args=[instance.pk])
    base = _post_data(grc_client.get(url).context["form"])
    report = Report()
    for is_secret, entry, field in round_robin(FORMS[resource]):
        value = entry["value"]
        posted = f"note={value}" if field == "labels" and "\n" not in value else value
        with rolled_back():
            response = grc_client.post(url, {**base, field: posted})
            where = f"{resource} form, {field}"
            if is_secret:
                form = response.context["form"] if response.status_code == 200 else None
                report.check(form is not None and bool(form.errors.get(field)), entry, where, "not refused")
                messages = " ".join(" ".join(errors) for errors in (form.errors.values() if form else []))
                report.check(not echoed(value, messages), entry, where, "the error repeats the value")
                report.check(not stored_in(value), entry, where, f"stored in {stored_in(value)}")
                # helper 5's fix: a refused value is not put back into the re-rendered field.
                report.check(not echoed(value, response.content.decode()), entry, where, "re-rendered in the page")
            else:
                form = response.context["form"] if response.status_code == 200 else None
                errors = " ".join(form.errors.get(field, [])) if form else ""
                report.check(not refused_for_material(errors), entry, where, "refused as key material")
    report.done()


# --- API (PATCH /api/v1/...) -----------------------------------------------------------------------------------

API = {
    "party": ("parties", inventory_serializers.PartySerializer),
    "ssrmassignment": ("ssrm-assignments", inventory_serializers.SsrmAssignmentSerializer),
    "tenant": ("tenants", inventory_serializers.TenantSerializer),
    "service": ("services", inventory_serializers.ServiceSerializer),
    "keystore": ("key-stores", inventory_serializers.KeyStoreSerializer),
    "purpose": ("purposes", inventory_serializers.PurposeSerializer),
    "key": ("keys", inventory_serializers.KeySerializer),
    "binding": ("bindings", inventory_serializers.BindingSerializer),
    "grant": ("grants", inventory_serializers.AccessGrantSerializer),
}


def _api_text_fields(serializer_class) -> list[str]:
    fields = serializer_class().fields
    return [
        name
        for name, field in fields.items()
        if not field.read_only
        and (name == "labels" or (isinstance(field, drf.CharField) and not isinstance(field, drf.EmailField)))
    ]


API_FIELDS = {name: _api_text_fields(cls) for name, (_, cls) in API.items()}


@pytest.mark.parametrize("resource", list(API))
def test_api_text_fields(grc_client, resource):
    instance = _instance(resource)
    url = f"/api/v1/{API[resource][0]}/{instance.pk}/"
    report = Report()
    for is_secret, entry, field in round_robin(API_FIELDS[resource]):
        value = entry["value"]
        body = {field: {"note": value} if field == "labels" else value}
        with rolled_back():
            response = grc_client.patch(url, json.dumps(body), content_type="application/json")
            where = f"PATCH {url} {field}"
            text = response.content.decode()
            if is_secret:
                report.check(response.status_code == 400, entry, where, f"answered {response.status_code}")
                report.check(not echoed(value, text), entry, where, "the answer repeats the value")
                report.check(not stored_in(value), entry, where, f"stored in {stored_in(value)}")
            else:
                errors = (
                    json.dumps(response.json().get("errors", {}).get(field, "")) if response.status_code == 400 else ""
                )
                report.check(not refused_for_material(errors), entry, where, "refused as key material")
    report.done()


# --- importers (POST /api/v1/imports/) -------------------------------------------------------------------------

IMPORT_FILES = {
    "aws-kms": FIXTURES / "aws-kms" / "keys.json",
    "gcp-kms": FIXTURES / "gcp-kms" / "keys.json",
    "azure-kv": FIXTURES / "azure-kv" / "keys.json",
    "vault-transit": FIXTURES / "vault-transit" / "keys.json",
    "vault-kv": FIXTURES / "vault-kv" / "secrets.json",
    "cbom": FIXTURES / "cbom" / "scanner-1.6.cdx.json",
}
# Values that are public by definition and skipped by the scan (never stored): the public JWK members of an
# Azure key bundle.
_SKIPPED = {"azure-kv": re.compile(r"\.key\.(n|e|x|y)$")}
# Where any string is refused by the importer's own rule, by design: a string in a transit key's data.keys (a map
# of version -> creation time) is what `transit/export` prints. Look-alikes are not sent there.
_EXPORT_SHAPED = {"vault-transit": re.compile(r"\.data\.keys\.")}


def _leaves(document: Any, path: tuple = ()) -> Iterator[tuple[tuple, str]]:
    """Every place a string can be put: string values, and a new member in each object (a tag, a label)."""
    if isinstance(document, dict):
        yield (*path, "<new member>"), "member"
        for name, value in document.items():
            yield from _leaves(value, (*path, name))
    elif isinstance(document, list):
        for index, value in enumerate(document):
            yield from _leaves(value, (*path, index))
    elif isinstance(document, str):
        yield path, "value"


def _put(document: Any, path: tuple, value: str) -> Any:
    changed = copy.deepcopy(document)
    target = changed
    for part in path[:-1]:
        target = target[part]
    if path[-1] == "<new member>":
        target["note"] = value
    else:
        target[path[-1]] = value
    return changed


def _path_text(path: tuple) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path)


def _upload(client, data: bytes, *, fmt: str, name: str):
    body = {"file": SimpleUploadedFile(name, data, content_type="application/octet-stream"), "format": fmt}
    return client.post(reverse("api-import-list"), body)


@pytest.mark.parametrize("fmt", list(IMPORT_FILES))
def test_importers_every_string_and_tag(grc_client, media, fmt):
    document = json.loads(IMPORT_FILES[fmt].read_text())
    skipped = _SKIPPED.get(fmt)
    leaves = [path for path, _ in _leaves(document) if not (skipped and skipped.search(_path_text(path)))]
    clean = _upload(grc_client, json.dumps(document).encode(), fmt=fmt, name=IMPORT_FILES[fmt].name)
    assert not refused_for_material(clean.content.decode()), clean.content.decode()[:500]
    report = Report()
    export_shaped = _EXPORT_SHAPED.get(fmt)
    for is_secret, entry, path in round_robin(leaves):
        value = entry["value"]
        if not is_secret and export_shaped and export_shaped.search(_path_text(path)):
            continue
        data = json.dumps(_put(document, path, value)).encode()
        with rolled_back():
            response = _upload(grc_client, data, fmt=fmt, name=IMPORT_FILES[fmt].name)
            where = f"{fmt} import, {_path_text(path)}"
            text = response.content.decode()
            if is_secret:
                report.check(response.status_code == 400, entry, where, f"not refused ({response.status_code})")
                report.check(not echoed(value, text), entry, where, "the answer repeats the value")
                report.check(not stored_in(value), entry, where, f"stored in {stored_in(value)}")
                # helper 2's fix: a refused upload keeps its name, size and SHA-256, never its bytes.
                report.check(not on_disk(value, media), entry, where, f"kept on disk: {on_disk(value, media)}")
            else:
                report.check(not refused_for_material(text), entry, where, "refused as key material")
    report.done()


CSV_HEADER = [
    "store", "external_id", "name", "kind", "algorithm", "size_bits", "purpose", "purpose_justification",
    "ssrm_layer", "state", "platform_usage", "activated_on", "labels", "description", "exposure_scope",
    "exposure_contract",
]  # fmt: skip
CSV_TEXT = ["external_id", "name", "algorithm", "purpose_justification", "platform_usage", "labels", "description",
            "exposure_scope", "exposure_contract"]  # fmt: skip


def _csv(row: dict[str, str]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_HEADER)
    writer.writeheader()
    writer.writerow(row)
    return out.getvalue().encode()


def test_csv_import_every_text_cell(grc_client, media):
    store = f.KeyStoreFactory(name="csv-store")
    row = {
        "store": store.name, "external_id": "kv/ml/feature-store", "name": "feature-store-dek",
        "kind": "symmetric-key", "algorithm": "AES-256-GCM", "size_bits": "256", "purpose": "data-encryption",
        "purpose_justification": "Encrypts the feature store.", "ssrm_layer": "application", "state": "active",
        "platform_usage": "ENCRYPT_DECRYPT", "activated_on": "2025-01-01", "labels": "env=prod",
        "description": "Feature store DEK.", "exposure_scope": "", "exposure_contract": "",
    }  # fmt: skip
    clean = _upload(grc_client, _csv(row), fmt="csv", name="keys.csv")
    assert clean.status_code == 201, clean.content.decode()[:500]
    report = Report()
    for is_secret, entry, column in round_robin(CSV_TEXT):
        value = entry["value"]
        cell = json.dumps({"note": value}) if column == "labels" else value
        with rolled_back():
            response = _upload(grc_client, _csv({**row, column: cell}), fmt="csv", name="keys.csv")
            where = f"CSV import, column {column}"
            text = response.content.decode()
            if is_secret:
                report.check(response.status_code == 400, entry, where, f"not refused ({response.status_code})")
                report.check(not echoed(value, text), entry, where, "the answer repeats the value")
                report.check(not stored_in(value), entry, where, f"stored in {stored_in(value)}")
                report.check(not on_disk(value, media), entry, where, f"kept on disk: {on_disk(value, media)}")
            else:
                report.check(not refused_for_material(text), entry, where, "refused as key material")
    report.done()


# --- comments, reviews, uploads, the pack request -------------------------------------------------------------


def _evidence_world(grc_user, owner) -> dict[str, Any]:
    key = f.KeyFactory(owner=owner, name="bob-key")
    campaign = campaign_create(
        actor=grc_user, name="Q1 attestation", due_on=timezone.localdate() + dt.timedelta(days=7)
    )
    campaign_launch(campaign=campaign, actor=grc_user)
    policy = policy_in_force(grc=grc_user, approved_on=timezone.localdate() - dt.timedelta(days=30))
    store = f.KeyStoreFactory(last_full_import_at=timezone.now())
    f.KeyFactory(store=store, owner=None, name="ownerless-key")
    run = check_run_start(trigger=RunTrigger.COMMAND, background=False)
    # After the run, which resolves the findings its rules no longer see.
    finding = f.FindingFactory(rule="ag-3-single-purpose", subject_type="inventory.key", subject_id=key.pk)
    return {
        "attestation": Attestation.objects.get(key=key),
        "finding": finding,
        "policy": policy,
        "result": CheckResult.objects.get(run=run, guideline_id="AG-8"),
    }


def _markdown(value: str) -> SimpleUploadedFile:
    text = f"# Key management policy\n\nKeys are recorded by metadata only.\n\n{value}\n"
    return SimpleUploadedFile("policy.md", text.encode(), content_type="text/markdown")


def _paths(world: dict[str, Any], grc_user) -> dict[str, tuple[str, Callable[[str], dict[str, Any]], str]]:
    """name -> (url, the POST data carrying a value, the client: "grc" or "owner")."""
    future = (timezone.localdate() + dt.timedelta(days=30)).isoformat()
    today = timezone.localdate().isoformat()
    return {
        "finding accept-risk reason": (
            reverse("evidence:finding-accept-risk", args=[world["finding"].pk]),
            lambda v: {"until": future, "reason": v},
            "grc",
        ),
        "finding resolve note": (
            reverse("evidence:finding-resolve", args=[world["finding"].pk]),
            lambda v: {"note": v},
            "grc",
        ),
        "attestation discrepancy comment": (
            reverse("evidence:attestation-discrepancy", args=[world["attestation"].pk]),
            lambda v: {"comment": v},
            "owner",
        ),
        "policy review notes": (
            reverse("evidence:review-create", args=[world["policy"].pk]),
            lambda v: {"reviewed_on": today, "reviewer": grc_user.pk, "outcome": "no-change", "notes": v},
            "grc",
        ),
        "policy version summary": (
            reverse("evidence:version-create", args=[world["policy"].pk]),
            lambda v: {"label": "2.0", "summary": v, "link": "https://example.com/policy-2"},
            "grc",
        ),
        "policy version Markdown document": (
            reverse("evidence:version-create", args=[world["policy"].pk]),
            lambda v: {"label": "2.0", "summary": "Adds AI keys.", "document": _markdown(v)},
            "grc",
        ),
        "manual evidence note": (
            reverse("evidence:checkresult-evidence", args=[world["result"].pk]),
            lambda v: {"note": v, "assessment": "pass"},
            "grc",
        ),
        "manual evidence Markdown document": (
            reverse("evidence:checkresult-evidence", args=[world["result"].pk]),
            lambda v: {"note": "Checkov run reviewed.", "assessment": "pass", "document": _markdown(v)},
            "grc",
        ),
        "pack request sample seed": (
            reverse("evidence:pack-request"),
            lambda v: {"window_from": "2026-01-01", "window_to": today, "sample_size": 25, "sample_seed": v},
            "grc",
        ),
    }


PATHS = [
    "finding accept-risk reason",
    "finding resolve note",
    "attestation discrepancy comment",
    "policy review notes",
    "policy version summary",
    "policy version Markdown document",
    "manual evidence note",
    "manual evidence Markdown document",
    "pack request sample seed",
]


@pytest.mark.parametrize("name", PATHS)
def test_comments_uploads_and_the_pack_request(grc_user, owner, media, monkeypatch, name):
    monkeypatch.setattr("cek.jobs.queue.send", lambda name, args: type("R", (), {"id": "t"})())  # no broker
    f.PartyFactory(is_us=True)
    world = _evidence_world(grc_user, owner)
    url, data, who = _paths(world, grc_user)[name]
    client = login(grc_user if who == "grc" else owner)
    report = Report()
    for is_secret, entry, _ in round_robin([name]):
        value = entry["value"]
        if name == "pack request sample seed" and is_secret and not re.fullmatch(r"[A-Za-z0-9._-]{1,64}", value):
            continue  # the seed's own character rule refuses it first; the tokens that pass it are the test
        with rolled_back():
            response = client.post(url, data(value), follow=True)
            text = response.content.decode()
            if is_secret:
                report.check(refused_for_material(text), entry, name, "no key-material message")
                report.check(not stored_in(value), entry, name, f"stored in {stored_in(value)}")
                report.check(not on_disk(value, media), entry, name, f"kept on disk: {on_disk(value, media)}")
                # helper 5's fix: a refused value is not put back into the re-rendered field.
                report.check(not echoed(value, text), entry, name, "re-rendered in the page")
            else:
                report.check(not refused_for_material(text), entry, name, "refused as key material")
    report.done()
