"""A label too long to be a tag is still judged for key material first: the refusal must say it holds one."""

from __future__ import annotations

import base64

import pytest
from django.core.exceptions import ValidationError

from cek.keymaterial import validate_labels


def test_a_private_key_longer_than_a_tag_is_refused_as_key_material_not_for_its_length():
    private_exponent = base64.urlsafe_b64encode(bytes(range(256))).decode().rstrip("=")  # 342 characters
    with pytest.raises(ValidationError) as caught:
        validate_labels({"d": private_exponent})
    assert "looks like it contains" in " ".join(caught.value.messages)
    assert private_exponent[:40] not in " ".join(caught.value.messages)


def test_a_long_harmless_value_is_refused_for_its_length():
    with pytest.raises(ValidationError) as caught:
        validate_labels({"note": "word " * 60})
    assert "values at most 256" in " ".join(caught.value.messages)
