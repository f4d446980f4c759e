from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from common.backups import BackupError, restore


class Command(BaseCommand):
    help = (
        "Restore a folder written by `backup` into the configured, empty PostgreSQL database "
        "and an empty MEDIA_ROOT, then check every table's count and every file against its "
        "manifest."
    )

    def add_arguments(self, parser):
        parser.add_argument("directory", type=Path, help="a folder written by backup")

    def handle(self, *args, directory: Path, **options):
        try:
            checked = restore(directory)
        except BackupError as error:
            raise CommandError(str(error)) from error
        if checked.problems:
            for problem in checked.problems:
                self.stderr.write(problem)
            raise CommandError(
                f"Restored, but {len(checked.problems)} differences from the backup (above)."
            )
        self.stdout.write(
            f"Restored and checked: {checked.tables} tables and {checked.rows} rows as counted "
            f"by the backup, {checked.files} media files with their SHA-256, and every file a "
            "row names is there."
        )
