from django.urls import include, path

from . import second_factor_views, views

unit_patterns = (
    [
        path("", views.unit_tree, name="tree"),
        path("new/", views.unit_create, name="create"),
        path("search/", views.unit_search, name="search"),
        path("<int:pk>/", views.unit_detail, name="detail"),
        path("<int:pk>/children/", views.unit_children, name="children"),
        path("<int:pk>/edit/", views.unit_edit, name="edit"),
        path("<int:pk>/move/", views.unit_move, name="move"),
        path("<int:pk>/merge/", views.unit_merge, name="merge"),
        path("<int:pk>/dissolve/", views.unit_dissolve, name="dissolve"),
    ],
    "units",
)

account_patterns = (
    [
        path("", views.user_list, name="users"),
        path("new/", views.user_create, name="user_create"),
        path("<int:pk>/", views.user_detail, name="user"),
        path("<int:pk>/password/", views.user_password, name="user_password"),
        path("<int:pk>/unlock/", views.user_unlock, name="user_unlock"),
        path(
            "<int:pk>/second-factor/reset/",
            second_factor_views.reset,
            name="user_second_factor_reset",
        ),
        path("<int:pk>/roles/", views.role_grant, name="role_grant"),
        path("roles/<int:pk>/revoke/", views.role_revoke, name="role_revoke"),
    ],
    "accounts",
)

second_factor_patterns = (
    [
        path("", second_factor_views.verify, name="verify"),
        path("setup/", second_factor_views.setup, name="setup"),
        path("recovery-codes/", second_factor_views.recovery_codes, name="recovery_codes"),
        path("mine/", second_factor_views.account, name="account"),
        path("recovery-codes/new/", second_factor_views.renew_codes, name="renew_codes"),
    ],
    "second_factor",
)

urlpatterns = [
    path("accounts/second-factor/", include(second_factor_patterns)),
    path("units/", include(unit_patterns)),
    path("users/", include(account_patterns)),
]
