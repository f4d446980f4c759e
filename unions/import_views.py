"""Pages of a spreadsheet import: upload, preview with the refused rows, confirm, progress.

The same views serve every kind of import into a unit (the member list in
``members/import_views.py``, past support records in ``welfare/imports/``); an ``ImportPages``
says which kind and where its URLs are.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, cast

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from common.forms import apply_service_errors
from common.imports import engine as imports
from common.imports import workbooks

from .forms import UnitChoiceField
from .importing import UnitImportSchema
from .models import Unit, UnitKind
from .scope import can_anywhere, get_unit_for_user, only_unit_held
from .widgets import UnitSearchSelect

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
    other_kind: str = ""
    updates: bool = True  # whether rows can update what is there (members) or only add
    # More for the job's page: (request, job) -> context (the past-support import's missing
    # funds, offered to be opened).
    detail_context: Callable[[HttpRequest, Any], dict] | None = None

    def url(self, name: str, *args) -> str:
        return reverse(f"{self.url_prefix}{name}", args=args)

    def offers_other(self, user) -> bool:
        """Whether the link to the other kind of import is for ``user``: only where they may
        import that kind too (an administrator may import members, not support records)."""
        if not self.other_kind:
            return False
        schema = imports.schema_for(self.other_kind)
        return isinstance(schema, UnitImportSchema) and can_anywhere(user, schema.capability)

    @property
    def schema(self) -> UnitImportSchema:
        schema = imports.schema_for(self.kind)
        assert isinstance(schema, UnitImportSchema)
        return schema

    def urlpatterns(self) -> list[URLPattern]:
        """The import's pages, named after ``url_prefix`` inside the including namespace."""
        name = self.url_prefix.partition(":")[2]
        return [
            path("", partial(job_list, pages=self), name=f"{name}list"),
            path("template.xlsx", partial(template_download, pages=self), name=f"{name}template"),
            path("<int:pk>/", partial(job_detail, pages=self), name=f"{name}detail"),
            path("<int:pk>/status/", partial(job_status, pages=self), name=f"{name}status"),
            path("<int:pk>/confirm/", partial(job_confirm, pages=self), name=f"{name}confirm"),
            path("<int:pk>/cancel/", partial(job_cancel, pages=self), name=f"{name}cancel"),
            path("<int:pk>/refused.xlsx", partial(job_refused, pages=self), name=f"{name}refused"),
        ]


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
        cast(UnitChoiceField, self.fields["unit"]).queryset = units
        self.fields["unit"].widget.search = {"for": capability, "active": "1"}
        self.fields["unit"].initial = only_unit_held(user, capability)
        self.option_names = list(pages.schema.option_fields())
        self.fields.update(pages.schema.option_fields())

    @property
    def options(self) -> dict:
        return {name: self.cleaned_data.get(name) for name in self.option_names}

    def option_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.option_names]

    def clean_file(self):
        upload = self.cleaned_data["file"]
        imports.check_upload(upload)
        return upload


def _require(user, pages: ImportPages) -> None:
    if not can_anywhere(user, pages.schema.capability):
        raise PermissionDenied


def job_list(request: HttpRequest, pages: ImportPages) -> HttpResponse:
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
                options=form.options,
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            return redirect(pages.url("detail", job.pk))
    jobs = (
        pages.schema.visible_jobs(request.user)
        .filter(kind=pages.kind)
        .select_related("unit", "created_by")
    )
    page = Paginator(jobs, settings.PAGE_SIZE).get_page(request.GET.get("page"))
    required = pages.schema.required_keys(Unit(kind=UnitKind.GRASSROOTS))
    return render(
        request,
        "imports/list.html",
        {
            "form": form,
            "page": page,
            "pages": pages,
            "offers_other": pages.offers_other(request.user),
            "template_url": pages.url("template"),
            "required_headers": [c.header for c in pages.schema.columns if c.key in required],
            "code_header": next(
                (c.header for c in pages.schema.columns if c.key == "unit_code"), ""
            ),
        },
    )


def job_detail(request: HttpRequest, pk: int, pages: ImportPages) -> HttpResponse:
    job = imports.get_job_for_user(request.user, pk, kind=pages.kind)
    extra = pages.detail_context(request, job) if pages.detail_context else {}
    return render(
        request,
        "imports/detail.html",
        {
            "job": job,
            "pages": pages,
            "is_owner": job.created_by_id == request.user.pk,
            "shown_refused": len(job.refused_sample),
            **extra,
        },
    )


def job_status(request: HttpRequest, pk: int, pages: ImportPages) -> JsonResponse:
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
def job_confirm(request: HttpRequest, pk: int, pages: ImportPages) -> HttpResponse:
    job = imports.get_job_for_user(request.user, pk, kind=pages.kind)
    try:
        job = imports.confirm_import(job=job, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect(pages.url("detail", job.pk))


@require_POST
def job_cancel(request: HttpRequest, pk: int, pages: ImportPages) -> HttpResponse:
    job = imports.get_job_for_user(request.user, pk, kind=pages.kind)
    try:
        imports.cancel_import(job=job, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.info(request, _("The import was cancelled: nothing was written."))
    return redirect(pages.url("list"))


def job_refused(request: HttpRequest, pk: int, pages: ImportPages) -> FileResponse:
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


def template_download(request: HttpRequest, pages: ImportPages) -> HttpResponse:
    """The empty list to fill in; for a union (``?unit=``), with its units' codes."""
    _require(request.user, pages)
    unit = None
    if request.GET.get("unit", "").isdigit():
        unit = get_unit_for_user(
            request.user, request.GET["unit"], capability=pages.schema.capability
        )
    content = workbooks.template_workbook(pages.schema, unit)
    response = HttpResponse(content, content_type=XLSX)
    filename = pages.schema.template_filename
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
