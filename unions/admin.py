from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from common.admin import RecordAdmin

from .models import Placement, RoleAssignment, SecondFactorEvent, Unit, UnitEvent


@admin.register(Unit)
class UnitAdmin(SimpleHistoryAdmin):
    list_display = ["name", "code", "kind", "status", "parent"]
    list_filter = ["kind", "status"]
    search_fields = ["name", "code"]
    raw_id_fields = ["parent", "successor"]
    readonly_fields = ["path", "depth"]


@admin.register(Placement)
class PlacementAdmin(admin.ModelAdmin):
    list_display = ["unit", "parent", "valid_from", "valid_to"]
    raw_id_fields = ["unit", "parent"]


@admin.register(UnitEvent)
class UnitEventAdmin(admin.ModelAdmin):
    list_display = ["unit", "kind", "effective_on", "by", "recorded_at"]
    raw_id_fields = ["unit", "old_parent", "new_parent", "other_unit"]


@admin.register(RoleAssignment)
class RoleAssignmentAdmin(SimpleHistoryAdmin):
    list_display = ["user", "role", "unit"]
    list_filter = ["role"]
    raw_id_fields = ["user", "unit", "granted_by"]


@admin.register(SecondFactorEvent)
class SecondFactorEventAdmin(RecordAdmin):
    """The record of set-ups, renewals, recovery codes used and resets: read, never edited."""

    list_display = ["user", "action", "by", "at"]
    list_filter = ["action"]
    search_fields = ["user__username"]
    raw_id_fields = ["user", "by"]
