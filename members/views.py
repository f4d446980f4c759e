from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_POST

from common.exports import Column, export_response
from common.forms import apply_service_errors
from common.http import AuthenticatedHttpRequest
from common.keyset import KeysetPaginator, capped_count
from unions.history import recent_changes
from unions.scope import Capability, can, can_anywhere, visible_unit_ids

from . import privacy, services
from .access_log import record_member_access
from .forms import WITHDRAWN, ConsentForm, DependantForm, MemberFilter, MemberForm, TransferForm
from .models import Member, MemberAccess, SubjectRequest
from .national_id import masked_or_missing


def _filtered_members(request: HttpRequest) -> MemberFilter:
    members = Member.objects.visible_to(request.user).select_related("unit")
    return MemberFilter(request.GET or None, queryset=members, user=request.user)


ID_NUMBER: Column[Member] = Column(_lazy("ID number"), lambda m: masked_or_missing(m.national_id))
MEMBER_COLUMNS: list[Column[Member]] = [
    Column(_lazy("Full name"), lambda m: m.full_name),
    Column(_lazy("Sex"), lambda m: m.get_sex_display()),
    Column(_lazy("Date of birth"), lambda m: m.date_of_birth.strftime("%d/%m/%Y")),
    ID_NUMBER,
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


# The same columns with the full ID number, for ``?ids=full``.
FULL_ID_COLUMNS: list[Column[Member]] = [
    Column(ID_NUMBER.header, lambda m: m.national_id or masked_or_missing(None))
    if column is ID_NUMBER
    else column
    for column in MEMBER_COLUMNS
]


def member_export(request: HttpRequest, fmt: str):
    """Exactly the members the list shows with the same filters, in scope, streamed, with the
    ID numbers masked.  ``?ids=full`` gives them whole, to someone who may edit members, for
    the members they may edit only; such an export is recorded."""
    members = _filtered_members(request).qs
    if request.GET.get("ids") != "full":
        return export_response(fmt, members, MEMBER_COLUMNS, "doan-vien", _("Members"))
    if not can_anywhere(request.user, Capability.EDIT_MEMBERS):
        raise PermissionDenied
    members = members.filter(unit_id__in=visible_unit_ids(request.user, Capability.EDIT_MEMBERS))
    record_member_access(
        member=None,
        by=request.user,
        what=MemberAccess.What.EXPORT,
        detail=f"{fmt}: {request.GET.urlencode()}",
    )
    return export_response(fmt, members, FULL_ID_COLUMNS, "doan-vien", _("Members"))


# Past this many the list says "more than 10,000": counting further reads the whole scope.
MEMBER_COUNT_CAP = 10_000
# A filtered list or a search counts no further than this: each row is read from the table,
# where the whole scope is counted from an index alone.
FILTERED_COUNT_CAP = 1_000
# A name search lists this many of the hits not starting with the words typed (see
# members.forms.MemberFilter.parts).
SEARCH_LIMIT = 200


def member_list(request: HttpRequest) -> HttpResponse:
    """Pages by keyset (common.keyset): page 500 and the last page cost what page 1 does."""
    member_filter = _filtered_members(request)
    # The units of the page's rows in a query of their own: joined in the page query, a search
    # would join every hit before sorting them.
    parts = [
        (queryset.select_related(None).prefetch_related("unit"), ordering)
        for queryset, ordering in member_filter.parts(SEARCH_LIMIT)
    ]
    (first, ordering), *then = parts
    page = KeysetPaginator(first, ordering, settings.PAGE_SIZE, then=then).get_page(request.GET)
    filtered = member_filter.is_bound and any(
        value for name, value in member_filter.form.cleaned_data.items() if name != "sort"
    )
    cap = FILTERED_COUNT_CAP if filtered else MEMBER_COUNT_CAP
    words = member_filter.name_prefix
    search_limit = None
    if words is None:
        page.set_count(*capped_count(member_filter.qs, cap))
    else:
        # Counted part by part: names starting with the words from the name index, the others
        # (a trigram index scan) only while the count is under the cap.
        starting, more = capped_count(first, cap)
        others = 0
        if not more:
            _starting, rest = member_filter.starting_and_others(words)
            others, more = capped_count(rest, cap - starting)
            if "-match" in then[0][1] and others > SEARCH_LIMIT:
                search_limit = SEARCH_LIMIT
        page.set_count(min(starting + others, cap), more)
    return render(
        request,
        "members/member_list.html",
        {
            "filter": member_filter,
            "page": page,
            "query": page.filter_query,
            # What was typed, as typed: the list matches it with or without diacritics.
            "name_prefix": member_filter.form.cleaned_data["q"].strip() if words else None,
            "search_limit": search_limit,
        },
    )


def member_detail(request: HttpRequest, pk: int) -> HttpResponse:
    member = services.get_member_for_user(request.user, pk)
    record_member_access(member=member, by=request.user, what=MemberAccess.What.PAGE)
    return _member_page(request, member, revealed=False)


@require_POST
def member_reveal_id(request: HttpRequest, pk: int) -> HttpResponse:
    """The full ID number, on purpose and recorded, for someone who may edit the member; shown
    on this answer only (the page opened again is masked)."""
    member = services.get_member_for_user(request.user, pk, write=True)
    record_member_access(member=member, by=request.user, what=MemberAccess.What.REVEAL)
    return _member_page(request, member, revealed=True)


def _member_page(
    request: HttpRequest,
    member: Member,
    *,
    revealed: bool,
    consent_form: ConsentForm | None = None,
) -> HttpResponse:
    manages = can(request.user, Capability.MANAGE_USERS, member.unit)
    return render(
        request,
        "members/member_detail.html",
        {
            "member": member,
            "revealed": revealed,
            "can_edit": can(request.user, Capability.EDIT_MEMBERS, member.unit),
            "can_export_subject": manages,
            "consent": privacy.current_consent(member),
            "consent_form": consent_form or ConsentForm(),
            "open_requests": (
                member.subject_requests.filter(status__in=SubjectRequest.OPEN).order_by(
                    "complete_by", "pk"
                )
                if manages
                else []
            ),
            "can_open_case": can(request.user, Capability.OPEN_CASES, member.unit),
            "memberships": member.memberships.select_related("unit", "by"),
            "dependants": member.dependants.all(),
            "changes": recent_changes(member.history),
        },
    )


@require_POST
def member_consent(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Record the legal basis the member's data is processed on, their consent, or its
    withdrawal; a refused form is shown again on the member's page."""
    member = services.get_member_for_user(request.user, pk, write=True)
    form = ConsentForm(request.POST)
    if form.is_valid():
        basis, day = form.cleaned_data["basis"], form.cleaned_data["given_on"]
        try:
            if basis == WITHDRAWN:
                privacy.withdraw_consent(member=member, withdrawn_on=day, by=request.user)
            else:
                privacy.record_consent(member=member, basis=basis, given_on=day, by=request.user)
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, _("The legal basis was recorded."))
            return redirect("members:detail", pk=member.pk)
    return _member_page(request, member, revealed=False, consent_form=form)


def member_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    if not can_anywhere(request.user, Capability.EDIT_MEMBERS):
        raise PermissionDenied
    initial = {"unit": request.GET.get("unit")} if request.GET.get("unit") else {}
    form = MemberForm(request.POST or None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        member = services.create_member(member=form.save(commit=False), by=request.user)
        messages.success(request, _("%(name)s was added.") % {"name": member.full_name})
        return redirect("members:detail", pk=member.pk)
    return render(request, "members/member_form.html", {"form": form, "title": _("New member")})


def member_edit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    member = services.get_member_for_user(request.user, pk, write=True)
    if request.method != "POST":  # the form shows the full ID number
        record_member_access(member=member, by=request.user, what=MemberAccess.What.EDIT)
    form = MemberForm(request.POST or None, instance=member, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_member(member=form.save(commit=False), by=request.user)
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, _("The changes were saved."))
            return redirect("members:detail", pk=member.pk)
    return render(
        request,
        "members/member_form.html",
        {"form": form, "member": member, "title": _("Edit %(name)s") % {"name": member.full_name}},
    )


def member_transfer(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
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


def dependant_create(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    member = services.get_member_for_user(request.user, pk, write=True)
    form = DependantForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        dependant = form.save(commit=False)
        dependant.member = member
        services.save_dependant(dependant=dependant, by=request.user)
        messages.success(request, _("The child was added."))
        return redirect("members:detail", pk=member.pk)
    return render(
        request,
        "members/dependant_form.html",
        {"form": form, "member": member, "title": _("Add a child")},
    )


def dependant_edit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    dependant = services.get_dependant_for_user(request.user, pk, write=True)
    form = DependantForm(request.POST or None, instance=dependant)
    if request.method == "POST" and form.is_valid():
        services.save_dependant(dependant=form.save(commit=False), by=request.user)
        messages.success(request, _("The changes were saved."))
        return redirect("members:detail", pk=dependant.member_id)
    return render(
        request,
        "members/dependant_form.html",
        {"form": form, "member": dependant.member, "title": dependant.full_name},
    )


@require_POST
def dependant_delete(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    dependant = services.get_dependant_for_user(request.user, pk, write=True)
    services.delete_dependant(dependant=dependant, by=request.user)
    messages.success(request, _("%(name)s was removed.") % {"name": dependant.full_name})
    return redirect("members:detail", pk=dependant.member_id)
