from django.contrib import admin


class RecordAdmin(admin.ModelAdmin):
    """A record the portal writes through its services and never edits (a consent, a request's
    answer, a second-factor event): the admin shows it, and changes nothing."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
