"""Members sort in Vietnamese order ("Đ" after "D"): a sort key beside the search name.

The key is filled for the members already there and, like the search name (migration 0006),
compared byte by byte on PostgreSQL: the characters that spell a letter's own mark sort above
"z" only in that order.
"""

from django.db import migrations, models

from common.text import sort_key

BATCH = 5000


def fill(apps, schema_editor):
    Member = apps.get_model("members", "Member")
    batch = []
    for member in Member.objects.only("pk", "full_name").iterator(chunk_size=BATCH):
        member.sort_name = sort_key(member.full_name)
        batch.append(member)
        if len(batch) == BATCH:
            Member.objects.bulk_update(batch, ["sort_name"])
            batch = []
    Member.objects.bulk_update(batch, ["sort_name"])


def bytewise(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            'ALTER TABLE members_member ALTER COLUMN sort_name TYPE varchar(160) COLLATE "C"'
        )


class Migration(migrations.Migration):
    dependencies = [("members", "0009_close_ended_memberships")]

    operations = [
        migrations.AddField(
            model_name="member",
            name="sort_name",
            field=models.CharField(default="", editable=False, max_length=160),
        ),
        migrations.RunPython(bytewise, migrations.RunPython.noop, elidable=False),
        migrations.RunPython(fill, migrations.RunPython.noop, elidable=False),
        migrations.AddIndex(
            model_name="member",
            index=models.Index(fields=["sort_name", "id"], name="member_sort_order"),
        ),
    ]
