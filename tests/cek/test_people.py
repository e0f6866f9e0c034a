"""``{{ user|person }}``: pages, e-mails and the pack PDF name a person by their full name, else their username,
and say "—" (or what the template asks) for nobody; the change history names people the same way."""

from __future__ import annotations

import pytest
from django.template import engines

from cek.history import history_entries, save_attributed
from tests.factories import KeyFactory, UserFactory


def render(source: str, **context) -> str:
    return engines["django"].from_string(source).render(context)


@pytest.mark.django_db
def test_a_user_is_named_by_full_name_else_username():
    grace = UserFactory(username="ghopper42", first_name="Grace", last_name="Hopper")
    plain = UserFactory(username="svc-ingest", first_name="", last_name="")
    assert render("{{ u|person }}", u=grace) == "Grace Hopper"
    assert render("{{ u|person }}", u=plain) == "svc-ingest"


def test_nobody_is_a_dash_or_the_given_words():
    assert render("{{ u|person }}", u=None) == "—"
    assert render("{{ u|person }}", u="") == "—"
    assert render("{{ u|person }}") == "—"  # a missing variable too
    assert render('{{ u|person:"nobody yet" }}', u=None) == "nobody yet"


def test_a_name_already_worked_out_is_printed_as_written():
    """The pack PDF's sections carry names as text (``cek.people.person_name``)."""
    assert render("{{ u|person }}", u="Grace Hopper") == "Grace Hopper"


@pytest.mark.django_db
def test_the_name_is_escaped_like_any_text():
    eve = UserFactory(username="eve", first_name="<b>Eve</b>", last_name="O'Neil")
    assert render("{{ u|person }}", u=eve) == "&lt;b&gt;Eve&lt;/b&gt; O&#x27;Neil"
    assert render("{% autoescape off %}{{ u|person }}{% endautoescape %}", u=eve) == "<b>Eve</b> O'Neil"


@pytest.mark.django_db
def test_the_history_names_who_changed_what_and_the_people_in_the_change():
    grace = UserFactory(username="ghopper42", first_name="Grace", last_name="Hopper")
    ada = UserFactory(username="alovelace", first_name="Ada", last_name="Lovelace")
    key = KeyFactory(owner=None)
    key.owner = ada
    save_attributed(key, actor=grace, reason="New owner")
    entry = history_entries(key)[0]
    assert entry.who == grace
    owner = next(c for c in entry.changes if c.field == "owner")
    assert (owner.old, owner.new) == ("—", "Ada Lovelace")
    html = render('{% include "_history.html" %}', history=history_entries(key))
    assert "<strong>Grace Hopper</strong> · changed" in html and "Ada Lovelace" in html
    assert "ghopper42" not in html and "alovelace" not in html
    assert "<strong>system</strong>" in html  # the factory's save has no user
