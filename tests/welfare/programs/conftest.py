"""Programs' tests use the Tết program of province P and its batches (``tet``,
``make_batch``, ``people``) from tests/welfare/conftest.py, which the report's tests share."""

from __future__ import annotations

from welfare.programs.models import Batch

from ..conftest import YEAR

__all__ = ["YEAR", "reload"]


def reload(batch: Batch) -> Batch:
    return Batch.objects.select_related("fund").get(pk=batch.pk)
