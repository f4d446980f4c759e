"""Evidence files: PDF, JPEG or PNG, recognised by their content, 10 MB at most."""

from __future__ import annotations

import os
import uuid
from collections.abc import Sequence

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils.translation import gettext as _

from . import rules
from .models import Case, Evidence

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


def _size(upload: UploadedFile) -> int:
    # Django's upload handlers (and SimpleUploadedFile) always give an upload its size.
    assert upload.size is not None
    return upload.size


def check_upload(upload: UploadedFile) -> tuple[str, str]:
    if _size(upload) > MAX_BYTES:
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
def add_evidence(*, case: Case, files: Sequence[UploadedFile], by: User) -> list[Evidence]:
    """All the files or none, while the case can be changed (``rules.add_evidence``): each file
    is checked before the first is stored, so a refused one leaves nothing behind."""
    status = Case.objects.select_for_update().values_list("status", flat=True).get(pk=case.pk)
    case.status = status
    rules.decide(by, case, "evidence").enforce()
    kinds = [check_upload(upload) for upload in files]
    return [_store(case, upload, kind, by) for upload, kind in zip(files, kinds, strict=True)]


def attach_evidence(*, case: Case, upload: UploadedFile, by: User) -> Evidence:
    return add_evidence(case=case, files=[upload], by=by)[0]


def _store(case: Case, upload: UploadedFile, kind: tuple[str, str], by: User) -> Evidence:
    content_type, extension = kind
    original = os.path.basename(upload.name or "")[:255]
    # Stored under a random name: what the user called the file never becomes a path.
    upload.name = f"{uuid.uuid4().hex}{extension}"
    return Evidence.objects.create(
        case=case,
        file=upload,
        original_name=original,
        content_type=content_type,
        size=_size(upload),
        uploaded_by=by,
    )
