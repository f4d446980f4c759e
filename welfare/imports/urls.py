"""Past-support import pages, included by ``welfare/urls.py`` under ``imports/support/``."""

from django.urls import path

from .views import SUPPORT_PAGES, open_fund

app_name = "support_imports"
urlpatterns = [
    *SUPPORT_PAGES.urlpatterns(),
    path("<int:pk>/funds/<int:index>/open/", open_fund, name="open_fund"),
]
