"""Amounts in words as they are written on payment vouchers and decisions."""

import pytest

from common.money import amount_in_words, format_dong

CASES = [
    (0, "Không đồng"),
    (1, "Một đồng"),
    (5, "Năm đồng"),
    (10, "Mười đồng"),
    (11, "Mười một đồng"),
    (14, "Mười bốn đồng"),
    (15, "Mười lăm đồng"),
    (20, "Hai mươi đồng"),
    (21, "Hai mươi mốt đồng"),
    (24, "Hai mươi bốn đồng"),
    (25, "Hai mươi lăm đồng"),
    (100, "Một trăm đồng"),
    (101, "Một trăm linh một đồng"),
    (105, "Một trăm linh năm đồng"),
    (110, "Một trăm mười đồng"),
    (115, "Một trăm mười lăm đồng"),
    (151, "Một trăm năm mươi mốt đồng"),
    (1_005, "Một nghìn không trăm linh năm đồng"),
    (1_050, "Một nghìn không trăm năm mươi đồng"),
    (10_000, "Mười nghìn đồng"),
    (15_000, "Mười lăm nghìn đồng"),
    (21_000, "Hai mươi mốt nghìn đồng"),
    (500_000, "Năm trăm nghìn đồng"),
    (1_000_000, "Một triệu đồng"),
    (2_005_000, "Hai triệu không trăm linh năm nghìn đồng"),
    (2_500_000, "Hai triệu năm trăm nghìn đồng"),
    (3_040_000, "Ba triệu không trăm bốn mươi nghìn đồng"),
    (1_000_000_005, "Một tỷ không trăm linh năm đồng"),
    (1_100_900_000, "Một tỷ một trăm triệu chín trăm nghìn đồng"),
    (1_000_000_000_000, "Một nghìn tỷ đồng"),
    (5_000_000_000_000_000_000, "Năm tỷ tỷ đồng"),
]


@pytest.mark.parametrize(("amount", "words"), CASES)
def test_amount_in_words(amount, words):
    assert amount_in_words(amount) == words


def test_a_negative_amount_has_no_words():
    with pytest.raises(ValueError):
        amount_in_words(-1)


def test_format_dong():
    assert format_dong(1_100_900_000) == "1.100.900.000 ₫"
