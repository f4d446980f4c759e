"""Pages of a spreadsheet import: upload, preview with the refused rows, confirm, progress.

The same views serve every kind of import (members here, past support records in
``welfare/import_views.py``); an ``ImportPages`` says which kind and where its URLs are.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from unions.forms import UnitChoiceField
from unions.models import Unit, UnitKind
from unions.scope import get_unit_for_user, has_capability
from unions.views import apply_service_errors
from unions.widgets import UnitSearchSelect

from . import imports
from .models import ImportJob

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class ImportPages:
    kind: str
    url_prefix: str  # "members:import_" -> "members:import_detail", ...
    title: Any
    intro: Any
    back_url: str
    back_label: Any
    other_url: str = ""  # the other kind of import, offered as a link
    other_label: Any = ""
    updates: bool = True  # whether rows can update what is there (members) or only add

    def url(self, name: str, *args) -> str:
        return reverse(f"{self.url_prefix}{name}", args=args)

    @property
    def schema(self) -> imports.Schema:
        return imports.schema_for(self.kind)


MEMBER_PAGES = ImportPages(
    kind=ImportJob.Kind.MEMBERS,
    url_prefix="members:import_",
    title=gettext_lazy("Import members from a spreadsheet"),
    intro=gettext_lazy(
        "Upload the member list of a union as an Excel workbook (.xlsx) or a CSV file in "
        "UTF-8. You will see what would be added, updated and refused before anything is "
        "written."
    ),
    back_url="members:list",
    back_label=gettext_lazy("Members"),
    other_url="support_imports:list",
    other_label=gettext_lazy("Import past support records"),
)


class ImportForm(forms.Form):
    unit = UnitChoiceField(
        queryset=Unit.objects.none(), label=gettext_lazy("Import into"), widget=UnitSearchSelect
    )
    file = forms.FileField(
        label=gettext_lazy("Spreadsheet"),
        help_text=gettext_lazy("Excel workbook (.xlsx) or CSV in UTF-8, up to 50 MB."),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.xlsm,.csv"}),
    )

    def __init__(self, *args, user, pages: ImportPages, **kwargs):
        super().__init__(*args, **kwargs)
        capability = pages.schema.capability
        units = Unit.objects.visible_to(user, capability).active().order_by("path")
        self.fields["unit"].queryset = units
        self.fields["unit"].widget.search = {"for": capability, "active": "1"}
        first_two = list(units[:2])
        if len(first_two) == 1:
            self.fields["unit"].initial = first_two[0].pk

    def clean_file(self):
        upload = self.cleaned_data["file"]
        imports.check_upload(upload)
        return upload


def _require(user, pages: ImportPages) -> None:
    if not has_capability(user, pages.schema.capability):
        raise PermissionDenied


def job_list(request: HttpRequest, pages: ImportPages = MEMBER_PAGES) -> HttpResponse:
    """The upload form and the imports in the user's scope, newest first."""
    _require(request.user, pages)
    initial = {"unit": request.GET["unit"]} if request.GET.get("unit", "").isdigit() else {}
    form = ImportForm(
        request.POST or None, request.FILES or None, user=request.user, pages=pages, initial=initial
    )
    if request.method == "POST" and form.is_valid():
        try:
            job = imports.start_import(
                kind=pages.kind,
                unit=form.cleaned_data["unit"],
                upload=form.cleaned_data["file"],
                by=request.user,
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            return redirect(pages.url("detail", job.pk))
    jobs = (
        ImportJob.objects.visible_to(request.user, pages.schema.capability)
        .filter(kind=pages.kind)
        .select_related("unit", "created_by")
    )
    page = Paginator(jobs, 20).get_page(request.GET.get("page"))
    required = pages.schema.required_keys(Unit(kind=UnitKind.GRASSROOTS))
    return render(
        request,
        "members/import_list.html",
        {
            "form": form,
            "page": page,
            "pages": pages,
            "template_url": pages.url("template"),
            "required_headers": [c.header for c in pages.schema.columns if c.key in required],
            "code_header": next(
                (c.header for c in pages.schema.columns if c.key == "unit_code"), ""
            ),
        },
    )


def job_detail(request: HttpRequest, pk: int, pages: ImportPages = MEMBER_PAGES) -> HttpResponse:
    job = imports.get_job_for_user(request.user, pk, kind=pages.kind)
    return render(
        request,
        "members/import_detail.html",
        {
            "job": job,
            "pages": pages,
            "is_owner": job.created_by_id == request.user.pk,
            "shown_refused": len(job.refused_sample),
        },
    )


def job_status(request: HttpRequest, pk: int, pages: ImportPages = MEMBER_PAGES) -> JsonResponse:
    job = imports.get_job_for_user(request.user, pk, kind=pages.kind)
    return JsonResponse(
        {
            "status": job.status,
            "active": job.is_active,
            "progress": job.progress,
            "label": job.get_status_display(),
        }
    )


@require_POST
def job_confirm(request: HttpRequest, pk: int, pages: ImportPages = MEMBER_PAGES) -> HttpResponse:
    job = imports.get_job_for_user(request.user, pk, kind=pages.kind)
    try:
        job = imports.confirm_import(job=job, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect(pages.url("detail", job.pk))


@require_POST
def job_cancel(request: HttpRequest, pk: int, pages: ImportPages = MEMBER_PAGES) -> HttpResponse:
    job = imports.get_job_for_user(request.user, pk, kind=pages.kind)
    try:
        imports.cancel_import(job=job, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.info(request, _("The import was cancelled: nothing was written."))
    return redirect(pages.url("list"))


def job_refused(request: HttpRequest, pk: int, pages: ImportPages = MEMBER_PAGES) -> FileResponse:
    """The refused rows as a spreadsheet, to be corrected and imported again."""
    job = imports.get_job_for_user(request.user, pk, kind=pages.kind)
    if not job.refused_file:
        raise Http404
    name = f"dong-bi-tu-choi-{job.pk}.xlsx"
    response = FileResponse(
        job.refused_file.open("rb"), as_attachment=True, filename=name, content_type=XLSX
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


def template_download(request: HttpRequest, pages: ImportPages = MEMBER_PAGES) -> HttpResponse:
    """The empty list to fill in; for a union (``?unit=``), with its units' codes."""
    _require(request.user, pages)
    unit = None
    if request.GET.get("unit", "").isdigit():
        unit = get_unit_for_user(
            request.user, request.GET["unit"], capability=pages.schema.capability
        )
    content = imports.template_workbook(pages.schema, unit)
    response = HttpResponse(content, content_type=XLSX)
    filename = pages.schema.template_filename
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
