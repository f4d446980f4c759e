"""Cells as real sheets hold them: numbers stored as text, dates three ways, invisible marks.

Each reader turns one cell into a value or raises ``CellError`` with the reason in the user's
language; the schemas of the apps above call them column by column.
"""

from __future__ import annotations

import datetime
import re
import unicodedata
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl.utils.datetime import from_excel

from common.text import normalise, tidy_name


class CellError(ValueError):
    """One cell cannot be read; the message says why, in the user's language."""


# --------------------------------------------------------------------------------------------
# Reading cells as real sheets hold them
# --------------------------------------------------------------------------------------------

_INVISIBLE_MARKS = "\u200b\u200c\u200d\ufeff"
_INVISIBLE = dict.fromkeys(map(ord, _INVISIBLE_MARKS))
_INVISIBLE_FOUND = re.compile(f"[{_INVISIBLE_MARKS}]").search


def cell_text(value: Any) -> str:
    """A cell as tidy text: NFC Unicode, single spaces, numbers without a trailing ".0"."""
    if value is None:
        return ""
    if type(value) is not str:
        return _other_text(value)
    if not value.isascii():  # (cheap: CPython knows it without scanning)
        value = unicodedata.normalize("NFC", value)
        if _INVISIBLE_FOUND(value):
            value = value.translate(_INVISIBLE)
    return " ".join(value.split())


def _other_text(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime.datetime) and value.time() == datetime.time():
        value = value.date()
    if isinstance(value, datetime.date) and not isinstance(value, datetime.datetime):
        return value.strftime("%d/%m/%Y")
    return cell_text(str(value))


def person_name(value: Any) -> str:
    """Each word capitalised, Vietnamese letters kept: "NGUYỄN văn  an" -> "Nguyễn Văn An"."""
    words = tidy_name(cell_text(value)).split()
    return " ".join(word[:1].upper() + word[1:].lower() for word in words)


_DATE_DMY = re.compile(r"^(\d{1,2})\s*[/.\-]\s*(\d{1,2})\s*[/.\-]\s*(\d{2}|\d{4})$")
_DATE_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_EXCEL_SERIALS = (2, 2958465)  # 01/01/1900 .. 31/12/9999


def date_from(value: Any) -> datetime.date | None:
    """A date from a real Excel date, an Excel serial number, or text as dd/mm/yyyy or d/m/yy."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    text = cell_text(value)
    if not text:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        if 1000 <= value <= 2999 and float(value).is_integer():
            raise CellError(
                _("“%(value)s” is only a year: the full date is needed (dd/mm/yyyy).")
                % {"value": text}
            )
        if _EXCEL_SERIALS[0] <= value <= _EXCEL_SERIALS[1]:
            return from_excel(value).date()
    text = text.split(" ")[0]  # "15/03/1985 00:00:00"
    try:
        if match := _DATE_DMY.match(text):
            day, month, year = (int(part) for part in match.groups())
            if len(match.group(3)) == 2:
                year += 2000 if year <= timezone.localdate().year % 100 else 1900
            return datetime.date(year, month, day)
        if match := _DATE_ISO.match(text):
            year, month, day = (int(part) for part in match.groups())
            return datetime.date(year, month, day)
    except ValueError:
        pass
    if re.fullmatch(r"\d{4}", text):
        raise CellError(
            _("“%(value)s” is only a year: the full date is needed (dd/mm/yyyy).") % {"value": text}
        )
    raise CellError(_("“%(value)s” is not a date: write it as dd/mm/yyyy.") % {"value": text})


_YES_NO = {
    **dict.fromkeys(["x", "co", "có", "c", "1", "yes", "y", "true", "v", "✓", "√", "dung"], True),
    **dict.fromkeys(["0", "khong", "không", "k", "no", "n", "false", "-"], False),
}


def yes_no_from(value: Any) -> bool | None:
    """x / có / 1 / yes for yes; không / 0 / no for no; an empty cell says nothing."""
    text = cell_text(value)
    if not text:
        return None
    try:
        return choice(text, _YES_NO)
    except KeyError:
        raise CellError(
            _("“%(value)s” is not yes or no: write x for yes, leave the cell empty for no.")
            % {"value": text}
        ) from None


def amount_from(value: Any) -> int:
    """Whole đồng from 1500000, "1.500.000", "1,500,000 đ" or "1.500.000 ₫"."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        if float(value).is_integer() and value > 0:
            return int(value)
    else:
        text = re.sub(r"(?i)\s*(vnd|vnđ|đồng|dong|đ|₫)\s*$", "", cell_text(value))
        digits = re.sub(r"[.,\s]", "", text)
        if digits.isdigit() and int(digits) > 0:
            return int(digits)
    raise CellError(_("“%(value)s” is not an amount in đồng.") % {"value": cell_text(value) or "0"})


def phone_from(value: Any) -> str:
    """A phone number; one stored as a number that lost its leading 0 gets it back."""
    text = cell_text(value).lstrip("'")
    if isinstance(value, int | float) and len(text) == 9 and text.isdigit():
        return "0" + text
    return text


def header_key(text: Any) -> str:
    """A header compared without case, marks or punctuation: "Số CCCD/CMND" -> "so cccd cmnd"."""
    return re.sub(r"[^a-z0-9]+", " ", normalise(cell_text(text))).strip()


def shown(value: Any) -> str:
    """A cell as the user typed it, for the refused-rows list and spreadsheet."""
    return cell_text(value)


# --------------------------------------------------------------------------------------------
# Reading the table: the header row anywhere in the first rows, then the data
# --------------------------------------------------------------------------------------------


def choice(text: str, table: dict[str, Any]) -> Any:
    """The value ``text`` names in ``table`` (keys without marks), tried as typed first."""
    key = text.lower()
    if key in table:
        return table[key]
    key = normalise(text).strip(".")
    if key in table:
        return table[key]
    raise KeyError(key)
