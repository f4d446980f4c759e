from django.urls import include, path

from . import views

app_name = "members"
urlpatterns = [
    path("", views.member_list, name="list"),
    path("export.<str:fmt>", views.member_export, name="export"),
    path("new/", views.member_create, name="create"),
    path("import/", include("members.import_urls")),
    path("<int:pk>/", views.member_detail, name="detail"),
    path("<int:pk>/reveal-id/", views.member_reveal_id, name="reveal_id"),
    path("<int:pk>/edit/", views.member_edit, name="edit"),
    path("<int:pk>/transfer/", views.member_transfer, name="transfer"),
    path("<int:pk>/consent/", views.member_consent, name="consent"),
    path("<int:pk>/children/new/", views.dependant_create, name="dependant_create"),
    path("children/<int:pk>/edit/", views.dependant_edit, name="dependant_edit"),
    path("children/<int:pk>/delete/", views.dependant_delete, name="dependant_delete"),
]
