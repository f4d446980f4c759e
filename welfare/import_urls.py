"""Past-support import pages, included by ``welfare/urls.py`` under ``imports/support/``."""

from django.urls import path

from . import import_views as views

app_name = "support_imports"
urlpatterns = [
    path("", views.job_list, name="list"),
    path("template.xlsx", views.template_download, name="template"),
    path("<int:pk>/", views.job_detail, name="detail"),
    path("<int:pk>/status/", views.job_status, name="status"),
    path("<int:pk>/confirm/", views.job_confirm, name="confirm"),
    path("<int:pk>/cancel/", views.job_cancel, name="cancel"),
    path("<int:pk>/refused.xlsx", views.job_refused, name="refused"),
]
