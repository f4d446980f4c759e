"""Evidence files: PDF, JPEG or PNG, recognised by their content, 10 MB at most."""

from __future__ import annotations

import os
import uuid

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils.translation import gettext as _

from unions.scope import Capability, can

from .models import Case, CaseStatus, Evidence

MAX_BYTES = 10 * 1024 * 1024
SIGNATURES = {
    b"%PDF-": ("application/pdf", ".pdf"),
    b"\xff\xd8\xff": ("image/jpeg", ".jpg"),
    b"\x89PNG\r\n\x1a\n": ("image/png", ".png"),
}


def sniff(upload: UploadedFile) -> tuple[str, str] | None:
    """The content type and extension the file's first bytes prove, whatever its name says."""
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    for signature, kind in SIGNATURES.items():
        if head.startswith(signature):
            return kind
    return None


def check_upload(upload: UploadedFile) -> tuple[str, str]:
    if upload.size > MAX_BYTES:
        raise ValidationError(
            _("%(name)s is larger than 10 MB.") % {"name": upload.name}, code="too_large"
        )
    kind = sniff(upload)
    if kind is None:
        raise ValidationError(
            _("%(name)s is not a PDF, JPEG or PNG file.") % {"name": upload.name},
            code="file_type",
        )
    return kind


@transaction.atomic
def attach_evidence(*, case: Case, upload: UploadedFile, by: User) -> Evidence:
    """Evidence is added while the case can be changed (draft or returned), by someone who opens
    cases at its union: the file an approver decides on does not change under them."""
    status = Case.objects.select_for_update().values_list("status", flat=True).get(pk=case.pk)
    if status not in (CaseStatus.DRAFT, CaseStatus.RETURNED):
        raise ValidationError(_("Evidence can be added only to a draft or a returned case."))
    if not can(by, Capability.OPEN_CASES, case.unit):
        raise PermissionDenied
    content_type, extension = check_upload(upload)
    original = os.path.basename(upload.name)[:255]
    # Stored under a random name: what the user called the file never becomes a path.
    upload.name = f"{uuid.uuid4().hex}{extension}"
    return Evidence.objects.create(
        case=case,
        file=upload,
        original_name=original,
        content_type=content_type,
        size=upload.size,
        uploaded_by=by,
    )
