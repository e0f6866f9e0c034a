"""A purpose tag may give the purpose's short name or its name: every place that reads one agrees."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.urls import reverse

from evidence.checks.base import CheckContext
from evidence.checks.registry import BY_GUIDELINE
from inventory.models import Purpose
from inventory.purposetags import PurposeTags, expected_tag_values, purpose_tag_hint, tag_names_purpose
from tests.factories import KeyFactory, KeyStoreFactory, PurposeFactory, UserFactory, purpose


def _p(slug: str, name: str):
    return SimpleNamespace(slug=slug, name=name)


SIGNING = _p("output-signing", "Model output signing")
WRAPPING = _p("key-wrapping", "Key wrapping")


@pytest.mark.parametrize(
    "value",
    ["output-signing", "Model output signing", "  model   OUTPUT signing ", "OUTPUT_SIGNING", "model_output_signing"],
)
def test_a_tag_names_a_purpose_by_its_short_name_or_its_name(value):
    tags = PurposeTags([SIGNING, WRAPPING])
    assert tags.resolve(value) is SIGNING
    assert tags.names(value, SIGNING) and not tags.names(value, WRAPPING)
    assert tag_names_purpose(value, slug=SIGNING.slug, name=SIGNING.name)


@pytest.mark.parametrize("value", ["", None, "signing", "Model output", "output-signing-2", "key-wrapping"])
def test_any_other_value_names_no_purpose_or_another(value):
    tags = PurposeTags([SIGNING, WRAPPING])
    assert tags.resolve(value) is not SIGNING
    assert not tag_names_purpose(value, slug=SIGNING.slug, name=SIGNING.name)


def test_a_short_name_wins_over_a_name_and_a_shared_name_resolves_to_neither():
    wrapping, named_like_it = _p("key-wrapping", "Wrapping"), _p("wrap-2", "Key wrapping")
    twin_a, twin_b = _p("a", "Same name"), _p("b", "Same name")
    tags = PurposeTags([wrapping, named_like_it, twin_a, twin_b])
    assert tags.resolve("Key wrapping") is wrapping
    assert tags.resolve("same name") is None and tags.resolve("a") is twin_a


def test_messages_give_both_forms_once():
    assert expected_tag_values(SIGNING) == "output-signing or Model output signing"
    assert expected_tag_values(_p("signing", "Signing")) == "signing"


# --- the checks -----------------------------------------------------------------------------------------


def _key(labels: dict, slug: str = "output-signing"):
    store = KeyStoreFactory()
    return KeyFactory(store=store, purpose=purpose(slug), owner=UserFactory(), labels=labels, kind="private-key")


def _failing(guideline: str) -> set[int]:
    return {subject.id for subject in BY_GUIDELINE[guideline].evaluate(CheckContext()).failing}


@pytest.mark.django_db
@pytest.mark.parametrize("value", ["Model output signing", "model output signing", "output-signing"])
def test_a_key_tagged_with_its_purposes_name_has_no_ag3_or_ag7_finding(value):
    tagged = _key({"purpose": value})
    assert tagged.pk not in _failing("AG-7")
    assert tagged.pk not in _failing("AG-3")


@pytest.mark.django_db
def test_a_key_tagged_with_another_purpose_still_fails_ag3_and_ag7():
    wrong = _key({"purpose": "Data encryption"})
    unknown = _key({"purpose": "Model output"})
    assert {wrong.pk, unknown.pk} <= _failing("AG-7")
    assert {wrong.pk, unknown.pk} <= _failing("AG-3")
    outcome = BY_GUIDELINE["AG-7"].evaluate(CheckContext())
    reason = next(s.reason for s in outcome.failing if s.id == wrong.pk)
    assert "expected output-signing or Model output signing" in reason


# --- the pages --------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_key_page_warns_only_when_the_label_names_another_purpose(client):
    client.force_login(UserFactory(roles=["grc"]))
    good = _key({"purpose": "Model output signing"})
    page = client.get(reverse("inventory:key-detail", args=[good.pk])).content.decode()
    assert "label says" not in page
    bad = _key({"purpose": "Data encryption"})
    page = client.get(reverse("inventory:key-detail", args=[bad.pk])).content.decode()
    assert "label says <code>Data encryption</code>" in page


@pytest.mark.django_db
def test_the_store_form_and_page_say_what_the_purpose_tag_should_give(client):
    client.force_login(UserFactory(roles=["grc"]))
    page = client.get(reverse("inventory:keystore-create")).content.decode()
    assert "Tag keys with purpose = the purpose&#x27;s name or its short name" in page
    assert "“Model output signing” or “output-signing”" in page  # an AI purpose of the seeded catalog
    store = KeyStoreFactory(purpose_tag_key="cek-purpose")
    page = client.get(store.get_absolute_url()).content.decode()
    assert "Tag keys with cek-purpose = the purpose&#x27;s name or its short name" in page
    # Only from real, active purposes: a name that is its short name spelled otherwise shows nothing new.
    Purpose.objects.update(is_active=False)
    PurposeFactory(name="Signing", slug="signing", is_active=True)
    PurposeFactory(name="Zed signing", slug="zed", is_active=True)
    assert purpose_tag_hint("cek-purpose").endswith("“Zed signing” or “zed” (either case).")
    Purpose.objects.update(is_active=False)
    assert purpose_tag_hint("x").endswith("(the catalog has no purpose yet).")


@pytest.mark.django_db
def test_the_purpose_list_and_page_show_the_short_name_a_tag_may_give(client):
    client.force_login(UserFactory(roles=["grc"]))
    page = client.get(reverse("inventory:purpose-list")).content.decode()
    assert "Short name (tag value)" in page and "output-signing" in page
    page = client.get(purpose("output-signing").get_absolute_url()).content.decode()
    assert "<dt>Short name</dt><dd>output-signing</dd>" in page
