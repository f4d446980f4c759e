"""Member import pages, included by ``members/urls.py`` under ``import/``."""

from django.urls import path

from . import import_views as views

urlpatterns = [
    path("", views.job_list, name="import_list"),
    path("template.xlsx", views.template_download, name="import_template"),
    path("<int:pk>/", views.job_detail, name="import_detail"),
    path("<int:pk>/status/", views.job_status, name="import_status"),
    path("<int:pk>/confirm/", views.job_confirm, name="import_confirm"),
    path("<int:pk>/cancel/", views.job_cancel, name="import_cancel"),
    path("<int:pk>/refused.xlsx", views.job_refused, name="import_refused"),
]
