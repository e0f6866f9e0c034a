"""Purpose tags: which purpose the value of a key's purpose tag names.

A tag may give the purpose's short name (its slug, ``output-signing``) or its name (``Model output signing``),
in any case and spacing; GCP labels, which allow neither spaces nor capitals, may write ``model_output_signing``.
Every place that compares a tag with a purpose (the import, the AG-3 and AG-7 checks, the IaC gate, the key page)
resolves it here, so a tag the import accepts is never a finding afterwards.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol, TypeVar

from inventory.models import Purpose


class _Named(Protocol):
    slug: str
    name: str


P = TypeVar("P", bound=_Named)


def tag_form(value: str) -> str:
    """The form tag values are compared in: case-blind, '-', '_' and runs of spaces as one space."""
    return " ".join(str(value).replace("-", " ").replace("_", " ").split()).casefold()


def tag_names_purpose(value: str | None, *, slug: str, name: str) -> bool:
    """Whether a tag value names this purpose, by its short name or its name (where only that one purpose is at
    hand: ``PurposeTags.names`` also settles a name that is another purpose's short name)."""
    form = tag_form(value or "")
    return bool(form) and form in (tag_form(slug), tag_form(name))


def expected_tag_values(purpose: _Named) -> str:
    """What a tag for this purpose may say, for messages: "output-signing or Model output signing"."""
    if tag_form(purpose.slug) == tag_form(purpose.name):
        return purpose.slug
    return f"{purpose.slug} or {purpose.name}"


class PurposeTags:
    """The purposes of the catalog by every value a tag may give for them.

    A short name wins over a name (a purpose named like another's short name does not take its tags), and a
    name two purposes share resolves to neither: the tag is then read as naming no purpose."""

    def __init__(self, purposes: Iterable[P]) -> None:
        purposes = list(purposes)
        self._by_form: dict[str, P] = {tag_form(p.slug): p for p in purposes}
        by_name: dict[str, list[P]] = {}
        for purpose in purposes:
            by_name.setdefault(tag_form(purpose.name), []).append(purpose)
        for form, named in by_name.items():
            if form and form not in self._by_form and len(named) == 1:
                self._by_form[form] = named[0]

    def resolve(self, value: str | None) -> P | None:
        """The purpose a tag value names, or None (empty, unknown or ambiguous)."""
        if not value:
            return None
        return self._by_form.get(tag_form(value))

    def names(self, value: str | None, purpose: _Named) -> bool:
        """Whether the tag value names exactly this purpose."""
        found = self.resolve(value)
        return found is not None and found.slug == purpose.slug


def purpose_tag_resolve(value: str | None, purposes: Iterable[P]) -> P | None:
    """The purpose a tag value names among ``purposes`` (one-off; build a ``PurposeTags`` for many values)."""
    return PurposeTags(purposes).resolve(value)


def purpose_tag_example() -> tuple[str, str] | None:
    """A real purpose's (name, short name) to show what a tag may say (one query over the small catalog), or
    None while the catalog is empty."""
    rows = Purpose.objects.filter(is_active=True).order_by("-is_ai_specific", "name")
    purposes = list(rows.values_list("name", "slug"))
    # An AI purpose first (the app's subject), written in plain words that differ from the short name.
    telling = [
        (name, slug)
        for name, slug in purposes
        if tag_form(name) != tag_form(slug) and name.replace(" ", "").replace("-", "").isalpha()
    ]
    return (telling or purposes or [None])[0]


def purpose_tag_hint(tag_key: str) -> str:
    """The sentence shown where a purpose tag key is configured: what keys should be tagged with."""
    tag_key = tag_key.strip() or "purpose"
    hint = f"Tag keys with {tag_key} = the purpose's name or its short name"
    example = purpose_tag_example()
    if example is None:
        return f"{hint} (the catalog has no purpose yet)."
    name, slug = example
    return f"{hint}, e.g. “{name}” or “{slug}” (either case)."
