"""The welfare app's models, one module per subject: ``funds/``, ``cases/``,
``programs/``, ``reports/``.

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
from .programs.models import (
    Applies,
    Batch,
    BatchEvent,
    BatchLine,
    Level,
    LineStatus,
    Participant,
    Program,
    Unpaid,
)
from .reports.models import Report, ReportQuerySet

__all__ = [
    "Applies",
    "Batch",
    "BatchEvent",
    "BatchLine",
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
    "Level",
    "LineStatus",
    "Participant",
    "Payment",
    "PaymentMethod",
    "PendingUpload",
    "Program",
    "Report",
    "ReportQuerySet",
    "SupportType",
    "Unpaid",
    "evidence_path",
]
