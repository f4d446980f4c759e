from django.urls import path

from . import views

app_name = "loans"
urlpatterns = [
    path("", views.loan_list, name="list"),
    path("<int:pk>/", views.loan_detail, name="detail"),
    path("apply/<int:member_pk>/", views.loan_apply, name="apply"),
    path("products/new/<int:fund_pk>/", views.product_create, name="product_create"),
    *(
        path(f"<int:pk>/{step.replace('_', '-')}/", views.loan_step, {"action": step}, name=step)
        for step in (
            "confirm",
            "approve",
            "reject",
            "disburse",
            "repay",
            "reschedule",
            "write_off",
            "recover",
        )
    ),
]
