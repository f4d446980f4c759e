"""The campaign page at city scale (issue #14): the province's campaign with the most
contributions, requested in-process through Django's test client as province staff (and a
commune's leader when the benchmark made one): its top level (the province's child units),
one commune opened from it, and a commune union's own view.  Median and p95 (nearest rank)
of ``--runs`` requests after two warm-ups, and the largest query count.

    DATABASE_URL=postgres://... .venv/bin/python bench/campaign_page.py --label city-500k

Budget: under 100 ms p95 and at most 12 queries.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

PAGE_P95_MS = 100
PAGE_QUERIES = 12
READER = "province"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--label", default="")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results"))
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.db.models import Count
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from bench.program_run import prove_second_factor
    from unions.models import Unit, UnitKind
    from welfare.campaigns.models import Campaign, Contribution

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    province = Unit.objects.filter(kind=UnitKind.PROVINCE).order_by("depth", "pk").first()
    campaign = (
        Campaign.objects.filter(unit=province)
        .annotate(n=Count("contributions"))
        .order_by("-n", "pk")
        .first()
    )
    if campaign is None:
        sys.exit("No campaign of the province: seed the database with seed_scale first.")
    contributions = Contribution.objects.filter(campaign=campaign)
    busiest = (
        contributions.exclude(collected_by=province)
        .values("collected_by__path")
        .annotate(n=Count("pk"))
        .order_by("-n")
        .first()
    )
    child_id = int(busiest["collected_by__path"].split("/")[1]) if busiest else province.pk
    url = reverse("campaigns:detail", args=[campaign.pk])
    pages = [
        (f"campaign page ({contributions.count():,} contributions)", url, READER),
        ("campaign page, one child unit opened", f"{url}?unit={child_id}", READER),
    ]
    user_model = get_user_model()
    results = []
    for name, address, username in pages:
        client = Client()
        user = user_model.objects.get(username=username)
        client.force_login(user)
        session = client.session
        prove_second_factor(user, session)
        session.save()
        times, count, size = [], 0, 0
        for n in range(args.runs + 2):
            with CaptureQueriesContext(connection) as queries:
                start = time.perf_counter()
                response = client.get(address)
                elapsed = (time.perf_counter() - start) * 1000
            assert response.status_code == 200, (address, response.status_code)
            if n >= 2:
                times.append(elapsed)
                count = max(count, len(queries))
                size = len(response.content)
        times.sort()
        p95 = times[max(0, -(-95 * len(times) // 100) - 1)]
        median = times[len(times) // 2]
        html = response.content.decode()
        table = html[html.index('id="unit-table"') :]
        rows = table[: table.index("</table>")].count("<tr") - 1
        result = {"page": name, "median_ms": median, "p95_ms": p95, "queries": count}
        results.append({**result, "rows": rows, "kb": size / 1024})
    print("| page | median / p95 | queries | table rows | HTML | budget |")
    print("|---|---:|---:|---:|---:|---|")
    for r in results:
        ok = r["p95_ms"] < PAGE_P95_MS and r["queries"] <= PAGE_QUERIES
        print(
            f"| {r['page']} | {r['median_ms']:.1f} / {r['p95_ms']:.1f} ms | {r['queries']} | "
            f"{r['rows']} | {r['kb']:.0f} KB | {'met' if ok else 'MISSED'} |"
        )
    if args.label:
        out = Path(args.out) / f"campaign-page-{args.label}.json"
        out.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
