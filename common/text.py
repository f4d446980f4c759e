"""Text as searches compare it: lower case, without Vietnamese marks."""

import unicodedata
from typing import Any, Protocol


class _Searchable(Protocol):
    search_name: str


def normalise(text: str) -> str:
    """Lower case without Vietnamese marks: "Đặng Thị Hòa" -> "dang thi hoa"."""
    text = text.replace("đ", "d").replace("Đ", "D")
    decomposed = unicodedata.normalize("NFD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(stripped.lower().split())


# Vietnamese letters with a mark of their own sort after the plain letter: a ă â, d đ, e ê,
# o ô ơ, u ư. The key spells them with characters that compare above "z" in byte order.
_LETTER_MARKS = {"\u0306": "{", "\u0302": "|", "\u031b": "}"}  # breve, circumflex, horn


def sort_key(text: str) -> str:
    """A name as Vietnamese order sorts it, compared bytewise: "Đào" after every "Dương",
    "Ân" after "Anh". Tones do not count (the name itself breaks ties)."""
    text = text.replace("đ", "d{").replace("Đ", "d{")
    decomposed = unicodedata.normalize("NFD", text.lower())
    key = "".join(
        _LETTER_MARKS.get(ch, "") if unicodedata.combining(ch) else ch for ch in decomposed
    )
    return " ".join(key.split())


def keep_search_name(instance: _Searchable, source: str, save_kwargs: dict[str, Any]) -> None:
    """Before ``instance.save(**save_kwargs)``: set its ``search_name`` from its ``source``
    field (and its ``sort_name``, where the model sorts by one), and write them too when the
    save names the fields to write and ``source`` is one."""
    text = getattr(instance, source)
    instance.search_name = normalise(text)
    kept = {"search_name"}
    if hasattr(instance, "sort_name"):
        instance.sort_name = sort_key(text)
        kept.add("sort_name")
    fields = save_kwargs.get("update_fields")
    if fields is not None and source in fields:
        save_kwargs["update_fields"] = {*fields, *kept}


def tidy_name(text: str) -> str:
    """Single spaces between the words of a name, none around it."""
    return " ".join(text.split())
