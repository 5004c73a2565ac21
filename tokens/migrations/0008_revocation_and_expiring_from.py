"""Revoked tokens stay listed (``revoked_at``, ``revoked_how``); "Expiring soon" starts at a stored moment, the last
quarter of a token's life (``expiring_from``), filled in here for the tokens that exist."""

from datetime import timedelta

from django.db import migrations, models

# As tokens.models had them when this was written: a migration keeps its own copy of what it computes.
EXPIRING_SOON = timedelta(days=7)
BATCH = 1000


def fill_expiring_from(apps, schema_editor):  # type: ignore[no-untyped-def]
    Token = apps.get_model("tokens", "PersonalAccessToken")
    tokens = Token.objects.using(schema_editor.connection.alias)
    after = None
    while True:
        # Keyset batches: no cursor stays open over the rows being updated.
        page = tokens.order_by("pk").only("expiration_model", "expires_at", "absolute_end", "created_at")
        batch = list((page.filter(pk__gt=after) if after is not None else page)[:BATCH])
        if not batch:
            return
        after = batch[-1].pk
        for token in batch:
            end = token.absolute_end if token.expiration_model == "auto" else token.expires_at
            if end is not None:
                token.expiring_from = end - min(EXPIRING_SOON, max(end - token.created_at, timedelta(0)) / 4)
        tokens.bulk_update(batch, ["expiring_from"])


class Migration(migrations.Migration):
    dependencies = [
        ("tokens", "0007_address_lockout"),
    ]

    operations = [
        migrations.AddField(
            model_name="personalaccesstoken",
            name="expiring_from",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="personalaccesstoken",
            name="revoked_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="personalaccesstoken",
            name="revoked_how",
            field=models.CharField(
                blank=True,
                choices=[("deleted", "deleted"), ("rotated", "rotated"), ("leaked", "reported leaked")],
                max_length=8,
            ),
        ),
        migrations.RunPython(fill_expiring_from, migrations.RunPython.noop, elidable=True),
    ]
