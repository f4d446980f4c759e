"""Member import pages, included by ``members/urls.py`` under ``import/``."""

from .import_views import MEMBER_PAGES

urlpatterns = MEMBER_PAGES.urlpatterns()
