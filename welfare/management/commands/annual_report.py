"""Build a union's annual social-security report from the command line (scheduled runs)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from unions.models import Unit
from welfare.models import Report
from welfare.reports.build import check_year
from welfare.reports.figures import annual_figures
from welfare.reports.narrative import narrative


class Command(BaseCommand):
    help = "Write the annual social-security report of a union to a PDF (and a spreadsheet)."

    def add_arguments(self, parser):
        parser.add_argument("--union", required=True, help="the union's code, e.g. LS")
        parser.add_argument("--year", required=True, type=int)
        parser.add_argument("--out", required=True, type=Path, help="the PDF file to write")
        parser.add_argument("--xlsx", type=Path, help="also write the tables as a workbook")

    def handle(self, *args, union, year, out, xlsx, **options):
        from welfare.reports.pdf import render_pdf
        from welfare.reports.xlsx import render_xlsx

        try:
            unit = Unit.objects.get(code=union)
        except Unit.DoesNotExist as missing:
            raise CommandError(f"No union with code {union!r}.") from missing
        try:
            check_year(year)
        except Exception as error:
            raise CommandError(f"Year {year} is out of range.") from error
        started = timezone.now()
        figures = annual_figures(unit, year)
        # An operator's run covers the whole subtree; it is not stored as a portal report.
        report = Report(union=unit, year=year, created_at=started)
        out.write_bytes(render_pdf(figures, narrative=narrative(figures), report=report))
        self.stdout.write(f"{out}: {out.stat().st_size:,} bytes")
        if xlsx:
            xlsx.write_bytes(render_xlsx(figures))
            self.stdout.write(f"{xlsx}: {xlsx.stat().st_size:,} bytes")
        seconds = (timezone.now() - started).total_seconds()
        self.stdout.write(
            self.style.SUCCESS(
                f"{unit.name} {year}: {figures.totals.cases} cases in {seconds:.1f} s"
            )
        )
