"""Access-matrix entries for the welfare views, gathered from one module per subject."""

from .access_cases import ENTRIES as CASE_ENTRIES
from .access_funds import ENTRIES as FUND_ENTRIES

ENTRIES = {**CASE_ENTRIES, **FUND_ENTRIES}
