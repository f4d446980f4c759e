"""Amounts in the report's prose: rounded short, and never rounded up (or down) without saying
so."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from welfare.reports.words import short_dong

SIZES = {"tỷ": 10**9, "triệu": 10**6, "nghìn": 10**3}
SHAPE = re.compile(r"^(?:(gần|hơn) )?([\d.]+(?:,\d+)?) (?:(tỷ|triệu|nghìn) )?đồng$")


def read_back(text: str) -> tuple[str, Decimal, Decimal]:
    """(the word before, the amount the text says, half a step of its last digit)."""
    match = SHAPE.match(text)
    assert match, text
    word, figure, unit = match.groups()
    size = SIZES[unit] if unit else 1
    whole, _, fraction = figure.replace(".", "").partition(",")
    value = Decimal(f"{whole}.{fraction}" if fraction else whole) * size
    half = Decimal(size) / (2 * 10 ** len(fraction)) if unit else Decimal(0)
    return word or "", value, half


@pytest.mark.parametrize(
    ("amount", "text"),
    [
        (2_973_300_000, "hơn 2,97 tỷ đồng"),
        (3_000_000_000, "3 tỷ đồng"),
        (2_999_000_000, "gần 3 tỷ đồng"),
        (120_000_000, "120 triệu đồng"),
        (383_100_000, "383,1 triệu đồng"),
        (14_183_333, "gần 14,2 triệu đồng"),
        (999_960_000, "gần 1 tỷ đồng"),
        (1_500, "1,5 nghìn đồng"),
        (999, "999 đồng"),
        (0, "0 đồng"),
        (12_345_678_900_000, "gần 12.346 tỷ đồng"),
    ],
)
def test_hand_written_amounts(amount, text):
    assert short_dong(amount) == text


@given(st.integers(min_value=0, max_value=10**15))
def test_the_prose_says_which_way_it_rounded(amount):
    word, value, half = read_back(short_dong(amount))
    if word == "":
        assert value == amount
    elif word == "gần":
        assert amount < value <= amount + half
    else:
        assert amount - half <= value < amount
