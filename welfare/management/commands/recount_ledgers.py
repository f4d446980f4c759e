from django.core.management.base import BaseCommand

from welfare.funds.ledger import rebuild_ledger_months


class Command(BaseCommand):
    help = (
        "Recount every fund's ledger month by month and kind by kind from its entries (the "
        "totals a fund page sums a period or a kind of entry from)."
    )

    def handle(self, *args, **options):
        rows = rebuild_ledger_months()
        self.stdout.write(f"Recounted {rows:,} months of ledger entries.")
