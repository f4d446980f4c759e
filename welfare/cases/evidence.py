"""Evidence files: PDF, JPEG or PNG, recognised and checked by their content (``common.uploads``:
no script, no polyglot, no image bomb), 10 MB at most, 20 a case.

A file chosen on a case form that comes back with errors is kept as a ``PendingUpload`` of
the person who chose it, so that they need not choose it again; the form carries its token
and the next valid save attaches it like a file just chosen.
"""

from __future__ import annotations

import contextlib
import datetime
import uuid
from collections.abc import Iterable, Sequence

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from common import uploads
from unions.scope import ActingUser, require_actor

from . import rules
from .models import Case, Evidence, PendingUpload

MAX_BYTES = 10 * 1024 * 1024
# Far more than any case needs (a discharge paper, photos of a house), and a bound on what one
# draft can store.
MAX_FILES = 20


def _size(upload: UploadedFile | File[bytes]) -> int:
    # Django's upload handlers (and SimpleUploadedFile) always give an upload its size.
    assert upload.size is not None
    return upload.size


def _refusal(refused: uploads.Refused, name: str) -> ValidationError:
    if refused.code == "active_content":
        message = _(
            "%(name)s is a PDF with scripts, actions or attached files, which the portal does "
            "not accept: print it again as a PDF (or scan the paper) and choose that copy."
        )
    elif refused.code == "polyglot":
        message = _(
            "%(name)s carries a web page or another file besides the document: save the "
            "document again as a PDF, JPEG or PNG and choose that copy."
        )
    elif refused.code == "image_too_large":
        message = _(
            "%(name)s is too large an image (more than %(pixels)s million pixels): take the "
            "photo at a lower resolution or shrink it before choosing it."
        )
    elif refused.code == "damaged":
        message = _("%(name)s is a damaged image that cannot be read: choose it again.")
    else:
        message = _("%(name)s is not a PDF, JPEG or PNG file.")
    pixels = refused.details.get("max", settings.IMAGE_MAX_PIXELS) // 1_000_000
    return ValidationError(message % {"name": name, "pixels": pixels}, code=refused.code)


def check_upload(upload: UploadedFile | File[bytes]) -> tuple[str, str]:
    """The content type and extension of a file fit to keep as evidence (``common.uploads``
    says what is refused); the size is checked before a byte of it is read."""
    name = uploads.display_name(upload.name)
    if _size(upload) > MAX_BYTES:
        raise ValidationError(
            _("%(name)s is larger than 10 MB.") % {"name": name}, code="too_large"
        )
    upload.seek(0)
    data = upload.read()
    upload.seek(0)
    try:
        kind = uploads.inspect(data)
    except uploads.Refused as refused:
        raise _refusal(refused, name) from None
    return kind.content_type, kind.extension


def check_count(*, held: int, adding: int) -> None:
    if held + adding > MAX_FILES:
        raise ValidationError(
            _("A case holds at most %(max)d evidence files; this would make %(count)d.")
            % {"max": MAX_FILES, "count": held + adding},
            code="too_many",
        )


def _owned(by: User, case: Case | None) -> QuerySet[PendingUpload]:
    """The pending uploads ``by`` kept on the form of ``case`` (None: a new case's form)."""
    return PendingUpload.objects.filter(owner=by, case=case)


class KeptFileLost(ValidationError):
    """A kept file is no longer there (cleaned after a day) or was never this person's."""


@transaction.atomic
def add_evidence(
    *,
    case: Case,
    files: Sequence[UploadedFile],
    by: User,
    kept: Sequence[PendingUpload] = (),
) -> list[Evidence]:
    """All the files or none, while the case can be changed (``rules.add_evidence``): each file
    is checked before the first is stored, so a refused one leaves nothing behind.  ``kept``
    are files kept from an earlier try of the form: only the acting user's, for this case or
    for the new-case form; they are checked again like new ones, and removed once attached."""
    status = Case.objects.select_for_update().values_list("status", flat=True).get(pk=case.pk)
    case.status = status
    rules.decide(by, case, "evidence").enforce()
    claimed = (
        list(
            PendingUpload.objects.select_for_update()
            .filter(Q(case=case) | Q(case__isnull=True), owner=by, pk__in=[p.pk for p in kept])
            .order_by("created_at", "id")
        )
        if kept
        else []
    )
    if len(claimed) < len(kept):
        raise KeptFileLost(
            {"evidence": _("A file kept from your earlier try is no longer kept. Choose it again.")}
        )
    check_count(held=case.evidence.count(), adding=len(files) + len(claimed))
    with contextlib.ExitStack() as stack:
        chosen: list[UploadedFile | File[bytes]] = list(files)
        for pending in claimed:
            try:
                handle = stack.enter_context(pending.file.open("rb"))
            except FileNotFoundError as missing:
                lost = _("%(name)s is no longer kept. Choose it again.")
                raise KeptFileLost(
                    {"evidence": lost % {"name": pending.original_name}}
                ) from missing
            chosen.append(File(handle, name=pending.original_name))
        kinds = [check_upload(upload) for upload in chosen]
        stored = [
            _store(case, upload, kind, by) for upload, kind in zip(chosen, kinds, strict=True)
        ]
    _discard(claimed)
    return stored


def attach_evidence(*, case: Case, upload: UploadedFile, by: User) -> Evidence:
    return add_evidence(case=case, files=[upload], by=by)[0]


def _store(
    case: Case, upload: UploadedFile | File[bytes], kind: tuple[str, str], by: User
) -> Evidence:
    content_type, extension = kind
    evidence = Evidence(
        case=case,
        original_name=uploads.display_name(upload.name),
        content_type=content_type,
        size=_size(upload),
        uploaded_by=by,
    )
    # Stored under a random name: what the user called the file never becomes a path.
    evidence.file.save(f"{uuid.uuid4().hex}{extension}", upload, save=False)
    evidence.save()
    return evidence


# --- files kept across a form shown again -------------------------------------------------


@transaction.atomic
def keep_uploads(
    *, files: Iterable[UploadedFile], by: ActingUser, case: Case | None = None
) -> list[PendingUpload]:
    """Keep files chosen on a form that is shown again with errors, as ``by``'s pending uploads
    for ``case`` (None: the new-case form).  Only files that pass ``check_upload`` are kept."""
    actor = require_actor(by)
    kept = []
    for upload in files:
        content_type, extension = check_upload(upload)
        pending = PendingUpload(
            owner=actor,
            case=case,
            original_name=uploads.display_name(upload.name),
            content_type=content_type,
            size=_size(upload),
        )
        pending.file.save(f"{uuid.uuid4().hex}{extension}", upload, save=False)
        pending.save()
        kept.append(pending)
    return kept


def find_kept(
    tokens: Iterable[str], *, by: User, case: Case | None = None
) -> tuple[list[PendingUpload], int]:
    """The pending uploads behind a form's tokens that ``by`` kept for ``case``, in the order
    they were kept, and how many tokens named nothing of theirs (cleaned, or someone else's)."""
    wanted = {token for token in tokens if token}
    if not wanted:
        return [], 0
    found = list(_owned(by, case).filter(token__in=wanted).order_by("created_at", "id"))
    return found, len(wanted) - len(found)


@transaction.atomic
def discard_kept(*, tokens: Iterable[str], by: ActingUser, case: Case | None = None) -> int:
    """Remove the kept files the person unticked on the form: only their own."""
    actor = require_actor(by)
    doomed = list(_owned(actor, case).filter(token__in=set(tokens)))
    _discard(doomed)
    return len(doomed)


def _discard(pending: Sequence[PendingUpload]) -> None:
    """Delete the rows now and their files once the transaction is committed (a rollback keeps
    both)."""
    names = [upload.file.name for upload in pending]
    PendingUpload.objects.filter(pk__in=[upload.pk for upload in pending]).delete()
    transaction.on_commit(lambda: _delete_files(names))


def _delete_files(names: Iterable[str]) -> None:
    for name in names:
        with contextlib.suppress(FileNotFoundError):
            default_storage.delete(name)


def clean_pending_uploads(*, now: datetime.datetime | None = None) -> int:
    """Delete the pending uploads (rows and files) kept longer than PENDING_UPLOAD_HOURS, and
    any file left in pending/ without its row; the number of rows deleted."""
    now = now or timezone.now()
    cutoff = now - datetime.timedelta(hours=settings.PENDING_UPLOAD_HOURS)
    with transaction.atomic():
        old = list(PendingUpload.objects.select_for_update().filter(created_at__lt=cutoff))
        _discard(old)
    known = set(PendingUpload.objects.values_list("file", flat=True))
    with contextlib.suppress(FileNotFoundError):
        for filename in default_storage.listdir("pending")[1]:
            name = f"pending/{filename}"
            if name not in known and default_storage.get_modified_time(name) < cutoff:
                _delete_files([name])
    return len(old)


def store_file(
    *, case: Case, upload: UploadedFile, by: User, kinds: Iterable[str] | None = None
) -> Evidence:
    """Check one file by its content and keep it as the case's evidence, whatever the case's
    status: for the services that prove a later step with a file (a shelter's hand-over photo),
    which check their own rule.  ``kinds`` limits the content types taken."""
    kind = check_upload(upload)
    if kinds is not None and kind[0] not in kinds:
        raise ValidationError(
            _("%(name)s is not a JPEG or PNG photo.") % {"name": upload.name}, code="file_type"
        )
    return _store(case, upload, kind, by)
