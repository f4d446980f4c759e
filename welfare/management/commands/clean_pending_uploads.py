from django.conf import settings
from django.core.management.base import BaseCommand

from welfare.cases.evidence import clean_pending_uploads


class Command(BaseCommand):
    help = (
        "Delete the evidence files kept from case forms shown again with errors (pending "
        "uploads, rows and files) older than PENDING_UPLOAD_HOURS; Celery beat runs it daily."
    )

    def handle(self, *args, **options):
        deleted = clean_pending_uploads()
        self.stdout.write(
            f"Deleted {deleted} pending uploads older than {settings.PENDING_UPLOAD_HOURS} hours."
        )
