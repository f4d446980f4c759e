from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from common.backups import BackupError, backup


class Command(BaseCommand):
    help = (
        "Back up the PostgreSQL database (pg_dump -Fc) and MEDIA_ROOT (a tar) into a new "
        "folder, with a manifest of every table's row count and every file's SHA-256."
    )

    def add_arguments(self, parser):
        parser.add_argument("directory", type=Path, help="a new or empty folder")

    def handle(self, *args, directory: Path, **options):
        try:
            manifest = backup(directory)
        except BackupError as error:
            raise CommandError(str(error)) from error
        rows = sum(manifest["tables"].values())
        self.stdout.write(
            f"Backed up {manifest['database']}: {len(manifest['tables'])} tables, {rows} rows, "
            f"{len(manifest['media'])} media files, into {directory}."
        )
