"""The normalised text that member search matches against.

Stored in a column kept up to date by every write path, so a search needs neither
``unaccent()`` at query time nor anything SQLite lacks, and PostgreSQL can use a trigram index.
"""

import unicodedata


def normalise(text: str) -> str:
    """Lower case without Vietnamese marks: "Đặng Thị Hòa" -> "dang thi hoa"."""
    text = text.replace("đ", "d").replace("Đ", "D")
    decomposed = unicodedata.normalize("NFD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(stripped.lower().split())
