"""A backup is the PostgreSQL database and the media folder (evidence, signed lists, reports),
taken together and checked together.

``backup`` writes into a new folder: ``database.dump`` (``pg_dump -Fc``), ``media.tar`` and
``manifest.json`` (when, the row count of every table, every media file with its size and
SHA-256).  The dump and the counts read the same snapshot (``pg_export_snapshot``), so the
counts are exactly what the dump holds even while the portal is in use.  ``restore`` puts
both back into an empty database and an empty media folder and then checks everything the
manifest lists, and that every file a row names (evidence, scans, reports) is on disk.

Only PostgreSQL: the SQLite database of the demo is one file (``var/db.sqlite3``) that a plain
copy backs up.
"""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import json
import os
import subprocess
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.files.storage import default_storage
from django.db import connection, models

DUMP = "database.dump"
MEDIA = "media.tar"
MANIFEST = "manifest.json"


class BackupError(Exception):
    """What stops a backup or a restore, said so that an operator knows what to do."""


@dataclass
class Checked:
    """What a restore found, against the manifest."""

    tables: int = 0
    rows: int = 0
    files: int = 0
    problems: list[str] = field(default_factory=list)


def require_postgresql(db: Any = connection) -> None:
    if db.vendor != "postgresql":
        raise BackupError(
            "Backup and restore are for PostgreSQL (DATABASE_URL=postgres://...). The demo's "
            "SQLite database is the single file var/db.sqlite3: stop the portal and copy it, "
            "with var/media beside it."
        )


def _client_env() -> dict[str, str]:
    """libpq's settings for pg_dump and pg_restore: the password in the environment, never on
    a command line that ``ps`` shows."""
    database = connection.settings_dict
    env = dict(os.environ)
    for variable, key in (
        ("PGHOST", "HOST"),
        ("PGPORT", "PORT"),
        ("PGUSER", "USER"),
        ("PGPASSWORD", "PASSWORD"),
        ("PGDATABASE", "NAME"),
    ):
        if database.get(key):
            env[variable] = str(database[key])
    return env


def _run(command: list[str]) -> None:
    result = subprocess.run(command, env=_client_env(), capture_output=True, text=True)
    if result.returncode != 0:
        raise BackupError(f"{command[0]} failed: {result.stderr.strip()}")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _table_counts() -> dict[str, int]:
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        tables = sorted(connection.introspection.table_names(cursor))
        counts = {}
        for table in tables:
            cursor.execute(f"SELECT count(*) FROM {quote(table)}")
            counts[table] = cursor.fetchone()[0]
    return counts


def _media_files(root: Path) -> Iterator[Path]:
    if root.is_dir():
        yield from sorted(path for path in root.rglob("*") if path.is_file())


def backup(directory: Path) -> dict[str, Any]:
    """Write the database and the media folder into ``directory`` (new or empty); the
    manifest."""
    require_postgresql()
    directory = Path(directory)
    if directory.exists() and any(directory.iterdir()):
        raise BackupError(f"{directory} is not empty: give a new folder for each backup.")
    directory.mkdir(parents=True, exist_ok=True)
    if connection.in_atomic_block:
        # The snapshot needs a transaction of its own; ending it would end the caller's.
        raise BackupError("A backup runs outside any transaction.")
    media_root = Path(settings.MEDIA_ROOT)
    # One snapshot for the dump and the counts: pg_dump reads what this transaction sees.
    with connection.cursor() as cursor:
        cursor.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        try:
            cursor.execute("SELECT pg_export_snapshot(), current_setting('server_version')")
            snapshot, server_version = cursor.fetchone()
            _run(["pg_dump", "-Fc", "--snapshot", snapshot, "-f", str(directory / DUMP)])
            tables = _table_counts()
        finally:
            cursor.execute("ROLLBACK")
    media = []
    with tarfile.open(directory / MEDIA, "w") as archive:
        for path in _media_files(media_root):
            name = path.relative_to(media_root).as_posix()
            archive.add(path, arcname=name, recursive=False)
            media.append({"path": name, "size": path.stat().st_size, "sha256": _sha256(path)})
    manifest = {
        "created_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "database": connection.settings_dict["NAME"],
        "server_version": server_version,
        "dump": {"file": DUMP, "sha256": _sha256(directory / DUMP)},
        "tables": tables,
        "media": media,
    }
    (directory / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False))
    return manifest


def _read_manifest(directory: Path) -> dict[str, Any]:
    try:
        manifest: dict[str, Any] = json.loads((directory / MANIFEST).read_text())
    except FileNotFoundError:
        raise BackupError(f"{directory} holds no {MANIFEST}: it is not a backup.") from None
    if _sha256(directory / DUMP) != manifest["dump"]["sha256"]:
        raise BackupError(f"{DUMP} is not the file the backup wrote (its SHA-256 differs).")
    return manifest


def restore(directory: Path) -> Checked:
    """Put a backup back into the configured database, which must hold no table, and
    MEDIA_ROOT, which must hold no file; then check it against the manifest."""
    require_postgresql()
    directory = Path(directory)
    manifest = _read_manifest(directory)
    with connection.cursor() as cursor:
        if connection.introspection.table_names(cursor):
            raise BackupError(
                f"The database {connection.settings_dict['NAME']} is not empty: restore into "
                "a new database (createdb) and point DATABASE_URL at it."
            )
    media_root = Path(settings.MEDIA_ROOT)
    if next(_media_files(media_root), None) is not None:
        raise BackupError(f"{media_root} is not empty: restore into an empty MEDIA_ROOT.")
    connection.close()  # pg_restore's session is the only one while it runs
    _run(
        [
            "pg_restore",
            "--no-owner",
            "--no-privileges",
            "--single-transaction",
            "--exit-on-error",
            "-d",
            connection.settings_dict["NAME"],
            str(directory / DUMP),
        ]
    )
    media_root.mkdir(parents=True, exist_ok=True)
    with tarfile.open(directory / MEDIA) as archive:
        # "data": no absolute paths, no "..", no links out, no device files.
        archive.extractall(media_root, filter="data")
    return check(manifest)


def check(manifest: dict[str, Any]) -> Checked:
    """Every table with the manifest's count, every file with its size and SHA-256, and
    every file a row names present."""
    checked = Checked()
    found = _table_counts()
    for table, count in manifest["tables"].items():
        checked.tables += 1
        checked.rows += count
        if table not in found:
            checked.problems.append(f"table {table} is missing")
        elif found[table] != count:
            checked.problems.append(f"table {table}: {found[table]} rows, the backup had {count}")
    media_root = Path(settings.MEDIA_ROOT)
    for entry in manifest["media"]:
        checked.files += 1
        path = media_root / entry["path"]
        if not path.is_file():
            checked.problems.append(f"file {entry['path']} is missing")
        elif path.stat().st_size != entry["size"] or _sha256(path) != entry["sha256"]:
            checked.problems.append(f"file {entry['path']} differs from the backup")
    checked.problems.extend(_named_files_missing())
    return checked


def _named_files_missing() -> Iterator[str]:
    for model in apps.get_models():
        for model_field in model._meta.get_fields():
            if not isinstance(model_field, models.FileField):
                continue
            names = (
                model._default_manager.exclude(**{model_field.name: ""})
                .exclude(**{f"{model_field.name}__isnull": True})
                .values_list(model_field.name, flat=True)
                .iterator()
            )
            for name in names:
                with contextlib.suppress(ValueError):  # a name the storage refuses is missing
                    if default_storage.exists(name):
                        continue
                yield f"{model._meta.label} names {name}, which is not in MEDIA_ROOT"
