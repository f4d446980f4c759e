from django.urls import path

from . import views

app_name = "privacy"
urlpatterns = [
    path("", views.access_log_list, name="access_log"),
    path("subjects/<int:pk>/archive/", views.subject_archive, name="subject_archive"),
    path("subjects/<int:pk>/notice.pdf", views.notice, name="notice"),
    path("subjects/<int:pk>/requests/new/", views.request_create, name="request_create"),
    path("requests/", views.request_list, name="requests"),
    path("requests/<int:pk>/", views.request_detail, name="request"),
    path("requests/<int:pk>/answer/", views.request_answer, name="request_answer"),
    path("requests/<int:pk>/lift/", views.request_lift, name="request_lift"),
]
