"""The portal's URLs plus views that fail, for the error pages (tests/portal/test_production.py)."""

from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.urls import path

from portal.urls import urlpatterns as portal_urlpatterns


def broken(request):
    raise RuntimeError("secret detail of the failure")


def suspicious(request):
    raise SuspiciousOperation("secret detail of the bad request")


def refused(request):
    raise PermissionDenied


urlpatterns = [
    path("test-faults/500/", broken),
    path("test-faults/400/", suspicious),
    path("test-faults/403/", refused),
    *portal_urlpatterns,
]
