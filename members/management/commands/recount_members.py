from django.core.management.base import BaseCommand

from members.counters import rebuild_member_counts


class Command(BaseCommand):
    help = (
        "Recount the active members, workers and women of every unit from the members table "
        "(the counters the home page and the unit pages add up)."
    )

    def handle(self, *args, **options):
        units = rebuild_member_counts()
        self.stdout.write(f"Recounted the members of {units:,} units.")
