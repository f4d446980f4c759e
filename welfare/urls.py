from django.urls import include, path

urlpatterns = [
    path("cases/", include("welfare.case_urls")),
    path("funds/", include("welfare.fund_urls")),
    path("reports/", include("welfare.report_urls")),
    path("imports/support/", include("welfare.import_urls")),
]
