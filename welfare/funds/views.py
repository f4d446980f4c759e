"""Fund pages: the funds in scope, one fund's ledger, and the treasurer's forms.

Every write goes through ``ledger.py``; a refusal there comes back as a form error and,
the services being atomic, nothing is saved.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypedDict

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Exists, OuterRef, Sum
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from common.exports import Column, choice_labels, export_response
from common.forms import apply_service_errors
from common.http import AuthenticatedHttpRequest
from common.keyset import KeysetPaginator
from common.money import format_dong
from common.templatetags.people import person_name
from unions.scope import Capability, can, can_anywhere, holds_at, units_held
from welfare.cases.models import Case
from welfare.templatetags.ledger_tags import signed_vnd

from . import ledger
from .forms import (
    AllocationForm,
    ContributionForm,
    FundFilter,
    FundForm,
    LedgerFilterForm,
    ReversalForm,
)
from .models import EntryKind, Fund, LedgerEntry


def can_open_funds(user) -> bool:
    """Treasurers open funds for their union, administrators for any union they manage."""
    return bool(units_held(user, Capability.PAY)) or can_anywhere(user, Capability.MANAGE_TREE)


def manages_people(user, unit=None) -> bool:
    """Administrators and tree managers: those who can give a fund's union its treasurer,
    so the ones told which funds have none."""
    capabilities = (Capability.MANAGE_USERS, Capability.MANAGE_TREE)
    if unit is None:
        return any(can_anywhere(user, capability) for capability in capabilities)
    return any(can(user, capability, unit) for capability in capabilities)


def fund_list(request: HttpRequest) -> HttpResponse:
    funds = Fund.objects.visible_to(request.user).select_related("unit")
    managing = manages_people(request.user)
    if managing:
        funds = funds.with_treasurer()
    fund_filter = FundFilter(
        request.GET or None, queryset=funds, user=request.user, managing=managing
    )
    totals = fund_filter.qs.aggregate(
        balance=Coalesce(Sum("balance"), 0), reserved=Coalesce(Sum("reserved"), 0)
    )
    totals["available"] = totals["balance"] - totals["reserved"]
    page = Paginator(fund_filter.qs, settings.PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "welfare/fund_list.html",
        {
            "filter": fund_filter,
            "page": page,
            "query": query.urlencode(),
            "totals": totals,
            "can_open": can_open_funds(request.user),
            "managing": managing,
        },
    )


def _filtering(filter_form: LedgerFilterForm) -> bool:
    return (
        filter_form.is_bound
        and filter_form.is_valid()
        and any(filter_form.cleaned_data.get(name) for name in filter_form.fields)
    )


def _ledger_entries(fund: Fund, filter_form: LedgerFilterForm):
    """The fund's entries that the page's filters select (all of them when the filter is
    empty or wrong, as the page says)."""
    entries = fund.entries.all()
    if _filtering(filter_form):
        entries = filter_form.filter(entries)
    return entries


def _ledger_summary(fund: Fund, filter_form: LedgerFilterForm) -> tuple[dict, tuple]:
    """Entries, money in and money out: the whole ledger's from the totals kept on the fund,
    a period's or a kind's from its months (``ledger.summarise``), with the ids that bound
    the entries selected."""
    if not _filtering(filter_form):
        summary = {
            "count": fund.entry_count,
            "money_in": fund.money_in,
            "money_out": fund.money_out,
        }
        return summary, (None, None)
    data = filter_form.cleaned_data
    found = ledger.summarise(
        fund, start=data.get("date_from"), end=data.get("date_to"), kind=data.get("kind") or ""
    )
    summary = {"count": found.count, "money_in": found.money_in, "money_out": found.money_out}
    return summary, (found.first_id, found.last_id)


if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

    class _CaseVisible(TypedDict):
        case_visible: bool

    # An entry as the fund page reads it: with whether its case is in the reader's scope.
    LedgerRow = WithAnnotations[LedgerEntry, _CaseVisible]


def ledger_columns() -> list[Column]:
    kinds = choice_labels(EntryKind.choices)
    hidden = _("Support paid for a case outside your scope")
    sent_to = pgettext("money sent to a fund", "to")
    received_from = pgettext("money received from", "from")

    def description(entry: LedgerRow) -> str:
        """As the page shows it: support paid on a case outside the reader's scope names
        nobody."""
        if entry.kind == EntryKind.DISBURSEMENT and not entry.case_visible:
            return hidden
        parts = []
        if entry.source:
            direction = sent_to if entry.kind == EntryKind.ALLOCATION_OUT else received_from
            parts.append(f"{direction} {entry.source}")
        if entry.description:
            parts.append(entry.description)
        return " — ".join(parts)

    return [
        Column(_("Entry number"), lambda e: e.pk),
        Column(_("Date"), lambda e: e.occurred_on.strftime("%d/%m/%Y")),
        Column(_("Kind"), lambda e: kinds.get(e.kind, e.kind)),
        Column(_("Description"), description),
        Column(_("Case"), lambda e: e.case_id if e.case_visible else None),
        Column(_("Reverses entry"), lambda e: e.reverses_id),
        Column(_("Amount"), lambda e: e.amount),
        Column(_("Balance after"), lambda e: e.balance_after),
        Column(_("Recorded by"), lambda e: person_name(e.by)),
    ]


LEDGER_EXPORT_FIELDS = [
    "fund",
    "occurred_on",
    "kind",
    "description",
    "source",
    "case_id",
    "reverses_id",
    "amount",
    "balance_after",
    "by__first_name",
    "by__last_name",
    "by__username",
]


def fund_export(request: HttpRequest, pk: int, fmt: str):
    """Exactly the entries the fund page selects with the same filters (the whole ledger when
    the filter is wrong, as the page says), oldest first so that the running balance reads
    down, streamed."""
    fund = ledger.get_fund_for_user(request.user, pk)
    entries = (
        _ledger_entries(fund, LedgerFilterForm(request.GET or None))
        .select_related("by")
        .only(*LEDGER_EXPORT_FIELDS)
        .annotate(
            case_visible=Exists(
                Case.objects.visible_to(request.user).filter(pk=OuterRef("case_id"))
            )
        )
        .order_by("pk")
    )
    filename = f"so-quy-{fund.pk}"
    return export_response(fmt, entries, ledger_columns(), filename, _("Ledger"))


def fund_detail(request: HttpRequest, pk: int) -> HttpResponse:
    fund = ledger.get_fund_for_user(request.user, pk)
    filter_form = LedgerFilterForm(request.GET or None)
    entries = _ledger_entries(fund, filter_form)
    summary, (first, last) = _ledger_summary(fund, filter_form)
    if first is not None:
        # The ids of the selection's first and last entries bound the walk back through the
        # ledger, so an old period is not found by reading every newer entry first.
        entries = entries.filter(pk__gte=first, pk__lte=last)
    page = KeysetPaginator(
        entries.select_related("by", "reverses", "reversed_by"), ["-pk"], settings.PAGE_SIZE
    ).get_page(request.GET)
    # Cases on this page that the reader may open: a reorganisation can move a case's union
    # out of the subtree of the fund's owner.
    case_ids = {entry.case_id for entry in page if entry.case_id}
    visible_cases = (
        set(
            Case.objects.visible_to(request.user)
            .filter(pk__in=case_ids)
            .values_list("pk", flat=True)
        )
        if case_ids
        else set()
    )
    is_treasurer = holds_at(request.user, Capability.PAY, fund.unit_id)
    if is_treasurer:
        # Whether each entry can be corrected, and if not why, as reverse_entry decides.
        for entry in page:
            entry.reversal_refusal = ledger.reversal_refusal(entry)
    return render(
        request,
        "welfare/fund_detail.html",
        {
            "fund": fund,
            "filter_form": filter_form,
            "summary": summary,
            "page": page,
            "visible_cases": visible_cases,
            "query": page.filter_query,
            "is_treasurer": is_treasurer,
            "no_treasurer": manages_people(request.user, fund.unit) and not fund.payable,
        },
    )


def _fund_for_treasurer(request: HttpRequest, pk: int) -> Fund:
    fund = ledger.get_fund_for_user(request.user, pk)
    ledger.authorize_treasurer(request.user, fund)
    return fund


def _money_form(request, fund, form, title, service, success):
    """Run a ledger service with the form's data; a refusal goes back onto the form."""
    if request.method == "POST" and form.is_valid():
        try:
            service(**form.cleaned_data)
        except ledger.AlreadyRecorded as error:
            messages.info(request, error.messages[0])
            return redirect("funds:detail", pk=fund.pk)
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, success(form.cleaned_data))
            return redirect("funds:detail", pk=fund.pk)
    return render(request, "welfare/fund_form.html", {"form": form, "fund": fund, "title": title})


def fund_contribute(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    fund = _fund_for_treasurer(request, pk)
    return _money_form(
        request,
        fund,
        ContributionForm(request.POST or None),
        _("Record a contribution"),
        lambda **data: ledger.record_contribution(fund=fund, by=request.user, **data),
        lambda data: (
            _("A contribution of %(amount)s from %(source)s was recorded.")
            % {"amount": format_dong(data["amount"]), "source": data["source"]}
        ),
    )


def fund_allocate(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    fund = _fund_for_treasurer(request, pk)
    return _money_form(
        request,
        fund,
        AllocationForm(request.POST or None, user=request.user, fund=fund),
        _("Allocate to another fund"),
        lambda **data: ledger.allocate(from_fund=fund, by=request.user, **data),
        lambda data: (
            _("%(amount)s was allocated to %(fund)s.")
            % {"amount": format_dong(data["amount"]), "fund": data["to_fund"].name}
        ),
    )


def entry_reverse(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    entry = get_object_or_404(
        LedgerEntry.objects.visible_to(request.user).select_related(
            "fund__unit", "by", "reverses", "reversed_by"
        ),
        pk=pk,
    )
    fund = entry.fund
    ledger.authorize_treasurer(request.user, fund)
    refusal = ledger.reversal_refusal(entry)
    if refusal:
        messages.error(request, refusal)
        return redirect("funds:detail", pk=fund.pk)
    form = ReversalForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            ledger.reverse_entry(entry=entry, by=request.user, **form.cleaned_data)
        except ledger.AlreadyRecorded as error:
            messages.info(request, error.messages[0])
            return redirect("funds:detail", pk=fund.pk)
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(
                request,
                _("A correcting entry of %(amount)s was recorded.")
                % {"amount": signed_vnd(-entry.amount)},
            )
            return redirect("funds:detail", pk=fund.pk)
    return render(
        request,
        "welfare/fund_reverse.html",
        {"form": form, "fund": fund, "entry": entry, "correction": -entry.amount},
    )


def fund_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    if not can_open_funds(request.user):
        raise PermissionDenied
    form = FundForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            fund = ledger.open_fund(by=request.user, **form.cleaned_data)
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, _("The fund %(name)s was opened.") % {"name": fund.name})
            return redirect("funds:detail", pk=fund.pk)
    return render(request, "welfare/fund_create.html", {"form": form})
