"""Money in and out of funds.  Every change is a ledger entry posted on a locked fund row.

Guarantees: a fund's balance equals the sum of its entries, and its money in, money out and
entry count the totals of its positive and negative entries and their number, as do its
``LedgerMonth`` rows month by month and kind by kind; available (balance - reserved) never goes
below zero; entries are never edited or deleted, only reversed.  Each service checks its acting user
``by`` itself (``unions.scope.authorize_write``): a treasurer records and allocates at the
very union that owns the fund; ``post_entry`` is the step inside them and checks nothing.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, F, Max, Min, Q, QuerySet, Sum
from django.db.models.functions import Coalesce, Greatest, TruncMonth
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _

from common.money import format_dong
from unions.models import Unit
from unions.scope import ActingUser, Capability, authorize_write, can, holds_at

from .models import EntryKind, Fund, LedgerEntry, LedgerMonth, RaisedYear

if TYPE_CHECKING:
    from welfare.cases.models import Case


def get_fund_for_user(user: ActingUser, pk: int | str) -> Fund:
    return get_object_or_404(Fund.objects.visible_to(user).select_related("unit"), pk=pk)


def authorize_treasurer(user: ActingUser, fund: Fund) -> None:
    """404 for a fund outside the user's scope, 403 unless they are its union's treasurer:
    the gate of the money pages and the check of every money service."""
    authorize_write(user, Capability.PAY, _owner(fund), here=True)


def may_open_fund(user: ActingUser, unit: Unit) -> bool:
    """Treasurers open funds for their own union, administrators for any union they manage."""
    return holds_at(user, Capability.PAY, unit.pk) or can(user, Capability.MANAGE_TREE, unit)


def _owner(fund: Fund) -> Unit:
    """The fund's union, as loaded with the fund when it was (a page's fund), else read."""
    return fund.unit if Fund.unit.is_cached(fund) else Unit.objects.get(pk=fund.unit_id)


class AlreadyRecorded(ValidationError):
    """The same form was sent before (a double click, a reload): nothing more was recorded."""

    def __init__(self) -> None:
        super().__init__(_("This was already recorded. Nothing more was recorded."))


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
    by: User,
    description: str = "",
    source: str = "",
    case: Case | None = None,
    reverses: LedgerEntry | None = None,
    submission: str = "",
    campaign_id: int | None = None,
) -> LedgerEntry:
    """Append an entry to a fund that the caller has locked (``lock_fund``) in this transaction.

    Saves the fund's balance, its ledger totals (money in, money out, number of entries) and
    its reservation as the caller left them. A ``submission`` (a form's token) already
    recorded in this fund records nothing: ``AlreadyRecorded``.
    """
    if submission and LedgerEntry.objects.filter(fund=fund, submission=submission).exists():
        raise AlreadyRecorded
    new_balance = _balance_after(fund, amount)
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
        submission=submission,
    )
    _apply(fund, amount)
    # Saved together: the caller may have changed the reservation in the same step.
    fund.save(update_fields=FUND_TOTALS)
    _add_to_month(entry)
    if kind == EntryKind.CONTRIBUTION:
        _add_to_raised(entry, 1, campaign_id)
    elif reverses is not None and reverses.kind == EntryKind.CONTRIBUTION:
        campaign = (
            LedgerEntry.objects.filter(pk=reverses.pk)
            .values_list("contribution__campaign_id", flat=True)
            .first()
        )
        _add_to_raised(entry, -1, campaign)
    return entry


FUND_TOTALS = ["balance", "reserved", "money_in", "money_out", "entry_count"]


def _balance_after(fund: Fund, amount: int) -> int:
    """The fund's balance once ``amount`` is posted, or why it cannot be."""
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
    return new_balance


def _apply(fund: Fund, amount: int) -> None:
    fund.balance += amount
    if amount > 0:
        fund.money_in += amount
    else:
        fund.money_out += amount
    fund.entry_count += 1


class EntrySet:
    """Entries for many locked funds posted as one set, as ``post_entry`` posts one: each is
    checked when added (its form's token, its amount, the fund's available money as the
    entries before it left it), and all are written by ``write`` in a fixed number of
    queries, not four an entry (a city's program-wide payment posts 6,000).  Not for
    contributions, which are also counted by campaign."""

    def __init__(self, funds: list[Fund], submissions: list[str]) -> None:
        tokens = [token for token in submissions if token]
        self.recorded = (
            set(
                LedgerEntry.objects.filter(fund__in=funds, submission__in=tokens).values_list(
                    "fund_id", "submission"
                )
            )
            if tokens
            else set()
        )
        self.entries: list[LedgerEntry] = []
        self.funds: dict[int, Fund] = {}

    def add(
        self,
        *,
        fund: Fund,
        kind: str,
        amount: int,
        occurred_on: datetime.date,
        by: User,
        description: str = "",
        source: str = "",
        submission: str = "",
    ) -> LedgerEntry:
        """The entry, unsaved until ``write``; ``AlreadyRecorded`` or a ValidationError as
        ``post_entry`` raises them, the fund then left as it was."""
        if kind == EntryKind.CONTRIBUTION:
            raise ValueError("contributions are posted by post_entry or post_contributions")
        if submission and (fund.pk, submission) in self.recorded:
            raise AlreadyRecorded
        entry = LedgerEntry(
            fund=fund,
            kind=kind,
            amount=amount,
            balance_after=_balance_after(fund, amount),
            occurred_on=occurred_on,
            description=description,
            source=source,
            by=by,
            submission=submission,
        )
        _apply(fund, amount)
        if submission:
            self.recorded.add((fund.pk, submission))
        self.entries.append(entry)
        self.funds[fund.pk] = fund
        return entry

    def write(self) -> None:
        """The entries, their funds' totals and their months' totals."""
        if not self.entries:
            return
        LedgerEntry.objects.bulk_create(self.entries, batch_size=2000)
        for fund in self.funds.values():
            fund.save(update_fields=FUND_TOTALS)
        months: dict[tuple[int, datetime.date, str], list[LedgerEntry]] = {}
        for entry in self.entries:
            key = (entry.fund_id, entry.occurred_on.replace(day=1), entry.kind)
            months.setdefault(key, []).append(entry)
        for (fund_id, month, kind), entries in sorted(months.items()):
            _add_to_month_all(fund_id, month, kind, entries)


@dataclass
class Inflow:
    """One contribution of a list posted at once (``post_contributions``)."""

    amount: int
    occurred_on: datetime.date
    source: str = ""
    description: str = ""
    campaign_id: int | None = None


def post_contributions(*, fund: Fund, inflows: list[Inflow], by: User) -> list[LedgerEntry]:
    """Append a list of contributions to a fund that the caller has locked (``lock_fund``) in
    this transaction, as ``post_entry`` would one by one (each entry with the balance after
    it, the fund's totals, its ``LedgerMonth`` and ``RaisedYear`` rows) in a number of
    queries that does not grow with the list: one insert of the entries, and one update or
    insert per month and per year and campaign touched.  Checks nothing: the caller has."""
    if not inflows:
        return []
    entries = []
    for inflow in inflows:
        if inflow.amount <= 0:
            raise ValidationError({"amount": _("A contribution must be a positive amount.")})
        entries.append(
            LedgerEntry(
                fund=fund,
                kind=EntryKind.CONTRIBUTION,
                amount=inflow.amount,
                balance_after=fund.balance + inflow.amount,
                occurred_on=inflow.occurred_on,
                description=inflow.description,
                source=inflow.source,
                by=by,
            )
        )
        _apply(fund, inflow.amount)
    entries = LedgerEntry.objects.bulk_create(entries)
    fund.save(update_fields=FUND_TOTALS)
    months: dict[datetime.date, list[LedgerEntry]] = {}
    raised: dict[tuple[int, int | None], list[LedgerEntry]] = {}
    for entry, inflow in zip(entries, inflows, strict=True):
        months.setdefault(entry.occurred_on.replace(day=1), []).append(entry)
        raised.setdefault((entry.occurred_on.year, inflow.campaign_id), []).append(entry)
    for month, posted in sorted(months.items()):
        _add_to_month_all(fund.pk, month, EntryKind.CONTRIBUTION, posted)
    for (year, campaign_id), posted in sorted(raised.items(), key=lambda item: str(item[0])):
        _add_to_raised_all(
            fund.pk, year, campaign_id, len(posted), sum(entry.amount for entry in posted)
        )
    return entries


def _add_to_raised(entry: LedgerEntry, entries: int, campaign_id: int | None) -> None:
    """Count a contribution (1) or its reversal (-1) in its fund's year (the fund is locked)."""
    _add_to_raised_all(entry.fund_id, entry.occurred_on.year, campaign_id, entries, entry.amount)


def _add_to_raised_all(
    fund_id: int, year: int, campaign_id: int | None, entries: int, amount: int
) -> None:
    """Count ``entries`` contributions (negative: reversals) of ``amount`` in all in a fund's
    year and campaign (the fund is locked)."""
    counted = RaisedYear.objects.filter(fund_id=fund_id, year=year)
    if campaign_id is None:
        counted = counted.filter(campaign__isnull=True)
    else:
        counted = counted.filter(campaign_id=campaign_id)
    if not counted.update(entries=F("entries") + entries, amount=F("amount") + amount):
        RaisedYear.objects.create(
            fund_id=fund_id, year=year, campaign_id=campaign_id, entries=entries, amount=amount
        )


def _add_to_month(entry: LedgerEntry) -> None:
    """Count an entry in its fund's totals for its month and kind (the fund is locked)."""
    _add_to_month_all(entry.fund_id, entry.occurred_on.replace(day=1), entry.kind, [entry])


def _add_to_month_all(
    fund_id: int, month: datetime.date, kind: str, entries: list[LedgerEntry]
) -> None:
    """Count entries of one fund, month and kind in its totals (the fund is locked)."""
    money_in = sum(max(entry.amount, 0) for entry in entries)
    money_out = sum(min(entry.amount, 0) for entry in entries)
    first, last = min(entry.pk for entry in entries), max(entry.pk for entry in entries)
    counted = LedgerMonth.objects.filter(fund_id=fund_id, month=month, kind=kind)
    if not counted.update(
        entry_count=F("entry_count") + len(entries),
        money_in=F("money_in") + money_in,
        money_out=F("money_out") + money_out,
        last_id=Greatest("last_id", last),
    ):
        LedgerMonth.objects.create(
            fund_id=fund_id,
            month=month,
            kind=kind,
            entry_count=len(entries),
            money_in=money_in,
            money_out=money_out,
            first_id=first,
            last_id=last,
        )


def month_totals(entries: QuerySet[LedgerEntry]) -> QuerySet[LedgerEntry, dict[str, Any]]:
    """``entries`` summed per fund, month and kind: the rows of ``LedgerMonth``."""
    return (
        entries.order_by()
        .annotate(month=TruncMonth("occurred_on"))
        .values("fund_id", "month", "kind")
        .annotate(
            entry_count=Count("pk"),
            money_in=Coalesce(Sum("amount", filter=Q(amount__gt=0)), 0),
            money_out=Coalesce(Sum("amount", filter=Q(amount__lt=0)), 0),
            first_id=Min("pk"),
            last_id=Max("pk"),
        )
    )


@transaction.atomic
def rebuild_ledger_months() -> int:
    """Count every fund's months again from its entries (after a bulk load); returns the
    number of rows."""
    LedgerMonth.objects.all().delete()
    rows = [LedgerMonth(**row) for row in month_totals(LedgerEntry.objects.all()).iterator()]
    LedgerMonth.objects.bulk_create(rows, batch_size=5000)
    return len(rows)


ONE_DAY = datetime.timedelta(days=1)
# Entries that a loan's schedule and events stand behind (welfare/loans/services.py).
LOAN_KINDS = (EntryKind.LOAN_OUT, EntryKind.LOAN_REPAYMENT, EntryKind.LOAN_RECOVERY)


def _next_month(day: datetime.date) -> datetime.date:
    return (day.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)


@dataclass
class LedgerSummary:
    """What a fund page says of the entries it selects, and the ids that bound them."""

    count: int
    money_in: int
    money_out: int
    first_id: int | None
    last_id: int | None


def summarise(
    fund: Fund,
    *,
    start: datetime.date | None = None,
    end: datetime.date | None = None,
    kind: str = "",
) -> LedgerSummary:
    """The entries of ``fund`` dated ``start`` to ``end`` (both included, either open) of one
    ``kind`` (any if empty): the whole months from ``LedgerMonth``, the days of a month cut by
    the period from the entries themselves, so the cost does not grow with the ledger."""
    # The whole months of the period: from the month of ``start`` (the next one if the period
    # begins after its first day) to the month of ``end`` (the one before if it ends before
    # its last day), the upper bound excluded.
    whole_from = start and (start if start.day == 1 else _next_month(start))
    ends_a_month = end is not None and _next_month(end) - end == ONE_DAY
    whole_to = end and (_next_month(end) if ends_a_month else end.replace(day=1))
    cut: list[tuple[datetime.date | None, datetime.date | None]] = []  # (from, to) included
    if whole_from and whole_to and whole_from >= whole_to:
        cut = [(start, end)]  # within two months at most: no whole month
        months = LedgerMonth.objects.none()
    else:
        months = LedgerMonth.objects.filter(fund=fund)
        if whole_from:
            months = months.filter(month__gte=whole_from)
            if start and start < whole_from:
                cut.append((start, whole_from - ONE_DAY))
        if whole_to:
            months = months.filter(month__lt=whole_to)
            if end and whole_to <= end:
                cut.append((whole_to, end))
    if kind:
        months = months.filter(kind=kind)
    totals = months.aggregate(
        count=Coalesce(Sum("entry_count"), 0),
        money_in=Coalesce(Sum("money_in"), 0),
        money_out=Coalesce(Sum("money_out"), 0),
        first_id=Min("first_id"),
        last_id=Max("last_id"),
    )
    if cut:
        days = Q()
        for day_from, day_to in cut:
            days |= Q(occurred_on__gte=day_from, occurred_on__lte=day_to)
        entries = fund.entries.filter(days)
        if kind:
            entries = entries.filter(kind=kind)
        edges = entries.aggregate(
            count=Count("pk"),
            money_in=Coalesce(Sum("amount", filter=Q(amount__gt=0)), 0),
            money_out=Coalesce(Sum("amount", filter=Q(amount__lt=0)), 0),
            first_id=Min("pk"),
            last_id=Max("pk"),
        )
        for name in ("count", "money_in", "money_out"):
            totals[name] += edges[name]
        ids = [value for value in (totals["first_id"], edges["first_id"]) if value is not None]
        totals["first_id"] = min(ids, default=None)
        ids = [value for value in (totals["last_id"], edges["last_id"]) if value is not None]
        totals["last_id"] = max(ids, default=None)
    return LedgerSummary(**totals)


@transaction.atomic
def open_fund(
    *,
    unit: Unit,
    name: str,
    kind: str,
    opening_balance: int,
    opened_on: datetime.date,
    by: User,
) -> Fund:
    unit = Unit.objects.get(pk=unit.pk)
    authorize_write(by, Capability.VIEW, unit)
    if not by.is_superuser and not may_open_fund(by, unit):
        raise PermissionDenied
    if opening_balance < 0:
        raise ValidationError({"opening_balance": _("The opening balance cannot be negative.")})
    if opened_on > timezone.localdate():
        raise ValidationError({"opened_on": _("The date cannot be in the future.")})
    fund = Fund.objects.create(unit=unit, name=name, kind=kind, opened_on=opened_on)
    if opening_balance:
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
    by: User,
    description: str = "",
    submission: str = "",
    campaign_id: int | None = None,
) -> LedgerEntry:
    """A contribution to ``fund``, for a campaign when ``campaign_id`` names one."""
    authorize_treasurer(by, fund)
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
        submission=submission,
        campaign_id=campaign_id,
    )


@transaction.atomic
def allocate(
    *,
    from_fund: Fund,
    to_fund: Fund,
    amount: int,
    occurred_on: datetime.date,
    by: User,
    description: str = "",
    submission: str = "",
) -> tuple[LedgerEntry, LedgerEntry]:
    """Move money from one fund to another: two entries, both or neither.

    By a treasurer of the union that owns ``from_fund``, into a fund they may see."""
    authorize_treasurer(by, from_fund)
    authorize_write(by, Capability.VIEW, _owner(to_fund))
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
        submission=submission,
    )
    into = post_entry(
        fund=target,
        kind=EntryKind.ALLOCATION_IN,
        amount=amount,
        occurred_on=occurred_on,
        source=source.name,
        description=description,
        by=by,
        submission=submission,
    )
    return out, into


def reversal_refusal(entry: LedgerEntry, *, reversed_already: bool | None = None) -> str | None:
    """Why ``entry`` cannot be reversed, or None when it can: the rule ``reverse_entry`` keeps
    and the words the fund page shows instead of the button.  ``reversed_already`` is read from
    the entry's ``reversed_by`` when not given."""
    if entry.kind == EntryKind.DISBURSEMENT:
        return _("A support payment belongs to its case and cannot be corrected here.")
    if entry.kind in LOAN_KINDS:
        return _(
            "A loan's money belongs to the loan and its schedule and cannot be corrected here."
        )
    if entry.kind == EntryKind.CORRECTION:
        return _("A correction cannot itself be reversed; record a new entry instead.")
    if reversed_already is None:
        reversed_already = hasattr(entry, "reversed_by")
    if reversed_already:
        return _("This entry has already been reversed.")
    return None


@transaction.atomic
def reverse_entry(
    *, entry: LedgerEntry, occurred_on: datetime.date, reason: str, by: User, submission: str = ""
) -> LedgerEntry:
    """Correct a mistaken contribution, allocation or opening balance by its exact opposite.

    A support payment is not reversed here: it belongs to a case and its paper trail.
    """
    entry = LedgerEntry.objects.select_for_update().select_related("fund").get(pk=entry.pk)
    authorize_treasurer(by, entry.fund)
    reversal = LedgerEntry.objects.filter(reverses=entry).only("submission").first()
    if reversal is not None and submission and reversal.submission == submission:
        raise AlreadyRecorded  # this very form reversed it
    refusal = reversal_refusal(entry, reversed_already=reversal is not None)
    if refusal:
        raise ValidationError(refusal)
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
        submission=submission,
    )
