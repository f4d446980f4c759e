"""The program pages: the list, a new program, the program with its participating units, and
each unit's batch with one POST per step.

As on the case pages, ``welfare.cases.rules`` decides every step of a batch: a role that never
takes it gets 403, one that could but not now is sent back to the batch with the reason; the
services decide again on the locked batch.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from common.forms import apply_service_errors
from common.money import format_dong
from members.models import Dependant
from unions.scope import Capability, authorize, can, can_anywhere, visible_unit_ids
from welfare.cases import rules
from welfare.cases.models import Case, CaseStatus, SupportType
from welfare.cases.overlap import WINDOW_DAYS
from welfare.funds.ledger import AlreadyRecorded
from welfare.reports.charts import UNITS, bar_chart
from welfare.shelters.models import Progress, Shelter

from . import run_views, services, signature_lists
from .forms import (
    AddPeopleForm,
    BatchImportForm,
    BatchPaymentForm,
    CommentForm,
    CopyForm,
    ParticipantForm,
    PeopleFilter,
    ProgramForm,
    ReasonForm,
    SignedListForm,
    parse_amount,
)
from .models import Batch, BatchLine, LineStatus, Participant, Program, ProgramRun, Unpaid

# People shown on a page of a batch, and found at once by the people picker.
LINES_PER_PAGE = 50
PICKED_PER_PAGE = 100


def program_list(request: HttpRequest) -> HttpResponse:
    programs = Program.objects.visible_to(request.user).select_related("unit", "fund")
    page = Paginator(programs, settings.PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "welfare/programs/program_list.html",
        {"page": page, "can_create": can_anywhere(request.user, Capability.OPEN_CASES)},
    )


def program_create(request: HttpRequest) -> HttpResponse:
    if not can_anywhere(request.user, Capability.OPEN_CASES):
        raise PermissionDenied
    form = ProgramForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            program = services.create_program(
                unit=data["unit"],
                name=data["name"],
                support_type=data["support_type"],
                category=data["category"],
                fund=data["fund"],
                year=data["year"],
                budget=data["budget"],
                starts_on=data["starts_on"],
                ends_on=data["ends_on"],
                levels=form.levels(),
                by=request.user,
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, _("The program was opened. Add the units that take part."))
            return redirect("programs:detail", pk=program.pk)
    return render(request, "welfare/programs/program_form.html", {"form": form})


# Participating units shown on a page of the program's page.
UNITS_PER_PAGE = 50


def _in_scope(request: HttpRequest, program: Program) -> Q:
    """The participants the reader sees: every one for whoever sees the program's union,
    whose subtree holds them all."""
    if can(request.user, Capability.VIEW, program.unit):
        return Q()
    return Q(unit_id__in=visible_unit_ids(request.user))


def _unit_rows(request: HttpRequest, program: Program, scope: Q, count: int | None):
    """A page of the participating units in the reader's scope (``count`` of them, when
    known), each with its batch and its figures: two queries however many units and
    people."""
    participants = (
        program.participants.filter(scope)
        .select_related("unit", "batch")
        .order_by("unit__path", "pk")
    )
    page = _units_page(participants, request.GET.get("page"), count)
    if isinstance(page.object_list, QuerySet):  # a slice of thousands of units, not yet read
        # The page's units chosen on their paths alone, then read with their batches: joined
        # first, each of a city's 6,000 units was joined to its batch before the 50 were cut.
        page.object_list = list(
            Participant.objects.filter(pk__in=Subquery(page.object_list.values("pk")))
            .select_related("unit", "batch")
            .order_by("unit__path", "pk")
        )
    shown = [participant.pk for participant in page if getattr(participant, "batch", None)]
    listed = (
        {
            row["batch__participant_id"]: row
            for row in BatchLine.objects.filter(batch__participant_id__in=shown)
            .exclude(status=LineStatus.TAKEN_OUT)
            .order_by()
            .values("batch__participant_id")
            .annotate(people=Count("pk"), amount=Coalesce(Sum("amount"), 0))
        }
        if shown
        else {}
    )  # a shelter program's units have no batches
    rows = []
    for participant in page:
        batch = getattr(participant, "batch", None)
        lines = listed.get(participant.pk, {})
        # What the batch's records hold is kept on the batch; a person is once in a batch.
        held = paid = records = 0
        if batch is not None:
            records = batch.records
            if batch.status == CaseStatus.APPROVED:
                held = batch.approved_amount or 0
            elif batch.status == CaseStatus.PAID:
                held = paid = batch.paid_amount or 0
        rows.append(
            {
                "participant": participant,
                "batch": batch,
                "listed": lines.get("people", 0),
                "proposed": lines.get("amount", 0),
                "approved": held,
                "paid": paid,
                "people": records,
                "turns": records,
                "may_build": batch is None and services.may_build(request.user, participant),
            }
        )
    return page, rows


class _Counted(Paginator):
    """A paginator told how many there are, counted with the program's figures."""

    def __init__(self, object_list, per_page, count: int):
        super().__init__(object_list, per_page)
        self.__dict__["count"] = count  # Paginator.count is a cached property


def _units_page(participants, number: str | None, count: int | None):
    """The page of units asked for; without their count, the first page of a program with
    no more units than a page holds is read without counting them."""
    if count is not None:
        return _Counted(participants, UNITS_PER_PAGE, count).get_page(number)
    if number in (None, "", "1"):
        first = list(participants[: UNITS_PER_PAGE + 1])
        if len(first) <= UNITS_PER_PAGE:
            return Paginator(first, UNITS_PER_PAGE).get_page(1)
        page = Paginator(participants, UNITS_PER_PAGE).get_page(1)
        page.object_list = first[:UNITS_PER_PAGE]
        return page
    return Paginator(participants, UNITS_PER_PAGE).get_page(number)


def _totals(program: Program, scope: Q) -> dict:
    """The program's figures, kept on its row by approving and paying: what its records hold,
    what was paid, its turns; and how many of its units the reader sees (``units``).  A
    shelter program counts its shelters by progress instead, from its few records."""
    if program.support_type == SupportType.SHELTER:
        return _shelter_totals(program, scope)
    return {
        "units": Participant.objects.filter(scope, program=program).count(),
        "approved": program.committed,
        "paid": program.paid,
        "turns": program.records,
    }


def _shelter_totals(program: Program, scope: Q) -> dict:
    """A shelter program's figures from its records, and how many of its units the reader
    sees, read in one query: each figure a subquery over the program's few records, by the
    program's id (correlated, the planner took them for hundreds of thousands)."""
    records = Case.objects.filter(program=program.pk, status__in=services.COMMITTED).order_by()

    def figure(aggregate, **filters) -> Coalesce:
        grouped = records.filter(**filters).values("program").annotate(figure=aggregate)
        return Coalesce(Subquery(grouped.values("figure")), 0)

    units = (
        Participant.objects.filter(scope, program=program.pk)
        .order_by()
        .values("program")
        .annotate(figure=Count("pk"))
    )
    figures = {
        "approved": figure(Sum("approved_amount")),
        "paid": figure(Sum("approved_amount"), status=CaseStatus.PAID),
        "turns": figure(Count("pk")),
        "units": Coalesce(Subquery(units.values("figure")), 0),
        **{
            f"shelters_{value}": figure(Count("pk"), shelter__progress=value)
            for value in Progress.values
        },
    }
    # Named apart from the program's own fields (it keeps a "paid" of its batches).
    row = (
        Program.objects.filter(pk=program.pk)
        .annotate(**{f"figure_{name}": value for name, value in figures.items()})
        .values(*(f"figure_{name}" for name in figures))
        .get()
    )
    return {name: row[f"figure_{name}"] for name in figures}


def _program_page(request: HttpRequest, program: Program, bound: dict | None = None):
    scope = _in_scope(request, program)
    totals = _totals(program, scope)
    page, rows = _unit_rows(request, program, scope, totals.get("units"))
    runs = can(request.user, Capability.OPEN_CASES, program.unit)
    recent = list(ProgramRun.objects.visible_to(request.user).filter(program=program)[:4])
    active = next((run for run in recent if run.is_active), None)
    bound = bound or {}
    context = {
        "program": program,
        "levels": program.levels.all(),
        "rows": rows,
        "unit_page": page,
        "chart": bar_chart(
            [(row["participant"].unit.name, row["approved"]) for row in rows],
            _("Approved by unit"),
            colour=UNITS,
            year=program.year,
        ),
        "totals": totals,
        "remaining": program.budget - totals["approved"],
        "runs": runs,
        "print_all": signature_lists.may_print_all(request.user, program)
        and any(row["batch"] and row["batch"].status in signature_lists.PRINTABLE for row in rows),
        "participant_form": (bound.get("participant") or ParticipantForm(program=program))
        if runs
        else None,
        "copy_form": (bound.get("copy") or CopyForm(initial={"year": program.year + 1}))
        if runs
        else None,
        "active_run": active,
        "recent_runs": recent,
        "run_forms": [] if active else run_views.run_forms(request, program),
        **_shelters(request, program, totals),
    }
    return render(request, "welfare/programs/program_detail.html", context)


# Shelters listed on a shelter program's page (the rest are counted by progress).
SHELTERS_SHOWN = 50


def _shelters(request: HttpRequest, program: Program, totals: dict) -> dict:
    """A shelter program's shelters by progress (counted with the program's figures), and the
    first of them in the reader's scope: one query more."""
    if program.support_type != SupportType.SHELTER:
        return {}
    shelters = Shelter.objects.filter(
        case__program=program,
        case__status__in=services.COMMITTED,
        case__unit_id__in=visible_unit_ids(request.user),
    )
    counts = {value: totals[f"shelters_{value}"] for value in Progress.values}
    order = ("progress", "case__unit__name", "case_id")
    first = shelters.order_by(*order)[:SHELTERS_SHOWN]
    return {
        "shelter_progress": [
            (value, label, counts.get(value, 0)) for value, label in Progress.choices
        ],
        "shelter_count": sum(counts.values()),
        # The first ones chosen on the records and their units alone, then read whole.
        "shelters": Shelter.objects.filter(pk__in=Subquery(first.values("pk")))
        .select_related("case__member", "case__unit")
        .order_by(*order),
    }


def program_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _program_page(request, services.get_program_for_user(request.user, pk))


def _runner(request: HttpRequest, pk: int) -> Program:
    program = services.get_program_for_user(request.user, pk)
    authorize(request.user, Capability.OPEN_CASES, program.unit)
    return program


@require_POST
def participant_add(request: HttpRequest, pk: int) -> HttpResponse:
    program = _runner(request, pk)
    form = ParticipantForm(request.POST, program=program)
    if form.is_valid():
        try:
            services.add_participant(program=program, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, _("The unit takes part in the program."))
            return redirect("programs:detail", pk=program.pk)
    return _program_page(request, program, {"participant": form})


@require_POST
def program_copy(request: HttpRequest, pk: int) -> HttpResponse:
    program = _runner(request, pk)
    form = CopyForm(request.POST)
    if form.is_valid():
        try:
            copy = services.copy_program(
                program=program,
                year=form.cleaned_data["year"],
                budget=form.cleaned_data["budget"],
                by=request.user,
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, _("The program was copied with its units and levels."))
            return redirect("programs:detail", pk=copy.pk)
    return _program_page(request, program, {"copy": form})


@require_POST
def batch_start(request: HttpRequest, pk: int) -> HttpResponse:
    participant = get_object_or_404(
        Participant.objects.filter(unit_id__in=visible_unit_ids(request.user)).select_related(
            "unit"
        ),
        pk=pk,
    )
    if not services.may_build(request.user, participant):
        raise PermissionDenied
    batch = services.start_batch(participant=participant, by=request.user)
    return redirect("programs:batch", pk=batch.pk)


# --- the batch page ------------------------------------------------------------------------


def _batch_page(request: HttpRequest, batch: Batch, bound: dict | None = None) -> HttpResponse:
    actions = rules.allowed_actions(request.user, batch)
    lines = (
        BatchLine.objects.filter(batch=batch)
        .select_related("member", "unit", "dependant")
        .order_by("unit__path", "member__search_name", "pk")
    )
    page = Paginator(lines, LINES_PER_PAGE).get_page(request.GET.get("page"))
    people, amount = services.batch_total(batch)
    earlier = services.earlier_support(batch) if batch.status != CaseStatus.PAID else {}
    bound = bound or {}
    context = {
        "batch": batch,
        "program": batch.program,
        "actions": actions,
        "page": page,
        "people": people,
        "amount": amount,
        "earlier": earlier,
        "earlier_rows": [row for rows in earlier.values() for row in rows],
        "editable": "edit" in actions,
        "events": batch.events.select_related("actor", "unit"),
        "comment_form": bound.get("comment") or CommentForm(),
        "reason_form": bound.get("reason") or ReasonForm(),
        "pay_form": bound.get("pay") or BatchPaymentForm(),
        "unpaid_choices": Unpaid.choices,
        "window_months": WINDOW_DAYS // 30,
        "printable": batch.status in signature_lists.PRINTABLE,
        "signed_lists": batch.signed_lists.select_related("uploaded_by"),
        "signed_form": SignedListForm()
        if signature_lists.may_attach_signed(request.user, batch)
        else None,
    }
    return render(request, "welfare/programs/batch_detail.html", context)


def batch_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _batch_page(request, services.get_batch_for_user(request.user, pk))


def _refused(request: HttpRequest, batch: Batch, action: str) -> HttpResponse | None:
    decision = rules.decide(request.user, batch, action)
    if decision.status == 403:
        raise PermissionDenied
    if decision.allowed:
        return None
    if decision.refusal is rules.Refusal.ALREADY_PAID:
        messages.info(request, _("The payment of this batch was already recorded."))
    else:
        messages.error(request, decision.reason)
    return redirect("programs:batch", pk=batch.pk)


def _filtered_people(batch: Batch, people_filter: PeopleFilter):
    members = services.candidates(batch)
    if not people_filter.is_valid():
        return members.none()
    data = people_filter.cleaned_data
    if data["unit"]:
        members = members.filter(unit__path__startswith=data["unit"].path)
    if data["kind"]:
        members = members.filter(kind=data["kind"])
    if data["poor_household"]:
        members = members.filter(poor_household=True)
    if data["policy_family"]:
        members = members.filter(policy_family=True)
    if data["category"]:
        since = timezone.localdate() - datetime.timedelta(days=WINDOW_DAYS)
        hardship = Case.objects.filter(
            member=OuterRef("pk"), category=data["category"], created_at__date__gte=since
        ).exclude(status=CaseStatus.DRAFT)
        members = members.filter(Exists(hardship))
    if data["school_age"]:
        # Aged 6 to 18 at some time in the program's year: born from 1 January of (year - 18)
        # to 31 December of (year - 6).
        year = batch.program.year
        children = Dependant.objects.filter(
            member=OuterRef("pk"),
            date_of_birth__gte=datetime.date(year - 18, 1, 1),
            date_of_birth__lte=datetime.date(year - 6, 12, 31),
        )
        members = members.filter(Exists(children))
    if data["supported"]:
        given = Case.objects.filter(
            member=OuterRef("pk"), status__in=[CaseStatus.SUBMITTED, *services.COMMITTED]
        )
        if data["supported"] == "in_this":
            members = members.filter(Exists(given.filter(program=batch.program)))
        else:
            other = given.filter(program__year=batch.program.year).exclude(program=batch.program)
            members = (
                members.filter(Exists(other))
                if data["supported"] == "in_other"
                else members.exclude(Exists(other))
            )
    return members


def batch_people(request: HttpRequest, pk: int) -> HttpResponse:
    """Pick people for a batch by filters: the ones ticked, or everyone the filters find."""
    batch = services.get_batch_for_user(request.user, pk)
    refused = _refused(request, batch, "edit")
    if refused is not None:
        return refused
    source = request.POST if request.method == "POST" else request.GET
    people_filter = PeopleFilter(source or None, unit=batch.unit)
    members = _filtered_people(batch, people_filter) if source else services.candidates(batch)
    form = AddPeopleForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        chosen = (
            members
            if "all" in request.POST
            else members.filter(
                pk__in=[int(pk) for pk in request.POST.getlist("member") if pk.isdigit()]
            )
        )
        try:
            added = services.add_people(
                batch=batch, members=chosen, by=request.user, amount=form.cleaned_data["amount"]
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, _("%(n)s people were added to the batch.") % {"n": added})
            return redirect("programs:batch", pk=batch.pk)
    found = members.select_related("unit").order_by("unit__path", "search_name", "pk")
    return render(
        request,
        "welfare/programs/batch_people.html",
        {
            "batch": batch,
            "filter": people_filter,
            "form": form,
            "found": list(found[:PICKED_PER_PAGE]),
            "count": found.count(),
            "shown": PICKED_PER_PAGE,
            "import_form": BatchImportForm(),
        },
    )


@require_POST
def batch_lines(request: HttpRequest, pk: int) -> HttpResponse:
    """Change amounts or take people off the batch while it can be changed."""
    batch = services.get_batch_for_user(request.user, pk)
    refused = _refused(request, batch, "edit")
    if refused is not None:
        return refused
    remove = {int(value) for value in request.POST.getlist("remove") if value.isdigit()}
    amounts: dict[int, int] = {}
    try:
        for key in request.POST:
            value = request.POST.get(key, "")
            if key.startswith("amount-") and key[7:].isdigit() and value.strip():
                amounts[int(key[7:])] = parse_amount(value)
        services.change_lines(batch=batch, by=request.user, amounts=amounts, remove=remove)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("The batch was saved."))
    return redirect("programs:batch", pk=batch.pk)


def _step(
    request: HttpRequest,
    pk: int,
    action: str,
    form_class,
    perform: Callable[..., object],
    done: Callable[[Batch], str],
    extra: Callable[[Batch], dict] | None = None,
) -> HttpResponse:
    """One step of the chain: 403 / back with the reason / the page again / done."""
    batch = services.get_batch_for_user(request.user, pk)
    refused = _refused(request, batch, action)
    if refused is not None:
        return refused
    form = form_class(request.POST)
    key = {"pay": "pay", "return": "reason", "reject": "reason"}.get(action, "comment")
    if form.is_valid():
        try:
            kwargs = dict(form.cleaned_data)
            if extra is not None:
                kwargs.update(extra(batch))
            perform(batch=batch, by=request.user, **kwargs)
        except AlreadyRecorded:
            messages.info(request, _("The payment of this batch was already recorded."))
            return redirect("programs:batch", pk=batch.pk)
        except ValidationError as error:
            for message in error.messages:
                messages.error(request, message)
            return redirect("programs:batch", pk=batch.pk)
        else:
            batch.refresh_from_db()
            messages.success(request, done(batch))
            return redirect("programs:batch", pk=batch.pk)
    return _batch_page(request, batch, {key: form})


@require_POST
def batch_submit(request: HttpRequest, pk: int) -> HttpResponse:
    return _step(
        request,
        pk,
        "submit",
        CommentForm,
        services.submit_batch,
        lambda batch: _("The batch was submitted. The next level decides on it."),
    )


@require_POST
def batch_endorse(request: HttpRequest, pk: int) -> HttpResponse:
    return _step(
        request,
        pk,
        "endorse",
        CommentForm,
        services.endorse_batch,
        lambda batch: _("You endorsed the batch. It has gone up to the next level."),
    )


@require_POST
def batch_return(request: HttpRequest, pk: int) -> HttpResponse:
    return _step(
        request,
        pk,
        "return",
        ReasonForm,
        services.return_batch,
        lambda batch: _("The batch was returned for changes, with your reason."),
    )


@require_POST
def batch_reject(request: HttpRequest, pk: int) -> HttpResponse:
    return _step(
        request,
        pk,
        "reject",
        ReasonForm,
        services.reject_batch,
        lambda batch: _("The batch was rejected."),
    )


def _taken_out(request: HttpRequest) -> dict[int, str]:
    return {
        int(value): request.POST.get(f"reason-{value}", "")
        for value in request.POST.getlist("out")
        if value.isdigit()
    }


@require_POST
def batch_approve(request: HttpRequest, pk: int) -> HttpResponse:
    return _step(
        request,
        pk,
        "approve",
        CommentForm,
        services.approve_batch,
        lambda batch: (
            _("%(amount)s was approved and reserved on %(fund)s.")
            % {"amount": format_dong(batch.approved_amount or 0), "fund": batch.fund.name}
        ),
        extra=lambda batch: {"take_out": _taken_out(request)},
    )


def _unpaid(request: HttpRequest) -> dict[int, str]:
    return {
        int(key[7:]): request.POST.get(key, "")
        for key in request.POST
        if key.startswith("unpaid-") and key[7:].isdigit() and request.POST.get(key)
    }


@require_POST
def batch_pay(request: HttpRequest, pk: int) -> HttpResponse:
    return _step(
        request,
        pk,
        "pay",
        BatchPaymentForm,
        services.record_batch_payment,
        lambda batch: (
            _("The payment of %(amount)s from %(fund)s was recorded.")
            % {"amount": format_dong(batch.paid_amount or 0), "fund": batch.fund.name}
        ),
        extra=lambda batch: {"unpaid": _unpaid(request)},
    )
