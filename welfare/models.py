"""The welfare app's models, one module per subject: ``funds/``, ``cases/``, ``reports/``.

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
    PendingUpload,
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
    "LedgerEntry",
    "LedgerEntryQuerySet",
    "LedgerMonth",
    "Payment",
    "PaymentMethod",
    "PendingUpload",
    "Report",
    "ReportQuerySet",
    "SupportType",
    "evidence_path",
]
