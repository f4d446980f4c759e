"""Import of past support records: the pages of ``members.import_views`` for that schema."""

from __future__ import annotations

from django.utils.translation import gettext_lazy

from members import import_views as generic
from members.import_views import ImportPages
from members.models import ImportJob

SUPPORT_PAGES = ImportPages(
    kind=ImportJob.Kind.SUPPORT,
    url_prefix="support_imports:",
    title=gettext_lazy("Import past support records"),
    intro=gettext_lazy(
        "Upload a list of support already approved and paid before the portal, so that the "
        "reports of those years count it. Each record becomes a paid case at its union; fund "
        "balances are not changed. You will see what would be added and refused first."
    ),
    back_url="cases:list",
    back_label=gettext_lazy("Cases"),
    other_url="members:import_list",
    other_label=gettext_lazy("Import members"),
    updates=False,
)


def job_list(request, pages=SUPPORT_PAGES):
    return generic.job_list(request, pages)


def template_download(request, pages=SUPPORT_PAGES):
    return generic.template_download(request, pages)


def job_detail(request, pk, pages=SUPPORT_PAGES):
    return generic.job_detail(request, pk, pages)


def job_status(request, pk, pages=SUPPORT_PAGES):
    return generic.job_status(request, pk, pages)


def job_confirm(request, pk, pages=SUPPORT_PAGES):
    return generic.job_confirm(request, pk, pages)


def job_cancel(request, pk, pages=SUPPORT_PAGES):
    return generic.job_cancel(request, pk, pages)


def job_refused(request, pk, pages=SUPPORT_PAGES):
    return generic.job_refused(request, pk, pages)
