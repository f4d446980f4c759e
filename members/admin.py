from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import Dependant, Member, Membership


class DependantInline(admin.TabularInline):
    model = Dependant
    extra = 0


@admin.register(Member)
class MemberAdmin(SimpleHistoryAdmin):
    list_display = ["full_name", "national_id", "unit", "status", "kind"]
    list_filter = ["status", "kind", "sex"]
    search_fields = ["full_name", "national_id", "union_card_number"]
    raw_id_fields = ["unit"]
    inlines = [DependantInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["member", "unit", "valid_from", "valid_to", "reason"]
    raw_id_fields = ["member", "unit", "by"]
