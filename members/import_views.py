"""The member list import's pages: the import pages of ``unions/import_views.py`` for it."""

from __future__ import annotations

from django.utils.translation import gettext_lazy

from common.models import ImportJob
from unions.import_views import ImportPages

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
    other_kind=ImportJob.Kind.SUPPORT,
    other_label=gettext_lazy("Import past support records"),
)
