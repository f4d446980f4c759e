"""Import of a campaign's contributions: the import pages of ``unions/import_views.py`` for it,
included by ``welfare/urls.py`` under ``campaigns/imports/``."""

from __future__ import annotations

from django.utils.translation import gettext_lazy

from common.models import ImportJob
from unions.import_views import ImportPages

CONTRIBUTION_PAGES = ImportPages(
    kind=ImportJob.Kind.CONTRIBUTIONS,
    url_prefix="contribution_imports:",
    title=gettext_lazy("Import a list of contributions"),
    intro=gettext_lazy(
        "Upload a list of contributions to your union's campaigns: each row is posted to the "
        "campaign's fund with its receipt number. You will see what would be added and refused "
        "first; a receipt already recorded is not recorded again."
    ),
    back_url="campaigns:list",
    back_label=gettext_lazy("Campaigns"),
    updates=False,
)

app_name = "contribution_imports"
urlpatterns = CONTRIBUTION_PAGES.urlpatterns()
