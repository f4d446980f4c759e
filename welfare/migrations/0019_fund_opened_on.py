from django.db import migrations, models
from django.db.models import Min, OuterRef, Subquery


def from_opening_entries(apps, schema_editor):
    """A fund opened before the date was kept starts on its first opening entry, if any."""
    Fund = apps.get_model("welfare", "Fund")
    LedgerEntry = apps.get_model("welfare", "LedgerEntry")
    first = (
        LedgerEntry.objects.filter(fund_id=OuterRef("pk"), kind="opening")
        .values("fund_id")
        .annotate(first=Min("occurred_on"))
        .values("first")
    )
    Fund.objects.filter(opened_on__isnull=True).update(opened_on=Subquery(first))


class Migration(migrations.Migration):
    dependencies = [
        ("welfare", "0018_signature_list_dispatched_at"),
    ]

    operations = [
        migrations.AddField(
            model_name="fund",
            name="opened_on",
            field=models.DateField(blank=True, null=True, verbose_name="opened on"),
        ),
        migrations.RunPython(from_opening_entries, migrations.RunPython.noop, elidable=True),
    ]
