"""``manage.py demo_totp``: the code the demo authenticator shows now, for the demo logins."""

from django.core.management.base import BaseCommand

from seed.demo_second_factor import DEMO_TOTP_SECRET, current_demo_code


class Command(BaseCommand):
    help = (
        "Print the current six-digit code of the demo TOTP secret "
        f"({DEMO_TOTP_SECRET}), which every demo login that needs a second factor uses. "
        "A code is accepted once per login; the next one comes within 30 seconds."
    )

    def handle(self, *args, **options):
        self.stdout.write(current_demo_code())
