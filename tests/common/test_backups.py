"""A backup restored into a fresh PostgreSQL database and an empty media folder gives back every
record and every evidence file, and says so; what it cannot do it refuses clearly."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from types import SimpleNamespace

import psycopg
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import connection

from common import backups
from welfare.cases.evidence import add_evidence
from welfare.models import Evidence

from ..welfare.conftest import JPEG, PNG

ROOT = Path(__file__).resolve().parents[2]


def _server(**changes) -> dict:
    database = connection.settings_dict
    params = {
        "host": database["HOST"] or "127.0.0.1",
        "port": database["PORT"] or 5432,
        "user": database["USER"],
        "password": database["PASSWORD"] or None,
        "dbname": database["NAME"],
    }
    params.update(changes)
    return params


def _url(name: str) -> str:
    params = _server()
    password = f":{params['password']}" if params["password"] else ""
    return f"postgres://{params['user']}{password}@{params['host']}:{params['port']}/{name}"


@pytest.fixture
def fresh_database():
    """A new, empty database beside the test database, dropped afterwards."""
    name = f"{connection.settings_dict['NAME']}_restore_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(**_server(dbname="postgres"), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield name
    finally:
        with psycopg.connect(**_server(dbname="postgres"), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _counts(cursor) -> dict[str, int]:
    cursor.execute(
        "SELECT table_name FROM information_schema.tables "
        "WHERE table_schema = 'public' AND table_type = 'BASE TABLE'"
    )
    tables = sorted(row[0] for row in cursor.fetchall())
    counts = {}
    for table in tables:
        cursor.execute(f'SELECT count(*) FROM "{table}"')
        counts[table] = cursor.fetchone()[0]
    return counts


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_backup_restored_into_a_fresh_database_has_every_record_and_file(
    world, make_case, media_root, tmp_path, fresh_database
):
    paid = make_case("paid")
    draft = make_case("draft", member=world.member_b1, by=world.users["province"])
    add_evidence(
        case=draft,
        files=[
            SimpleUploadedFile("ảnh nhà dột.jpg", JPEG),
            SimpleUploadedFile("sổ hộ nghèo.png", PNG),
        ],
        by=world.users["province"],
    )
    evidence = {
        row["id"]: row
        for row in Evidence.objects.values("id", "case_id", "file", "original_name", "size")
    }
    assert len(evidence) == 4 and {paid.pk, draft.pk} == {e["case_id"] for e in evidence.values()}
    with connection.cursor() as cursor:
        before = _counts(cursor.cursor)

    folder = tmp_path / "sao-luu"
    call_command("backup", str(folder))
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["tables"] == before
    assert {entry["path"] for entry in manifest["media"]} >= {e["file"] for e in evidence.values()}

    restored_media = tmp_path / "media-restored"
    result = subprocess.run(
        [sys.executable, "manage.py", "restore", str(folder)],
        cwd=ROOT,
        env={
            **os.environ,
            "DATABASE_URL": _url(fresh_database),
            "MEDIA_ROOT": str(restored_media),
        },
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert "Restored and checked" in result.stdout

    with (
        psycopg.connect(**_server(dbname=fresh_database)) as restored,
        restored.cursor() as cursor,
    ):
        assert _counts(cursor) == before
        cursor.execute(
            "SELECT id, case_id, file, original_name, size FROM "
            f'"{Evidence._meta.db_table}" ORDER BY id'
        )
        rows = cursor.fetchall()
        cursor.execute(f'SELECT status FROM "{paid._meta.db_table}" WHERE id = %s', [paid.pk])
        assert cursor.fetchone()[0] == paid.status
    assert [tuple(evidence[row[0]].values()) for row in rows] == rows
    for _pk, _case, name, _original, size in rows:
        copy, original = restored_media / name, Path(media_root) / name
        assert copy.stat().st_size == size
        assert _digest(copy) == _digest(original)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_missing_or_changed_file_is_reported_by_the_check(world, make_case, media_root, tmp_path):
    case = make_case("draft")
    folder = tmp_path / "sao-luu"
    manifest = backups.backup(folder)
    assert backups.check(manifest).problems == []
    evidence = case.evidence.get()
    Path(evidence.file.path).unlink()
    problems = backups.check(manifest).problems
    assert f"file {evidence.file.name} is missing" in problems
    assert any(
        evidence.file.name in problem and "not in MEDIA_ROOT" in problem for problem in problems
    )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_restore_refuses_a_database_that_is_not_empty_and_a_changed_dump(world, tmp_path):
    folder = tmp_path / "sao-luu"
    call_command("backup", str(folder))
    with pytest.raises(CommandError, match="is not empty: restore into a new database"):
        call_command("restore", str(folder))
    with (folder / "database.dump").open("ab") as dump:
        dump.write(b"\0")
    with pytest.raises(CommandError, match="SHA-256 differs"):
        call_command("restore", str(folder))
    with pytest.raises(CommandError, match="is not empty: give a new folder"):
        call_command("backup", str(folder))


def test_backup_says_it_is_for_postgresql_on_sqlite():
    with pytest.raises(backups.BackupError, match="for PostgreSQL") as refused:
        backups.require_postgresql(SimpleNamespace(vendor="sqlite"))
    assert "var/db.sqlite3" in str(refused.value)
