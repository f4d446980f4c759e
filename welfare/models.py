"""The welfare app's models, one module per subject: ``funds/``, ``cases/``, ``loans/``,
``programs/``, ``campaigns/``, ``reports/``.

Django finds an app's models through this module; the subjects import each other's models
from their own packages.
"""

from .campaigns.models import Campaign, CampaignQuerySet, Contribution, DonorKind
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
from .loans.models import (
    Instalment,
    Loan,
    LoanEvent,
    LoanProduct,
    LoanStatus,
    Repayment,
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
    "Campaign",
    "CampaignQuerySet",
    "Case",
    "CaseAccess",
    "CaseEvent",
    "CaseQuerySet",
    "CaseStatus",
    "Category",
    "Contribution",
    "DonorKind",
    "EntryKind",
    "Evidence",
    "Fund",
    "FundKind",
    "FundQuerySet",
    "Instalment",
    "LedgerEntry",
    "LedgerEntryQuerySet",
    "LedgerMonth",
    "Level",
    "LineStatus",
    "Loan",
    "LoanEvent",
    "LoanProduct",
    "LoanStatus",
    "Participant",
    "Payment",
    "PaymentMethod",
    "PendingUpload",
    "Program",
    "Repayment",
    "Report",
    "ReportQuerySet",
    "SupportType",
    "Unpaid",
    "evidence_path",
]
