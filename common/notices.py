"""Notices: what the portal tells one user, kept in their inbox and e-mailed when they have an
address.  Any subject (cases today; loans and programs later) composes its text and calls
``notify``; this module knows nothing of what the notices are about.

The notice is stored in the caller's transaction, so a refused step leaves none; the e-mail is
queued only once that transaction commits, and a mail server that fails loses the e-mail, never
the step nor the inbox notice.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import PermissionDenied
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.http import Http404
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.http import url_has_allowed_host_and_scheme

from .models import Notice

logger = logging.getLogger(__name__)

Reader = AbstractBaseUser | AnonymousUser | None

# The bell counts unread notices up to here and then says "99+".
BELL_COUNTED = 99


def notify(*, recipient: User, subject: str, body: str, url: str) -> Notice:
    """Store a notice for ``recipient`` and, once the caller's transaction commits, e-mail it
    if they have an address.  ``url`` is a path inside the portal ("/cases/12/")."""
    if not is_local_path(url):
        raise ValueError(f"a notice links inside the portal, not to {url!r}")
    notice = Notice.objects.create(recipient=recipient, subject=subject, body=body, url=url)
    if recipient.email and recipient.is_active:
        from .tasks import email_notice

        # robust: a broker that is down is logged, and the request that committed the step
        # still answers; the notice waits in the inbox either way.
        def send() -> None:  # a named function: Django logs a failing hook by its name
            email_notice.delay(notice.pk)

        transaction.on_commit(send, robust=True)
    return notice


def is_local_path(url: str) -> bool:
    return url.startswith("/") and url_has_allowed_host_and_scheme(url, allowed_hosts=None)


def absolute_url(path: str) -> str:
    return f"{settings.PORTAL_URL}{path}"


def send_email(notice_id: int) -> bool:
    """E-mail a stored notice once: a notice already e-mailed, or whose recipient has no
    address any more, is left alone.  Raises what the mail server raises."""
    notice = Notice.objects.select_related("recipient").filter(pk=notice_id).first()
    if notice is None or notice.emailed_at is not None or not notice.recipient.email:
        return False
    context: dict[str, Any] = {
        "notice": notice,
        "link": absolute_url(notice.url) if notice.url else "",
        "inbox": absolute_url("/notices/"),
    }
    # The notice's own text was written in the site's language; the e-mail around it too.
    with translation.override(settings.LANGUAGE_CODE):
        text = render_to_string("notices/email.txt", context)
        html = render_to_string("notices/email.html", context)
    message = EmailMultiAlternatives(
        subject=notice.subject,
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[notice.recipient.email],
    )
    message.attach_alternative(html, "text/html")
    message.send()
    Notice.objects.filter(pk=notice.pk).update(emailed_at=timezone.now())
    return True


# --- the inbox -------------------------------------------------------------------------------


def _reader(user: Reader) -> AbstractBaseUser:
    if user is None or not user.is_authenticated:
        raise PermissionDenied
    return user


def get_notice_for_user(user: Reader, pk: int) -> Notice:
    """The user's own notice; anyone else's answers 404, as if it did not exist."""
    reader = _reader(user)
    notice = Notice.objects.filter(pk=pk, recipient_id=reader.pk).first()
    if notice is None:
        raise Http404
    return notice


def mark_read(*, notice: Notice, by: Reader) -> Notice:
    """Mark one of ``by``'s own notices read (the first reading's time is kept)."""
    reader = _reader(by)
    if notice.recipient_id != reader.pk:
        raise Http404
    if notice.read_at is None:
        notice.read_at = timezone.now()
        Notice.objects.filter(pk=notice.pk, read_at__isnull=True).update(read_at=notice.read_at)
    return notice


def mark_all_read(*, by: Reader) -> int:
    """Mark every unread notice of ``by`` read; how many were."""
    reader = _reader(by)
    return Notice.objects.unread().filter(recipient_id=reader.pk).update(read_at=timezone.now())


def unread_count(user: Reader, *, up_to: int = BELL_COUNTED) -> int:
    """The user's unread notices counted up to ``up_to + 1`` (more than ``up_to``: "99+"), in
    one query that reads at most that many index entries; 0 and no query for a visitor."""
    if user is None or not user.is_authenticated:
        return 0
    unread = Notice.objects.unread().filter(recipient_id=user.pk).order_by()
    return unread.values("pk")[: up_to + 1].count()
