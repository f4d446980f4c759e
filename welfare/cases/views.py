"""The case pages: the list, a new case, the case with its timeline, and one POST per decision.

Every step is decided by ``rules`` and written by a service (which decides again on the locked
case).  A role that can never take an action on a case gets 403; a role that could, but not now
(already acted, its own case, not its turn, the case has moved on), is sent back to the case
with the reason.  A second payment of the same case (a double click, a replayed form) records
nothing and says so.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Q
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from common import uploads
from common.exports import Column, choice_labels, export_response
from common.forms import apply_service_errors
from common.keyset import KeysetPaginator, capped_count
from common.money import format_dong
from common.text import normalise
from members.models import Member
from members.services import get_member_for_user
from unions.models import Unit
from unions.scope import (
    Capability,
    can,
    can_anywhere,
    get_unit_for_user,
    only_unit_held,
    require_actor,
    units_held,
)
from unions.views import SEARCH_CHOICES

from ..shelters.views import shelter_card
from . import approvals, rules
from .access_log import record_case_access
from .evidence import KeptFileLost, add_evidence, discard_kept
from .forms import (
    ApproveForm,
    CaseFilter,
    CaseForm,
    EndorseForm,
    EvidenceForm,
    KeepsEvidence,
    MemberSearchForm,
    PaymentForm,
    ReasonForm,
    SubmitForm,
    case_funds,
)
from .models import (
    Case,
    CaseAccess,
    CaseEvent,
    CaseStatus,
    Category,
    Evidence,
    Payment,
    SupportType,
)
from .overlap import earlier_support
from .rules import review_route


def _date(value) -> str:
    """dd/mm/yyyy, as every export writes dates; a moment is read in local time."""
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        value = timezone.localtime(value)
    return value.strftime("%d/%m/%Y")


def _waiting_at(case: Case) -> str:
    if case.status != CaseStatus.SUBMITTED or case.current_unit is None:
        return ""
    return case.current_unit.name


def case_columns() -> list[Column]:
    category, support, status = (
        choice_labels(Category.choices),
        choice_labels(SupportType.choices),
        choice_labels(CaseStatus.choices),
    )
    return [
        Column(_("Case"), lambda c: c.pk),
        Column(_("Opened"), lambda c: _date(c.created_at)),
        Column(_("Submitted"), lambda c: _date(c.submitted_at)),
        Column(_("Person"), lambda c: c.beneficiary_name),
        Column(_("Date of birth"), lambda c: _date(c.member.date_of_birth) if c.member else ""),
        Column(_("Opened at"), lambda c: c.unit.name),
        Column(_("Hardship category"), lambda c: category.get(c.category, c.category)),
        Column(_("Support type"), lambda c: support.get(c.support_type, c.support_type)),
        Column(_("Amount requested"), lambda c: c.requested_amount),
        Column(_("Amount approved"), lambda c: c.approved_amount),
        Column(_("Fund"), lambda c: c.fund.name),
        Column(_("Status"), lambda c: status.get(c.status, c.status)),
        Column(_("Waiting at"), _waiting_at),
        Column(_("Approved on"), lambda c: _date(c.approved_on)),
        Column(_("Paid on"), lambda c: _date(c.paid_on)),
    ]


# What the export reads: not the circumstances, nor the rest of the person and the unions.
CASE_EXPORT_FIELDS = [
    "created_at",
    "submitted_at",
    "member__full_name",
    "member__date_of_birth",
    "organisation__name",
    "unit__name",
    "category",
    "support_type",
    "requested_amount",
    "approved_amount",
    "fund__name",
    "status",
    "current_unit__name",
    "approved_on",
    "paid_on",
]


def case_export(request: HttpRequest, fmt: str):
    """Exactly the cases the list shows with the same filters ("waiting for me" included), in
    scope and in the list's order, streamed."""
    cases = CaseFilter(request.GET or None, user=request.user).qs.only(*CASE_EXPORT_FIELDS)
    return export_response(fmt, cases, case_columns(), "ho-so-ho-tro", _("Cases"))


# Past this many the list says "more than 10,000" ("more than 99" waiting for the reader, as the
# home page): counting further reads the whole scope.
CASE_COUNT_CAP = 10_000
# Newest first (the ``case_newest_first`` index); what waits for the reader, oldest first.
CASE_ORDER = ["-created_at", "-id"]
WAITING_ORDER = ["submitted_at", "id"]


def case_list(request: HttpRequest) -> HttpResponse:
    """Pages by keyset (common.keyset): the last page costs what the first does."""
    case_filter = CaseFilter(request.GET or None, user=request.user)
    cases = case_filter.qs
    ordering = WAITING_ORDER if case_filter.only_waiting else CASE_ORDER
    # The page's ids first, then its rows with their person, unions and fund: planning the
    # joins together with the scope and "waiting for me" conditions cost more than running them.
    keys = cases.select_related(None).only(*(name.lstrip("-") for name in ordering))
    page = KeysetPaginator(keys, ordering, settings.PAGE_SIZE).get_page(request.GET)
    rows = Case.objects.select_related(
        "member", "organisation", "unit", "fund", "current_unit"
    ).in_bulk([case.pk for case in page.object_list])
    page.object_list = [rows[case.pk] for case in page.object_list]
    cap = approvals.WAITING_COUNTED if case_filter.only_waiting else CASE_COUNT_CAP
    page.set_count(*capped_count(cases, cap))
    return render(
        request,
        "welfare/case_list.html",
        {
            "filter": case_filter,
            "page": page,
            "query": page.filter_query,
            "waiting": case_filter.only_waiting,
            "can_open_cases": can_anywhere(request.user, Capability.OPEN_CASES),
        },
    )


def fund_search(request: HttpRequest) -> JsonResponse:
    """Funds the cases in the user's scope draw from whose name or union's name contains ``q``
    (with or without diacritics), for the case list's fund filter:
    ``{"results": [{"id": 1, "label": "…"}]}``, at most 20, the levels nearest the top first."""
    text = normalise(request.GET.get("q", ""))
    funds = []
    if text:
        funds = (
            case_funds(request.user)
            .filter(Q(unit__search_name__contains=text) | Q(search_name__contains=text))
            .order_by("unit__depth", "unit__search_name", "name", "pk")[:SEARCH_CHOICES]
        )
    return JsonResponse({"results": [{"id": f.pk, "label": f.label} for f in funds]})


# --- a new case ----------------------------------------------------------------------------


def _earlier_support(user, member: Member, case: Case | None = None) -> dict:
    """The person's support in the last 24 months, with a link only to the case files in the
    user's scope."""
    rows = earlier_support(member, exclude_case=case)
    ids = [row.case_id for row in rows]
    visible = (
        set(Case.objects.visible_to(user).filter(pk__in=ids).values_list("pk", flat=True))
        if ids
        else set()
    )
    support_types, statuses = dict(SupportType.choices), dict(CaseStatus.choices)
    return {
        "earlier": [
            {
                "on": row.on,
                "level": row.level,
                "support_type": support_types.get(row.support_type, row.support_type),
                "amount": row.amount,
                "status": statuses.get(row.status, row.status),
                "case_id": row.case_id if row.case_id in visible else None,
            }
            for row in rows
        ]
    }


def _choose_member(request: HttpRequest) -> HttpResponse:
    form = MemberSearchForm(request.GET or None)
    found = None
    if form.is_valid() and form.cleaned_data["q"].strip():
        found = list(
            Member.objects.visible_to(request.user, Capability.OPEN_CASES)
            .search(form.cleaned_data["q"])
            .select_related("unit")
            .order_by("search_name", "id")[:20]
        )
    # Support to an organisation is recorded at a union where the user opens cases.
    giving_units = Unit.objects.filter(
        pk__in=units_held(request.user, Capability.OPEN_CASES)
    ).order_by("path")
    return render(
        request,
        "welfare/case_choose_member.html",
        {"form": form, "found": found, "giving_units": giving_units},
    )


def _organisation_case(request: HttpRequest) -> HttpResponse:
    """A case for an organisation or group, recorded at a union where the user opens cases;
    it goes up the same chain as a person's."""
    unit_id = request.GET.get("unit") or only_unit_held(request.user, Capability.OPEN_CASES)
    if unit_id is None or not str(unit_id).isdigit():
        return _choose_member(request)
    unit = get_unit_for_user(request.user, unit_id, capability=Capability.OPEN_CASES)
    form = CaseForm(
        request.POST or None, request.FILES or None, unit=unit, by=request.user, organisation=True
    )
    if request.method == "POST":
        _drop_unticked(request, form)
        if form.is_valid():
            try:
                with transaction.atomic():
                    organisation = approvals.organisation_for(
                        unit=unit,
                        name=form.cleaned_data["organisation_name"],
                        kind=form.cleaned_data["organisation_kind"],
                        address=form.cleaned_data["organisation_address"],
                        by=request.user,
                    )
                    case = approvals.open_case(
                        organisation=organisation,
                        unit=unit,
                        **{name: form.cleaned_data[name] for name in CaseForm.Meta.fields},
                        evidence=form.cleaned_data["evidence"],
                        kept=form.cleaned_data["kept"],
                        by=request.user,
                    )
            except ValidationError as error:
                apply_service_errors(form, error)
            else:
                return _saved_as_draft(request, form, case)
        _keep_for_reshow(form)
    return render(
        request,
        "welfare/case_form.html",
        {
            "form": form,
            "giving_unit": unit,
            "title": _("New case for an organisation or group at %(unit)s") % {"unit": unit.name},
        },
    )


# --- evidence files that outlive a form's errors ----------------------------------------------


def _lost_message(count: int) -> str:
    return ngettext(
        "%(count)d file kept from your earlier try is no longer kept (kept files are removed "
        "after a day) and was not attached. Choose it again.",
        "%(count)d files kept from your earlier try are no longer kept (kept files are removed "
        "after a day) and were not attached. Choose them again.",
        count,
    ) % {"count": count}


def _drop_unticked(request: HttpRequest, form: KeepsEvidence) -> None:
    """The kept files the person ticked to leave out are deleted, whatever else the post says."""
    if form.dropped:
        discard_kept(tokens=form.dropped, by=request.user, case=form.kept_for)


def _keep_for_reshow(form: KeepsEvidence) -> None:
    """Before a form is shown again with its errors: keep the files that passed, and say on the
    form when kept files were no longer there."""
    form.keep_chosen()
    if form.lost:
        form.add_error(form.evidence_field, _lost_message(form.lost))


def _told_lost(request: HttpRequest, form: KeepsEvidence) -> None:
    if form.lost:
        messages.warning(request, _lost_message(form.lost))


def _saved_as_draft(request: HttpRequest, form, case: Case) -> HttpResponse:
    """After a new case is saved: say so, say which kept files were lost, open it."""
    messages.success(
        request, _("The case was saved as a draft. Submit it when the evidence is complete.")
    )
    _told_lost(request, form)
    return redirect("cases:detail", pk=case.pk)


def case_create(request: HttpRequest) -> HttpResponse:
    if not can_anywhere(request.user, Capability.OPEN_CASES):
        raise PermissionDenied
    if request.GET.get("organisation"):
        return _organisation_case(request)
    member_id = request.GET.get("member", "")
    if not member_id:
        return _choose_member(request)
    if not member_id.isdigit():
        raise Http404
    member = get_member_for_user(request.user, member_id)
    if not can(request.user, Capability.OPEN_CASES, member.unit):
        raise PermissionDenied
    form = CaseForm(
        request.POST or None,
        request.FILES or None,
        unit=member.unit,
        by=request.user,
        member=member,
    )
    if request.method == "POST":
        _drop_unticked(request, form)
        if form.is_valid():
            try:
                case = approvals.open_case(
                    member=member,
                    dependant=form.cleaned_data["dependant"],
                    unit=member.unit,
                    **{name: form.cleaned_data[name] for name in CaseForm.Meta.fields},
                    evidence=form.cleaned_data["evidence"],
                    kept=form.cleaned_data["kept"],
                    by=request.user,
                )
            except ValidationError as error:
                apply_service_errors(form, error)
            else:
                return _saved_as_draft(request, form, case)
        _keep_for_reshow(form)
    return render(
        request,
        "welfare/case_form.html",
        {
            "form": form,
            "member": member,
            "title": _("New case for %(name)s") % {"name": member.full_name},
            **_earlier_support(request.user, member),
        },
    )


# --- the case page -------------------------------------------------------------------------


def _route_units(case: Case) -> list[Unit]:
    route = review_route(case)
    units = Unit.objects.in_bulk(route)
    return [units[pk] for pk in route if pk in units]


def _action_forms(case: Case, actions: set[str], bound: dict | None = None) -> dict:
    builders = {
        "submit": SubmitForm,
        "evidence": EvidenceForm,
        "endorse": EndorseForm,
        "reason": ReasonForm,
        "approve": ApproveForm,
        "pay": PaymentForm,
    }
    offered = set(actions) - {"edit", "return", "reject"}
    if actions & {"return", "reject"}:
        offered.add("reason")
    bound = bound or {}
    return {
        name: bound.get(name) or builder(case=case)
        for name, builder in builders.items()
        if name in offered
    }


def _render_case(request: HttpRequest, case: Case, bound: dict | None = None) -> HttpResponse:
    actions = rules.allowed_actions(request.user, case)
    payment = None
    if case.status == CaseStatus.PAID:
        payment = Payment.objects.select_related("by").filter(case=case).first()
    no_treasurer = ""
    if case.status == CaseStatus.SUBMITTED and "approve" not in actions:
        decision = rules.decide(request.user, case, "approve")
        if decision.refusal is rules.Refusal.NO_TREASURER:
            no_treasurer = decision.reason
    events = approvals.timeline(case)
    # Shown beside the resubmit button: why the case came back, read from the timeline.
    returned = None
    if case.status == CaseStatus.RETURNED:
        returned = next(
            (e for e in reversed(events) if e.action == CaseEvent.Action.RETURNED), None
        )
    context = {
        "case": case,
        "actions": actions,
        "no_treasurer": no_treasurer,
        "forms": _action_forms(case, actions, bound),
        "evidence": case.evidence.all(),
        "events": events,
        "returned": returned,
        "payment": payment,
        "route": _route_units(case),
        "member_visible": case.member is not None
        and can(request.user, Capability.VIEW, case.member.unit),
        # Support to an organisation has no person to have been supported before.
        **(
            _earlier_support(request.user, case.member, case)
            if case.member is not None
            else {"earlier": []}
        ),
        **shelter_card(request.user, case),
    }
    return render(request, "welfare/case_detail.html", context)


def case_detail(request: HttpRequest, pk: int) -> HttpResponse:
    case = approvals.get_case_for_user(request.user, pk)
    record_case_access(case=case, by=request.user, what=CaseAccess.What.PAGE)
    return _render_case(request, case)


# Rows on a page of a case's access log.
ACCESSES_PER_PAGE = 50


def case_access(request: HttpRequest, pk: int) -> HttpResponse:
    """Who opened a case file and its evidence, newest first, for anyone who may read it."""
    case = approvals.get_case_for_user(request.user, pk)
    accesses = case.accesses.select_related("user").order_by("-at", "-id")
    page = Paginator(accesses, ACCESSES_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "welfare/case_access.html", {"case": case, "page": page})


# --- decisions -----------------------------------------------------------------------------


def _already_paid(request: HttpRequest) -> None:
    messages.info(
        request, _("The payment of this case was already recorded. Nothing more was recorded.")
    )


def _refused(request: HttpRequest, case: Case, action: str) -> HttpResponse | None:
    """403, or back to the case with the reason, when the rule refuses ``action`` now."""
    decision = rules.decide(request.user, case, action)
    if decision.status == 403:
        raise PermissionDenied
    if decision.allowed:
        return None
    if decision.refusal is rules.Refusal.ALREADY_PAID:
        _already_paid(request)
    else:
        messages.error(request, decision.reason)
    return redirect("cases:detail", pk=case.pk)


def _decide(request: HttpRequest, pk: int, action: str, form_class, perform, done):
    """Run one decision: 403 / back with the reason / the form again with its errors / done."""
    case = approvals.get_case_for_user(request.user, pk)
    refused = _refused(request, case, action)
    if refused is not None:
        return refused
    form = form_class(request.POST, request.FILES, case=case)
    form_key = "reason" if action in ("return", "reject") else action
    if form.is_valid():
        try:
            perform(case=case, by=request.user, **form.cleaned_data)
        except rules.AlreadyPaid:
            _already_paid(request)
            return redirect("cases:detail", pk=case.pk)
        except ValidationError as error:
            on_fields = hasattr(error, "error_dict") and set(error.error_dict) <= set(form.fields)
            if not on_fields:
                for message in error.messages:
                    messages.error(request, message)
                return redirect("cases:detail", pk=case.pk)
            apply_service_errors(form, error)
        else:
            messages.success(request, done(case, form.cleaned_data))
            return redirect("cases:detail", pk=case.pk)
    return _render_case(request, case, bound={form_key: form})


@require_POST
def case_submit(request: HttpRequest, pk: int) -> HttpResponse:
    return _decide(
        request,
        pk,
        "submit",
        SubmitForm,
        approvals.submit_case,
        lambda case, data: _("The case was submitted. The next level has been told."),
    )


@require_POST
def case_endorse(request: HttpRequest, pk: int) -> HttpResponse:
    return _decide(
        request,
        pk,
        "endorse",
        EndorseForm,
        approvals.endorse_case,
        lambda case, data: _("You endorsed the case. It has gone up to the next level."),
    )


@require_POST
def case_return(request: HttpRequest, pk: int) -> HttpResponse:
    return _decide(
        request,
        pk,
        "return",
        ReasonForm,
        approvals.return_case,
        lambda case, data: _("The case was returned for changes, with your reason."),
    )


@require_POST
def case_reject(request: HttpRequest, pk: int) -> HttpResponse:
    return _decide(
        request,
        pk,
        "reject",
        ReasonForm,
        approvals.reject_case,
        lambda case, data: _("The case was rejected."),
    )


@require_POST
def case_approve(request: HttpRequest, pk: int) -> HttpResponse:
    return _decide(
        request,
        pk,
        "approve",
        ApproveForm,
        approvals.approve_case,
        lambda case, data: (
            _("The visit without money was approved and is done: nothing is paid.")
            if data["amount"] == 0
            else _("%(amount)s was approved and reserved on %(fund)s.")
            % {"amount": format_dong(data["amount"]), "fund": case.fund.name}
        ),
    )


@require_POST
def case_pay(request: HttpRequest, pk: int) -> HttpResponse:
    return _decide(
        request,
        pk,
        "pay",
        PaymentForm,
        approvals.record_payment,
        lambda case, data: (
            _("The payment of %(amount)s from %(fund)s was recorded.")
            % {"amount": format_dong(case.approved_amount), "fund": case.fund.name}
        ),
    )


@require_POST
def evidence_add(request: HttpRequest, pk: int) -> HttpResponse:
    """As a decision (``_decide``), but the files that passed are kept when the form comes back
    with errors."""
    case = approvals.get_case_for_user(request.user, pk)
    refused = _refused(request, case, "evidence")
    if refused is not None:
        return refused
    form = EvidenceForm(request.POST, request.FILES, case=case, by=request.user)
    _drop_unticked(request, form)
    if form.is_valid():
        try:
            add_evidence(
                case=case,
                files=form.cleaned_data["files"],
                kept=form.cleaned_data["kept"],
                by=require_actor(request.user),
            )
        except KeptFileLost as error:
            form.add_error("files", error.messages)
        except ValidationError as error:
            if error.code != "too_many":
                for message in error.messages:
                    messages.error(request, message)
                return redirect("cases:detail", pk=case.pk)
            form.add_error("files", error)
        else:
            messages.success(request, _("The evidence was added."))
            _told_lost(request, form)
            return redirect("cases:detail", pk=case.pk)
    _keep_for_reshow(form)
    return _render_case(request, case, bound={"evidence": form})


def case_edit(request: HttpRequest, pk: int) -> HttpResponse:
    case = approvals.get_case_for_user(request.user, pk)
    refused = _refused(request, case, "edit")
    if refused is not None:
        return refused
    form = CaseForm(
        request.POST or None,
        request.FILES or None,
        instance=case,
        unit=case.unit,
        by=request.user,
        member=case.member,
        organisation=case.for_organisation,
    )
    if request.method == "POST":
        _drop_unticked(request, form)
        if form.is_valid():
            try:
                with transaction.atomic():
                    edited = form.save(commit=False)
                    if form.for_organisation:
                        edited.organisation = approvals.organisation_for(
                            unit=case.unit,
                            name=form.cleaned_data["organisation_name"],
                            kind=form.cleaned_data["organisation_kind"],
                            address=form.cleaned_data["organisation_address"],
                            by=request.user,
                        )
                    case = approvals.update_case(
                        case=edited,
                        evidence=form.cleaned_data["evidence"],
                        kept=form.cleaned_data["kept"],
                        by=request.user,
                    )
            except ValidationError as error:
                apply_service_errors(form, error)
            else:
                messages.success(request, _("The changes were saved."))
                _told_lost(request, form)
                return redirect("cases:detail", pk=case.pk)
        _keep_for_reshow(form)
    return render(
        request,
        "welfare/case_form.html",
        {
            "form": form,
            "case": case,
            "member": case.member,
            "title": _("Edit case #%(case)s") % {"case": case.pk},
        },
    )


# --- evidence files ------------------------------------------------------------------------


def evidence_download(request: HttpRequest, pk: int) -> FileResponse:
    """An evidence file, only for users whose scope covers its case: a download, or an image
    or PDF previewed from the case page (``uploads.may_preview``)."""
    evidence = get_object_or_404(
        Evidence.objects.filter(case__in=Case.objects.visible_to(request.user)).select_related(
            "case"
        ),
        pk=pk,
    )
    try:
        handle = evidence.file.open("rb")
    except FileNotFoundError as missing:
        raise Http404 from missing
    record_case_access(
        case=evidence.case, by=request.user, what=CaseAccess.What.EVIDENCE, evidence=evidence
    )
    return uploads.uploaded_file_response(
        handle,
        name=evidence.original_name,
        content_type=evidence.content_type,
        preview=uploads.may_preview(request, evidence.content_type),
    )
