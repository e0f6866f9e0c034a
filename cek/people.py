"""How the app names a person: one rule for pages, e-mails, exports, packs and generated answers."""

from __future__ import annotations


def person_name(user, *, empty: str = "") -> str:
    """``user``'s full name, else their username; ``empty`` when there is nobody (``None``)."""
    if user is None:
        return empty
    return user.get_full_name() or user.get_username()
