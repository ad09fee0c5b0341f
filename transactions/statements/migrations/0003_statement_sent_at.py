"""When a statement's task was handed to the broker (the watchdog sends again those whose task never left),
and the partial indexes of the watchdog's and the retention job's look-ups."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("statements", "0002_receipt")]

    operations = [
        migrations.AddField(
            model_name="statement",
            name="sent_at",
            field=models.DateTimeField(
                blank=True,
                help_text="When its task was last handed to the broker; empty until then (the watchdog sends "
                "again a queued statement whose task never left, or left long ago).",
                null=True,
            ),
        ),
        migrations.AddIndex(
            model_name="statement",
            index=models.Index(
                condition=models.Q(("status", "queued")),
                fields=["sent_at", "id"],
                name="statement_queued_sent",
            ),
        ),
        migrations.AddIndex(
            model_name="statement",
            index=models.Index(
                condition=models.Q(("files_removed_at__isnull", True), ("status", "ready")),
                fields=["finished_at", "id"],
                name="statement_files_kept",
            ),
        ),
    ]
