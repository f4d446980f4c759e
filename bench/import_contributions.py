"""The import of a campaign's contribution list at scale (issue #14): ``--rows`` contributions
(members by their CCCD, unions by their code, enterprises and other donors, collected by
grassroots unions across the province) to the province's latest campaign, as its fund's
treasurer imports them.  Timed as the worker's tasks do: ``run_preview`` (read, check, save
the plan) and ``run_apply`` (one transaction, bulk), with the queries of the write.

    DATABASE_URL=postgres://... .venv/bin/python bench/import_contributions.py --rows 20000

Run it on a copy of the database: it records the contributions (``--keep`` aside, nothing
is undone).
"""

from __future__ import annotations

import argparse
import datetime
import os
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

import django  # noqa: E402

django.setup()

from django.core.files import File  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402
from openpyxl import Workbook  # noqa: E402

from common.imports.engine import run_apply, run_preview, schema_for  # noqa: E402
from common.models import ImportJob  # noqa: E402
from members.models import Member  # noqa: E402
from unions.models import Role, RoleAssignment, Unit, UnitKind  # noqa: E402
from welfare.campaigns.models import Campaign, Contribution  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    rng = random.Random(args.seed)

    province = Unit.objects.filter(kind=UnitKind.PROVINCE).order_by("depth", "pk").first()
    today = timezone.localdate()
    campaign = (
        Campaign.objects.filter(fund__unit=province, starts_on__lte=today, has_units=False)
        .order_by("-ends_on", "-pk")
        .first()
    )
    if campaign is None:
        sys.exit("No campaign of the province: seed the database with seed_scale first.")
    treasurer = (
        RoleAssignment.objects.filter(unit=province, role=Role.TREASURER)
        .select_related("user")
        .first()
    )
    grassroots = list(
        Unit.objects.filter(
            kind=UnitKind.GRASSROOTS, status="active", path__startswith=campaign.unit.path
        ).values_list("code", flat=True)
    )
    members = list(
        Member.objects.filter(unit__path__startswith=province.path, status="active")
        .exclude(national_id="")
        .values_list("national_id", flat=True)[: args.rows]
    )
    last = min(today, campaign.ends_on)
    days = (last - campaign.starts_on).days
    run = int(time.time())
    columns = schema_for("contributions").columns
    table = []
    for number in range(args.rows):
        day = campaign.starts_on + datetime.timedelta(days=rng.randint(0, days))
        kind = rng.random()
        unit = rng.choice(grassroots)
        if kind < 0.7 and members:
            donor = ("Đoàn viên", "", rng.choice(members), "", rng.randint(1, 20) * 50_000)
        elif kind < 0.85:
            donor = ("Công đoàn", "", "", unit, rng.randint(1, 20) * 500_000)
        else:
            name = f"Công ty TNHH số {rng.randint(1, 500)}"
            donor = ("Doanh nghiệp", name, "", "", rng.randint(1, 50) * 1_000_000)
        day_text = day.strftime("%d/%m/%Y")
        receipt = f"NK{run % 100000:05d}-{number:06d}"
        table.append([campaign.name, receipt, day_text, *donor[:4], donor[4], unit])
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"dong-gop-{args.rows}.xlsx"
        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet("Danh sách")
        sheet.append([column.header for column in columns])
        for row in table:
            sheet.append(row)
        workbook.save(path)
        job = ImportJob(
            kind=ImportJob.Kind.CONTRIBUTIONS,
            unit=province,
            created_by=treasurer.user,
            token=f"benchgop{run}",
            original_name=path.name,
        )
        with path.open("rb") as handle:
            job.file.save("source.xlsx", File(handle), save=False)
        job.save()

    before = Contribution.objects.count()
    load = os.getloadavg()[0]
    start = time.perf_counter()
    run_preview(job.pk)
    preview = time.perf_counter() - start
    job.refresh_from_db()
    assert job.status == ImportJob.Status.PREVIEWED, job.error
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.CONFIRMED)
    start = time.perf_counter()
    with CaptureQueriesContext(connection) as queries:
        run_apply(job.pk)
    write = time.perf_counter() - start
    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE, job.error
    added = Contribution.objects.count() - before
    print(f"Import of {job.rows:,} contributions to “{campaign.name}” ({connection.vendor})")
    print(f"  refused {job.refused:,}, recorded {added:,}")
    print(f"  read and check (preview): {preview:6.1f} s  ({job.rows / preview:,.0f} rows/s)")
    rate = f"{added / write:,.0f} rows/s"
    print(f"  write (one transaction):  {write:6.1f} s  ({rate}), {len(queries)} queries")
    print(f"  machine load average: {max(load, os.getloadavg()[0]):.1f}")


if __name__ == "__main__":
    main()
