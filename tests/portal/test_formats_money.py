from django.utils import translation

from common.money import format_dong
from welfare.funds.forms import DongField


def test_amounts_are_grouped_as_the_active_language_groups_thousands():
    with translation.override("vi"):
        assert format_dong(1_100_900_000) == "1.100.900.000 ₫"
    with translation.override("en"):
        assert format_dong(1_100_900_000) == "1,100,900,000 ₫"
        assert format_dong(-2_500) == "-2,500 ₫"


def test_an_amount_is_read_back_as_either_language_writes_it():
    field = DongField()
    for typed in ("1.500.000", "1,500,000", "1 500 000", "1500000 ₫"):
        assert field.clean(typed) == 1_500_000


def test_an_english_amount_form_shows_its_initial_value_the_english_way():
    with translation.override("en"):
        assert DongField().prepare_value(2_500_000) == "2,500,000"
