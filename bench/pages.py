"""Server time and queries of the main pages on the current database (the demo by default).

Usage: .venv/bin/python bench/pages.py [--user province] [--runs 20]

Each page is requested in-process through Django's test client after one warm-up request; the
time is the full request/response cycle (middleware, queries, template), without network.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from members.models import Member  # noqa: E402


def pages(user) -> list[tuple[str, str]]:
    member = Member.objects.visible_to(user).order_by("search_name", "id").first()
    count = Member.objects.visible_to(user).count()
    last = max(1, -(-count // settings.PAGE_SIZE))
    return [
        ("home", "/"),
        ("union tree", "/units/"),
        ("union tree on 31/12/2021", "/units/?on=2021-12-31"),
        ("member list, page 1", "/members/"),
        ("member list, last page", f"/members/?page={last}"),
        ("member list, search 'nguyen van'", "/members/?q=nguyen+van"),
        ("member list, filtered", "/members/?status=active&sex=female&sort=-dob"),
        ("member page", f"/members/{member.pk}/"),
        ("member form", f"/members/{member.pk}/edit/"),
        ("unit page", f"/units/{member.unit_id}/"),
    ]


def measure(client: Client, url: str, runs: int) -> tuple[list[float], int]:
    client.get(url)  # warm-up
    times = []
    for _ in range(runs):
        with CaptureQueriesContext(connection) as queries:
            start = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    return times, len(queries)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--user", default="province")
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    settings.ALLOWED_HOSTS = ["testserver", *settings.ALLOWED_HOSTS]
    user = get_user_model().objects.get(username=args.user)
    client = Client()
    client.force_login(user)
    vendor = connection.vendor
    print(f"{vendor}, user {args.user}, {Member.objects.count():,} members, {args.runs} runs")
    print("| page | median ms | p95 ms | queries |\n|---|---:|---:|---:|")
    for name, url in pages(user):
        times, queries = measure(client, url, args.runs)
        p95 = statistics.quantiles(times, n=20)[-1]
        print(f"| {name} | {statistics.median(times):.1f} | {p95:.1f} | {queries} |")


if __name__ == "__main__":
    main()
