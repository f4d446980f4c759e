"""Each fund keeps its ledger's totals (money in, money out, number of entries) beside its
balance; they are computed here for the funds that exist.  Also indexes for the approved cases
waiting for payment from a fund and for a fund's entries of one kind."""

from django.db import migrations, models
from django.db.models import Count, F, Q, Sum


def compute_totals(apps, schema_editor):
    Fund = apps.get_model("welfare", "Fund")
    LedgerEntry = apps.get_model("welfare", "LedgerEntry")
    totals = (
        LedgerEntry.objects.values("fund_id")
        .annotate(
            money_in=Sum("amount", filter=Q(amount__gt=0)),
            money_out=Sum("amount", filter=Q(amount__lt=0)),
            entry_count=Count("pk"),
        )
        .order_by()
    )
    funds = []
    for row in totals.iterator(chunk_size=2000):
        funds.append(
            Fund(
                pk=row["fund_id"],
                money_in=row["money_in"] or 0,
                money_out=row["money_out"] or 0,
                entry_count=row["entry_count"],
            )
        )
    Fund.objects.bulk_update(funds, ["money_in", "money_out", "entry_count"], batch_size=500)


class Migration(migrations.Migration):
    dependencies = [
        ("welfare", "0003_case_list_order"),
    ]

    operations = [
        migrations.AddField(
            model_name="fund",
            name="money_in",
            field=models.BigIntegerField(
                db_default=0, default=0, editable=False, verbose_name="money in"
            ),
        ),
        migrations.AddField(
            model_name="fund",
            name="money_out",
            field=models.BigIntegerField(
                db_default=0, default=0, editable=False, verbose_name="money out"
            ),
        ),
        migrations.AddField(
            model_name="fund",
            name="entry_count",
            field=models.PositiveIntegerField(
                db_default=0, default=0, editable=False, verbose_name="entries"
            ),
        ),
        migrations.RunPython(compute_totals, migrations.RunPython.noop, elidable=True),
        migrations.AddConstraint(
            model_name="fund",
            constraint=models.CheckConstraint(
                condition=Q(balance=F("money_in") + F("money_out")),
                name="fund_totals_make_the_balance",
            ),
        ),
        migrations.AddIndex(
            model_name="case",
            index=models.Index(fields=["status", "fund", "submitted_at"], name="case_payable"),
        ),
        migrations.AddIndex(
            model_name="ledgerentry",
            index=models.Index(
                fields=["fund", "kind", "id"], include=["amount"], name="ledger_fund_kind"
            ),
        ),
    ]
