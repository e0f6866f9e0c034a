"""What both OSCAL documents share: the OSCAL version, deterministic UUIDs, timestamps, ``cek`` properties, parties,
the catalog reference, the export guard and the canonical JSON text."""

from __future__ import annotations

import copy
import datetime as dt
import json
import uuid
from typing import Any

from django.conf import settings
from django.urls import reverse

from cek.control import load_control
from cek.exportguard import check_tree
from cek.people import person_name

OSCAL_VERSION = "1.1.3"
MEDIA_TYPE = "application/json"
# The namespace of this app's own properties (OSCAL's are namespace-less). A URN: it names, it is not fetched.
NS = "urn:x-cek:oscal"
# Every UUID is uuid5 of this namespace and a stable id ("assessment-results:12", "person:4"), so exporting the
# same data twice gives the same identifiers, and two organisations' documents do not collide.
_ROOT = uuid.uuid5(uuid.NAMESPACE_URL, NS)
# The timestamp a document without any dated record carries (a component definition with no SSRM data yet).
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def oscal_uuid(*parts: object) -> str:
    namespace = uuid.uuid5(_ROOT, settings.CEK_ORGANISATION)
    return str(uuid.uuid5(namespace, ":".join(str(part) for part in parts)))


def timestamp(value: dt.datetime | dt.date) -> str:
    """OSCAL's date-time-with-timezone, in UTC to the second (a date is midnight UTC of that day)."""
    if not isinstance(value, dt.datetime):
        value = dt.datetime.combine(value, dt.time.min, tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def text(value: object) -> str:
    """A one-line OSCAL string: no leading or trailing space, inner runs of white space as one space."""
    return " ".join(str(value).split())


def paragraphs(value: object) -> str:
    """A multi-line OSCAL text (description, remarks): line breaks kept, each line and the whole trimmed."""
    lines = [" ".join(line.split()) for line in str(value).replace("\r\n", "\n").split("\n")]
    return "\n".join(lines).strip()


def prop(name: str, value: object, *, ns: bool = True, remarks: str = "") -> dict[str, Any] | None:
    """A property, or None when the value is empty (OSCAL strings may not be empty)."""
    shown = text(value)
    if not shown:
        return None
    item: dict[str, Any] = {"name": name, "value": shown}
    if ns:
        item["ns"] = NS
    if remarks:
        item["remarks"] = remarks
    return item


def props(*items: dict[str, Any] | None) -> list[dict[str, Any]]:
    return [item for item in items if item is not None]


def absolute(url: str) -> str:
    """An app URL as readers outside the app can follow it (CEK_BASE_URL + path)."""
    return url if "://" in url else f"{settings.CEK_BASE_URL}{url}"


def omit_empty(mapping: dict[str, Any]) -> dict[str, Any]:
    """OSCAL arrays and strings must not be empty: leave out members with nothing in them."""
    return {name: value for name, value in mapping.items() if value not in (None, "", [], {})}


def organisation_party() -> dict[str, Any]:
    return {"uuid": oscal_uuid("organisation"), "type": "organization", "name": text(settings.CEK_ORGANISATION)}


def person_party(user) -> dict[str, Any]:
    # Names only: e-mail addresses are personal data the document does not need.
    return {"uuid": oscal_uuid("person", user.pk), "type": "person", "name": text(person_name(user))}


def catalog_resource(version: str | None = None) -> dict[str, Any]:
    """The control catalog the guidelines come from, by its name and ``version`` (default: the shipped catalog's;
    a check run names the version it ran against): a back-matter resource pointing to the app's control page
    (the text as the app ships it, with CSA's attribution)."""
    control = load_control()
    version = version or control.version
    return {
        "uuid": oscal_uuid("catalog", version),
        "title": f"{control.attribution.work}: control {control.id} {control.title}",
        "description": text(control.attribution.text),
        "props": props(prop("catalog", "AICM"), prop("catalog-version", version), prop("control-id", control.id)),
        "citation": {"text": text(f"{control.attribution.work}, {control.attribution.publisher}.")},
        "rlinks": [{"href": absolute(reverse("control")), "media-type": "text/html"}],
        "remarks": text(control.attribution.licence_note),
    }


def control_id(control_id: str) -> str:
    """OSCAL control ids are tokens, by convention lower case: "CEK-11" -> "cek-11"."""
    return control_id.lower()


def objective_id(control: str, guideline_id: str) -> str:
    """A guideline as an assessment objective of the control, after OSCAL's "ac-1_obj.a": "cek-11_obj.ag-3"."""
    return f"{control_id(control)}_obj.{guideline_id.lower()}"


def guard(document: dict[str, Any], *, export: str) -> None:
    """The export guard over every string of the document. SHA-256 digests the app computed (the values of
    ``...sha256`` properties and of ``hashes``) have the shape the guard rejects on purpose: they are checked as
    digests (64 hex digits exactly), everything else as any other value."""
    checked = copy.deepcopy(document)
    stack: list[Any] = [checked]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if str(item.get("name", "")).endswith("sha256") and "value" in item:
                item["sha256"] = item.pop("value")
            if "algorithm" in item and "value" in item:
                item["digest"] = item.pop("value")
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    check_tree(checked, export=export)


def dumps(document: dict[str, Any]) -> str:
    """The canonical text: sorted keys, two-space indent, UTF-8 characters as they are, a final newline."""
    return json.dumps(document, sort_keys=True, indent=2, ensure_ascii=False) + "\n"
