from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from common.admin import RecordAdmin

from .access_log import record_member_access
from .models import Consent, Dependant, Member, MemberAccess, Membership, SubjectRequest
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


@admin.register(Consent)
class ConsentAdmin(RecordAdmin):
    """The legal basis and consents as recorded on the member's page (a withdrawal is a record
    of its own): read here, recorded only there."""

    list_display = ["member", "basis", "notice_version", "given_on", "withdrawn_on", "recorded_by"]
    list_filter = ["basis", "notice_version"]
    search_fields = ["member__full_name"]
    raw_id_fields = ["member", "recorded_by"]


@admin.register(SubjectRequest)
class SubjectRequestAdmin(RecordAdmin):
    """Data-subject requests with their deadlines; answered on the portal's request page."""

    list_display = [
        "member",
        "kind",
        "status",
        "received_on",
        "acknowledge_by",
        "complete_by",
        "completed_on",
        "lifted_on",
    ]
    list_filter = ["kind", "status"]
    search_fields = ["member__full_name"]
    raw_id_fields = ["member", "recorded_by", "closed_by", "lifted_by"]
