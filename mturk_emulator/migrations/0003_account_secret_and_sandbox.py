"""Requester accounts are created explicitly, with the secret their signatures are checked against.

The HIT's external URL stays a plain CharField (0002): which URLs are accepted (https, or plain http on
localhost when MTURK_EMULATOR_ALLOW_PLAIN_HTTP_LOCALHOST is on) is decided when the Question is parsed.
"""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("mturk_emulator", "0002_fault_kinds_and_plain_external_url"),
    ]

    operations = [
        migrations.AddField(
            model_name="account",
            name="secret_access_key",
            field=models.CharField(blank=True, default="", max_length=128),
        ),
        migrations.AddField(
            model_name="account",
            name="sandbox",
            field=models.BooleanField(default=True),
        ),
    ]
