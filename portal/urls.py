from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from django.views.i18n import set_language

from unions import views as union_views

from . import views

# Django's own password pages in the portal's templates (templates/registration/); the reset
# pages are for people who cannot log in, so they need no login.
password_patterns = [
    path(
        "accounts/password/change/",
        union_views.PasswordChangeView.as_view(),
        name="password_change",
    ),
    path(
        "accounts/password/change/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path(
        "accounts/password/reset/",
        login_not_required(auth_views.PasswordResetView.as_view()),
        name="password_reset",
    ),
    path(
        "accounts/password/reset/sent/",
        login_not_required(auth_views.PasswordResetDoneView.as_view()),
        name="password_reset_done",
    ),
    path(
        "accounts/password/reset/<uidb64>/<token>/",
        login_not_required(union_views.PasswordResetConfirmView.as_view()),
        name="password_reset_confirm",
    ),
    path(
        "accounts/password/reset/done/",
        login_not_required(auth_views.PasswordResetCompleteView.as_view()),
        name="password_reset_complete",
    ),
]

urlpatterns = [
    path("", views.home, name="home"),
    path("dashboard/", views.dashboard_fragment, name="dashboard"),
    path("healthz", views.healthz, name="healthz"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    *password_patterns,
    path("i18n/setlang/", login_not_required(set_language), name="set_language"),
    path("", include("unions.urls")),
    path("members/", include("members.urls")),
    path("notices/", include("common.urls")),
    path("", include("welfare.urls")),
    path("django-admin/", admin.site.urls),
]
