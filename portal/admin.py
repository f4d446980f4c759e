from django.contrib import admin
from django.contrib.admin.apps import AdminConfig


class SuperuserAdminSite(admin.AdminSite):
    """The Django admin is a superuser's tool; everyone else works in the portal's own pages."""

    site_header = "Tương Thân"

    def has_permission(self, request):
        return request.user.is_active and request.user.is_superuser


class PortalAdminConfig(AdminConfig):
    default_site = "portal.admin.SuperuserAdminSite"

    def ready(self):
        super().ready()
        from . import checks  # noqa: F401  (registers the portal's deploy checks)
