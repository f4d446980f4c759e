"""Time of importing a big member list: parsing and checking (the preview), then writing.

Usage:
    createdb -h 127.0.0.1 -U postgres tt_import
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/tt_import .venv/bin/python manage.py migrate
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/tt_import \
        .venv/bin/python bench/import_members.py --rows 100000

It writes an XLSX of valid members (names drawn like the demo's, CCCDs that agree with the birth
date and sex, every optional column filled, dates as dd/mm/yyyy text), makes a fresh grassroots
union with an officer, and runs the two phases of ``common/imports/engine.py`` the way the Celery
tasks do: ``run_preview`` (read, check, save the plan) and ``run_apply`` (one transaction, bulk
inserts in batches). Budget (issue 6): under 60 s for 100,000 members, checking included. Each run
adds its members to the database; IDs never repeat across runs.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import random
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

import django

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.files import File  # noqa: E402
from django.db import connection  # noqa: E402
from openpyxl import Workbook  # noqa: E402

from common.imports.engine import matching, run_apply, run_preview, schema_for  # noqa: E402
from common.models import ImportJob  # noqa: E402
from members.models import Member, Sex  # noqa: E402
from members.national_id import PROVINCE_CODES, make_national_id  # noqa: E402
from seed.demo_members import (  # noqa: E402
    FAMILY_NAMES,
    GIVEN_NAMES,
    MIDDLE_NAMES,
    system_account,
)
from unions.models import Role, RoleAssignment, Unit, UnitKind  # noqa: E402
from unions.tree import create_unit  # noqa: E402

BUCKET = 1000  # serials reserved per run in each (province, year, sex) bucket


def _weighted(rng: random.Random, pairs) -> str:
    return rng.choices([value for value, _w in pairs], weights=[w for _v, w in pairs])[0]


def people(rows: int, run: int, seed: int) -> list[list]:
    """The rows of the list: valid people whose ID numbers nobody in the database has yet."""
    rng = random.Random(seed)
    serials: Counter = Counter()
    provinces = sorted(PROVINCE_CODES)
    table = []
    for number in range(1, rows + 1):
        sex = Sex.MALE if rng.random() < 0.52 else Sex.FEMALE
        birth = datetime.date(rng.randint(1965, 2005), rng.randint(1, 12), rng.randint(1, 28))
        province = rng.choice(provinces)
        serials[province, birth.year, sex] += 1
        serial = run * BUCKET + serials[province, birth.year, sex]
        middle = _weighted(rng, MIDDLE_NAMES[sex])
        given = rng.choice([name for name in GIVEN_NAMES[sex] if name != middle])
        joined = birth.replace(year=birth.year + rng.randint(18, 20))
        member = rng.random() < 0.9  # the others are non-member workers: no union card
        table.append(
            [
                number,
                f"{_weighted(rng, FAMILY_NAMES)} {middle} {given}",
                "Nam" if sex == Sex.MALE else "Nữ",
                birth.strftime("%d/%m/%Y"),
                make_national_id(province, birth, sex, serial),
                f"B{run:03d}{number:07d}" if member else "",
                joined.strftime("%d/%m/%Y"),
                rng.choice(["Công nhân", "Kỹ sư", "Nhân viên văn phòng", "Giáo viên", "Lái xe"]),
                f"09{rng.randint(10_000_000, 99_999_999)}",
                f"Thôn {rng.randint(1, 20)}, xã Hữu Lũng, Lạng Sơn",
                "Đoàn viên" if member else "Người lao động",
                "x" if rng.random() < 0.05 else "",
                "x" if rng.random() < 0.03 else "",
            ]
        )
    # A seeded database may hold some of these numbers already: move those along.
    numbers = Member.objects.values_list("national_id", flat=True)
    taken = set(matching(numbers, "national_id", [row[4] for row in table]))
    for row in table:
        while row[4] in taken:
            row[4] = row[4][:6] + f"{(int(row[4][6:]) + 1) % 1_000_000:06d}"
        taken.add(row[4])
    return table


def write_file(path: Path, table: list[list]) -> None:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Danh sách")
    sheet.append(["DANH SÁCH ĐOÀN VIÊN"])
    sheet.append([])
    sheet.append(["STT", *(column.header for column in schema_for("members").columns[:-1])])
    for row in table:
        sheet.append(row)
    workbook.save(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()

    run = Unit.objects.filter(code__startswith="BENCH-IMPORT-").count() + 1
    system = system_account()  # the bench's units are set up by the system, not by a role
    province = Unit.objects.filter(kind=UnitKind.PROVINCE).order_by("pk").first()
    if province is None:
        province = create_unit(
            parent=None,
            code="BENCH-PROVINCE",
            name="LĐLĐ tỉnh (bench)",
            kind=UnitKind.PROVINCE,
            founded_on=datetime.date(2015, 1, 1),
            by=system,
        )
    unit = create_unit(
        parent=province,
        code=f"BENCH-IMPORT-{run}",
        name=f"CĐCS Công ty nhập thử {run}",
        kind=UnitKind.GRASSROOTS,
        founded_on=datetime.date(2015, 1, 1),
        by=system,
    )
    officer = get_user_model().objects.create_user(f"bench-importer-{run}")
    RoleAssignment.objects.create(user=officer, unit=unit, role=Role.OFFICER)

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"doan-vien-{args.rows}.xlsx"
        start = time.perf_counter()
        write_file(path, people(args.rows, run, args.seed + run))
        generated = time.perf_counter() - start
        size = path.stat().st_size
        job = ImportJob(
            kind=ImportJob.Kind.MEMBERS,
            unit=unit,
            created_by=officer,
            token=f"bench{run:04d}{int(time.time())}",
            original_name=path.name,
        )
        with path.open("rb") as handle:
            job.file.save("source.xlsx", File(handle), save=False)
        job.save()

    members_before = Member.objects.count()
    load_before = os.getloadavg()[0]
    start, cpu = time.perf_counter(), time.process_time()
    run_preview(job.pk)
    preview = time.perf_counter() - start
    preview_cpu = time.process_time() - cpu
    job.refresh_from_db()
    assert job.status == ImportJob.Status.PREVIEWED, job.error
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.CONFIRMED)
    start, cpu = time.perf_counter(), time.process_time()
    run_apply(job.pk)
    write = time.perf_counter() - start
    write_cpu = time.process_time() - cpu
    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE, job.error
    added = Member.objects.count() - members_before

    result = {
        "database": connection.vendor,
        "rows": job.rows,
        "file_mb": round(size / 1e6, 1),
        "created": job.to_create,
        "refused": job.refused,
        "added": added,
        "generate_s": round(generated, 1),
        "preview_s": round(preview, 1),
        "write_s": round(write, 1),
        "total_s": round(preview + write, 1),
        "budget_s": 60,
        "python_cpu_s": round(preview_cpu + write_cpu, 1),
        "load_average": round(max(load_before, os.getloadavg()[0]), 1),
    }
    print(f"Import of {job.rows:,} members into {unit.name} ({connection.vendor})")
    print(f"  file: {result['file_mb']} MB, generated in {generated:.1f} s (not counted)")
    print(f"  read and check (preview): {preview:6.1f} s  ({job.rows / preview:,.0f} rows/s)")
    print(f"  write (one transaction):  {write:6.1f} s  ({added / write:,.0f} rows/s)")
    print(f"  total:                    {preview + write:6.1f} s  (budget 60 s)")
    print(
        f"  this process's CPU: {preview_cpu:.1f} s + {write_cpu:.1f} s; machine load average "
        f"{result['load_average']} (other work on the machine stretches the wall time)"
    )
    print(f"  created {job.to_create:,}, refused {job.refused:,}, added {added:,}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
