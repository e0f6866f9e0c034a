"""Personal API tokens: the /accounts/tokens/ page, the create_api_token command, and authentication."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
import time_machine
from django.contrib.auth.hashers import MD5PasswordHasher
from django.contrib.auth.models import User
from django.core import mail
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone

from cek.apitokens import api_token_issue, api_token_revoke
from cek.models import ApiToken
from tests.conftest import login
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

TOKEN_RE = re.compile(r"cek_[A-Za-z0-9_-]{30,}")


def bearer(raw: str) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")


def create_on_page(client: Client, **data) -> str:
    response = client.post("/accounts/tokens/", {"name": "CI pipeline", **data})
    assert response.status_code == 200
    html = response.content.decode()
    match = TOKEN_RE.search(html)
    assert match, html
    return match.group()


# --- Authentication ---------------------------------------------------------------------------------


@pytest.mark.parametrize("keyword", ["Bearer", "Token", "bearer"])
def test_a_token_authenticates_as_its_user(auditor, keyword):
    _, raw = api_token_issue(user=auditor, name="ci")

    response = Client(HTTP_AUTHORIZATION=f"{keyword} {raw}").get("/api/v1/keys/")

    assert response.status_code == 200


def test_a_token_carries_its_users_role(auditor):
    _, raw = api_token_issue(user=auditor, name="ci")

    response = bearer(raw).post("/api/v1/tenants/", {"name": "Acme", "slug": "acme"}, content_type="application/json")

    assert response.status_code == 403


def test_a_token_of_a_user_without_a_role_is_authenticated_but_forbidden(outsider):
    _, raw = api_token_issue(user=outsider, name="ci")

    assert bearer(raw).get("/api/v1/keys/").status_code == 403


def test_using_a_token_records_when_it_was_last_used(auditor):
    token, raw = api_token_issue(user=auditor, name="ci")
    assert token.last_used_at is None

    bearer(raw).get("/api/v1/keys/")

    token.refresh_from_db()
    assert token.last_used_at is not None


def test_a_revoked_token_is_refused(auditor):
    token, raw = api_token_issue(user=auditor, name="ci")
    api_token_revoke(token=token)

    response = bearer(raw).get("/api/v1/keys/")

    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid, expired or revoked API token."}
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_an_expired_token_is_refused(auditor):
    _, raw = api_token_issue(user=auditor, name="ci", expires_at=timezone.now() + dt.timedelta(hours=1))
    assert bearer(raw).get("/api/v1/keys/").status_code == 200

    with time_machine.travel(timezone.now() + dt.timedelta(hours=2)):
        assert bearer(raw).get("/api/v1/keys/").status_code == 401


def test_the_token_of_an_auditor_whose_access_expired_is_refused(expired_auditor):
    _, raw = api_token_issue(user=expired_auditor, name="engagement")

    response = bearer(raw).get("/api/v1/keys/")

    assert response.status_code == 401
    assert "expired" in response.json()["detail"]


def test_an_expired_auditors_session_does_not_reach_the_api(expired_auditor):
    assert login(expired_auditor).get("/api/v1/keys/").status_code == 401


@pytest.mark.parametrize(
    "header", ["Bearer", "Bearer cek_not-a-real-token", "Bearer two parts", "Token \u00e9\u00e9", "Bearer cek_\x00"]
)
def test_a_malformed_or_unknown_token_is_a_json_401(header):
    response = Client(HTTP_AUTHORIZATION=header).get("/api/v1/keys/")

    assert response.status_code == 401
    assert set(response.json()) == {"detail"}


def test_a_bad_token_is_refused_even_with_a_valid_session(auditor):
    client = login(auditor)

    response = client.get("/api/v1/keys/", HTTP_AUTHORIZATION="Bearer cek_wrong")

    assert response.status_code == 401


# --- The page ------------------------------------------------------------------------------------------


def test_the_page_lists_only_my_tokens(auditor, owner):
    api_token_issue(user=auditor, name="Nightly export")
    api_token_issue(user=owner, name="Bob's laptop")

    response = login(auditor).get("/accounts/tokens/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "Nightly export" in html and "Bob&#x27;s laptop" not in html and "Bob's laptop" not in html
    assert ApiToken.objects.get(name="Nightly export").prefix in html


def test_the_page_requires_login():
    response = Client().get("/accounts/tokens/")

    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_a_user_without_a_role_can_still_manage_their_tokens(outsider):
    assert login(outsider).get("/accounts/tokens/").status_code == 200


def test_a_new_token_is_shown_once_and_works(owner):
    client = login(owner)

    response = client.post("/accounts/tokens/", {"name": "CI pipeline"})

    assert "no-store" in response["Cache-Control"]
    raw = TOKEN_RE.search(response.content.decode()).group()
    assert "shown only this once" in response.content.decode()
    assert raw not in client.get("/accounts/tokens/").content.decode()
    assert bearer(raw).get("/api/v1/keys/").status_code == 200
    token = ApiToken.objects.get(user=owner)
    assert token.name == "CI pipeline" and raw.startswith(token.prefix) and token.expires_at is None


def test_only_the_digest_is_stored_anywhere_in_the_database(owner):
    client = login(owner)
    raw = create_on_page(client)
    client.get("/accounts/tokens/")
    command_raw = io.StringIO()
    call_command("create_api_token", "bob", "--name", "script", stdout=command_raw, stderr=io.StringIO())

    dump = io.StringIO()
    call_command("dumpdata", stdout=dump)

    database = dump.getvalue()
    assert ApiToken.objects.count() == 2
    assert raw not in database and command_raw.getvalue().strip() not in database
    assert raw[len("cek_") :] not in database


def test_an_expiry_date_lets_the_token_work_through_that_day(owner):
    with time_machine.travel(dt.datetime(2026, 3, 10, 9, 0, tzinfo=dt.UTC), tick=False):
        raw = create_on_page(login(owner), expires_on="2026-03-12")
        token = ApiToken.objects.get(user=owner)
        assert token.expires_at == dt.datetime(2026, 3, 13, 0, 0, tzinfo=dt.UTC)
    with time_machine.travel(dt.datetime(2026, 3, 12, 23, 59, tzinfo=dt.UTC), tick=False):
        assert bearer(raw).get("/api/v1/keys/").status_code == 200
    with time_machine.travel(dt.datetime(2026, 3, 13, 0, 1, tzinfo=dt.UTC), tick=False):
        assert bearer(raw).get("/api/v1/keys/").status_code == 401
        assert "expired" in login(owner).get("/accounts/tokens/").content.decode()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": ""}, "This field is required."),
        ({"name": "x", "expires_on": "2001-01-01"}, "in the past"),
        ({"name": "x", "expires_on": "soon"}, "Enter a valid date."),
        ({"name": "password=Hunter2Hunter2"}, "looks like it contains"),
    ],
)
def test_an_invalid_token_form_is_shown_again_with_the_reason(owner, data, message):
    response = login(owner).post("/accounts/tokens/", data)

    assert response.status_code == 200
    html = response.content.decode()
    assert message in html
    assert not ApiToken.objects.exists()
    assert "Hunter2Hunter2" not in html


def test_i_can_revoke_my_token(owner):
    token, raw = api_token_issue(user=owner, name="old")
    client = login(owner)

    response = client.post(f"/accounts/tokens/{token.pk}/revoke/")

    assert response.status_code == 302 and response["Location"] == "/accounts/tokens/"
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert bearer(raw).get("/api/v1/keys/").status_code == 401
    assert "revoked" in client.get("/accounts/tokens/").content.decode()


def test_i_cannot_revoke_someone_elses_token(owner, other_owner):
    token, raw = api_token_issue(user=other_owner, name="theirs")

    response = login(owner).post(f"/accounts/tokens/{token.pk}/revoke/")

    assert response.status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None
    assert bearer(raw).get("/api/v1/keys/").status_code == 200


def test_revoking_needs_a_post(owner):
    token, _ = api_token_issue(user=owner, name="old")

    assert login(owner).get(f"/accounts/tokens/{token.pk}/revoke/").status_code == 405
    token.refresh_from_db()
    assert token.revoked_at is None


# --- The command ---------------------------------------------------------------------------------------


def test_the_command_prints_a_working_token(auditor):
    out, err = io.StringIO(), io.StringIO()

    call_command("create_api_token", "dave", "--name", "evidence download", stdout=out, stderr=err)

    raw = out.getvalue().strip()
    assert TOKEN_RE.fullmatch(raw)
    assert "shown only this once" in err.getvalue() and raw not in err.getvalue()
    token = ApiToken.objects.get(user=auditor)
    assert token.name == "evidence download" and token.expires_at is None
    assert bearer(raw).get("/api/v1/keys/").status_code == 200


def test_the_command_sets_an_expiry(auditor):
    out = io.StringIO()
    with time_machine.travel(dt.datetime(2026, 1, 5, 12, 0, tzinfo=dt.UTC), tick=False):
        call_command(
            "create_api_token", "dave", "--name", "q1", "--expires", "2026-03-31", stdout=out, stderr=io.StringIO()
        )

    assert ApiToken.objects.get(user=auditor).expires_at == dt.datetime(2026, 4, 1, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nobody", "--name", "x"], "No user with the username"),
        (["dave", "--name", "x", "--expires", "31/12/2030"], "YYYY-MM-DD"),
        (["dave", "--name", "x", "--expires", "2001-01-01"], "in the past"),
        (["dave", "--name", "  "], "must not be empty"),
        (["dave", "--name", "api_key=abcdef123456"], "looks like it contains"),
    ],
)
def test_the_command_refuses_bad_arguments(auditor, args, message):
    with pytest.raises(CommandError, match=message):
        call_command("create_api_token", *args, stdout=io.StringIO(), stderr=io.StringIO())
    assert not ApiToken.objects.exists()


# --- A password change revokes the user's tokens ------------------------------------------------------------

NEW_PASSWORD = "a-much-longer-passphrase-2026"


def change_on_the_page(user) -> None:
    response = login(user).post(
        "/accounts/password/change/",
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 302


def reset_by_email(user) -> None:
    client = Client()
    client.post("/accounts/password/reset/", {"email": user.email})
    link = next(line for line in mail.outbox[-1].body.splitlines() if "/accounts/reset/" in line)
    form_page = client.get(link.split("testserver", 1)[1], follow=True)
    response = client.post(
        form_page.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    assert response.status_code == 302


def set_in_the_admin(user) -> None:
    admin = UserFactory(username="root", is_staff=True, is_superuser=True)
    response = login(admin).post(
        f"/admin/auth/user/{user.pk}/password/",
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]


def set_in_code(user) -> None:
    # manage.py changepassword, the shell, any future path: only the stored hash changes.
    user.set_password(NEW_PASSWORD)
    user.save()


@pytest.mark.parametrize("change", [change_on_the_page, reset_by_email, set_in_the_admin, set_in_code])
def test_a_password_change_revokes_every_token_of_the_user(auditor, change):
    _, first = api_token_issue(user=auditor, name="ci")
    _, second = api_token_issue(user=auditor, name="nightly export")
    assert bearer(first).get("/api/v1/keys/").status_code == 200

    change(User.objects.get(pk=auditor.pk))

    for raw in (first, second):
        response = bearer(raw).get("/api/v1/keys/")
        assert response.status_code == 401
        assert "password changed" in response.json()["detail"]
    assert ApiToken.objects.filter(user=auditor, revoked_at__isnull=False).count() == 2


def test_a_token_issued_after_the_change_works_and_the_old_ones_show_as_revoked(auditor):
    api_token_issue(user=auditor, name="before")
    set_in_code(auditor)
    _, new = api_token_issue(user=auditor, name="after")

    assert bearer(new).get("/api/v1/keys/").status_code == 200
    page = login(auditor).get("/accounts/tokens/").content.decode()
    assert page.count("revoked: password changed") == 1 and page.count("badge-ok") == 1


class RehashingMD5Hasher(MD5PasswordHasher):
    """Stands in for a stronger hasher (or more iterations) a Django upgrade brings."""

    algorithm = "md5_stronger"


def test_tokens_survive_django_re_encoding_the_same_password_at_login(auditor, settings):
    _, raw = api_token_issue(user=auditor, name="ci")
    settings.PASSWORD_HASHERS = [
        "tests.cek.test_apitokens.RehashingMD5Hasher",
        "django.contrib.auth.hashers.MD5PasswordHasher",
    ]

    response = Client().post("/accounts/login/", {"username": "dave", "password": PASSWORD})

    assert response.status_code == 302
    auditor.refresh_from_db()
    assert auditor.password.startswith("md5_stronger$")
    assert bearer(raw).get("/api/v1/keys/").status_code == 200


# --- Scopes ----------------------------------------------------------------------------------------------------


def test_grc_creates_a_ci_token_on_the_page_and_it_can_only_record_iac_scans(grc_user):
    client = login(grc_user)
    page = client.get("/accounts/tokens/").content.decode()
    assert "Record IaC scans only (for a CI pipeline)" in page

    raw = create_on_page(client, scope="iac-scans")

    token = ApiToken.objects.get(user=grc_user)
    assert token.scope == "iac-scans"
    listed = client.get("/accounts/tokens/").content.decode()
    assert "Record IaC scans only (for a CI pipeline)" in listed
    assert bearer(raw).get("/api/v1/keys/").status_code == 403


@pytest.mark.parametrize("who", ["auditor", "owner", "outsider"])
def test_the_scope_is_offered_to_grc_only_and_others_get_full_tokens(request, who):
    user = request.getfixturevalue(who)
    client = login(user)
    assert "Record IaC scans only" not in client.get("/accounts/tokens/").content.decode()

    create_on_page(client, scope="iac-scans")  # a forged field is ignored: the form has no scope for them

    assert ApiToken.objects.get(user=user).scope == "full"


def test_the_command_issues_a_scoped_token_to_grc_only(grc_user, auditor):
    out, err = io.StringIO(), io.StringIO()
    call_command("create_api_token", grc_user.username, "--name", "CI", "--scope", "iac-scans", stdout=out, stderr=err)
    assert ApiToken.objects.get(user=grc_user).scope == "iac-scans"
    assert "record iac scans only" in err.getvalue().lower()
    assert TOKEN_RE.fullmatch(out.getvalue().strip())

    with pytest.raises(CommandError, match="Only GRC staff"):
        call_command("create_api_token", auditor.username, "--name", "CI", "--scope", "iac-scans", stdout=out)
    assert not ApiToken.objects.filter(user=auditor).exists()


def test_a_token_request_reads_the_token_its_user_and_roles_in_one_query(auditor):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    _, raw = api_token_issue(user=auditor, name="ci")
    client = bearer(raw)
    client.get("/api/v1/keys/")  # records when the token was last used (once a minute)
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/api/v1/keys/").status_code == 200
    sql = [q["sql"] for q in queries.captured_queries]
    (token,) = [q for q in sql if 'FROM "cek_apitoken"' in q]
    assert 'JOIN "auth_user"' in token and '"auth_group"' in token
    assert not [q for q in sql if q is not token and ('"auth_group"' in q or 'FROM "auth_user"' in q)], sql


def test_a_role_taken_away_counts_from_the_next_token_request(grc_user):
    from django.contrib.auth.models import Group

    _, raw = api_token_issue(user=grc_user, name="ci")
    client = bearer(raw)
    assert client.get("/api/v1/keys/").status_code == 200
    grc_user.groups.remove(Group.objects.get(name="grc"))
    assert client.get("/api/v1/keys/").status_code == 403
    grc_user.groups.add(Group.objects.get(name="auditors"))
    assert client.get("/api/v1/keys/").status_code == 200
    assert client.post("/api/v1/tenants/", {"name": "Acme", "slug": "acme"}).status_code == 403
