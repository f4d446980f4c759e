"""The inbox: a user's own notices, newest first; opening one marks it read."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from . import notices
from .http import AuthenticatedHttpRequest
from .keyset import KeysetPaginator
from .models import Notice


def notice_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    mine = Notice.objects.filter(recipient=request.user)
    page = KeysetPaginator(mine, ["-created_at", "-id"], settings.PAGE_SIZE).get_page(request.GET)
    has_unread = mine.unread().exists()
    return render(request, "notices/list.html", {"page": page, "has_unread": has_unread})


@require_POST
def notice_open(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    notice = notices.get_notice_for_user(request.user, pk)
    notices.mark_read(notice=notice, by=request.user)
    if notice.url and notices.is_local_path(notice.url):
        return redirect(notice.url)
    return redirect("notices:list")


@require_POST
def notice_read_all(request: AuthenticatedHttpRequest) -> HttpResponse:
    marked = notices.mark_all_read(by=request.user)
    if marked:
        messages.success(request, _("All your notices are marked as read."))
    return redirect("notices:list")
