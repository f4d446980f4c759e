"""Finer planner statistics on the unit of a case (PostgreSQL).

A case list filtered by a unit asks for the cases of the unit's few units, newest first. With
the default statistics PostgreSQL knew the 100 busiest of a city's 6,700 units and spread the
rest evenly, overestimated a commune's cases, and walked the newest-first index through 66,000
other cases to find its page (31 ms); knowing the 2,000 busiest, it reads the commune's 893
cases from the unit index and sorts them (6 ms). ANALYZE runs once here; autovacuum keeps the
statistics from then on.
"""

from django.db import migrations


def _statistics(target: int):
    def apply(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        schema_editor.execute(
            f"ALTER TABLE welfare_case ALTER COLUMN unit_id SET STATISTICS {target}"
        )
        schema_editor.execute("ANALYZE welfare_case")

    return apply


class Migration(migrations.Migration):
    dependencies = [("welfare", "0007_fund_search_name")]

    operations = [migrations.RunPython(_statistics(2000), _statistics(-1), elidable=False)]
