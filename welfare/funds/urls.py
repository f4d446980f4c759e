from django.urls import path

from . import views as fund_views

app_name = "funds"
urlpatterns = [
    path("", fund_views.fund_list, name="list"),
    path("new/", fund_views.fund_create, name="create"),
    path("<int:pk>/", fund_views.fund_detail, name="detail"),
    path("<int:pk>/export.<str:fmt>", fund_views.fund_export, name="export"),
    path("<int:pk>/contribute/", fund_views.fund_contribute, name="contribute"),
    path("<int:pk>/allocate/", fund_views.fund_allocate, name="allocate"),
    path("entries/<int:pk>/reverse/", fund_views.entry_reverse, name="reverse"),
]
