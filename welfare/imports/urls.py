"""Past-support import pages, included by ``welfare/urls.py`` under ``imports/support/``."""

from .views import SUPPORT_PAGES

app_name = "support_imports"
urlpatterns = SUPPORT_PAGES.urlpatterns()
