"""The normalised text that member search matches against.

Stored in a column kept up to date by every write path, so a search needs neither
``unaccent()`` at query time nor anything SQLite lacks, and PostgreSQL can use a trigram index.
"""

from common.text import normalise


def name_words(text: str) -> str | None:
    """The normalised name a search looks for, or None when it is an ID or card number."""
    if "".join(text.split()).isdigit():
        return None
    return normalise(text) or None


# pg_trgm cannot use its index for a shorter term.
TRIGRAM_MIN_LENGTH = 3


def uses_trigram_index(text: str, vendor: str) -> bool:
    """Whether a search for ``text`` is a name search the trigram index can serve."""
    words = name_words(text)
    return vendor == "postgresql" and words is not None and len(words) >= TRIGRAM_MIN_LENGTH
