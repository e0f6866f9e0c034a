"""The inventory pages: who may see and change what, and that GRC can do the whole job in the browser."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils.html import escape

from inventory.models import Key, KeyState, Party
from tests.factories import (
    AccessGrantFactory,
    BindingFactory,
    KeyFactory,
    KeyStoreFactory,
    PartyFactory,
    ServiceFactory,
    TenantFactory,
    purpose,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(owner, other_owner):
    store = KeyStoreFactory(name="prod-kms")
    service = ServiceFactory(name="Inference gateway", slug="inference-gateway")
    tenant = TenantFactory(name="Acme", slug="acme")
    party = PartyFactory(name="Northwind AI", roles=["AP", "OSP"], is_us=True)
    mine = KeyFactory(name="inference-logs", store=store, owner=owner, purpose=purpose("inference-log-encryption"))
    theirs = KeyFactory(name="billing-db", store=store, owner=other_owner)
    binding = BindingFactory(key=mine, service=service, tenant=tenant)
    grant = AccessGrantFactory(key=mine)
    return {
        "store": store,
        "service": service,
        "tenant": tenant,
        "party": party,
        "mine": mine,
        "theirs": theirs,
        "binding": binding,
        "grant": grant,
    }


def read_pages(w):
    """(url name, args, who may read: set of role names)."""
    everyone = {"grc", "auditor", "owner", "other_owner"}
    readers = {"grc", "auditor"}
    return [
        ("home", [], everyone),
        ("inventory:overview", [], everyone),
        ("control", [], everyone),
        ("inventory:key-list", [], everyone),
        ("inventory:my-keys", [], everyone),
        ("inventory:key-detail", [w["mine"].pk], {"grc", "auditor", "owner"}),
        ("inventory:purpose-list", [], everyone),
        ("inventory:purpose-detail", [w["mine"].purpose_id], everyone),
        ("inventory:service-list", [], readers),
        ("inventory:service-detail", [w["service"].pk], readers),
        ("inventory:keystore-list", [], readers),
        ("inventory:keystore-detail", [w["store"].pk], readers),
        ("inventory:tenant-list", [], readers),
        ("inventory:tenant-detail", [w["tenant"].pk], readers),
        ("inventory:party-list", [], readers),
        ("inventory:party-detail", [w["party"].pk], readers),
        ("inventory:ssrm", [], readers),
        ("inventory:binding-list", [], everyone),
        ("inventory:binding-detail", [w["binding"].pk], {"grc", "auditor", "owner"}),
        ("inventory:grant-list", [], everyone),
        ("inventory:grant-detail", [w["grant"].pk], {"grc", "auditor", "owner"}),
    ]


def write_pages(w):
    return [
        ("inventory:key-create", []),
        ("inventory:key-update", [w["mine"].pk]),
        ("inventory:key-delete", [w["mine"].pk]),
        ("inventory:service-create", []),
        ("inventory:service-update", [w["service"].pk]),
        ("inventory:keystore-create", []),
        ("inventory:tenant-update", [w["tenant"].pk]),
        ("inventory:party-create", []),
        ("inventory:purpose-create", []),
        ("inventory:purpose-update", [w["mine"].purpose_id]),
        ("inventory:binding-create", []),
        ("inventory:grant-update", [w["grant"].pk]),
        ("inventory:ssrmassignment-create", []),
    ]


def test_role_matrix_for_reading_pages(role, world):
    name, _user, client = role
    for url_name, args, allowed in read_pages(world):
        response = client.get(reverse(url_name, args=args))
        if name in ("anonymous", "expired_auditor"):
            assert response.status_code == 302, url_name
            assert response["Location"].startswith(reverse("login"))
        elif name in allowed:
            assert response.status_code == 200, (name, url_name)
        else:
            assert response.status_code in (403, 404), (name, url_name, response.status_code)


def test_role_matrix_for_writing_pages(role, world):
    name, _user, client = role
    for url_name, args in write_pages(world):
        url = reverse(url_name, args=args)
        get, post = client.get(url), client.post(url, {})
        if name in ("anonymous", "expired_auditor"):
            assert get.status_code == 302 and post.status_code == 302, url_name
        elif name == "grc":
            assert get.status_code == 200, url_name
        else:
            assert get.status_code in (403, 404), (name, url_name)
            assert post.status_code in (403, 404), (name, url_name)
    assert Key.objects.filter(pk=world["mine"].pk).exists()


def test_a_key_owner_sees_only_their_own_keys(owner_client, world):
    response = owner_client.get(reverse("inventory:key-list"))
    assert b"inference-logs" in response.content
    assert b"billing-db" not in response.content
    assert owner_client.get(reverse("inventory:key-detail", args=[world["theirs"].pk])).status_code == 404


def test_an_auditor_sees_everything_but_no_edit_buttons(auditor_client, world):
    response = auditor_client.get(reverse("inventory:key-detail", args=[world["mine"].pk]))
    assert response.status_code == 200
    assert b"inference-logs" in response.content
    assert reverse("inventory:key-update", args=[world["mine"].pk]).encode() not in response.content
    listing = auditor_client.get(reverse("inventory:key-list"))
    assert b"billing-db" in listing.content and b"New key" not in listing.content


def key_form_data(store, approver, **overrides):
    data = {
        "name": "model-signing",
        "kind": "private-key",
        "algorithm": "ECDSA P-256",
        "size_bits": "256",
        "store": store.pk,
        "external_id": "arn:aws:kms:eu-west-1:111122223333:key/sign-1",
        "purpose": purpose("model-artifact-signing").pk,
        "purpose_justification": "Signs released model weights.",
        "purpose_approver": approver.pk,
        "purpose_reviewed_on": "2026-11-01",
        "ssrm_layer": "model",
        "state": "active",
        "activated_on": "2026-01-01",
        "labels": "purpose=model-artifact-signing\nteam=ml",
    }
    data.update(overrides)
    return data


def test_grc_creates_a_key_and_the_history_names_them(grc_client, grc_user, world):
    response = grc_client.post(reverse("inventory:key-create"), key_form_data(world["store"], grc_user))
    key = Key.objects.get(name="model-signing")
    assert response.status_code == 302 and response["Location"] == key.get_absolute_url()
    assert key.labels == {"purpose": "model-artifact-signing", "team": "ml"}
    assert key.cryptoperiod_ends_on == dt.date(2026, 1, 1) + dt.timedelta(days=3 * 365)
    detail = grc_client.get(key.get_absolute_url())
    # The history names the person, not their username.
    assert f"<strong>{escape(grc_user.get_full_name())}</strong> · created" in detail.content.decode()
    assert "<strong>alice</strong>" not in detail.content.decode()


def test_the_key_form_rerenders_with_a_clear_message_for_key_material(grc_client, grc_user, world):
    pem = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----"
    data = key_form_data(world["store"], grc_user, description=pem)
    response = grc_client.post(reverse("inventory:key-create"), data)
    assert response.status_code == 200
    assert b"PEM private key" in response.content
    assert b"MIIEvQIBADANBgkqhkiG9w0BAQEFAASC" not in response.content.replace(b"\n", b"")
    assert b"BEGIN PRIVATE KEY" not in response.content
    assert response.context["form"]["description"].value() in (None, "")
    # The rest of what was typed is kept, so only the refused value has to be typed again.
    assert response.context["form"]["name"].value() == "model-signing"
    assert not Key.objects.filter(name="model-signing").exists()


def test_the_key_form_refuses_a_purpose_that_does_not_fit_the_kind(grc_client, grc_user, world):
    data = key_form_data(world["store"], grc_user, kind="symmetric-key")
    response = grc_client.post(reverse("inventory:key-create"), data)
    assert response.status_code == 200
    assert b"is for keys of kind private-key" in response.content
    assert not Key.objects.filter(name="model-signing").exists()


def test_a_duplicate_external_id_in_the_same_store_is_a_form_error(grc_client, grc_user, world):
    data = key_form_data(world["store"], grc_user, external_id=world["mine"].external_id, kind="private-key")
    response = grc_client.post(reverse("inventory:key-create"), data)
    assert response.status_code == 200
    assert b"already exists" in response.content


def test_editing_a_key_records_the_change_in_its_history(grc_client, grc_user, world):
    key = world["mine"]
    data = key_form_data(
        world["store"],
        grc_user,
        name=key.name,
        kind="symmetric-key",
        external_id=key.external_id,
        purpose=key.purpose_id,
        state="suspended",
        labels="",
    )
    response = grc_client.post(reverse("inventory:key-update", args=[key.pk]), data)
    assert response.status_code == 302
    detail = grc_client.get(key.get_absolute_url())
    assert b"Suspended" in detail.content
    assert "Active</del> → <ins>Suspended".encode() in detail.content


def test_an_active_key_cannot_be_deleted_but_a_pre_activation_one_can(grc_client, world):
    active = world["mine"]
    response = grc_client.post(reverse("inventory:key-delete", args=[active.pk]), follow=True)
    assert Key.objects.filter(pk=active.pk).exists()
    assert b"stay in the inventory" in response.content
    draft = KeyFactory(state=KeyState.PRE_ACTIVATION)
    grc_client.post(reverse("inventory:key-delete", args=[draft.pk]))
    assert not Key.objects.filter(pk=draft.pk).exists()


def test_deleting_a_store_in_use_explains_what_refers_to_it(grc_client, world):
    response = grc_client.post(reverse("inventory:keystore-delete", args=[world["store"].pk]), follow=True)
    assert b"cannot be deleted" in response.content and b"2 keys" in response.content


def test_marking_a_party_as_us_moves_the_mark(grc_client, world):
    response = grc_client.post(
        reverse("inventory:party-create"), {"name": "Helix Models", "roles": ["MP"], "is_us": "on"}
    )
    assert response.status_code == 302
    assert list(Party.objects.filter(is_us=True).values_list("name", flat=True)) == ["Helix Models"]


def test_the_key_list_filters_through_the_url(grc_client, world, owner):
    KeyFactory(name="old-key", store=world["store"], activated_on=dt.date(2020, 1, 1), owner=owner)
    Key.objects.filter(name="old-key").update(cryptoperiod_ends_on=dt.date(2022, 1, 1))
    url = reverse("inventory:key-list")
    assert b"old-key" in grc_client.get(url + "?overdue=true").content
    assert b"inference-logs" not in grc_client.get(url + "?overdue=true").content
    by_purpose = grc_client.get(url + "?purpose=inference-log-encryption").content
    assert b"inference-logs" in by_purpose and b"billing-db" not in by_purpose
    by_service = grc_client.get(url + "?service=inference-gateway").content
    assert b"inference-logs" in by_service and b"billing-db" not in by_service
    by_owner = grc_client.get(url + "?owner=carol").content
    assert b"billing-db" in by_owner and b"inference-logs" not in by_owner
    assert b"1</strong> key matches the filters" in grc_client.get(url + "?q=billing").content
    assert (
        b"</strong> keys match the filters" in grc_client.get(url + "?q=-").content
    )  # several: old-key, billing-db...
    sorted_desc = grc_client.get(url + "?ordering=-name").content.decode()
    assert sorted_desc.index("old-key") < sorted_desc.index("billing-db")


def test_an_invalid_filter_value_is_reported_not_a_500(grc_client, world):
    response = grc_client.get(reverse("inventory:key-list") + "?state=bogus&store=abc&page=999")
    assert response.status_code == 200  # an out-of-range page shows the last one
    response = grc_client.get(reverse("inventory:key-list") + "?state=bogus")
    assert response.status_code == 200 and "The filter “State” was not applied" in response.content.decode()


@pytest.mark.parametrize("rows", [1, 50])
def test_list_pages_run_a_constant_number_of_queries(grc_client, django_assert_max_num_queries, rows, owner):
    store = KeyStoreFactory()
    service = ServiceFactory()
    keys = [KeyFactory(store=store, owner=owner) for _ in range(rows)]
    for key in keys:
        BindingFactory(key=key, service=service)
        AccessGrantFactory(key=key)
    TenantFactory.create_batch(rows)
    PartyFactory.create_batch(rows)
    for url_name in (
        "inventory:key-list",
        "inventory:binding-list",
        "inventory:grant-list",
        "inventory:tenant-list",
        "inventory:service-list",
        "inventory:keystore-list",
        "inventory:purpose-list",
        "inventory:party-list",
        "inventory:ssrm",
        "inventory:overview",
    ):
        with django_assert_max_num_queries(12):
            assert grc_client.get(reverse(url_name)).status_code == 200


@pytest.mark.parametrize("rows", [1, 50])
def test_the_overview_reads_its_figures_in_one_query(grc_client, django_assert_max_num_queries, rows, owner):
    states = list(KeyState)
    for n in range(rows):
        KeyFactory(owner=owner if n % 2 else None, state=states[n % len(states)])
    # Session, user and roles; the figures and breakdowns (one grouped query); "my keys"; the party that is us.
    with django_assert_max_num_queries(6):
        assert grc_client.get(reverse("inventory:overview")).status_code == 200


def test_the_key_detail_warns_when_a_key_serves_several_purposes(grc_client, world):
    BindingFactory(key=world["mine"], service=ServiceFactory(), purpose=purpose("training-data-encryption"))
    response = grc_client.get(world["mine"].get_absolute_url())
    assert b"used for 2 purposes" in response.content
    assert b'href="/control/#AG-3"' in response.content


def test_the_ssrm_page_shows_catalog_ownership_and_gaps(grc_client, world):
    response = grc_client.get(reverse("inventory:ssrm"))
    content = response.content.decode()
    assert "Shared CSP-MP" in content and "MP-Owned" in content
    assert "no party in role" in content


def test_store_purpose_and_tenant_pages_link_to_their_keys(auditor_client, world):
    cases = [
        ("inventory:keystore-detail", world["store"].pk, f"?store={world['store'].pk}"),
        ("inventory:purpose-detail", world["mine"].purpose_id, "?purpose=inference-log-encryption"),
        ("inventory:tenant-detail", world["tenant"].pk, "?tenant=acme"),
    ]
    for url_name, pk, query in cases:
        content = auditor_client.get(reverse(url_name, args=[pk])).content.decode()
        assert f'href="{reverse("inventory:key-list")}{query}"' in content, url_name
