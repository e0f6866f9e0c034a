"""Bulk demo keys (``seed_demo --keys N``): generated for volume and written in batches (see
:func:`demo_bulk_keys_ensure` for why not ``bulk_create``)."""

from __future__ import annotations

import datetime as dt
import random
import uuid
from collections.abc import Callable
from typing import Any

from django.db import connection, models, transaction
from django.db.models import Value
from django.utils import timezone

from cek.demo import demo_users_ensure
from inventory.demo.data import (
    BULK_LABEL,
    CERT,
    DEFAULT_SEED,
    PRIV,
    PWD,
    SEED_REASON,
    SERVICES,
    SHARED,
    SYM,
    TENANTS,
    TOKEN,
    L,
    external_id,
)
from inventory.models import Key, KeyState, KeyStore, Purpose, Service, StoreKind, Tenant

# --- Bulk keys ----------------------------------------------------------------------------------------

# fmt: off
BULK_TEMPLATES: dict[str, list[tuple]] = {
    # purpose, kind, algorithm, size, platform usage, rotation days, name prefix, service, SSRM layer, weight
    StoreKind.AWS_KMS: [
        ("inference-log-encryption", SYM, "SYMMETRIC_DEFAULT", 256, "ENCRYPT_DECRYPT", 365, "inference-logs", "inference-gateway", L.ORCHESTRATED, 30),
        ("training-data-encryption", SYM, "SYMMETRIC_DEFAULT", 256, "ENCRYPT_DECRYPT", 365, "training-data", "training-data-lake", L.PI, 20),
        ("data-encryption", SYM, "SYMMETRIC_DEFAULT", 256, "ENCRYPT_DECRYPT", 365, "app-data", "customer-api", L.APPLICATION, 25),
        ("key-wrapping", SYM, "SYMMETRIC_DEFAULT", 256, "ENCRYPT_DECRYPT", 365, "kek", "prompt-log-archive", L.ORCHESTRATED, 8),
        ("message-authentication", SYM, "HMAC_256", 256, "GENERATE_VERIFY_MAC", 365, "mac", "web-app", L.APPLICATION, 6),
        ("output-signing", PRIV, "ECC_NIST_P256", 256, "SIGN_VERIFY", None, "output-signing", "inference-gateway", L.ORCHESTRATED, 5),
        ("token-signing", PRIV, "RSA_3072", 3072, "SIGN_VERIFY", None, "token-signing", "web-app", L.APPLICATION, 3),
    ],
    StoreKind.GCP_KMS: [
        ("model-weights-encryption", SYM, "GOOGLE_SYMMETRIC_ENCRYPTION", 256, "ENCRYPT_DECRYPT", 90, "weights", "training-pipeline", L.MODEL, 10),
        ("model-artifact-signing", PRIV, "EC_SIGN_P256_SHA256", 256, "ASYMMETRIC_SIGN", None, "artifact-signing", "model-registry", L.MODEL, 3),
        ("evaluation-data-encryption", SYM, "GOOGLE_SYMMETRIC_ENCRYPTION", 256, "ENCRYPT_DECRYPT", 90, "eval-data", "evaluation-harness", L.ORCHESTRATED, 4),
    ],
    StoreKind.AZURE_KV: [
        ("vector-store-encryption", SYM, "oct-HSM AES-256", 256, "encrypt,decrypt,wrapKey,unwrapKey", 365, "vectors", "vector-store", L.ORCHESTRATED, 10),
        ("digital-signature", PRIV, "EC-HSM P-256", 256, "sign,verify", None, "doc-signing", "billing", L.APPLICATION, 2),
    ],
    StoreKind.VAULT_TRANSIT: [
        ("data-encryption", SYM, "aes256-gcm96", 256, "", 180, "transit-data", "billing", L.APPLICATION, 6),
        ("token-signing", PRIV, "ed25519", 256, "", None, "session-signing", "web-app", L.APPLICATION, 2),
    ],
    StoreKind.VAULT_KV: [
        ("api-authentication", TOKEN, "", None, "", 180, "api-key", "customer-api", L.APPLICATION, 10),
        ("llm-api-authentication", TOKEN, "", None, "", 90, "llm-token", "inference-gateway", L.ORCHESTRATED, 4),
        ("service-credential", PWD, "", None, "", 90, "db-credential", "billing", L.APPLICATION, 5),
        ("webhook-signing", SHARED, "HMAC-SHA256", 256, "", 365, "webhook", "web-app", L.APPLICATION, 3),
    ],
    StoreKind.HSM: [
        ("model-artifact-signing", PRIV, "ECDSA P-384", 384, "CKA_SIGN", None, "release-signing", "ci-signing", L.ORCHESTRATED, 1),
    ],
    StoreKind.K8S_SECRETS: [
        ("tls-server", CERT, "ECDSA P-256", 256, "", 90, "tls", "customer-api", L.APPLICATION, 6),
        ("model-registry-authentication", TOKEN, "", None, "", 90, "registry-pull", "inference-gateway", L.ORCHESTRATED, 3),
    ],
}
STORE_WEIGHTS = {"aws-kms-prod": 30, "aws-kms-ml": 18, "gcp-kms-helix": 12, "azure-kv-customers": 8,
                 "vault-transit": 8, "vault-kv": 12, "hsm-signing": 2, "k8s-inference": 10}
STATE_WEIGHTS = {KeyState.ACTIVE: 86, KeyState.DEACTIVATED: 6, KeyState.PRE_ACTIVATION: 3, KeyState.SUSPENDED: 2,
                 KeyState.DESTROYED: 2, KeyState.COMPROMISED: 1}
# fmt: on
BULK_BATCH = 2000


def bulk_keys() -> models.QuerySet[Key]:
    """The keys made by :func:`demo_bulk_keys_ensure` (they carry the label ``seeded-by=seed_demo``)."""
    return Key.objects.filter(**{f"labels__{BULK_LABEL[0]}": BULK_LABEL[1]})


def demo_bulk_keys_ensure(
    *,
    total: int,
    seed: int = DEFAULT_SEED,
    users: dict | None = None,
    batch_size: int = BULK_BATCH,
    history: bool = True,
) -> tuple[int, int]:
    """Make sure ``total`` bulk keys exist; returns (created now, total bulk keys). Needs the hand-made set.

    Draws the random stream for every index (so the data depends only on the seed and the index) and
    inserts the missing indices in batches, then one history row per new key (unless ``history`` is off),
    all in one transaction.

    Why not ``bulk_create`` / ``bulk_create_with_history``: measured on the 2-CPU development box, Django
    spends about 0.5-1 ms per row compiling a bulk INSERT of this 33-column model (per-value
    ``get_db_prep_save``), and SQLite's 999-parameter limit cuts batches to 30 rows; 100,000 keys took 121 s
    with history, about 90 s without: over the one-minute budget. So the rows are built as tuples from the
    model's own field list (every concrete column, defaults for the ones the generator does not set, values
    adapted by the backend's ``adapt_*_value``) and written in batches of ``batch_size`` with the cursor's
    ``executemany`` on SQLite and ``COPY`` on PostgreSQL (23 s and 28 s for 100,000 keys with history, on a
    loaded box); the history rows are copied inside the database (``INSERT INTO <history> SELECT ... FROM
    inventory_key``), the same "+" rows that simple-history's ``bulk_history_create`` writes. No model
    ``save()``, signal or validator runs: the templates below are fixed, valid data, and the tests check the
    generated rows (field validators incl. the key-material check, kinds fit purposes, unique ids, derived
    cryptoperiod end equal to ``Key.compute_cryptoperiod_end()``).
    """
    existing = bulk_keys().count()
    if existing >= total:
        return 0, existing
    if users is None:
        users = {name: result.user for name, result in demo_users_ensure().items()}
    stores = list(KeyStore.objects.select_related("operating_party").filter(name__in=list(STORE_WEIGHTS)))
    if len(stores) != len(STORE_WEIGHTS):
        raise RuntimeError("The demo key stores are missing; run demo_seed() (manage.py seed_demo) first.")
    stores.sort(key=lambda s: list(STORE_WEIGHTS).index(s.name))
    tenants = [*Tenant.objects.filter(slug__in=[t[0] for t in TENANTS]).order_by("slug"), None, None]
    services = dict(Service.objects.filter(slug__in=[s[0] for s in SERVICES]).values_list("slug", "environment"))
    purposes = {p.slug: p for p in Purpose.objects.all()}
    owners = [users["olivia"], users["omar"]]
    approver_id = users["grace"].pk
    store_cum = _cumulative([STORE_WEIGHTS[s.name] for s in stores])
    templates = {s.pk: BULK_TEMPLATES[s.kind] for s in stores}
    template_cum = {pk: _cumulative([t[-1] for t in items]) for pk, items in templates.items()}
    states, state_cum = list(STATE_WEIGHTS), _cumulative(list(STATE_WEIGHTS.values()))
    rng, today, now = random.Random(seed), timezone.localdate(), timezone.now()
    writer = _RowWriter()
    created = 0
    with transaction.atomic():
        first_new_id = (Key.objects.aggregate(top=models.Max("pk"))["top"] or 0) + 1
        for index in range(total):
            store = rng.choices(stores, cum_weights=store_cum)[0]
            purpose_slug, kind, algorithm, size, usage, rotation, prefix, service, layer, _ = rng.choices(
                templates[store.pk], cum_weights=template_cum[store.pk]
            )[0]
            tenant = rng.choice(tenants)
            owner_index = rng.randrange(2)
            state = rng.choices(states, cum_weights=state_cum)[0]
            age = rng.randint(1, 1400)
            noise = rng.random()  # a few percent unowned, overdue or with a stale review, as in real inventories
            review_age = rng.randint(400, 700) if noise < 0.03 else rng.randint(0, 330)
            rotated_age = rng.randint(0, rotation) if rotation else 0
            aws_key_bits = rng.getrandbits(128)
            entered, touched = rng.random(), rng.random()  # when the record was entered and last edited
            if index < existing:
                continue
            purpose = purposes[purpose_slug]
            max_days = purpose.max_cryptoperiod_days
            if not rotation and max_days and noise >= 0.07:
                age = 1 + age % max(max_days - 30, 1)  # keys never rotated are replaced in time (mostly)
            name = f"{prefix}-{tenant.slug if tenant else 'shared'}-{index:06d}"
            owner = None if 0.03 <= noise < 0.04 else owners[owner_index]
            created_on = today - dt.timedelta(days=age)
            activated_on = None if state == KeyState.PRE_ACTIVATION else created_on
            last_rotated_on = None
            if rotation and activated_on and age > rotation:
                overdue = 0.04 <= noise < 0.07
                days_ago = rotation + 30 + rotated_age if overdue else rotated_age
                last_rotated_on = today - dt.timedelta(days=min(age, days_ago))
            # Key.compute_cryptoperiod_end() for a key without a cryptoperiod override:
            period_start = last_rotated_on or activated_on or created_on
            labels = {store.purpose_tag_key: purpose_slug, "service": service, "env": services[service]}
            if owner:
                labels["owner"] = owner.username
            labels[BULK_LABEL[0]] = BULK_LABEL[1]
            created_at = now - dt.timedelta(days=entered * min(age, 400))
            updated_at = created_at + (now - created_at) * touched
            writer.add(
                name=name, kind=kind, algorithm=algorithm, size_bits=size, store_id=store.pk,
                external_id=external_id(store, name, uuid.UUID(int=aws_key_bits, version=4)),
                platform_usage=usage, tenant_id=tenant.pk if tenant else None, owner_id=owner.pk if owner else None,
                backup_owner_id=owners[1 - owner_index].pk if owner else None, custodian_id=store.operating_party_id,
                ssrm_layer=layer, state=state, created_on=created_on, activated_on=activated_on,
                last_rotated_on=last_rotated_on, rotation_period_days=rotation,
                cryptoperiod_ends_on=period_start + dt.timedelta(days=max_days) if max_days else None,
                labels=labels, purpose_id=purpose.pk, purpose_justification=f"{purpose.name} for {service}.",
                purpose_approver_id=approver_id, purpose_reviewed_on=today - dt.timedelta(days=review_age),
                created_at=created_at, updated_at=updated_at,
            )  # fmt: skip
            if len(writer.rows) >= batch_size:
                created += writer.flush()
        created += writer.flush()
        if history and created:
            _history_copy(first_new_id=first_new_id, when=now)
    return created, existing + created


def _cumulative(weights: list[int]) -> list[int]:
    total, out = 0, []
    for weight in weights:
        total += weight
        out.append(total)
    return out


class _RowWriter:
    """Buffers key rows as tuples in the order of ``Key``'s concrete columns and writes them with executemany."""

    def __init__(self) -> None:
        ops = connection.ops
        fields = [f for f in Key._meta.concrete_fields if not f.primary_key]
        adapters: dict[str, Callable[[Any], Any]] = {
            "DateField": ops.adapt_datefield_value,
            "DateTimeField": ops.adapt_datetimefield_value,
            "JSONField": lambda value: ops.adapt_json_value(value, None),
        }
        # (attname, the backend's adapter or None) per column, and defaults for the columns not given.
        self.columns = [(f.attname, adapters.get(f.get_internal_type())) for f in fields]
        self.defaults = {f.attname: f.get_default() for f in fields}
        self.rows: list[tuple] = []
        quote = ops.quote_name
        table, columns = quote(Key._meta.db_table), ", ".join(quote(f.column) for f in fields)
        # Identifiers come from the model's metadata (quoted); every value is a query parameter.
        self.insert_sql = f"INSERT INTO {table} ({columns}) VALUES ({', '.join(['%s'] * len(fields))})"  # noqa: S608
        self.copy_sql = f"COPY {table} ({columns}) FROM STDIN"

    def add(self, **values: Any) -> None:
        row = self.defaults | values
        self.rows.append(tuple([row[name] if adapt is None else adapt(row[name]) for name, adapt in self.columns]))

    def flush(self) -> int:
        """Write the buffered rows: PostgreSQL's COPY (one stream, no per-row statement), else executemany
        (SQLite runs it in-process)."""
        count = len(self.rows)
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                with cursor.copy(self.copy_sql) as copy:
                    for row in self.rows:
                        copy.write_row(row)
            else:
                cursor.executemany(self.insert_sql, self.rows)
        self.rows.clear()
        return count


def _history_copy(*, first_new_id: int, when: dt.datetime) -> None:
    """One "+" history row per bulk key from ``first_new_id`` on, copied inside the database."""
    history_model = Key.history.model
    fields = [f for f in Key._meta.concrete_fields]
    source = (
        bulk_keys()
        .filter(pk__gte=first_new_id)
        .order_by()
        .annotate(
            _when=Value(when, output_field=models.DateTimeField()),
            _reason=Value(SEED_REASON, output_field=models.CharField()),
            _type=Value("+", output_field=models.CharField()),
        )
        .values_list(*[f.attname for f in fields], "_when", "_reason", "_type")
    )
    select_sql, params = source.query.sql_with_params()
    target = [history_model._meta.get_field(f.name).column for f in fields]
    target += [
        history_model._meta.get_field(name).column for name in ("history_date", "history_change_reason", "history_type")
    ]
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quote(history_model._meta.db_table)} ({', '.join(map(quote, target))}) {select_sql}", params
        )
