"""Import of past support records: the import pages of ``unions/import_views.py`` for it."""

from __future__ import annotations

from django.utils.translation import gettext_lazy

from common.models import ImportJob
from unions.import_views import ImportPages

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
    other_kind=ImportJob.Kind.MEMBERS,
    other_label=gettext_lazy("Import members"),
    updates=False,
)
