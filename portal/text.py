"""Text as searches compare it: lower case, without Vietnamese marks."""

import unicodedata


def normalise(text: str) -> str:
    """Lower case without Vietnamese marks: "Đặng Thị Hòa" -> "dang thi hoa"."""
    text = text.replace("đ", "d").replace("Đ", "D")
    decomposed = unicodedata.normalize("NFD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(stripped.lower().split())
