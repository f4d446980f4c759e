"""A batch's import pages, included by ``welfare/urls.py`` under ``programs/imports/``."""

from .import_views import urlpatterns

app_name = "batch_imports"
__all__ = ["app_name", "urlpatterns"]
