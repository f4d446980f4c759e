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


def keep_search_name(instance: _Searchable, source: str, save_kwargs: dict[str, Any]) -> None:
    """Before ``instance.save(**save_kwargs)``: set its ``search_name`` from its ``source``
    field, and write it too when the save names the fields to write and ``source`` is one."""
    instance.search_name = normalise(getattr(instance, source))
    fields = save_kwargs.get("update_fields")
    if fields is not None and source in fields:
        save_kwargs["update_fields"] = {*fields, "search_name"}


def tidy_name(text: str) -> str:
    """Single spaces between the words of a name, none around it."""
    return " ".join(text.split())
