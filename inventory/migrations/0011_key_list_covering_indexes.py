"""The key list's two busiest indexes, on PostgreSQL covering what its pages filter on besides the ordering.

A page of the key list finds its keys' ids in the ordering's index first (``inventory.selectors.PagedRows``: a
deferred join), then reads those 50 rows. That first step stays in the index only when the index holds every
column the filters test: a key owner sees the keys they own or back up (``owner_id``, ``backup_owner_id``) and the
overdue filter compares the cryptoperiod's end (``cryptoperiod_ends_on``). Without them PostgreSQL reads each key
from the table, or sorts them all: page 700 of a key owner's 99,000 keys took 418 ms (a sort spilled to disk),
18-28 ms with ``(name, id) INCLUDE (owner_id, backup_owner_id)``.

Other databases get the same indexes without the included columns (they have no covering indexes). The indexes
are not part of the model's state (``Meta.indexes``): Django cannot describe INCLUDE for one vendor only.
"""

from __future__ import annotations

from django.db import migrations

INDEXES = {
    "inventory_key_name_cover": ("name, id", "owner_id, backup_owner_id"),
    "inventory_key_state_name_cover": ("state, name, id", "cryptoperiod_ends_on, owner_id, backup_owner_id"),
}


def create(apps, schema_editor):
    postgres = schema_editor.connection.vendor == "postgresql"
    for name, (columns, included) in INDEXES.items():
        include = f" INCLUDE ({included})" if postgres else ""
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON inventory_key ({columns}){include}")


def drop(apps, schema_editor):
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("inventory", "0010_keyimport_job_fields")]
    operations = [
        migrations.RemoveIndex(model_name="key", name="inventory_k_name_b2402b_idx"),
        migrations.RemoveIndex(model_name="key", name="inventory_k_state_37ea43_idx"),
        migrations.RunPython(create, drop),
    ]
