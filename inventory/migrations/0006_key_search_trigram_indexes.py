"""PostgreSQL only: trigram indexes for the key list's free-text search (``?q=``).

Django's ``icontains`` compiles to ``UPPER(col::text) LIKE UPPER('%term%')``, which no B-tree index can
serve; GIN trigram indexes on the same expressions can. Creating the ``pg_trgm`` extension needs a
privileged role: where it is refused, the migration leaves a notice and search falls back to a scan.
Other databases are left alone.
"""

from __future__ import annotations

from django.db import migrations, transaction

COLUMNS = ("name", "external_id", "description")


def create(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    try:
        with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
            cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except Exception as exc:  # noqa: BLE001 - a missing privilege must not stop the deployment
        print(f"\n  pg_trgm is not available ({exc.__class__.__name__}); key search will scan the table.")
        return
    with connection.cursor() as cursor:
        for column in COLUMNS:
            cursor.execute(
                f"CREATE INDEX IF NOT EXISTS inventory_key_{column}_trgm "
                f"ON inventory_key USING gin ((UPPER({column}::text)) gin_trgm_ops)"
            )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        for column in COLUMNS:
            cursor.execute(f"DROP INDEX IF EXISTS inventory_key_{column}_trgm")


class Migration(migrations.Migration):
    dependencies = [("inventory", "0005_key_list_indexes")]
    operations = [migrations.RunPython(create, drop)]
