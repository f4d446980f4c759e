"""Validation of the 12-digit personal identification number (CCCD) and the older 9-digit CMND.

The CCCD has no check digit.  Its first three digits are the province where the birth was
registered, the fourth encodes the century of birth and sex, the next two the year of birth.
"""

from __future__ import annotations

import datetime
import re
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from common.imports.cells import CellError, cell_text

# Province codes of birth registration (Circular 07/2016/TT-BCA, the 63 provinces before 2025).
PROVINCE_CODES: dict[str, str] = {
    "001": "Hà Nội", "002": "Hà Giang", "004": "Cao Bằng", "006": "Bắc Kạn",
    "008": "Tuyên Quang", "010": "Lào Cai", "011": "Điện Biên", "012": "Lai Châu",
    "014": "Sơn La", "015": "Yên Bái", "017": "Hòa Bình", "019": "Thái Nguyên",
    "020": "Lạng Sơn", "022": "Quảng Ninh", "024": "Bắc Giang", "025": "Phú Thọ",
    "026": "Vĩnh Phúc", "027": "Bắc Ninh", "030": "Hải Dương", "031": "Hải Phòng",
    "033": "Hưng Yên", "034": "Thái Bình", "035": "Hà Nam", "036": "Nam Định",
    "037": "Ninh Bình", "038": "Thanh Hóa", "040": "Nghệ An", "042": "Hà Tĩnh",
    "044": "Quảng Bình", "045": "Quảng Trị", "046": "Thừa Thiên Huế", "048": "Đà Nẵng",
    "049": "Quảng Nam", "051": "Quảng Ngãi", "052": "Bình Định", "054": "Phú Yên",
    "056": "Khánh Hòa", "058": "Ninh Thuận", "060": "Bình Thuận", "062": "Kon Tum",
    "064": "Gia Lai", "066": "Đắk Lắk", "067": "Đắk Nông", "068": "Lâm Đồng",
    "070": "Bình Phước", "072": "Tây Ninh", "074": "Bình Dương", "075": "Đồng Nai",
    "077": "Bà Rịa - Vũng Tàu", "079": "Hồ Chí Minh", "080": "Long An", "082": "Tiền Giang",
    "083": "Bến Tre", "084": "Trà Vinh", "086": "Vĩnh Long", "087": "Đồng Tháp",
    "089": "An Giang", "091": "Kiên Giang", "092": "Cần Thơ", "093": "Hậu Giang",
    "094": "Sóc Trăng", "095": "Bạc Liêu", "096": "Cà Mau",
}  # fmt: skip

FIRST_CENTURY = 1900  # digit 0/1 = born 1900-1999; each later century adds 2


def century_sex_digit(year: int, sex: str) -> int:
    return (year // 100 - FIRST_CENTURY // 100) * 2 + (1 if sex == "female" else 0)


def make_national_id(province: str, date_of_birth: datetime.date, sex: str, serial: int) -> str:
    """A number that passes ``validate_national_id`` (demo data and tests)."""
    digit = century_sex_digit(date_of_birth.year, sex)
    return f"{province}{digit}{date_of_birth.year % 100:02d}{serial % 1_000_000:06d}"


def clean_national_id(raw: str) -> str:
    return "".join(raw.split()).replace(".", "").replace("-", "")


def validate_national_id(number: str, *, date_of_birth: datetime.date | None, sex: str | None):
    """Raise ValidationError unless ``number`` fits a CCCD (or CMND) for this birth date and sex."""
    if not number.isdigit() or len(number) not in (9, 12):
        raise ValidationError(
            _("The identification number must have 12 digits (or 9 for an old ID card)."),
            code="format",
        )
    if len(number) == 9:
        return
    if number[:3] not in PROVINCE_CODES:
        raise ValidationError(
            _("%(code)s is not a province code: the first three digits must name a province.")
            % {"code": number[:3]},
            code="province",
        )
    if date_of_birth is None or sex not in ("male", "female"):
        return
    expected_digit = century_sex_digit(date_of_birth.year, sex)
    if not 0 <= expected_digit <= 9 or int(number[3]) != expected_digit:
        raise ValidationError(
            _(
                "The fourth digit (%(digit)s) does not match the sex and century of birth "
                "entered: expected %(expected)s."
            )
            % {"digit": number[3], "expected": expected_digit},
            code="century_sex",
        )
    if number[4:6] != f"{date_of_birth.year % 100:02d}":
        raise ValidationError(
            _("Digits 5-6 (%(digits)s) must be the year of birth (%(year)s).")
            % {"digits": number[4:6], "year": f"{date_of_birth.year % 100:02d}"},
            code="year",
        )


_SCIENTIFIC = re.compile(r"\d[.,]?\d*e\+?\d+$", re.IGNORECASE)


def national_id_from(value: Any) -> str:
    """The ID as digits; a number that lost its leading zero in Excel gets it back."""
    if isinstance(value, float) and not value.is_integer():
        raise CellError(_("“%(value)s” is not an identification number.") % {"value": value})
    text = cell_text(value).lstrip("'")
    if ("e" in text or "E" in text) and _SCIENTIFIC.search(text):
        raise CellError(
            _(
                "The number was shown in scientific notation (%(value)s) and its last digits "
                "were lost: format the column as text and type the number again."
            )
            % {"value": text}
        )
    digits = clean_national_id(text)
    if digits.isdigit() and len(digits) in (8, 10, 11):
        # A number that lost its leading zeros in Excel: a CMND (9 digits) or a CCCD (12; the
        # provinces 001-009 lose two).  The checks against the birth date catch a wrong guess.
        digits = digits.zfill(9 if len(digits) == 8 else 12)
    return digits


MASK = "\u2022"  # •


def masked(value: str) -> str:
    """The ID number as lists, pages and exports show it by default: only its last four
    digits ("••••••••1234"); revealing the rest is a recorded step (members/access_log.py)."""
    if not value:
        return ""
    shown = 4 if len(value) > 4 else 0
    return MASK * (len(value) - shown) + value[len(value) - shown :]


def masked_or_missing(value: str | None) -> str:
    """The masked number, or what to say of an unidentified worker's missing one."""
    return masked(value) if value else _("No ID number yet")
