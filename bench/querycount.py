"""Benchmark-only middleware: the number of SQL queries and the server time of each request,
as response headers ``X-Query-Count`` and ``X-Server-Time`` (milliseconds).

Installed first in MIDDLEWARE only when the environment sets ``BENCH_COUNT_QUERIES=1``
(``bench/run.py`` does, for the server it starts), so sessions and authentication count too.
"""

from __future__ import annotations

import time

from django.db import connection


class QueryCountMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        count = 0

        def counting(execute, sql, params, many, context):
            nonlocal count
            count += 1
            return execute(sql, params, many, context)

        started = time.perf_counter()
        with connection.execute_wrapper(counting):
            response = self.get_response(request)
        response["X-Query-Count"] = str(count)
        response["X-Server-Time"] = f"{(time.perf_counter() - started) * 1000:.2f}"
        return response
