from django.urls import path

from . import views

app_name = "privacy"
urlpatterns = [
    path("", views.access_log_list, name="access_log"),
    path("subjects/<int:pk>/archive/", views.subject_archive, name="subject_archive"),
]
