from django.urls import path

from . import views

app_name = "campaigns"
urlpatterns = [
    path("", views.campaign_list, name="list"),
    path("new/", views.campaign_create, name="create"),
    path("<int:pk>/", views.campaign_detail, name="detail"),
    path("<int:pk>/edit/", views.campaign_edit, name="edit"),
    path("<int:pk>/contributions/new/", views.contribution_add, name="contribute"),
    path("<int:pk>/export.<str:fmt>", views.campaign_export, name="export"),
    path("contributions/<int:pk>/receipt.pdf", views.contribution_receipt, name="receipt"),
]
