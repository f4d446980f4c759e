"""A shelter's pages, under its case: included by ``welfare/urls.py`` at ``cases/``."""

from django.urls import path

from . import views

app_name = "shelters"
urlpatterns = [
    path("<int:pk>/shelter/", views.shelter_edit, name="edit"),
    path("<int:pk>/shelter/progress/", views.shelter_progress, name="progress"),
]
