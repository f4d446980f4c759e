"""Time and peak memory of the annual report's PDF and XLSX at province scale.

Usage: .venv/bin/python bench/report_pdf.py [--children 60] [--runs 3] [--out report.pdf]

The figures are made up (no database): a province with ``--children`` child units and every
breakdown filled, which is what WeasyPrint and openpyxl see from a real province.  The first
run includes loading the fonts and templates; the peak is the process's maximum resident set
size (what a Celery worker's memory cap would measure), printed beside the size before the
first render.
"""

from __future__ import annotations

import argparse
import datetime
import os
import random
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

import django

django.setup()

from unions.models import Unit, UnitKind  # noqa: E402
from welfare.models import Category, Report, SupportType  # noqa: E402
from welfare.reports.figures import (  # noqa: E402
    HIGHLIGHTED,
    AnnualFigures,
    Organisation,
    Row,
    Totals,
)
from welfare.reports.narrative import narrative  # noqa: E402
from welfare.reports.pdf import render_pdf  # noqa: E402
from welfare.reports.xlsx import render_xlsx  # noqa: E402

PLACES = [
    "Đông Kinh",
    "Lương Văn Tri",
    "Tam Thanh",
    "Kỳ Lừa",
    "Cao Lộc",
    "Đồng Đăng",
    "Hữu Lũng",
    "Văn Quan",
    "Chi Lăng",
    "Lộc Bình",
    "Tràng Định",
    "Bình Gia",
    "Bắc Sơn",
    "Đình Lập",
    "Na Dương",
    "Thất Khê",
    "Văn Lãng",
    "Hoàng Đồng",
    "Mai Pha",
    "Chi Ma",
]
EMPLOYERS = [
    "Công ty CP Cấp thoát nước Lạng Sơn",
    "Bệnh viện Đa khoa tỉnh",
    "Trường THPT Việt Bắc",
    "Công ty TNHH May Hữu Lũng",
    "Công ty Than Na Dương",
    "Ban Quản lý cửa khẩu Hữu Nghị",
]


def fake_row(rng: random.Random, key, label: str, scale: int) -> Row:
    cases = rng.randint(5, 60) * scale
    prev_cases = max(0, cases + rng.randint(-20, 20))
    return Row(
        key=key,
        label=label,
        cases=cases,
        people=int(cases * 0.8),
        amount=cases * rng.randint(8, 40) * 100_000,
        prev_cases=prev_cases,
        prev_amount=prev_cases * rng.randint(8, 40) * 100_000,
    )


def fake_figures(children: int, year: int) -> AnnualFigures:
    rng = random.Random(2026)
    province = Unit(
        pk=1,
        code="LS",
        name="Liên đoàn Lao động tỉnh Lạng Sơn",
        kind=UnitKind.PROVINCE,
        path="1/",
        founded_on=datetime.date(2015, 1, 1),
    )
    units = [f"Công đoàn phường {place}" for place in PLACES]
    units += [f"Công đoàn ngành {name}" for name in ("Giáo dục", "Y tế", "Giao thông")]
    units.append("Công đoàn các Khu công nghiệp tỉnh Lạng Sơn")
    units += [f"CĐCS {name}" for name in EMPLOYERS]
    units += [f"Công đoàn xã {place} {n}" for n in range(2, 5) for place in PLACES]
    by_child = sorted(
        (fake_row(rng, i, units[i % len(units)], 3) for i in range(children)),
        key=lambda row: -row.amount,
    )
    by_type = sorted(
        (fake_row(rng, key, str(label), 8) for key, label in SupportType.choices),
        key=lambda row: -row.amount,
    )
    by_category = sorted(
        (fake_row(rng, key, str(label), 5) for key, label in Category.choices),
        key=lambda row: -row.amount,
    )
    funds = [
        "Quỹ Xã hội tỉnh Lạng Sơn",
        "Quỹ Mái ấm Công đoàn tỉnh Lạng Sơn",
        "Quỹ Trợ vốn CNVCLĐ nghèo tỉnh Lạng Sơn",
        "Kinh phí công đoàn cơ sở",
        "Quỹ phúc lợi Công đoàn phường Đông Kinh",
        "Quỹ Học bổng Nguyễn Đức Cảnh",
    ]
    by_fund = sorted(
        (fake_row(rng, i, name, 10) for i, name in enumerate(funds)),
        key=lambda row: -row.amount,
    )
    amount = sum(row.amount for row in by_type)
    prev_amount = sum(row.prev_amount for row in by_type)
    # Tết in January/February, Tháng Công nhân in May, Tết gifts again in December
    weights = [3, 9, 2, 2, 3, 4, 2, 2, 3, 2, 2, 6]
    by_month = [amount * w // sum(weights) for w in weights]
    by_month[-1] += amount - sum(by_month)
    prev_by_month = [prev_amount * w // sum(weights) for w in weights]
    types = {row.key: row for row in by_type}
    cases = sum(row.cases for row in by_type)
    return AnnualFigures(
        union=province,
        year=year,
        as_of=datetime.date(year, 12, 31),
        tree_of_the_year=True,
        organisation=Organisation(
            members=98_412, workers=6_230, grassroots_units=1_342, joined=4_105, left=2_877
        ),
        totals=Totals(cases=cases, people=int(cases * 0.8), turns=cases, amount=amount),
        prev_totals=Totals(
            cases=sum(row.prev_cases for row in by_type),
            people=int(sum(row.prev_cases for row in by_type) * 0.8),
            turns=sum(row.prev_cases for row in by_type),
            amount=prev_amount,
        ),
        by_type=by_type,
        by_category=by_category,
        by_fund=by_fund,
        by_child=by_child,
        by_month=by_month,
        prev_by_month=prev_by_month,
        highlighted=[types[key] for key in HIGHLIGHTED],
        contributions=[
            fake_row(rng, 1, "Quỹ Xã hội tỉnh", 30),
            fake_row(rng, 2, "Quỹ Trợ vốn CNVCLĐ nghèo", 12),
        ],
    )


def pages(pdf: bytes) -> str:
    """The page count, by poppler's pdfinfo when it is installed."""
    if not shutil.which("pdfinfo"):
        return "?"
    info = subprocess.run(["pdfinfo", "-"], input=pdf, capture_output=True).stdout.decode()
    return next((line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")), "?")


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--children", type=int, default=60)
    parser.add_argument("--year", type=int, default=2025)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--out", type=Path, help="write the last PDF here (and .xlsx beside it)")
    args = parser.parse_args()

    figures = fake_figures(args.children, args.year)
    text = narrative(figures)
    report = Report(union=figures.union, year=args.year)
    rows = sum(
        len(rows)
        for rows in (
            figures.by_type,
            figures.by_category,
            figures.by_fund,
            figures.by_child,
            figures.highlighted,
            figures.contributions,
        )
    )
    print(f"province-scale figures: {args.children} child units, {rows} table rows")
    print(f"peak memory before the first render: {peak_mb():.0f} MB")
    pdf = b""
    for run in range(1, args.runs + 1):
        started, cpu = time.perf_counter(), time.process_time()
        pdf = render_pdf(figures, narrative=text, report=report)
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        print(
            f"run {run}: PDF {seconds:.2f} s ({cpu:.2f} s CPU), {len(pdf) / 1024:.0f} KiB, "
            f"{pages(pdf)} pages, "
            f"peak {peak_mb():.0f} MB"
        )
    started = time.perf_counter()
    xlsx = render_xlsx(figures)
    print(f"XLSX {time.perf_counter() - started:.2f} s, {len(xlsx) / 1024:.0f} KiB")
    print(f"peak memory of the process: {peak_mb():.0f} MB (budget: PDF under 5 s and 400 MB)")
    if args.out:
        args.out.write_bytes(pdf)
        args.out.with_suffix(".xlsx").write_bytes(xlsx)
        print(f"wrote {args.out} and {args.out.with_suffix('.xlsx')}")


if __name__ == "__main__":
    main()
