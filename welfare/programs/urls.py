from django.urls import path

from . import import_views, run_views, signature_views, views

app_name = "programs"
urlpatterns = [
    path("", views.program_list, name="list"),
    path("new/", views.program_create, name="create"),
    path("<int:pk>/", views.program_detail, name="detail"),
    path("<int:pk>/units/", views.participant_add, name="participant_add"),
    path("<int:pk>/copy/", views.program_copy, name="copy"),
    path("<int:pk>/runs/", run_views.run_start, name="run_start"),
    path("runs/<int:pk>/", run_views.run_detail, name="run"),
    path("runs/<int:pk>/status/", run_views.run_status, name="run_status"),
    path("units/<int:pk>/batch/", views.batch_start, name="batch_start"),
    path("batches/<int:pk>/", views.batch_detail, name="batch"),
    path("batches/<int:pk>/people/", views.batch_people, name="batch_people"),
    path("batches/<int:pk>/import/", import_views.batch_import, name="batch_import"),
    path("batches/<int:pk>/lines/", views.batch_lines, name="batch_lines"),
    path("batches/<int:pk>/submit/", views.batch_submit, name="batch_submit"),
    path("batches/<int:pk>/endorse/", views.batch_endorse, name="batch_endorse"),
    path("batches/<int:pk>/return/", views.batch_return, name="batch_return"),
    path("batches/<int:pk>/reject/", views.batch_reject, name="batch_reject"),
    path("batches/<int:pk>/approve/", views.batch_approve, name="batch_approve"),
    path("batches/<int:pk>/pay/", views.batch_pay, name="batch_pay"),
    path(
        "batches/<int:pk>/signature-list/",
        signature_views.batch_signature_list,
        name="batch_signature_list",
    ),
    path("batches/<int:pk>/signed/", signature_views.signed_list_add, name="signed_list_add"),
    path("signed/<int:pk>/", signature_views.signed_list, name="signed_list"),
    path(
        "<int:pk>/signature-lists/",
        signature_views.program_signature_lists,
        name="program_signature_lists",
    ),
    path("signature-lists/<int:pk>/", signature_views.signature_list, name="signature_list"),
    path(
        "signature-lists/<int:pk>/status/",
        signature_views.signature_list_status,
        name="signature_list_status",
    ),
    path(
        "signature-lists/<int:pk>/download/",
        signature_views.signature_list_download,
        name="signature_list_download",
    ),
]
