"""The user of a session is read with its roles in one query on every request (``ExpiringAccessBackend.get_user``
with ``cek.roles.group_names``): a role given or taken away counts from the next request, and the cache gives
every call the same Redis client (``cek.rediscache``)."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.urls import reverse

from cek.access import ExpiringAccessBackend
from cek.roles import Role, user_roles
from tests.conftest import login
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_a_page_reads_the_user_and_its_roles_in_one_query(grc_user, django_assert_max_num_queries):
    client = login(grc_user)
    client.get(reverse("password_change_done"))  # the session is in the cache from now on
    with django_assert_max_num_queries(1):
        response = client.get(reverse("password_change_done"))
    assert response.status_code == 200
    assert b'role-badge role-grc">GRC<' in response.content


def test_a_role_taken_away_counts_from_the_next_request(grc_user):
    client = login(grc_user)
    assert client.get(reverse("inventory:key-list")).status_code == 200
    grc_user.groups.remove(Group.objects.get(name=Role.GRC))
    assert client.get(reverse("inventory:key-list")).status_code == 403
    assert client.get("/api/v1/keys/").status_code == 403


def test_a_role_given_counts_from_the_next_request(outsider):
    client = login(outsider)
    assert client.get(reverse("inventory:key-list")).status_code == 403
    outsider.groups.add(Group.objects.get(name=Role.AUDITOR))
    response = client.get(reverse("inventory:key-list"))
    assert response.status_code == 200
    assert b'role-badge role-auditors">Auditor<' in response.content


@pytest.mark.parametrize(
    "names",
    [
        [],
        ["auditors"],
        ["key-owners", "auditors"],
        ["auditors", 'Team "A", B'],  # a group that is not a role is still one of the user's groups
        ["x,grc", "grc ", "Ünïcode 🔑"],  # no separator to split on: none of these is the GRC role
    ],
)
def test_the_session_user_comes_with_exactly_its_groups(names):
    user = UserFactory()
    user.groups.add(*(Group.objects.get_or_create(name=name)[0] for name in names))
    loaded = ExpiringAccessBackend().get_user(user.pk)
    assert user_roles(loaded) == frozenset(names)
    assert user_roles(loaded) == frozenset(user.groups.values_list("name", flat=True))


def test_a_superuser_is_grc_without_the_group():
    user = UserFactory(is_superuser=True)
    assert user_roles(ExpiringAccessBackend().get_user(user.pk)) == {Role.GRC.value}


def test_an_inactive_user_gets_no_session_user(grc_user):
    grc_user.is_active = False
    grc_user.save()
    assert ExpiringAccessBackend().get_user(grc_user.pk) is None


@pytest.mark.skipif(not settings.CACHES["default"]["BACKEND"].endswith("RedisCache"), reason="Redis cache only")
def test_the_cache_reuses_one_redis_client():
    client = cache._cache.get_client()
    assert cache._cache.get_client() is client
    cache.set("cek-test-client", {"n": 1}, 30)
    assert cache.get("cek-test-client") == {"n": 1}
    assert cache._cache.get_client(write=True) is client  # one server: reads and writes share the pool
