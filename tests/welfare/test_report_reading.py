"""The annual report reads right for each kind of union and for a year still in progress."""

from __future__ import annotations

import datetime

import pytest
from django.utils import translation

from welfare.models import SupportType
from welfare.reports.figures import annual_figures
from welfare.reports.narrative import narrative

from .test_report_rendering import flat, render, vi

pytestmark = pytest.mark.django_db


def test_grassroots_report_has_no_breakdown_by_unit(world, records, tmp_path):
    figures = annual_figures(world.a1, 2026)
    pdf = render(tmp_path, figures)
    assert flat(vi("By unit")) not in pdf.text
    assert (
        flat(vi("Support paid by unit in %(year)s (million đồng)") % {"year": 2026}) not in pdf.text
    )
    assert flat(vi("Grassroots unions")) not in pdf.text
    assert "5. " + flat(vi("Shelters, savings books, scholarships and Tết gifts")) in pdf.text
    assert "6. " not in pdf.text


def test_commune_report_keeps_its_breakdown_by_unit(world, records, tmp_path):
    pdf = render(tmp_path, annual_figures(world.commune_a, 2026))
    assert "5. " + flat(vi("By unit")) in pdf.text
    assert flat(vi("Support paid by unit in %(year)s (million đồng)") % {"year": 2026}) in pdf.text
    assert "6. " + flat(vi("Shelters, savings books, scholarships and Tết gifts")) in pdf.text


def test_grassroots_narrative_speaks_of_the_union_alone(world, records):
    text = narrative(annual_figures(world.a1, 2025))
    assert world.a1.name in text
    opening = vi(
        "In %(year)s, %(union)s and the unions under it supported %(people)s union members "
        "and workers in difficult circumstances with %(turns)s support turns and a total of "
        "%(amount)s."
    ).split("%(union)s")[1][:12]
    assert opening not in text  # no "and the unions under it"
    largest = vi("The largest share went through %(unit)s: %(amount)s for %(cases)s cases.")
    assert largest.split("%(unit)s")[0] not in text


def test_year_in_progress_narrative_gives_the_date_not_the_end_of_the_year(world, records):
    today = datetime.date.today()
    text = narrative(annual_figures(world.province, today.year))
    if today < datetime.date(today.year, 12, 31):
        assert today.strftime("%d/%m/%Y") in text
        end_of_year = vi(
            "At the end of %(year)s the union had %(members)s members and %(workers)s "
            "non-member workers in %(units)s grassroots unions; %(joined)s joined in %(year)s."
        ).split("%(members)s")[0] % {"year": today.year}
        assert end_of_year not in text
    past = narrative(annual_figures(world.province, 2024))
    assert "31/12/2024" not in past


def test_the_narrative_speaks_of_every_kind_of_support_in_a_fixed_order(world, records):
    from welfare.reports.narrative import SPOKEN_ORDER

    figures = annual_figures(world.province, 2024)
    text = narrative(figures)
    paid = [key for key in SPOKEN_ORDER if any(r.key == key and r.cases for r in figures.by_type)]
    with translation.override("vi"):
        labels = [str(SupportType(key).label).lower() for key in paid]
    positions = [text.lower().index(label) for label in labels]
    assert len(paid) >= 2 and positions == sorted(positions)
    # and each fund's total with the people it supported
    for row in figures.by_fund:
        assert row.label in text
