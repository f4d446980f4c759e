from ..access import Entry

ENTRIES: dict[str, Entry] = {}
