from django.urls import include, path

urlpatterns = [
    path("cases/", include("welfare.cases.urls")),
    path("cases/", include("welfare.shelters.urls")),
    path("funds/", include("welfare.funds.urls")),
    path("programs/imports/", include("welfare.programs.import_urls")),
    path("programs/", include("welfare.programs.urls")),
    path("loans/", include("welfare.loans.urls")),
    path("campaigns/imports/", include("welfare.campaigns.import_urls")),
    path("campaigns/", include("welfare.campaigns.urls")),
    path("reports/", include("welfare.reports.urls")),
    path("imports/support/", include("welfare.imports.urls")),
    path("access-log/", include("welfare.privacy.urls")),
]
