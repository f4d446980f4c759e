"""Compare the normalised search name byte by byte on PostgreSQL.

A name search lists the names starting with the words typed first, read in order from the
name index (members.forms.MemberFilter). PostgreSQL turns ``LIKE 'nguyen van%'`` into a range
of that index only when the column compares bytewise (collation "C"); a database created with
a language collation (vi_VN, en_US) would sort the whole match instead. The column holds
lower-case text without marks, so "C" sorts it A-Z as any collation would. SQLite compares
bytewise already (BINARY) and is left alone.
"""

from django.db import migrations


def _alter(collation: str):
    def alter(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        schema_editor.execute(
            "ALTER TABLE members_member ALTER COLUMN search_name "
            f"TYPE varchar(128) COLLATE {collation}"
        )

    return alter


class Migration(migrations.Migration):
    dependencies = [("members", "0005_unitmembercount")]

    operations = [
        migrations.RunPython(_alter('"C"'), _alter('"default"'), elidable=False),
    ]
