"""A unit chosen by typing: text typed without picking a suggestion is taken when it names
exactly one unit, and the refusal names the units it could mean."""

from __future__ import annotations

from django import forms
from django.utils import translation

from tests.factories import make_unit
from unions.forms import unit_choices
from unions.models import Unit
from unions.scope import Capability
from unions.widgets import FEW_CHOICES, UnitSearchField, UnitSearchSelect
from welfare.reports.forms import ReportRequestForm


class UnitForm(forms.Form):
    unit = UnitSearchField(queryset=Unit.objects.none(), widget=UnitSearchSelect)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = Unit.objects.filter(path__startswith="").order_by("path")


def _chosen(data: dict):
    form = UnitForm(data)
    return form, form.is_valid()


def test_typed_text_without_marks_is_the_one_unit_it_names(world):
    form, valid = _chosen({"unit": "", "unit__typed": "cdcs benh vien b1"})
    assert valid, form.errors
    assert form.cleaned_data["unit"] == world.b1


def test_the_whole_name_wins_over_units_that_contain_it(world):
    form, valid = _chosen({"unit": "", "unit__typed": "LĐLĐ tỉnh P"})
    assert valid, form.errors
    assert form.cleaned_data["unit"] == world.province


def test_a_suggestion_pasted_with_its_parent_is_that_unit(world):
    form, valid = _chosen({"unit": "", "unit__typed": "CĐCS Công ty A1 — Công đoàn phường A"})
    assert valid, form.errors
    assert form.cleaned_data["unit"] == world.a1


def test_text_naming_several_units_says_which(world):
    with translation.override("vi"):
        form, valid = _chosen({"unit": "", "unit__typed": "cong ty"})
    assert not valid
    error = form.errors["unit"][0]
    assert "“cong ty” khớp với nhiều đơn vị" in error
    assert "CĐCS Công ty A1 — Công đoàn phường A" in error
    assert "CĐCS Công ty Q1 — LĐLĐ tỉnh Q" in error
    assert "bắt buộc" not in error


def test_text_naming_no_unit_says_so(world):
    with translation.override("vi"):
        form, valid = _chosen({"unit": "", "unit__typed": "lang son"})
    assert not valid
    assert form.errors["unit"] == ["Không có đơn vị nào bạn được chọn ở đây tên là “lang son”."]


def test_a_unit_outside_the_choices_is_not_taken_from_its_name(world):
    field = unit_choices(world.users["commune"], Capability.MANAGE_USERS)
    form = forms.Form()
    form.fields["unit"] = field
    form.data, form.is_bound = {"unit": "", "unit__typed": "CĐCS Bệnh viện B1"}, True
    assert not form.is_valid()
    assert form.errors.as_data()["unit"][0].code == "no_match"


def test_the_picked_id_is_used_when_both_are_sent(world):
    form, valid = _chosen({"unit": str(world.a2.pk), "unit__typed": "whatever was left"})
    assert valid
    assert form.cleaned_data["unit"] == world.a2


def test_a_refused_text_is_shown_again_in_the_search_box(world):
    for n in range(FEW_CHOICES):
        make_unit(f"CĐCS Hợp tác xã {n}", parent=world.commune_a)
    form, valid = _chosen({"unit": "", "unit__typed": "hop tac xa"})
    assert not valid
    html = str(form["unit"])
    assert 'name="unit__typed"' in html and 'value="hop tac xa"' in html


def test_the_report_form_starts_on_the_one_union_where_the_user_writes_reports(world):
    assert ReportRequestForm(user=world.users["leader"])["union"].value() == world.province.pk
