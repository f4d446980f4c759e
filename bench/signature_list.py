"""Time and peak memory of a unit's signature list (danh sách ký nhận) as a PDF.

Usage: .venv/bin/python bench/signature_list.py [--names 200 2000] [--runs 2] [--out list.pdf]

The people are made up (no database): ``--names`` people with Vietnamese names, union card
numbers and amounts, which is what WeasyPrint sees from a real batch.  Each size runs in a
process of its own, so the peak resident set size printed is that size's alone (what a Celery
worker's memory cap would measure).  It also checks that every page holds the rows counted for
it: each page's text must end with its "Cộng trang" line.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUDGETS = {200: (2.0, None), 2000: (6.0, 300)}  # seconds, MB
FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi"]
MIDDLE = ["Văn", "Thị", "Hữu", "Đức", "Ngọc", "Thanh", "Minh", "Xuân", "Thu", "Quốc"]
GIVEN = ["An", "Bình", "Chi", "Dũng", "Đào", "Giang", "Hòa", "Khánh", "Linh", "Phương", "Ánh"]


def measure(names: int, runs: int, out: str) -> dict:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    import django

    django.setup()
    import datetime

    from django.contrib.auth.models import User

    from common.money import format_number
    from unions.models import Unit, UnitKind
    from welfare.models import Batch, Fund, Program, SupportType
    from welfare.programs.signature_lists import Row, render_signature_list

    province = Unit(name="Liên đoàn Lao động tỉnh Lạng Sơn", code="LS", kind=UnitKind.PROVINCE)
    # The longest names of the demo: the letterhead and the facts wrap, as they do for real.
    unit = Unit(
        name="CĐCS Công ty Cổ phần Môi trường và Dịch vụ đô thị Lạng Sơn",
        code="LS-TP-MTDT",
        kind=UnitKind.GRASSROOTS,
    )
    fund = Fund(name="Quỹ Xã hội LĐLĐ tỉnh Lạng Sơn", unit=province)
    program = Program(name="Tết Sum vầy 2026", support_type=SupportType.TET_GIFT, year=2026)
    creator = User(username="bench", last_name="Lương Văn", first_name="Thắng")
    batch = Batch(
        program=program,
        unit=unit,
        fund=fund,
        created_by=creator,
        status="approved",
        approved_on=datetime.date(2026, 1, 12),
    )
    rng = random.Random(names)
    rows = []
    for n in range(1, names + 1):
        name = f"{rng.choice(FAMILY)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}"
        amount = rng.choice([500_000, 1_000_000, 1_500_000])
        rows.append(Row(n, name, f"LS{rng.randrange(10**8):08d}", amount, format_number(amount)))
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    times, cpu = [], []
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        content = render_signature_list(batch, rows)
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    Path(out).write_bytes(content)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"names": names, "times": times, "cpu": cpu, "before_mb": base, "peak_mb": peak}


def check_pages(path: str) -> tuple[int, list[int]]:
    """The number of pages, and the pages that are wrong: a page must carry its number out of
    the total and its subtotal ("Cộng trang n", or the total when there is one page), and the
    last page the total, in words, and the signatures."""
    info = subprocess.run(["pdfinfo", path], capture_output=True, text=True, check=True).stdout
    pages = int(next(ln for ln in info.splitlines() if ln.startswith("Pages:")).split()[1])
    wrong = []
    for page in range(1, pages + 1):
        text = subprocess.run(
            ["pdftotext", "-f", str(page), "-l", str(page), path, "-"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        expected = [f"Trang {page}/{pages}"]
        expected.append(f"Cộng trang {page}" if pages > 1 else "Tổng cộng")
        if page == pages:
            expected += ["Tổng cộng", "bằng chữ", "Người lập", "CHỦ TỊCH"]
        if not all(words in text for words in expected):
            wrong.append(page)
    return pages, wrong


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--names", type=int, nargs="+", default=[200, 2000])
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--out", default="")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.child, args.runs, args.out)))
        return
    for names in args.names:
        out = args.out or str(Path(tempfile.gettempdir()) / f"signature-list-{names}.pdf")
        child = subprocess.run(
            [
                sys.executable,
                __file__,
                "--child",
                str(names),
                "--runs",
                str(args.runs),
                "--out",
                out,
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        result = json.loads(child.stdout.strip().splitlines()[-1])
        pages, wrong = check_pages(out)
        seconds, megabytes = BUDGETS.get(names, (None, None))
        best = min(result["times"])
        load = os.getloadavg()[0]
        print(
            f"{names:>5} names  {pages:>3} pages  "
            + "  ".join(f"{t:.2f} s" for t in result["times"])
            + " (cpu "
            + "  ".join(f"{t:.2f} s" for t in result["cpu"])
            + ")"
            + (f" (budget {seconds} s)" if seconds else "")
            + f"  peak {result['peak_mb']:.0f} MB (before {result['before_mb']:.0f} MB)"
            + (f" (budget {megabytes} MB)" if megabytes else "")
            + ("  pages wrong: " + ",".join(map(str, wrong)) if wrong else "  pages right")
            + f"  load {load:.1f}  -> {out}"
        )
        if (seconds and best > seconds) or (megabytes and result["peak_mb"] > megabytes):
            print("      over budget")


if __name__ == "__main__":
    main()
