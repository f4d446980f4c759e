"""``manage.py seed_demo``: the Lạng Sơn demo province with its 2025 reorganisation, about 2,000
members and the demo accounts (password ``tuongthan-demo``), then its funds and cases since
2021 with their shelters, the loan fund's loans and the province's campaigns.  Safe to run
again: what is there already is left as it is."""

from django.core.management.base import BaseCommand, CommandError

from seed.demo_campaigns import build_campaigns_demo
from seed.demo_loans import build_loans_demo
from seed.demo_members import build_demo
from seed.demo_privacy import build_privacy_demo
from seed.demo_second_factor import ensure_demo_second_factor
from seed.demo_shelters import build_shelters_demo
from seed.demo_welfare import build_welfare_demo
from welfare.reports import tallies


class Command(BaseCommand):
    help = (
        "Create the Lạng Sơn demo province (units, reorganisation of 1 July 2025, members), the "
        "demo accounts, and its funds and support cases since 2021. If the province LS exists, "
        "only make sure the demo accounts work; if it has funds, add no money or cases."
    )

    def handle(self, *args, **options):
        stdout = self.stdout if options["verbosity"] > 0 else None
        try:
            build_demo(stdout)
        except LookupError as error:
            raise CommandError(str(error)) from error
        build_welfare_demo(stdout)
        build_shelters_demo(stdout)
        build_loans_demo(stdout)
        build_campaigns_demo(stdout)
        build_privacy_demo(stdout)
        # The past years' records are written in bulk: count the tallies from the records.
        tallies.rebuild()
        tallies.rebuild_raised()
        ensure_demo_second_factor(stdout)
