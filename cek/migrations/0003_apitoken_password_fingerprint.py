from __future__ import annotations

import hashlib

from django.db import migrations, models


def stamp_existing_tokens(apps, schema_editor) -> None:
    """Tokens issued before this migration carry their user's current password fingerprint: they keep working
    until the next password change (the same rule as cek.models.password_fingerprint, frozen here)."""
    api_token = apps.get_model("cek", "ApiToken")
    for token in api_token.objects.select_related("user").iterator(chunk_size=500):
        token.password_fingerprint = hashlib.sha256(f"cek.apitoken:{token.user.password}".encode()).hexdigest()
        token.save(update_fields=["password_fingerprint"])


class Migration(migrations.Migration):
    dependencies = [("cek", "0002_role_groups")]

    operations = [
        migrations.AddField(
            model_name="apitoken",
            name="password_fingerprint",
            field=models.CharField(
                default="",
                help_text="Fingerprint of the user's password when the token was issued (see password_fingerprint).",
                max_length=64,
            ),
            preserve_default=False,
        ),
        migrations.RunPython(stamp_existing_tokens, migrations.RunPython.noop),
    ]
