"""``{% layout_url %}`` and ``{% layout_static %}`` (cek/templatetags/layout.py) write what ``{% url %}`` and
``{% static %}`` write, looked up once: under any script prefix, and again after the URL conf changes."""

from __future__ import annotations

import pytest
from django.template import Context, Template
from django.test import override_settings
from django.urls import clear_script_prefix, set_script_prefix

NAMES = ["home", "api-docs", "api-tokens", "password_change", "admin:index", "logout", "inventory:export-keys"]
PATHS = ["cek/app.css", "cek/favicon.svg", "cek/nav.js"]


def _both(prefix: str | None) -> tuple[str, str]:
    if prefix:
        set_script_prefix(prefix)
    try:
        context = Context({})
        django_tags = Template(
            "{% load static %}"
            + "".join(f"{{% url '{n}' %}}|" for n in NAMES)
            + "".join(f"{{% static '{p}' %}}|" for p in PATHS)
        ).render(context)
        layout_tags = Template(
            "{% load layout %}"
            + "".join(f"{{% layout_url '{n}' %}}|" for n in NAMES)
            + "".join(f"{{% layout_static '{p}' %}}|" for p in PATHS)
        ).render(context)
    finally:
        clear_script_prefix()
        set_script_prefix("/")
    return django_tags, layout_tags


@pytest.mark.parametrize("prefix", [None, "/cek/", "/other/"])
def test_the_layout_links_are_what_url_and_static_write(prefix):
    for _ in range(2):  # the second time from the stored copy
        django_tags, layout_tags = _both(prefix)
        assert layout_tags == django_tags
        assert django_tags.split("|")[0] == (prefix or "/")  # home, under the prefix


def test_a_new_url_conf_is_looked_up_again():
    _both(None)

    class Urls:
        from django.urls import path
        from django.views.generic import View

        urlpatterns = [path("elsewhere/", View.as_view(), name="home")]

    with override_settings(ROOT_URLCONF=Urls):
        rendered = Template("{% load layout %}{% layout_url 'home' %}").render(Context({}))
    assert rendered == "/elsewhere/"
    assert Template("{% load layout %}{% layout_url 'home' %}").render(Context({})) == "/"
