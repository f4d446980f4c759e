"""The personal identification number (CCCD): its shape, and agreement with birth date and sex."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext, override

from members.forms import MemberForm
from members.models import Member
from members.national_id import make_national_id, validate_national_id


@pytest.mark.parametrize(
    ("number", "date_of_birth", "sex"),
    [
        ("001085123456", datetime.date(1985, 3, 14), "male"),
        ("079190000001", datetime.date(1990, 12, 31), "female"),
        ("020099654321", datetime.date(1999, 1, 1), "male"),
        ("001200000001", datetime.date(2000, 1, 1), "male"),
        ("096303123456", datetime.date(2003, 7, 9), "female"),
        ("031205000042", datetime.date(2005, 2, 28), "male"),
    ],
)
def test_cccd_matching_birth_year_and_sex_is_accepted(number, date_of_birth, sex):
    validate_national_id(number, date_of_birth=date_of_birth, sex=sex)


@pytest.mark.parametrize(
    ("number", "date_of_birth", "sex", "code"),
    [
        ("00108512345", datetime.date(1985, 3, 14), "male", "format"),
        ("0010851234567", datetime.date(1985, 3, 14), "male", "format"),
        ("00108512345a", datetime.date(1985, 3, 14), "male", "format"),
        ("", datetime.date(1985, 3, 14), "male", "format"),
        ("12345678", None, None, "format"),
        ("003085123456", datetime.date(1985, 3, 14), "male", "province"),
        ("099085123456", datetime.date(1985, 3, 14), "male", "province"),
        ("000085123456", datetime.date(1985, 3, 14), "male", "province"),
        ("001185123456", datetime.date(1985, 3, 14), "male", "century_sex"),
        ("001090123456", datetime.date(1990, 6, 1), "female", "century_sex"),
        ("001003123456", datetime.date(2003, 6, 1), "male", "century_sex"),
        ("001203123456", datetime.date(2003, 6, 1), "female", "century_sex"),
        ("001086123456", datetime.date(1985, 3, 14), "male", "year"),
        ("079304123456", datetime.date(2003, 6, 1), "female", "year"),
    ],
)
def test_cccd_that_does_not_fit_is_refused_with_its_reason(number, date_of_birth, sex, code):
    with pytest.raises(ValidationError) as refused:
        validate_national_id(number, date_of_birth=date_of_birth, sex=sex)
    assert refused.value.code == code


def test_unknown_province_code_is_named_in_the_message():
    with override("en"), pytest.raises(ValidationError) as refused:
        validate_national_id("099085123456", date_of_birth=None, sex=None)
    assert "099" in refused.value.messages[0]


@pytest.mark.parametrize("sex", ["male", "female"])
def test_old_nine_digit_id_card_is_accepted(sex):
    validate_national_id("012345678", date_of_birth=datetime.date(1970, 1, 1), sex=sex)


def test_shape_and_province_are_checked_even_without_birth_date_and_sex():
    validate_national_id("001185123456", date_of_birth=None, sex=None)
    with pytest.raises(ValidationError):
        validate_national_id("003085123456", date_of_birth=None, sex=None)


@pytest.mark.parametrize("province", ["001", "020", "079", "096"])
@pytest.mark.parametrize("sex", ["male", "female"])
@pytest.mark.parametrize(
    "date_of_birth",
    [datetime.date(1900, 1, 1), datetime.date(1968, 8, 19), datetime.date(1999, 12, 31),
     datetime.date(2000, 1, 1), datetime.date(2007, 5, 5)],
)  # fmt: skip
def test_generated_demo_numbers_are_valid(province, sex, date_of_birth):
    number = make_national_id(province, date_of_birth, sex, 123)
    assert len(number) == 12
    validate_national_id(number, date_of_birth=date_of_birth, sex=sex)


# Through the member form --------------------------------------------------------------------


def _data(world, **overrides) -> dict:
    return {
        "full_name": "Trần  Thị Mai",
        "sex": "female",
        "date_of_birth": "1990-04-02",
        "national_id": "020190000777",
        "phone": "0912345678",
        "address": "Phường Chi Lăng",
        "unit": str(world.a1.pk),
        "kind": "member",
        "union_card_number": "C777",
        "joined_on": "2015-09-01",
        "occupation": "Công nhân may",
        "status": "active",
        **overrides,
    }


def _form(world, **overrides) -> MemberForm:
    return MemberForm(data=_data(world, **overrides), user=world.users["grassroots"])


def _refused_codes(world, field: str, **overrides) -> list[str]:
    members_before = Member.objects.count()
    form = _form(world, **overrides)
    assert not form.is_valid()
    assert Member.objects.count() == members_before
    assert field in form.errors, form.errors
    return [error.code for error in form.errors.as_data()[field]]


def test_complete_member_form_is_valid(world):
    form = _form(world)
    assert form.is_valid(), form.errors
    assert form.cleaned_data["full_name"] == "Trần Thị Mai"
    assert form.cleaned_data["unit"] == world.a1


def test_national_id_typed_with_separators_is_accepted(world):
    """People copy the number as printed, in groups: "020 190 000 777"."""
    form = _form(world, national_id="020 190 000 777")
    assert form.is_valid(), form.errors
    assert form.cleaned_data["national_id"] == "020190000777"


def test_form_refuses_a_malformed_national_id(world):
    assert _refused_codes(world, "national_id", national_id="02019000077x") == ["format"]


def test_form_refuses_a_national_id_that_disagrees_with_sex(world):
    assert _refused_codes(world, "national_id", sex="male") == ["century_sex"]


def test_form_refuses_a_national_id_that_disagrees_with_the_birth_year(world):
    assert _refused_codes(world, "national_id", date_of_birth="1991-04-02") == ["year"]


def test_form_refuses_a_birth_date_in_the_future(world):
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    _refused_codes(world, "date_of_birth", date_of_birth=tomorrow.isoformat())


def test_form_refuses_a_national_id_already_registered(world):
    existing = world.member_b1.national_id
    assert _refused_codes(
        world,
        "national_id",
        national_id=existing,
        date_of_birth=world.member_b1.date_of_birth.isoformat(),
    ) == ["unique"]
    with override("en"):
        form = _form(
            world, national_id=existing, date_of_birth=world.member_b1.date_of_birth.isoformat()
        )
        assert "already registered" in form.errors["national_id"][0]


def test_form_refuses_a_union_outside_the_officers_scope(world):
    assert _refused_codes(world, "unit", unit=str(world.a2.pk)) == ["invalid_choice"]
    assert _refused_codes(world, "unit", unit=str(world.q1.pk)) == ["invalid_choice"]


def test_form_refuses_a_unit_that_is_not_a_grassroots_union(world):
    staff = world.users["commune"]
    form = MemberForm(data=_data(world, unit=str(world.commune_a.pk)), user=staff)
    assert not form.is_valid()
    assert [e.code for e in form.errors.as_data()["unit"]] == ["invalid_choice"]


@pytest.mark.parametrize(
    "field", ["full_name", "sex", "date_of_birth", "national_id", "unit", "kind"]
)
def test_form_refuses_a_missing_required_field(world, field):
    assert _refused_codes(world, field, **{field: ""}) == ["required"]


def test_member_form_errors_come_in_vietnamese(world):
    with override("vi"):
        form = _form(world, full_name="")
        assert not form.is_valid()
        assert form.errors["full_name"] == ["Trường này là bắt buộc."]


def test_member_form_errors_come_in_english_when_asked(world):
    with override("en"):
        form = _form(world, full_name="")
        assert not form.is_valid()
        assert form.errors["full_name"] == ["This field is required."]
        assert gettext("This field is required.") == "This field is required."


def test_read_only_role_cannot_choose_any_union(world):
    form = MemberForm(data=_data(world), user=world.users["leader"])
    assert not form.is_valid()
    assert [e.code for e in form.errors.as_data()["unit"]] == ["invalid_choice"]


def test_form_refuses_a_union_card_number_another_person_holds(world):
    world.member_b1.union_card_number = "C777"
    world.member_b1.save()
    assert _refused_codes(world, "union_card_number", union_card_number=" C777 ") == ["unique"]
    with override("vi"):
        form = _form(world, union_card_number="C777")
        assert form.errors["union_card_number"] == ["Một người khác đã có số thẻ đoàn viên này."]
        assert "__all__" not in form.errors


def test_the_same_union_card_number_may_be_saved_again_on_its_own_member(world):
    member = world.member_b1
    member.union_card_number = "C900"
    member.save()
    data = _data(world, national_id=member.national_id, union_card_number="C900")
    data.update(
        full_name=member.full_name,
        sex=member.sex,
        date_of_birth=member.date_of_birth.isoformat(),
        kind=member.kind,
        status=member.status,
        joined_on=member.joined_on.isoformat(),
    )
    form = MemberForm(data=data, instance=member, user=world.users["admin"])
    assert "union_card_number" not in form.errors
