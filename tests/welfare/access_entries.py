"""Access-matrix entries for the welfare views, gathered from one module per subject."""

from .access_batch_imports import ENTRIES as BATCH_IMPORT_ENTRIES
from .access_campaigns import ENTRIES as CAMPAIGN_ENTRIES
from .access_cases import ENTRIES as CASE_ENTRIES
from .access_funds import ENTRIES as FUND_ENTRIES
from .access_loans import ENTRIES as LOAN_ENTRIES
from .access_programs import ENTRIES as PROGRAM_ENTRIES
from .access_reports import ENTRIES as REPORT_ENTRIES
from .access_shelters import ENTRIES as SHELTER_ENTRIES

ENTRIES = {
    **BATCH_IMPORT_ENTRIES,
    **CAMPAIGN_ENTRIES,
    **CASE_ENTRIES,
    **FUND_ENTRIES,
    **LOAN_ENTRIES,
    **PROGRAM_ENTRIES,
    **REPORT_ENTRIES,
    **SHELTER_ENTRIES,
}
