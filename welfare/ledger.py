"""Money in and out of funds.  Every change is a ledger entry posted on a locked fund row.

Guarantees: a fund's balance equals the sum of its entries, and its money in, money out and
entry count the totals of its positive and negative entries and their number; available
(balance - reserved) never goes below zero; entries are never edited or deleted, only reversed.
"""

from __future__ import annotations

import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _

from unions.models import Unit
from unions.scope import Capability, holds_at

from .models import EntryKind, Fund, LedgerEntry


def format_dong(amount: int) -> str:
    """1100900000 -> "1.100.900.000 ₫", the Vietnamese way."""
    return f"{amount:,} ₫".replace(",", ".")


def get_fund_for_user(user, pk) -> Fund:
    return get_object_or_404(Fund.objects.visible_to(user).select_related("unit"), pk=pk)


def require_treasurer(user, fund: Fund) -> None:
    """403 unless the user is a treasurer of the union that owns the fund."""
    if not holds_at(user, Capability.PAY, fund.unit_id):
        raise PermissionDenied


def lock_fund(fund: Fund | int) -> Fund:
    return Fund.objects.select_for_update().get(pk=getattr(fund, "pk", fund))


def _check_date(occurred_on: datetime.date) -> None:
    if occurred_on > timezone.localdate():
        raise ValidationError({"occurred_on": _("The date cannot be in the future.")})


def post_entry(
    *,
    fund: Fund,
    kind: str,
    amount: int,
    occurred_on: datetime.date,
    by,
    description: str = "",
    source: str = "",
    case=None,
    reverses: LedgerEntry | None = None,
) -> LedgerEntry:
    """Append an entry to a fund that the caller has locked (``lock_fund``) in this transaction.

    Saves the fund's balance, its ledger totals (money in, money out, number of entries) and
    its reservation as the caller left them.
    """
    if amount == 0:
        raise ValidationError({"amount": _("The amount must not be zero.")})
    new_balance = fund.balance + amount
    if new_balance < fund.reserved:
        raise ValidationError(
            {
                "amount": _(
                    "The fund cannot cover this: %(available)s is available "
                    "(balance %(balance)s, of which %(reserved)s is reserved for approved cases)."
                )
                % {
                    "available": format_dong(fund.available),
                    "balance": format_dong(fund.balance),
                    "reserved": format_dong(fund.reserved),
                }
            }
        )
    entry = LedgerEntry.objects.create(
        fund=fund,
        kind=kind,
        amount=amount,
        balance_after=new_balance,
        occurred_on=occurred_on,
        description=description,
        source=source,
        case=case,
        reverses=reverses,
        by=by,
    )
    fund.balance = new_balance
    if amount > 0:
        fund.money_in += amount
    else:
        fund.money_out += amount
    fund.entry_count += 1
    # Saved together: the caller may have changed the reservation in the same step.
    fund.save(update_fields=["balance", "reserved", "money_in", "money_out", "entry_count"])
    return entry


@transaction.atomic
def open_fund(
    *,
    unit: Unit,
    name: str,
    kind: str,
    opening_balance: int,
    opened_on: datetime.date,
    by,
) -> Fund:
    if opening_balance < 0:
        raise ValidationError({"opening_balance": _("The opening balance cannot be negative.")})
    fund = Fund.objects.create(unit=unit, name=name, kind=kind)
    if opening_balance:
        _check_date(opened_on)
        post_entry(
            fund=lock_fund(fund),
            kind=EntryKind.OPENING,
            amount=opening_balance,
            occurred_on=opened_on,
            by=by,
            description=_("Opening balance"),
        )
        fund.refresh_from_db()
    return fund


@transaction.atomic
def record_contribution(
    *,
    fund: Fund,
    amount: int,
    occurred_on: datetime.date,
    source: str,
    by,
    description: str = "",
) -> LedgerEntry:
    if amount <= 0:
        raise ValidationError({"amount": _("A contribution must be a positive amount.")})
    _check_date(occurred_on)
    return post_entry(
        fund=lock_fund(fund),
        kind=EntryKind.CONTRIBUTION,
        amount=amount,
        occurred_on=occurred_on,
        source=source,
        description=description,
        by=by,
    )


@transaction.atomic
def allocate(
    *,
    from_fund: Fund,
    to_fund: Fund,
    amount: int,
    occurred_on: datetime.date,
    by,
    description: str = "",
) -> tuple[LedgerEntry, LedgerEntry]:
    """Move money from one fund to another: two entries, both or neither."""
    if from_fund.pk == to_fund.pk:
        raise ValidationError({"to_fund": _("Choose a different fund to allocate to.")})
    if amount <= 0:
        raise ValidationError({"amount": _("The amount must be positive.")})
    _check_date(occurred_on)
    # Lock both rows in id order so two opposite allocations cannot deadlock.
    locked = {
        f.pk: f
        for f in Fund.objects.select_for_update()
        .filter(pk__in=[from_fund.pk, to_fund.pk])
        .order_by("pk")
    }
    source, target = locked[from_fund.pk], locked[to_fund.pk]
    out = post_entry(
        fund=source,
        kind=EntryKind.ALLOCATION_OUT,
        amount=-amount,
        occurred_on=occurred_on,
        source=target.name,
        description=description,
        by=by,
    )
    into = post_entry(
        fund=target,
        kind=EntryKind.ALLOCATION_IN,
        amount=amount,
        occurred_on=occurred_on,
        source=source.name,
        description=description,
        by=by,
    )
    return out, into


@transaction.atomic
def reverse_entry(*, entry: LedgerEntry, occurred_on: datetime.date, reason: str, by):
    """Correct a mistaken contribution, allocation or opening balance by its exact opposite.

    A support payment is not reversed here: it belongs to a case and its paper trail.
    """
    entry = LedgerEntry.objects.select_for_update().get(pk=entry.pk)
    if entry.kind in (EntryKind.DISBURSEMENT, EntryKind.CORRECTION):
        raise ValidationError(_("This entry cannot be reversed here."))
    if LedgerEntry.objects.filter(reverses=entry).exists():
        raise ValidationError(_("This entry has already been reversed."))
    if not reason.strip():
        raise ValidationError({"reason": _("Give the reason for the correction.")})
    _check_date(occurred_on)
    return post_entry(
        fund=lock_fund(entry.fund_id),
        kind=EntryKind.CORRECTION,
        amount=-entry.amount,
        occurred_on=occurred_on,
        description=reason,
        reverses=entry,
        by=by,
    )
