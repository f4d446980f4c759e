from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_POST

from unions.exports import Column, export_response
from unions.history import recent_changes
from unions.models import RoleAssignment, Unit, UnitEvent
from unions.scope import Capability, can, get_unit_for_user, has_capability
from unions.views import apply_service_errors

from . import services
from .forms import DependantForm, MemberFilter, MemberForm, TransferForm
from .models import Member, MemberStatus


def _filtered_members(request: HttpRequest) -> MemberFilter:
    members = Member.objects.visible_to(request.user).select_related("unit")
    return MemberFilter(request.GET or None, queryset=members, user=request.user)


MEMBER_COLUMNS = [
    Column(_lazy("Full name"), lambda m: m.full_name),
    Column(_lazy("Sex"), lambda m: m.get_sex_display()),
    Column(_lazy("Date of birth"), lambda m: m.date_of_birth.strftime("%d/%m/%Y")),
    Column(_lazy("ID number"), lambda m: m.national_id),
    Column(_lazy("Union card"), lambda m: m.union_card_number),
    Column(_lazy("Membership"), lambda m: m.get_kind_display()),
    Column(_lazy("Grassroots union"), lambda m: m.unit.name),
    Column(_lazy("Date joined"), lambda m: m.joined_on.strftime("%d/%m/%Y") if m.joined_on else ""),
    Column(_lazy("Occupation"), lambda m: m.occupation),
    Column(_lazy("Phone"), lambda m: m.phone),
    Column(_lazy("Address"), lambda m: m.address),
    Column(_lazy("Status"), lambda m: m.get_status_display()),
    Column(_lazy("Policy family"), lambda m: _("yes") if m.policy_family else ""),
    Column(_lazy("Poor household"), lambda m: _("yes") if m.poor_household else ""),
]


def member_export(request: HttpRequest, fmt: str):
    """Exactly the members the list shows with the same filters, in scope, streamed."""
    members = _filtered_members(request).qs
    return export_response(fmt, members, MEMBER_COLUMNS, "doan-vien", _("Members"))


def member_list(request: HttpRequest) -> HttpResponse:
    member_filter = _filtered_members(request)
    page = Paginator(member_filter.qs, settings.PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "members/member_list.html",
        {"filter": member_filter, "page": page, "query": query.urlencode()},
    )


def member_detail(request: HttpRequest, pk: int) -> HttpResponse:
    member = services.get_member_for_user(request.user, pk)
    return render(
        request,
        "members/member_detail.html",
        {
            "member": member,
            "can_edit": can(request.user, Capability.EDIT_MEMBERS, member.unit),
            "can_open_case": can(request.user, Capability.OPEN_CASES, member.unit),
            "memberships": member.memberships.select_related("unit", "by"),
            "dependants": member.dependants.all(),
            "changes": recent_changes(member.history),
        },
    )


def member_create(request: HttpRequest) -> HttpResponse:
    if not has_capability(request.user, Capability.EDIT_MEMBERS):
        raise PermissionDenied
    initial = {"unit": request.GET.get("unit")} if request.GET.get("unit") else {}
    form = MemberForm(request.POST or None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        member = services.create_member(member=form.save(commit=False), by=request.user)
        messages.success(request, _("%(name)s was added.") % {"name": member.full_name})
        return redirect("members:detail", pk=member.pk)
    return render(request, "members/member_form.html", {"form": form, "title": _("New member")})


def member_edit(request: HttpRequest, pk: int) -> HttpResponse:
    member = services.get_member_for_user(request.user, pk, write=True)
    form = MemberForm(request.POST or None, instance=member, user=request.user)
    if request.method == "POST" and form.is_valid():
        services.update_member(member=form.save(commit=False), by=request.user)
        messages.success(request, _("The changes were saved."))
        return redirect("members:detail", pk=member.pk)
    return render(
        request,
        "members/member_form.html",
        {"form": form, "member": member, "title": _("Edit %(name)s") % {"name": member.full_name}},
    )


def member_transfer(request: HttpRequest, pk: int) -> HttpResponse:
    member = services.get_member_for_user(request.user, pk, write=True)
    form = TransferForm(request.POST or None, user=request.user, member=member)
    if request.method == "POST" and form.is_valid():
        try:
            services.transfer_member(member=member, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, _("The member was transferred."))
            return redirect("members:detail", pk=member.pk)
    return render(
        request,
        "members/member_transfer.html",
        {"form": form, "member": member},
    )


def dependant_create(request: HttpRequest, pk: int) -> HttpResponse:
    member = services.get_member_for_user(request.user, pk, write=True)
    form = DependantForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        dependant = form.save(commit=False)
        dependant.member = member
        dependant.save()
        messages.success(request, _("The child was added."))
        return redirect("members:detail", pk=member.pk)
    return render(
        request,
        "members/dependant_form.html",
        {"form": form, "member": member, "title": _("Add a child")},
    )


def dependant_edit(request: HttpRequest, pk: int) -> HttpResponse:
    dependant = services.get_dependant_for_user(request.user, pk, write=True)
    form = DependantForm(request.POST or None, instance=dependant)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("The changes were saved."))
        return redirect("members:detail", pk=dependant.member_id)
    return render(
        request,
        "members/dependant_form.html",
        {"form": form, "member": dependant.member, "title": dependant.full_name},
    )


@require_POST
def dependant_delete(request: HttpRequest, pk: int) -> HttpResponse:
    dependant = services.get_dependant_for_user(request.user, pk, write=True)
    dependant.delete()
    messages.success(request, _("%(name)s was removed.") % {"name": dependant.full_name})
    return redirect("members:detail", pk=dependant.member_id)


def unit_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A unit's page: its place in the tree, officers, child units, members and history."""
    unit = get_unit_for_user(request.user, pk)
    subtree = Unit.objects.in_subtree_of(unit)
    member_counts = Member.objects.filter(unit__in=subtree.values("pk")).aggregate(
        active=Count("pk", filter=Q(status=MemberStatus.ACTIVE)),
        here=Count("pk", filter=Q(unit=unit, status=MemberStatus.ACTIVE)),
    )
    visible_ancestors = unit.ancestors().filter(pk__in=Unit.objects.visible_to(request.user))
    return render(
        request,
        "unions/unit_detail.html",
        {
            "unit": unit,
            "ancestors": visible_ancestors,
            "children": unit.children.order_by("status", "kind", "name"),
            "officers": RoleAssignment.objects.filter(unit=unit).select_related("user"),
            "members": unit.members.filter(status=MemberStatus.ACTIVE).order_by(
                "search_name", "id"
            )[:20],
            "member_counts": member_counts,
            "subtree_units": subtree.active().count() - 1,
            "events": UnitEvent.objects.filter(unit=unit).select_related(
                "old_parent", "new_parent", "other_unit", "by"
            ),
            "changes": recent_changes(unit.history),
            "can_manage": can(request.user, Capability.MANAGE_TREE, unit),
            "can_add_member": unit.is_active
            and unit.is_grassroots
            and can(request.user, Capability.EDIT_MEMBERS, unit),
        },
    )
