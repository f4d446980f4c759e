from django.urls import path

from . import document_views, views

app_name = "cases"
urlpatterns = [
    path("", views.case_list, name="list"),
    path("export.<str:fmt>", views.case_export, name="export"),
    path("funds/", views.fund_search, name="fund_search"),
    path("new/", views.case_create, name="create"),
    path("<int:pk>/", views.case_detail, name="detail"),
    path("<int:pk>/access/", views.case_access, name="access"),
    path("<int:pk>/edit/", views.case_edit, name="edit"),
    path("<int:pk>/evidence/", views.evidence_add, name="evidence_add"),
    path("<int:pk>/submit/", views.case_submit, name="submit"),
    path("<int:pk>/endorse/", views.case_endorse, name="endorse"),
    path("<int:pk>/return/", views.case_return, name="return"),
    path("<int:pk>/reject/", views.case_reject, name="reject"),
    path("<int:pk>/approve/", views.case_approve, name="approve"),
    path("<int:pk>/pay/", views.case_pay, name="pay"),
    path("evidence/<int:pk>/", views.evidence_download, name="evidence"),
    path("<int:pk>/documents/<slug:slug>.pdf", document_views.case_document, name="document"),
]
