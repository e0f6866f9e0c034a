"""Redis down (broker and cache at a closed port, a real connection refused, nothing mocked): the page of a
building pack and cancelling a pack answer with the clear "background worker queue cannot be reached" message,
not a 500, and change nothing."""

from __future__ import annotations

import socket

import pytest
from django.urls import reverse
from django.utils import timezone

from cek.celery import app as celery_app
from evidence.models import PackStatus
from tests.evidence import packs_support
from tests.evidence.packs_support import request_pack

pytestmark = pytest.mark.django_db

us = packs_support.us


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # closed again when the block ends: connections to it are refused


@pytest.fixture
def redis_down(settings):
    url = f"redis://127.0.0.1:{_closed_port()}/0"
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url, "KEY_PREFIX": "cek"}
    }
    settings.CELERY_BROKER_URL = url
    previous = celery_app.conf.broker_url
    celery_app.conf.broker_url = url  # the Celery app read its settings once, at import
    yield url
    celery_app.conf.broker_url = previous


@pytest.fixture
def building(grc_user, us):
    pack = request_pack(grc_user)
    type(pack).objects.filter(pk=pack.pk).update(
        status=PackStatus.BUILDING, started_at=timezone.now(), heartbeat_at=timezone.now(), progress=40,
        phase="writing data files",
    )  # fmt: skip
    return pack


def test_a_building_packs_page_and_status_answer_with_redis_down(grc_client, building, redis_down):
    page = grc_client.get(building.get_absolute_url())
    assert page.status_code == 200 and "writing data files" in page.content.decode()
    status = grc_client.get(reverse("evidence:pack-status", args=[building.pk]))
    assert status.status_code == 200 and status.json()["percent"] == 40


def test_cancelling_with_redis_down_says_the_worker_queue_is_unreachable_and_changes_nothing(
    grc_client, building, redis_down
):
    response = grc_client.post(reverse("evidence:pack-cancel", args=[building.pk]), follow=True)
    assert response.status_code == 200
    assert "background worker queue cannot be reached" in response.content.decode()
    building.refresh_from_db()
    assert building.status == PackStatus.BUILDING
