"""Owners copied onto HITs, assignments and the ledger (indexed), and who worked for whom, so
change lists are scoped by an indexed column instead of a join."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def backfill(apps, schema_editor):
    HIT = apps.get_model("hits", "HIT")
    Assignment = apps.get_model("hits", "Assignment")
    Payment = apps.get_model("hits", "Payment")
    Outsourcer = apps.get_model("hits", "Outsourcer")
    PlatformAccount = apps.get_model("platforms", "PlatformAccount")
    WorkerOwner = apps.get_model("hits", "WorkerOwner")
    HIT.objects.update(
        owner=Subquery(Outsourcer.objects.filter(pk=OuterRef("outsourcer")).values("owner")[:1])
    )
    Assignment.objects.update(owner=Subquery(HIT.objects.filter(pk=OuterRef("hit")).values("owner")[:1]))
    Payment.objects.update(
        owner=Subquery(PlatformAccount.objects.filter(pk=OuterRef("account")).values("owner")[:1])
    )
    pairs = Assignment.objects.values_list("owner", "worker").distinct().order_by()
    batch = []
    for owner_id, worker_id in pairs.iterator():
        batch.append(WorkerOwner(owner_id=owner_id, worker_id=worker_id))
        if len(batch) >= 5000:
            WorkerOwner.objects.bulk_create(batch, ignore_conflicts=True)
            batch = []
    WorkerOwner.objects.bulk_create(batch, ignore_conflicts=True)
    if schema_editor.connection.vendor == "postgresql":  # no pending trigger events before ALTER TABLE
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def owner(null: bool) -> models.ForeignKey:
    return models.ForeignKey(
        editable=False,
        null=null,
        on_delete=django.db.models.deletion.PROTECT,
        related_name="+",
        to=settings.AUTH_USER_MODEL,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("hits", "0006_review_news"),
        ("platforms", "0001_initial"),
        ("workers", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(model_name="hit", name="owner", field=owner(null=True)),
        migrations.AddField(model_name="assignment", name="owner", field=owner(null=True)),
        migrations.AddField(model_name="payment", name="owner", field=owner(null=True)),
        migrations.CreateModel(
            name="WorkerOwner",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "owner",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "worker",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="owners",
                        to="workers.worker",
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(fields=("owner", "worker"), name="hits_workerowner_unique")
                ],
            },
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
        migrations.AlterField(model_name="hit", name="owner", field=owner(null=False)),
        migrations.AlterField(model_name="assignment", name="owner", field=owner(null=False)),
        migrations.AlterField(model_name="payment", name="owner", field=owner(null=False)),
    ]
