"""Who read a case: hardship cases hold health and family details, so every opening of a case
file, every download of its evidence and every printed document is kept (Personal Data
Protection Law), never edited."""

from __future__ import annotations

from .models import Case, CaseAccess, Evidence


def record_case_access(
    *, case: Case, by, what: CaseAccess.What, evidence: Evidence | None = None
) -> CaseAccess:
    return CaseAccess.objects.create(
        case=case,
        user=by,
        what=what,
        evidence_name=evidence.original_name if evidence is not None else "",
    )
