"""``manage.py seed_demo``: a demo province modelled on Lạng Sơn, with its 2025 reorganisation,
about 2,000 members and six demo accounts (password ``tuongthan-demo``).  Safe to run again."""

from django.core.management.base import BaseCommand, CommandError

from members.demo import build_demo


class Command(BaseCommand):
    help = (
        "Create the Lạng Sơn demo province (units, reorganisation of 1 July 2025, members) and "
        "the demo accounts. If the province LS exists, only make sure the demo accounts work."
    )

    def handle(self, *args, **options):
        try:
            build_demo(self.stdout if options["verbosity"] > 0 else None)
        except LookupError as error:
            raise CommandError(str(error)) from error
