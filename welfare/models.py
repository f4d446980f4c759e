"""The welfare app's models, one module per subject: ``funds/``, ``cases/``, ``loans/``,
``reports/``.

Django finds an app's models through this module; the subjects import each other's models
from their own packages.
"""

from .cases.models import (
    Case,
    CaseAccess,
    CaseEvent,
    CaseQuerySet,
    CaseStatus,
    Category,
    Evidence,
    Payment,
    PaymentMethod,
    SupportType,
    evidence_path,
)
from .funds.models import (
    EntryKind,
    Fund,
    FundKind,
    FundQuerySet,
    LedgerEntry,
    LedgerEntryQuerySet,
    LedgerMonth,
)
from .loans.models import (
    Instalment,
    Loan,
    LoanEvent,
    LoanProduct,
    LoanStatus,
    Repayment,
)
from .reports.models import Report, ReportQuerySet

__all__ = [
    "Case",
    "CaseAccess",
    "CaseEvent",
    "CaseQuerySet",
    "CaseStatus",
    "Category",
    "EntryKind",
    "Evidence",
    "Fund",
    "FundKind",
    "FundQuerySet",
    "Instalment",
    "LedgerEntry",
    "LedgerEntryQuerySet",
    "LedgerMonth",
    "Loan",
    "LoanEvent",
    "LoanProduct",
    "LoanStatus",
    "Payment",
    "PaymentMethod",
    "Repayment",
    "Report",
    "ReportQuerySet",
    "SupportType",
    "evidence_path",
]
