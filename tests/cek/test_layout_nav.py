"""The main navigation written once per role and page kind ({% main_nav %}, cek/templatetags/layout.py) is the
navigation ``_nav.html`` writes for that request."""

from __future__ import annotations

import pytest
from django.template.loader import render_to_string

from tests.conftest import login
from tests.factories import KeyFactory

pytestmark = pytest.mark.django_db  # the users are requested by name: say so, so the test is ordered with db tests

FLAGS = ("role", "is_grc", "is_auditor", "is_key_owner", "can_read_all")


def _nav(html: str) -> str:
    start = html.index('<nav class="mainnav" aria-label="Main">') + len('<nav class="mainnav" aria-label="Main">')
    return html[start : html.index("</nav>", start)].strip()


@pytest.mark.parametrize("who", ["grc_user", "auditor", "owner"])
def test_the_nav_is_what_the_template_writes_for_each_role_and_page(who, request):
    user = request.getfixturevalue(who)
    key = KeyFactory(owner=user if who == "owner" else None)
    client = login(user)
    pages = ["/", f"/inventory/keys/{key.pk}/", "/inventory/purposes/", "/control/"]
    pages += ["/inventory/my-keys/"] if who == "owner" else ["/inventory/keys/", "/evidence/findings/"]
    navs = set()
    for url in pages * 2:  # the second time from the stored copy
        response = client.get(url)
        assert response.status_code == 200, url
        context = {name: response.context[name] for name in FLAGS} | {"request": response.wsgi_request}
        expected = render_to_string("_nav.html", context).strip()
        assert _nav(response.content.decode()) == expected, url
        navs.add(expected)
    assert len(navs) >= 4  # the pages mark their own sections active (a key page and the key list: both "Keys")


def test_each_role_gets_its_own_nav(grc_user, owner):
    grc_nav = _nav(login(grc_user).get("/").content.decode())
    owner_nav = _nav(login(owner).get("/").content.decode())
    assert ">Import<" in grc_nav and ">Import<" not in owner_nav
    assert ">My keys<" in owner_nav and ">My keys<" not in grc_nav
