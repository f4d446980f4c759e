"""Amounts in whole đồng, grouped as the reader's language groups thousands (Vietnamese
"1.500.000 ₫", English "1,500,000 ₫"), and in words on payment documents."""

from django.utils.formats import number_format

DIGITS = ("không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín")
# Below a billion, by groups of three digits; a billion and above repeat them before "tỷ".
GROUPS = ("", "nghìn", "triệu")
BILLION = 1_000_000_000


def format_number(value: int) -> str:
    """1100900000 -> "1.100.900.000" in Vietnamese, "1,100,900,000" in English: the active
    language's separator (documents are written inside ``translation.override("vi")``)."""
    return number_format(value, use_l10n=True, force_grouping=True)


def format_dong(amount: int) -> str:
    """1100900000 -> "1.100.900.000 ₫" in Vietnamese, "1,100,900,000 ₫" in English."""
    return f"{format_number(amount)} ₫"


def _tens_and_units(tens: int, units: int) -> list[str]:
    if tens == 0:
        return [DIGITS[units]] if units else []
    words = ["mười"] if tens == 1 else [DIGITS[tens], "mươi"]
    if units == 1:
        words.append("mốt" if tens > 1 else "một")
    elif units == 5:
        words.append("lăm")
    elif units:
        words.append(DIGITS[units])
    return words


def _three_digits(value: int, *, full: bool) -> list[str]:
    """0..999.  ``full`` when a higher group was read before: "không trăm linh năm"."""
    hundreds, tens, units = value // 100, value // 10 % 10, value % 10
    words: list[str] = []
    if hundreds or full:
        words += [DIGITS[hundreds], "trăm"]
        if tens == 0 and units:
            words.append("linh")
    return words + _tens_and_units(tens, units)


def _below_billion(value: int, *, full: bool) -> list[str]:
    words: list[str] = []
    for index in reversed(range(len(GROUPS))):
        group = value // 1000**index % 1000
        if group:
            words += _three_digits(group, full=full)
            if GROUPS[index]:
                words.append(GROUPS[index])
            full = True
    return words


def _words(value: int, *, full: bool = False) -> list[str]:
    if value < BILLION:
        return _below_billion(value, full=full)
    billions, rest = divmod(value, BILLION)
    return [*_words(billions, full=full), "tỷ", *_below_billion(rest, full=True)]


def amount_in_words(amount: int) -> str:
    """2_500_000 -> "Hai triệu năm trăm nghìn đồng", as written on payment documents.

    The official (Northern) reading: "không trăm linh" for empty hundreds and tens after a
    higher group, "mốt" and "lăm" after a ten, "bốn" rather than "tư".
    """
    if amount < 0:
        raise ValueError("an amount in words is never negative")
    words = _words(amount) or [DIGITS[0]]
    text = " ".join([*words, "đồng"])
    return text[0].upper() + text[1:]
