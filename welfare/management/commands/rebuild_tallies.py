from django.core.management.base import BaseCommand, CommandError

from members import counters
from welfare.loans import tallies as loans
from welfare.reports import tallies, unlisted


class Command(BaseCommand):
    help = (
        "Count the yearly tallies of support paid (what the dashboard and the annual report "
        "read) again from the paid records, every year or the years given, and the money "
        "raised by fund and campaign from the ledgers, and the yearly tallies of lending "
        "(with each loan's overdue date) from the loans, and the membership of each unit by "
        "year. With --check, only compare them and fail when they disagree."
    )

    def add_arguments(self, parser):
        parser.add_argument("years", nargs="*", type=int, help="years to count (default: all)")
        parser.add_argument(
            "--check", action="store_true", help="compare with the records, change nothing"
        )

    def handle(self, *args, **options):
        years = options["years"] or sorted(tallies.years())
        if options["check"]:
            wrong = {year: len(tallies.differences(year)) for year in years}
            for year, count in wrong.items():
                self.stdout.write(f"{year}: {count:,} rows differ from the records")
            raised = len(tallies.raised_differences())
            self.stdout.write(f"money raised: {raised:,} rows differ from the ledgers")
            lending = len(loans.differences()) + len(loans.late_differences())
            self.stdout.write(f"lending: {lending:,} rows differ from the loans")
            membership = len(counters.membership_year_differences())
            membership += len(unlisted.differences())
            self.stdout.write(f"membership: {membership:,} rows differ from the memberships")
            if any(wrong.values()) or raised or lending or membership:
                raise CommandError("The tallies disagree with the records.")
            return
        rows = tallies.rebuild(years)
        raised = tallies.rebuild_raised()
        loans.rebuild_late_since()
        lending = loans.rebuild()
        membership = counters.rebuild_membership_years()
        unlisted.rebuild()
        self.stdout.write(
            f"Counted {rows:,} tally rows for {len(years)} years, {raised:,} of money raised, "
            f"{lending:,} of lending and {membership:,} of membership."
        )
