"""A case's documents as PDF downloads, for anyone who may read the case.

Rendered inside the request: one case's document is one or two pages and WeasyPrint writes
it in 0.3-0.5 s, so it needs no background job.  Each download is kept in
the case's access log, like an evidence download.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.cache import patch_cache_control

from . import approvals
from .access_log import record_case_access
from .documents import DOCUMENTS, render_case_document


def case_document(request: HttpRequest, pk: int, slug: str) -> HttpResponse:
    case = approvals.get_case_for_user(request.user, pk)
    document = DOCUMENTS.get(slug)
    if document is None:
        raise Http404
    if not document.available_for(case):
        messages.error(request, document.not_yet)
        return redirect("cases:detail", case.pk)
    content = render_case_document(document, case)
    record_case_access(case=case, by=request.user, what=document.access)
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{document.filename(case)}"'
    response["X-Content-Type-Options"] = "nosniff"
    patch_cache_control(response, private=True, no_store=True)
    return response
