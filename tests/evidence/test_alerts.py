"""Alerts on new findings: who is told (webhooks by severity, GRC and the key's owners by e-mail), once; the signed
webhook request received by a real HTTP server; failures retried with backoff, then failed with the reason and
retried by GRC; the log page; and webhook addresses (which can hold their secret) never kept whole."""

from __future__ import annotations

import hashlib
import hmac
import json
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command

from cek.envparse import EnvError, env_webhooks
from evidence.alerts.models import AlertChannel, AlertDelivery, AlertStatus
from evidence.alerts.services import alert_delivery_retry, alert_delivery_send, backoff, webhook_label
from evidence.findings.models import Finding
from tests.conftest import login, wait_for
from tests.evidence.iac_support import FIXTURES
from tests.factories import KeyFactory, KeyStoreFactory, UserFactory, purpose

pytestmark = pytest.mark.django_db

SECRET = "s3cr3t-for-signing-webhooks-0123456789"
HOOK_SECRET_PATH = "/services/T0001/B0001/abcdEFGHijklMNOPqrstUVWX"


class Receiver:
    """A real HTTP server on localhost that records each POST and answers the statuses it is told to."""

    def __init__(self):
        self.requests: list[dict] = []
        self.statuses: list[int] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                status = receiver.statuses.pop(0) if receiver.statuses else 204
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}{HOOK_SECRET_PATH}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver(settings):
    server = Receiver()
    settings.CEK_ALERT_WEBHOOKS = [(server.url, frozenset({"high", "critical"}))]
    settings.CEK_ALERT_WEBHOOK_SECRET = SECRET
    yield server
    server.close()


@pytest.fixture
def grace(db):
    return UserFactory(username="grace", roles=["grc"], email="grace@example.com")


def record(name: str, *, user: str = "grace", repository: str = "acme/infra"):
    try:
        call_command(
            "check_iac", str(FIXTURES / name), "--record", "--user", user, "--repository", repository,
            stdout=StringIO(), stderr=StringIO(),
        )  # fmt: skip
    except SystemExit:
        pass


def send_all() -> None:
    for pk in AlertDelivery.objects.filter(status=AlertStatus.QUEUED).values_list("pk", flat=True):
        alert_delivery_send(delivery_id=pk)


# --- Who is told ------------------------------------------------------------------------------------------------


def test_a_scan_with_new_findings_queues_webhooks_by_severity_and_one_email_per_person(receiver, grace):
    UserFactory(username="gus", roles=["grc"], email="gus@example.com")
    UserFactory(username="nomail", roles=["grc"], email="")

    record("aws_violating.json")

    findings = Finding.objects.all()
    high = [f for f in findings if f.severity == "high"]
    assert len(findings) == 4 and len(high) == 3
    webhooks = AlertDelivery.objects.filter(channel=AlertChannel.WEBHOOK)
    assert webhooks.count() == 3  # one per high finding; the medium one is not for this webhook
    assert {d.findings.get().pk for d in webhooks} == {f.pk for f in high}
    emails = AlertDelivery.objects.filter(channel=AlertChannel.EMAIL)
    assert sorted(emails.values_list("target", flat=True)) == ["grace@example.com", "gus@example.com"]
    assert all(d.findings.count() == 4 for d in emails)  # medium, high: both e-mailed by default


def test_the_keys_owners_are_told_of_findings_on_their_key(settings, grace):
    settings.CEK_ALERT_WEBHOOKS = []
    owner = UserFactory(username="olivia", roles=["key-owners"], email="olivia@example.com")
    backup = UserFactory(username="bob", roles=["key-owners"], email="bob@example.com")
    KeyFactory(
        store=KeyStoreFactory(kind="vault-transit"),
        name="releases",
        external_id="transit/keys/releases",
        purpose=purpose("data-encryption"),
        owner=owner,
        backup_owner=backup,
    )

    record("vault_violating.json")

    targets = sorted(AlertDelivery.objects.values_list("target", flat=True))
    assert targets == ["bob@example.com", "grace@example.com", "olivia@example.com"]


def test_each_finding_is_announced_once(receiver, grace):
    record("aws_violating.json")
    before = AlertDelivery.objects.count()

    record("aws_violating.json")  # the same findings seen again
    record("aws_clean.json")  # resolved
    record("aws_violating.json")  # reopened: not new

    assert AlertDelivery.objects.count() == before


def test_email_severities_can_be_narrowed_or_switched_off(settings, grace):
    settings.CEK_ALERT_WEBHOOKS = []
    settings.CEK_ALERT_EMAIL_SEVERITIES = frozenset()
    record("aws_violating.json")
    assert not AlertDelivery.objects.exists()

    settings.CEK_ALERT_EMAIL_SEVERITIES = frozenset({"high"})
    record("aws_violating.json", repository="acme/other")
    assert AlertDelivery.objects.get().findings.count() == 3


# --- Sending ----------------------------------------------------------------------------------------------------


def test_the_webhook_request_is_signed_and_carries_the_finding(receiver, grace):
    record("aws_violating.json")

    send_all()

    assert len(receiver.requests) == 3
    request = receiver.requests[0]
    headers, body = request["headers"], request["body"]
    assert request["path"] == HOOK_SECRET_PATH and headers["Content-Type"] == "application/json"
    expected = hmac.new(SECRET.encode(), f"{headers['X-Cek-Timestamp']}.".encode() + body, hashlib.sha256)
    assert headers["X-Cek-Signature"] == f"sha256={expected.hexdigest()}"
    assert headers["X-Cek-Event"] == "finding.opened"
    payload = json.loads(body)
    finding = Finding.objects.get(pk=payload["finding"]["id"])
    assert payload["source"].startswith("IaC scan #") and payload["source"].endswith(" of acme/infra")
    assert payload["finding"]["url"] == f"https://cek.example.com/evidence/findings/{finding.pk}/"
    assert payload["finding"]["severity"] == "high" and payload["finding"]["rule"] == finding.rule
    assert int(headers["X-Cek-Delivery"]) in set(AlertDelivery.objects.values_list("pk", flat=True))
    delivered = AlertDelivery.objects.filter(channel=AlertChannel.WEBHOOK)
    assert all(d.status == AlertStatus.DELIVERED and d.response_status == 204 and d.attempts == 1 for d in delivered)


def test_the_email_lists_the_findings_with_links(settings, grace):
    settings.CEK_ALERT_WEBHOOKS = []
    record("aws_violating.json")

    send_all()

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["grace@example.com"] and message.subject == "4 new CEK-11 findings"
    assert "https://cek.example.com/evidence/findings/" in message.body
    assert "A key is used by consumers of more than one purpose class" in message.body
    assert AlertDelivery.objects.get().status == AlertStatus.DELIVERED


def test_a_failing_webhook_is_retried_with_backoff_then_failed_with_its_reason(receiver, grace, settings):
    settings.CEK_ALERT_MAX_ATTEMPTS = 3
    settings.CEK_ALERT_EMAIL_SEVERITIES = frozenset()
    receiver.statuses = [500, 503, 502]
    record("aws_violating.json", repository="acme/one")
    delivery = AlertDelivery.objects.filter(channel=AlertChannel.WEBHOOK).first()
    AlertDelivery.objects.exclude(pk=delivery.pk).delete()

    assert alert_delivery_send(delivery_id=delivery.pk) == 30
    delivery.refresh_from_db()
    assert delivery.status == AlertStatus.QUEUED and delivery.attempts == 1 and delivery.response_status == 500
    assert delivery.last_error.startswith("The webhook answered 500") and delivery.next_attempt_at is not None
    assert alert_delivery_send(delivery_id=delivery.pk) == 60
    assert alert_delivery_send(delivery_id=delivery.pk) is None
    delivery.refresh_from_db()
    assert delivery.status == AlertStatus.FAILED and delivery.attempts == 3
    assert "Gave up after 3 attempts" in delivery.last_error and "answered 502" in delivery.last_error

    alert_delivery_retry(delivery=delivery, actor=grace)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_error) == (AlertStatus.QUEUED, 0, "")
    assert alert_delivery_send(delivery_id=delivery.pk) is None
    delivery.refresh_from_db()
    assert delivery.status == AlertStatus.DELIVERED and len(receiver.requests) == 4


def test_backoff_doubles_up_to_ten_minutes():
    assert [backoff(n) for n in range(1, 8)] == [30, 60, 120, 240, 480, 600, 600]


def test_an_unreachable_or_removed_webhook_fails_with_a_reason(receiver, grace, settings):
    settings.CEK_ALERT_EMAIL_SEVERITIES = frozenset()
    record("aws_violating.json")
    first, second = AlertDelivery.objects.all()[:2]
    receiver.close()

    alert_delivery_send(delivery_id=first.pk)
    settings.CEK_ALERT_WEBHOOKS = []
    alert_delivery_send(delivery_id=second.pk)

    first.refresh_from_db()
    second.refresh_from_db()
    assert first.last_error.startswith("The webhook could not be reached")
    assert second.last_error.startswith("This webhook is no longer in CEK_ALERT_WEBHOOKS")


def test_a_webhook_address_is_never_kept_whole(receiver, grace):
    record("aws_violating.json")
    send_all()

    label = webhook_label(receiver.url)
    assert label.startswith("http://127.0.0.1/… (") and "T0001" not in label
    for delivery in AlertDelivery.objects.filter(channel=AlertChannel.WEBHOOK):
        stored = json.dumps([delivery.target, delivery.dedupe_key, delivery.payload, delivery.last_error])
        assert "abcdEFGH" not in stored and "T0001" not in stored


def test_only_grc_retries_and_only_failed_deliveries(receiver, grace, auditor):
    from django.core.exceptions import PermissionDenied, ValidationError

    record("aws_violating.json")
    delivery = AlertDelivery.objects.first()
    with pytest.raises(PermissionDenied):
        alert_delivery_retry(delivery=delivery, actor=auditor)
    with pytest.raises(ValidationError, match="Only a failed notification"):
        alert_delivery_retry(delivery=delivery, actor=grace)


# --- The log page -----------------------------------------------------------------------------------------------


def test_grc_reads_the_log_and_retries_from_it(receiver, grace, settings, django_capture_on_commit_callbacks):
    settings.CEK_ALERT_MAX_ATTEMPTS = 1
    receiver.statuses = [500] * 10
    record("aws_violating.json")
    send_all()
    client = login(grace)

    page = client.get("/evidence/alerts/").content.decode()

    assert "Alerts sent" in page and "The webhook answered 500" in page and "failed" in page
    assert "T0001" not in page and webhook_label(receiver.url) in page
    assert "medium, high, critical findings" in page
    failed = AlertDelivery.objects.filter(status=AlertStatus.FAILED).first()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(f"/evidence/alerts/{failed.pk}/retry/", follow=True)
    assert "is queued again" in response.content.decode() and len(callbacks) == 1
    assert AlertDelivery.objects.get(pk=failed.pk).status == AlertStatus.QUEUED
    filtered = client.get("/evidence/alerts/", {"status": "failed", "channel": "webhook", "page": "junk"})
    assert filtered.status_code == 200


@pytest.mark.parametrize("who", ["auditor", "owner", "outsider"])
def test_others_cannot_read_the_log(request, who):
    client = login(request.getfixturevalue(who))
    assert client.get("/evidence/alerts/").status_code == 403
    assert client.post("/evidence/alerts/1/retry/").status_code == 403


def test_the_log_runs_a_fixed_number_of_queries(receiver, grace, django_assert_max_num_queries):
    client = login(grace)
    record("aws_violating.json")
    with django_assert_max_num_queries(12) as few:
        client.get("/evidence/alerts/")
    for n in range(3):
        record("aws_violating.json", repository=f"acme/more-{n}")
    assert AlertDelivery.objects.count() > 12
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get("/evidence/alerts/")


# --- Settings ---------------------------------------------------------------------------------------------------


def test_webhook_settings_are_read_strictly(monkeypatch):
    monkeypatch.setenv("CEK_W", "high,critical https://siem.example.com/h; https://chat.example.com/x\nall http://h/y")
    hooks = env_webhooks("CEK_W")
    assert [url for url, _ in hooks] == ["https://siem.example.com/h", "https://chat.example.com/x", "http://h/y"]
    assert hooks[0][1] == {"high", "critical"} and len(hooks[1][1]) == len(hooks[2][1]) == 4
    for bad, message in (("urgent https://x/y", "not a severity"), ("ftp://x/y", "must start with https"),
                         ("high https://x y", "expected")):  # fmt: skip
        monkeypatch.setenv("CEK_W", bad)
        with pytest.raises(EnvError, match=message):
            env_webhooks("CEK_W")


def test_webhooks_without_a_signing_secret_stop_the_start():
    env = {"CEK_ALERT_WEBHOOKS": "https://siem.example.com/h", "CEK_ALERT_WEBHOOK_SECRET": "short", "CEK_DEBUG": "1"}
    result = subprocess.run(
        [sys.executable, "-c", "import cek.settings"], env=env, capture_output=True, text=True, cwd=FIXTURES.parents[3]
    )
    assert result.returncode != 0 and "CEK_ALERT_WEBHOOK_SECRET must hold at least 32 characters" in result.stderr


# --- A real worker ------------------------------------------------------------------------------------------------


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_worker_delivers_the_alerts_of_a_recorded_scan(transactional_catalog, celery_worker, settings, monkeypatch):
    from django.db import connections

    monkeypatch.setitem(connections.settings["default"], "CONN_MAX_AGE", 0)
    server = Receiver()
    settings.CEK_ALERT_WEBHOOKS = [(server.url, frozenset({"high", "critical"}))]
    settings.CEK_ALERT_WEBHOOK_SECRET = SECRET
    try:
        UserFactory(username="grace", roles=["grc"], email="grace@example.com")
        record("aws_violating.json")
        wait_for(lambda: AlertDelivery.objects.filter(status=AlertStatus.DELIVERED).count() == 4)
        assert len(server.requests) == 3 and len(mail.outbox) == 1
    finally:
        server.close()
