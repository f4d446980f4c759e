from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from .access_log import record_member_access
from .models import Dependant, Member, MemberAccess, Membership
from .national_id import masked


class DependantInline(admin.TabularInline):
    model = Dependant
    extra = 0


@admin.register(Member)
class MemberAdmin(SimpleHistoryAdmin):
    """The superusers' tool: its list shows ID numbers masked like the portal's (a search by
    the full number still finds them), and opening a member's form is logged like the
    portal's edit form, since it shows the full number."""

    list_display = ["full_name", "masked_national_id", "unit", "status", "kind"]
    list_filter = ["status", "kind", "sex"]
    search_fields = ["full_name", "national_id", "union_card_number"]
    raw_id_fields = ["unit"]
    inlines = [DependantInline]

    @admin.display(description=_("personal ID number (CCCD)"), ordering="national_id")
    def masked_national_id(self, member: Member) -> str:
        return masked(member.national_id or "")

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        if request.method == "GET" and response.status_code == 200:
            member = self.get_object(request, object_id)
            if member is not None:
                record_member_access(
                    member=member,
                    by=request.user,
                    what=MemberAccess.What.EDIT,
                    detail="django-admin",
                )
        return response


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["member", "unit", "valid_from", "valid_to", "reason"]
    raw_id_fields = ["member", "unit", "by"]
