"""Applying imports under faults (issue 11): racing applies, ``imports/<id>/apply.json`` and odd requests, and
Redis down. Every case answers a clear 4xx (or succeeds), never a 500, and writes all or nothing."""

from __future__ import annotations

import json
import threading

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from inventory.models import Key, KeyImport
from tests.factories import KeyStoreFactory, UserFactory
from tests.inventory.test_platform_import import aws_key

CLOSED_PORT = "redis://127.0.0.1:1/0"  # nothing listens on port 1: connection refused at once


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def _client(user) -> Client:
    client = Client(raise_request_exception=False)  # a 500 is an answer to assert on, not an exception
    client.force_login(user)
    return client


def _upload(client: Client, items: list[dict]) -> dict:
    from django.core.files.uploadedfile import SimpleUploadedFile

    file = SimpleUploadedFile("kms.json", json.dumps(items).encode(), content_type="application/json")
    response = client.post(reverse("api-import-list"), {"file": file, "format": "aws-kms"})
    assert response.status_code == 201, response.content[:300]
    return response.json()["import"]


def _race(requests: list) -> list:
    """Run the callables at the same moment, each in its own thread (and database connection)."""
    barrier = threading.Barrier(len(requests))
    results: list = [None] * len(requests)

    def run(index: int, request) -> None:
        try:
            barrier.wait()
            results[index] = request()
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, r)) for i, r in enumerate(requests)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


# --- Racing applies (real requests, real PostgreSQL transactions) --------------------------------------------

ROWS = 400  # large enough that planning takes a while, below the inline limit (500)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="a real race needs PostgreSQL's concurrent writers")
def test_two_applies_of_one_import_at_once_apply_it_once_and_tell_the_other(transactional_catalog):
    KeyStoreFactory(name="aws-prod-eu", kind="aws-kms")
    grc = UserFactory(username="grace", roles=["grc"])
    record = _upload(_client(grc), [aws_key(n) for n in range(ROWS)])
    url = reverse("api-import-apply", args=[record["id"]])
    responses = _race([lambda: _client(grc).post(url), lambda: _client(grc).post(url)])

    assert sorted(r.status_code for r in responses) == [200, 409]
    refused = next(r for r in responses if r.status_code == 409).json()["detail"]
    assert "being applied right now" in refused or "applied already" in refused
    assert Key.objects.count() == ROWS and KeyImport.objects.get().status == "applied"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="a real race needs PostgreSQL's concurrent writers")
def test_two_imports_of_the_same_new_keys_applied_at_once_write_them_once(transactional_catalog):
    """Both previews plan every key "new"; applied at once, the second's write broke the unique constraint
    (a 500). Serialized, the second plans after the first committed and finds every key unchanged."""
    KeyStoreFactory(name="aws-prod-eu", kind="aws-kms")
    grc = UserFactory(username="grace", roles=["grc"])
    items = [aws_key(n) for n in range(ROWS)]
    first, second = _upload(_client(grc), items), _upload(_client(grc), items)
    urls = [reverse("api-import-apply", args=[record["id"]]) for record in (first, second)]
    responses = _race([lambda: _client(grc).post(urls[0]), lambda: _client(grc).post(urls[1])])

    assert [r.status_code for r in responses] == [200, 200], [r.content[:200] for r in responses]
    counts = sorted((r.json()["counts"]["new"], r.json()["counts"]["unchanged"]) for r in responses)
    assert counts == [(0, ROWS), (ROWS, 0)]
    assert Key.objects.count() == ROWS


# --- apply.json and every odd request: 4xx JSON ------------------------------------------------------------


@pytest.fixture
def grc_client(db):
    return _client(UserFactory(username="grace", roles=["grc"]))


@pytest.fixture
def previewed(grc_client):
    KeyStoreFactory(name="aws-prod-eu", kind="aws-kms")
    return _upload(grc_client, [aws_key(1)])


@pytest.mark.parametrize("action", ["apply", "discard", "retry"])
def test_the_format_suffix_urls_of_the_actions_answer_json(grc_client, previewed, action):
    url = f"/api/v1/imports/{previewed['id']}/{action}.json"
    response = grc_client.post(url)
    expected = {"apply": 200, "discard": 200, "retry": 409}[action]
    assert response.status_code == expected and response["Content-Type"] == "application/json"


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("get", "/api/v1/imports/{id}/apply.json", 405),
        ("put", "/api/v1/imports/{id}/apply.json", 405),
        ("delete", "/api/v1/imports/{id}/apply/", 405),
        ("post", "/api/v1/imports/999999/apply.json", 404),
        ("post", "/api/v1/imports/abc/apply.json", 404),
        ("post", "/api/v1/imports/-1/apply.json", 404),
        ("post", "/api/v1/imports/1e3/apply.json", 404),
        ("post", "/api/v1/imports/99999999999999999999999/apply.json", 404),
        ("post", "/api/v1/imports/{id}/apply.xml", 404),
    ],
)
def test_odd_apply_requests_answer_4xx_json(grc_client, previewed, method, path, status):
    response = getattr(grc_client, method)(path.format(id=previewed["id"]))
    assert response.status_code == status and "detail" in response.json()
    assert Key.objects.count() == 0


@pytest.mark.parametrize("state", ["applied", "discarded", "failed", "refused", "applying", "with-errors"])
def test_applying_an_import_that_is_not_ready_answers_409_json(grc_client, previewed, state):
    record = KeyImport.objects.get(pk=previewed["id"])
    if state == "applied":
        assert grc_client.post(f"/api/v1/imports/{record.pk}/apply.json").status_code == 200
    elif state == "with-errors":
        KeyImport.objects.filter(pk=record.pk).update(errors=[{"row": 1, "column": "name", "message": "bad"}])
    else:
        KeyImport.objects.filter(pk=record.pk).update(status=state)
    before = Key.objects.count()
    response = grc_client.post(f"/api/v1/imports/{record.pk}/apply.json")
    assert response.status_code == 409 and response["Content-Type"] == "application/json"
    assert "only a previewed import can be applied" in response.json()["detail"] or state == "with-errors"
    assert Key.objects.count() == before
    assert KeyImport.objects.get(pk=record.pk).status == ("previewed" if state == "with-errors" else state)


@pytest.mark.parametrize("role", ["key-owners", "auditors"])
def test_apply_json_for_other_roles_is_403_json(client, previewed, role):
    client.force_login(UserFactory(roles=[role]))
    response = client.post(f"/api/v1/imports/{previewed['id']}/apply.json")
    assert response.status_code == 403 and "detail" in response.json()


def test_web_apply_of_a_missing_import_is_404(grc_client):
    assert grc_client.post(reverse("inventory:import-apply", args=[999999])).status_code == 404


# --- Redis down ----------------------------------------------------------------------------------------------


@pytest.fixture
def redis_down(settings):
    """The cache and the broker both point at a closed port: Redis is down for this test. (Django rebuilds its
    cache handler when CACHES changes; Celery's configuration is read once, so its broker is set directly.)"""
    from cek.celery import app

    original = app.conf.broker_url
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CLOSED_PORT}}
    settings.CELERY_BROKER_URL = CLOSED_PORT
    # The connection and producer pools are built for the broker URL of their time: new ones for the test's.
    saved = app._pool, app.amqp._producer_pool
    app.conf.broker_url = CLOSED_PORT
    app._pool = app.amqp._producer_pool = None
    yield
    app.conf.broker_url = original
    app._pool, app.amqp._producer_pool = saved


def test_with_redis_down_a_small_import_is_applied_in_the_request(grc_client, previewed, redis_down):
    """Inline applies need no worker and no cache (progress is advisory): they answered 500 with Redis down."""
    response = grc_client.post(f"/api/v1/imports/{previewed['id']}/apply/")
    assert response.status_code == 200 and response.json()["status"] == "applied"
    assert Key.objects.count() == 1
    status = grc_client.get(reverse("inventory:import-status", args=[previewed["id"]]))
    assert status.status_code == 200 and status.json()["percent"] == 100


def test_with_redis_down_the_web_apply_works_and_the_import_page_shows(grc_client, previewed, redis_down):
    response = grc_client.post(reverse("inventory:import-apply", args=[previewed["id"]]))
    assert response.status_code == 302 and Key.objects.count() == 1
    assert grc_client.get(reverse("inventory:import-preview", args=[previewed["id"]])).status_code == 200


def test_with_redis_down_a_large_import_is_told_the_worker_is_unavailable(grc_client, settings, redis_down):
    KeyStoreFactory(name="aws-prod-eu", kind="aws-kms")
    settings.CEK_IMPORT_INLINE_ROWS = 1
    record = _upload(grc_client, [aws_key(1), aws_key(2)])
    response = grc_client.post(f"/api/v1/imports/{record['id']}/apply/")
    assert response.status_code == 503 and "background worker queue cannot be reached" in response.json()["detail"]
    assert KeyImport.objects.get().status == "previewed" and Key.objects.count() == 0
    web = grc_client.post(reverse("inventory:import-apply", args=[record["id"]]), follow=True)
    assert web.status_code == 200
    assert "background worker queue cannot be reached" in " ".join(str(m) for m in web.context["messages"])
    assert KeyImport.objects.get().status == "previewed"
