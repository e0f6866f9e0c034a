"""Login throttling (django-axes): lockout per username and per address, its end, the client address behind
proxies, API token guessing, and one password hash per attempt whether the username exists or not."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.contrib.auth.hashers import MD5PasswordHasher
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import formats, timezone

from cek.apitokens import api_token_issue, api_token_revoke
from cek.lockout import client_ip
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

LOCKED = "Too many failed log-in attempts for this username or from this address"


def attempt(username: str, password: str, *, address: str = "192.0.2.10", path: str | None = None) -> object:
    return Client(REMOTE_ADDR=address).post(path or reverse("login"), {"username": username, "password": password})


def fail(times: int, username: str = "alice", *, address: str = "192.0.2.10") -> None:
    for _ in range(times):
        response = attempt(username, "wrong-password", address=address)
        assert response.status_code in (200, 429)


def logged_in(response) -> bool:
    return response.status_code == 302 and response["Location"] == reverse("home")


def test_after_the_failure_limit_the_right_password_is_refused_and_the_page_says_until_when(grc_user, settings):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        fail(settings.AXES_FAILURE_LIMIT)
    with time_machine.travel(start + dt.timedelta(minutes=5), tick=False):
        response = attempt("alice", PASSWORD)

    assert response.status_code == 429
    html = response.content.decode()
    ends = formats.date_format(timezone.localtime(start + settings.AXES_COOLOFF_TIME), "DATETIME_FORMAT")
    assert LOCKED in html and f"refused until {ends}" in html and "even with the right password" in html
    assert int(response["Retry-After"]) == (settings.AXES_COOLOFF_TIME - dt.timedelta(minutes=5)).seconds + 1
    assert 'id="id_username"' in html, "the login form is still on the page"


def test_the_last_allowed_failure_itself_answers_with_the_lockout(grc_user, settings):
    fail(settings.AXES_FAILURE_LIMIT - 1)
    assert attempt("alice", PASSWORD).status_code == 302

    fail(settings.AXES_FAILURE_LIMIT - 1)
    response = attempt("alice", "wrong-password")

    assert response.status_code == 429 and LOCKED in response.content.decode()


def test_an_unknown_username_is_locked_out_with_the_same_words(grc_user, settings):
    fail(settings.AXES_FAILURE_LIMIT, "alice", address="192.0.2.1")
    fail(settings.AXES_FAILURE_LIMIT, "nobody", address="192.0.2.2")

    known = attempt("alice", PASSWORD, address="192.0.2.1")
    unknown = attempt("nobody", PASSWORD, address="192.0.2.2")

    assert (known.status_code, unknown.status_code) == (429, 429)
    assert LOCKED in known.content.decode() and LOCKED in unknown.content.decode()


def test_a_username_is_locked_out_from_every_address(grc_user, settings):
    for number in range(settings.AXES_FAILURE_LIMIT):
        attempt("alice", "wrong-password", address=f"198.51.100.{number + 1}")

    assert attempt("alice", PASSWORD, address="203.0.113.99").status_code == 429


def test_an_address_is_locked_out_for_every_username(grc_user, auditor, settings):
    for number in range(settings.AXES_FAILURE_LIMIT):
        attempt(f"guess-{number}", "wrong-password", address="192.0.2.66")

    refused = attempt("alice", PASSWORD, address="192.0.2.66")
    elsewhere = attempt("dave", PASSWORD, address="192.0.2.67")

    assert refused.status_code == 429 and LOCKED in refused.content.decode()
    assert logged_in(elsewhere)


def test_the_lockout_ends_after_the_cool_off(grc_user, settings):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        fail(settings.AXES_FAILURE_LIMIT)
    with time_machine.travel(start + settings.AXES_COOLOFF_TIME - dt.timedelta(minutes=1), tick=False):
        assert attempt("alice", PASSWORD).status_code == 429
    with time_machine.travel(start + settings.AXES_COOLOFF_TIME + dt.timedelta(minutes=1), tick=False):
        assert logged_in(attempt("alice", PASSWORD))


def test_failures_during_the_lockout_do_not_move_its_end(grc_user, settings):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        fail(settings.AXES_FAILURE_LIMIT)
    with time_machine.travel(start + dt.timedelta(minutes=10), tick=False):
        fail(3)
    with time_machine.travel(start + settings.AXES_COOLOFF_TIME + dt.timedelta(minutes=1), tick=False):
        assert logged_in(attempt("alice", PASSWORD))


def test_the_admin_login_is_throttled_too(grc_user, settings):
    grc_user.is_staff = True
    grc_user.save()
    fail(settings.AXES_FAILURE_LIMIT)

    response = attempt("alice", PASSWORD, path="/admin/login/")

    assert response.status_code == 429 and LOCKED in response.content.decode()


# --- The client's address ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (0, "203.0.113.5", "10.0.0.1"),  # no proxy configured: the header is the client's own words
        (1, "203.0.113.5", "203.0.113.5"),
        (1, "6.6.6.6, 203.0.113.5", "203.0.113.5"),  # the left entry was written by the client
        (2, "6.6.6.6, 203.0.113.5, 10.0.0.7", "203.0.113.5"),
        (2, "203.0.113.5", "10.0.0.1"),  # shorter than the proxy chain: not trusted
        (1, "not-an-address", "10.0.0.1"),
        (1, "2001:db8::1", "2001:db8::1"),
    ],
)
def test_the_client_address_is_taken_from_the_trusted_proxies_only(settings, proxies, forwarded, expected):
    settings.CEK_TRUSTED_PROXY_COUNT = proxies
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=forwarded)

    assert client_ip(request) == expected


def test_behind_a_proxy_the_lockout_follows_the_forwarded_address(grc_user, settings):
    settings.CEK_TRUSTED_PROXY_COUNT = 1
    for number in range(settings.AXES_FAILURE_LIMIT):
        # An attacker varying the part of the header it controls is still one address.
        Client(REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=f"6.6.6.{number}, 203.0.113.5").post(
            reverse("login"), {"username": f"guess-{number}", "password": "wrong-password"}
        )

    same = Client(REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.5")
    other = Client(REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.6")
    assert same.post(reverse("login"), {"username": "alice", "password": PASSWORD}).status_code == 429
    assert logged_in(other.post(reverse("login"), {"username": "alice", "password": PASSWORD}))


# --- API tokens -----------------------------------------------------------------------------------------------


def test_guessing_api_tokens_locks_the_address_out_of_the_api(auditor, settings):
    _, raw = api_token_issue(user=auditor, name="ci")
    guesser = Client(REMOTE_ADDR="192.0.2.99", HTTP_AUTHORIZATION="Bearer cek_not-a-real-token")
    statuses = [guesser.get("/api/v1/keys/").status_code for _ in range(settings.AXES_FAILURE_LIMIT)]

    valid_there = Client(REMOTE_ADDR="192.0.2.99", HTTP_AUTHORIZATION=f"Bearer {raw}").get("/api/v1/keys/")
    valid_elsewhere = Client(REMOTE_ADDR="192.0.2.98", HTTP_AUTHORIZATION=f"Bearer {raw}").get("/api/v1/keys/")

    assert statuses[:-1] == [401] * (settings.AXES_FAILURE_LIMIT - 1) and statuses[-1] == 429
    assert valid_there.status_code == 429 and LOCKED in valid_there.json()["detail"]
    assert valid_elsewhere.status_code == 200


def test_a_revoked_token_does_not_count_as_a_guess(auditor, settings):
    token, raw = api_token_issue(user=auditor, name="old ci job")
    api_token_revoke(token=token)
    client = Client(REMOTE_ADDR="192.0.2.50", HTTP_AUTHORIZATION=f"Bearer {raw}")

    statuses = {client.get("/api/v1/keys/").status_code for _ in range(settings.AXES_FAILURE_LIMIT + 2)}

    assert statuses == {401}
    assert logged_in(attempt("dave", PASSWORD, address="192.0.2.50"))


# --- One password hash per attempt ------------------------------------------------------------------------


class CountingHasher(MD5PasswordHasher):
    """MD5 (as every test uses) that counts how many times a password is hashed."""

    calls = 0

    def encode(self, password, salt):
        type(self).calls += 1
        return super().encode(password, salt)


@pytest.mark.parametrize(
    ("username", "password"),
    [("alice", "wrong-password"), ("nobody", "wrong-password"), ("alice", PASSWORD), ("erin", PASSWORD)],
    ids=["known-wrong-password", "unknown-username", "known-right-password", "expired-access-right-password"],
)
def test_every_login_attempt_hashes_the_password_exactly_once(grc_user, expired_auditor, settings, username, password):
    # Counted, not timed: the hash is what takes the time (~240 ms with the production hasher), and a
    # second one only for existing usernames is what told them apart (~475 ms against ~240 ms).
    settings.PASSWORD_HASHERS = ["tests.cek.test_login_throttle.CountingHasher"]
    CountingHasher.calls = 0

    attempt(username, password)

    assert CountingHasher.calls == 1


def test_an_expired_auditor_with_the_right_password_is_still_told_why(expired_auditor):
    response = attempt("erin", PASSWORD)

    assert response.status_code == 200 and "Your access ended on" in response.content.decode()
    assert "Your access ended on" not in attempt("erin", "wrong-password").content.decode()
