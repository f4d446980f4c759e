from django.urls import path

from . import views

app_name = "reports"
urlpatterns = [
    path("", views.report_list, name="list"),
    path("<int:pk>/", views.report_detail, name="detail"),
    path("<int:pk>/status/", views.report_status, name="status"),
    path("<int:pk>/narrative/", views.report_narrative, name="narrative"),
    path("<int:pk>/download.<str:kind>", views.report_download, name="download"),
    path("recounts/<int:pk>/status/", views.recount_status, name="recount_status"),
]
