"""``manage.py seed_scale --members N --units U --years Y [--seed S]``: fill an empty database with
a province or city at scale (see ``seed/scale.py``), for the benchmark in ``bench/``."""

from django.core.management.base import BaseCommand, CommandError

from seed.scale import Size, build_scale


class Command(BaseCommand):
    help = (
        "Fill an EMPTY database with a realistic province or city: the union tree with the "
        "reorganisation of 1 July 2025, N members and workers, funds whose ledgers balance and "
        "about N/2 support records a year for Y years. Refuses a database that has units."
    )

    def add_arguments(self, parser):
        parser.add_argument("--members", type=int, default=100_000, help="default 100,000")
        parser.add_argument(
            "--units",
            type=int,
            default=1_500,
            help="grassroots unions (default 1,500); districts, sectors, communes and "
            "industrial-zone unions are added on top",
        )
        parser.add_argument("--years", type=int, default=5, help="years of support, ending now")
        parser.add_argument("--seed", type=int, default=2026, help="random seed (default 2026)")

    def handle(self, *args, **options):
        try:
            size = Size(
                members=options["members"],
                units=options["units"],
                years=options["years"],
                seed=options["seed"],
            )
            build_scale(size, self.stdout if options["verbosity"] > 0 else None)
        except ValueError as error:
            raise CommandError(str(error)) from error
