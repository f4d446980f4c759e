"""Loan pages: the portfolio in scope, one loan with its schedule and timeline, and the forms
of each step. Every write goes through ``loans/services.py``; a refusal there comes back on
the form, and a step the user never takes answers 403 (``rules.Decision.status``)."""

from __future__ import annotations

import datetime
from collections.abc import Callable

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from common.forms import apply_service_errors
from common.http import AuthenticatedHttpRequest
from common.keyset import KeysetPaginator
from common.money import format_dong
from members.models import Member
from unions.models import Unit
from unions.scope import Capability, authorize
from welfare.funds import ledger
from welfare.funds.ledger import AlreadyRecorded
from welfare.funds.models import FundKind

from . import portfolio, rules, services
from .forms import (
    ApplicationForm,
    DecisionForm,
    DisbursementForm,
    PortfolioFilter,
    ProductForm,
    RecoveryForm,
    RepaymentForm,
    RescheduleForm,
    WriteOffForm,
)
from .models import Loan, LoanStatus


def _filtered(request, loans):
    form = PortfolioFilter(request.GET or None, user=request.user)
    if not form.is_valid():
        return form, loans
    data = form.cleaned_data
    if data.get("status"):
        loans = loans.filter(status=data["status"])
    if data.get("fund"):
        loans = loans.filter(fund=data["fund"])
    if data.get("unit"):
        unit = Unit.objects.visible_to(request.user).filter(pk=data["unit"]).first()
        loans = loans.filter(unit__in=Unit.objects.ids_in_subtree_of(unit)) if unit else loans
    if data.get("overdue"):
        today = timezone.localdate()
        low, high = next((lo, hi) for name, lo, hi in portfolio.BANDS if name == data["overdue"])
        loans = loans.filter(
            status=LoanStatus.CURRENT, late_since__lte=today - datetime.timedelta(days=low)
        )
        if high is not None:
            loans = loans.filter(late_since__gte=today - datetime.timedelta(days=high))
    return form, loans


def loan_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The portfolio: its figures, per fund and per unit, and the loans, newest first."""
    form, loans = _filtered(request, Loan.objects.visible_to(request.user))
    page = KeysetPaginator(
        loans.select_related("member", "unit", "fund"),
        ["-created_at", "-pk"],
        settings.PAGE_SIZE,
    ).get_page(request.GET)
    today = timezone.localdate()
    for loan in page:
        loan.age = portfolio.age_in_days(loan.late_since, today)
        loan.late = loan.status == LoanStatus.CURRENT and loan.age > 0
    totals, per_fund, per_unit = portfolio.overview(loans, today, limit=20)
    return render(
        request,
        "welfare/loans/loan_list.html",
        {
            "filter_form": form,
            "page": page,
            "query": page.filter_query,
            "totals": totals,
            "per_fund": per_fund,
            "per_unit": per_unit,
        },
    )


def loan_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    loan = services.get_loan_for_user(request.user, pk)
    today = timezone.localdate()
    instalments = list(loan.instalments.order_by("-version", "number"))
    current = [i for i in instalments if i.version == loan.schedule_version]
    earlier = [i for i in instalments if i.version != loan.schedule_version]
    for instalment in current:
        late = instalment.settled_on is None and instalment.overdue_after < today
        instalment.age = (today - instalment.overdue_after).days if late else 0  # type: ignore[attr-defined]
    figures = portfolio.totals(Loan.objects.filter(pk=loan.pk), today)
    return render(
        request,
        "welfare/loans/loan_detail.html",
        {
            "loan": loan,
            "current": current,
            "earlier": earlier,
            "figures": figures,
            "repayments": loan.repayments.select_related("by").order_by("paid_on", "pk"),
            "events": loan.events.select_related("actor"),
            "actions": rules.allowed_actions(request.user, loan),
            "owed": sum(i.remaining for i in current if i.settled_on is None),
        },
    )


def loan_apply(request: AuthenticatedHttpRequest, member_pk: int) -> HttpResponse:
    member = get_object_or_404(
        Member.objects.visible_to(request.user).select_related("unit"), pk=member_pk
    )
    authorize(request.user, Capability.OPEN_CASES, member.unit)
    form = ApplicationForm(request.POST or None, unit=member.unit)
    if request.method == "POST" and form.is_valid():
        try:
            loan = services.apply_for_loan(
                member=member, unit=member.unit, by=request.user, **form.cleaned_data
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, _("The loan application was recorded."))
            return redirect("loans:detail", pk=loan.pk)
    return render(
        request,
        "welfare/loans/loan_form.html",
        {"form": form, "member": member, "title": _("Apply for a loan")},
    )


STEP_TITLES = {
    "confirm": gettext_lazy("Confirm the loan for the union"),
    "approve": gettext_lazy("Approve the loan"),
    "reject": gettext_lazy("Reject the loan"),
    "disburse": gettext_lazy("Disburse the loan"),
    "repay": gettext_lazy("Record a repayment"),
    "reschedule": gettext_lazy("Reschedule the loan"),
    "write_off": gettext_lazy("Write off the loan"),
    "recover": gettext_lazy("Record a recovery"),
}
DONE = {
    "confirm": gettext_lazy("The loan was confirmed."),
    "approve": gettext_lazy("The loan was approved."),
    "reject": gettext_lazy("The loan was rejected."),
    "disburse": gettext_lazy("The disbursement was recorded."),
    "repay": gettext_lazy("The repayment was recorded."),
    "reschedule": gettext_lazy("The new schedule was recorded."),
    "write_off": gettext_lazy("The loan was written off."),
    "recover": gettext_lazy("The recovery was recorded."),
}


def _form_and_service(request, loan: Loan, action: str) -> tuple[forms.Form, Callable]:
    # A decision's form may be sent empty (no comment): bound whenever it is posted.
    data = request.POST if request.method == "POST" else None
    by = request.user
    if action in ("confirm", "approve", "reject"):
        form: forms.Form = DecisionForm(
            data, label=STEP_TITLES[action], required=action == "reject"
        )
        service = {
            "confirm": services.confirm_loan,
            "approve": services.approve_loan,
            "reject": services.reject_loan,
        }[action]
        return form, lambda d: service(loan=loan, by=by, **d)
    if action == "disburse":
        return DisbursementForm(data), lambda d: services.disburse_loan(loan=loan, by=by, **d)
    if action == "repay":
        return RepaymentForm(data), lambda d: services.record_repayment(loan=loan, by=by, **d)
    if action == "recover":
        return RecoveryForm(data), lambda d: services.record_recovery(loan=loan, by=by, **d)
    if action == "reschedule":
        form = RescheduleForm(data, initial={"term_months": loan.term_months})
        return form, lambda d: services.reschedule_loan(loan=loan, by=by, **d)
    return WriteOffForm(data), lambda d: services.write_off_loan(loan=loan, by=by, **d)


def loan_step(request: AuthenticatedHttpRequest, pk: int, action: str) -> HttpResponse:
    """One step on a loan: 403 for a step the user's roles never take on it, back to the loan
    with the reason when it cannot be taken now, else its form."""
    loan = services.get_loan_for_user(request.user, pk)
    decision = rules.decide(request.user, loan, action)
    if decision.status == 403:
        raise PermissionDenied
    form, service = _form_and_service(request, loan, action)
    if decision.status == 302 and not (request.method == "POST" and form.is_valid()):
        messages.error(request, decision.reason)
        return redirect("loans:detail", pk=loan.pk)
    if request.method == "POST" and form.is_valid():
        try:
            service(form.cleaned_data)
        except AlreadyRecorded as error:
            messages.info(request, error.messages[0])
            return redirect("loans:detail", pk=loan.pk)
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, str(DONE[action]))
            return redirect("loans:detail", pk=loan.pk)
    return render(
        request,
        "welfare/loans/loan_form.html",
        {
            "form": form,
            "loan": loan,
            "member": loan.member,
            "title": STEP_TITLES[action],
            "owed": services.still_owed(loan) if action == "repay" else None,
        },
    )


def product_create(request: AuthenticatedHttpRequest, fund_pk: int) -> HttpResponse:
    fund = ledger.get_fund_for_user(request.user, fund_pk)
    ledger.authorize_treasurer(request.user, fund)
    if fund.kind != FundKind.LOAN:
        raise PermissionDenied
    form = ProductForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            product = services.create_product(fund=fund, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(
                request,
                _("The loan product %(name)s lends up to %(max)s.")
                % {"name": product.name, "max": format_dong(product.max_principal)},
            )
            return redirect("funds:detail", pk=fund.pk)
    return render(
        request,
        "welfare/loans/loan_form.html",
        {"form": form, "fund": fund, "title": _("New loan product")},
    )
