"""The campaign pages: the list, a new campaign and its edit, the campaign with what it raised
(against the target, by unit, by month) and its contributions, a contribution typed in, the
contributions' export and each contribution's receipt.

A contribution is corrected by reversing its ledger entry on the fund's page
(``funds:reverse``): the campaign's figures leave reversed contributions out.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import cast

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet, Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _

from common.exports import Column, export_response
from common.forms import apply_service_errors
from common.keyset import KeysetPaginator
from common.money import format_dong
from unions.models import Unit, UnitStatus
from unions.scope import Capability, authorize, can, can_anywhere, visible_unit_ids
from welfare.funds.ledger import AlreadyRecorded, authorize_treasurer

from . import services
from .chart import month_columns, months_between
from .forms import CampaignForm, ContributionFilter, ContributionForm
from .models import Campaign, Contribution, DonorKind, paths_above
from .receipts import render_receipt


def campaign_list(request: HttpRequest) -> HttpResponse:
    campaigns = Campaign.objects.visible_to(request.user).select_related("unit", "fund")
    page = Paginator(campaigns, settings.PAGE_SIZE).get_page(request.GET.get("page"))
    raised = {
        row["campaign_id"]: row["amount"]
        for row in Contribution.objects.standing()
        .filter(campaign_id__in=[campaign.pk for campaign in page])
        .values("campaign_id")
        .annotate(amount=Sum("amount"))
        .order_by()
    }
    rows = [
        {
            "campaign": campaign,
            "raised": raised.get(campaign.pk, 0),
            "share": min(100.0, raised.get(campaign.pk, 0) / campaign.target * 100),
        }
        for campaign in page
    ]
    return render(
        request,
        "welfare/campaigns/campaign_list.html",
        {
            "page": page,
            "rows": rows,
            "can_create": can_anywhere(request.user, Capability.OPEN_CASES),
        },
    )


def _form_data(form: CampaignForm) -> dict:
    data = dict(form.cleaned_data)
    data["units"] = list(data["units"])
    return data


def campaign_create(request: HttpRequest) -> HttpResponse:
    if not can_anywhere(request.user, Capability.OPEN_CASES):
        raise PermissionDenied
    form = CampaignForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            campaign = services.create_campaign(by=request.user, **_form_data(form))
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, _("The campaign was opened."))
            return redirect("campaigns:detail", pk=campaign.pk)
    return render(request, "welfare/campaigns/campaign_form.html", {"form": form, "campaign": None})


def campaign_edit(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = services.get_campaign_for_user(request.user, pk)
    authorize(request.user, Capability.OPEN_CASES, campaign.unit)
    initial = {
        "name": campaign.name,
        "purpose": campaign.purpose,
        "target": campaign.target,
        "starts_on": campaign.starts_on,
        "ends_on": campaign.ends_on,
        "units": list(campaign.units.all()),
    }
    form = CampaignForm(request.POST or None, user=request.user, campaign=campaign, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_campaign(campaign=campaign, by=request.user, **_form_data(form))
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, _("The campaign was saved."))
            return redirect("campaigns:detail", pk=campaign.pk)
    return render(
        request, "welfare/campaigns/campaign_form.html", {"form": form, "campaign": campaign}
    )


def _filtered(
    request: HttpRequest, campaign: Campaign, units: QuerySet[Unit]
) -> tuple[ContributionFilter, QuerySet[Contribution]]:
    """The campaign's contributions the reader may see, with the list's filters applied (none
    when they do not read)."""
    contributions = Contribution.objects.visible_to(request.user).filter(campaign=campaign)
    form = ContributionFilter(request.GET or None, units=units)
    if form.is_valid():
        data = form.cleaned_data
        text = data["q"].strip()
        if text:
            contributions = contributions.filter(
                Q(donor_name__icontains=text) | Q(receipt_number__iexact=text)
            )
        if data["donor_kind"]:
            contributions = contributions.filter(donor_kind=data["donor_kind"])
        if data["unit"]:
            contributions = contributions.filter(collected_by__path__startswith=data["unit"].path)
        if data["start"]:
            contributions = contributions.filter(received_on__gte=data["start"])
        if data["end"]:
            contributions = contributions.filter(received_on__lte=data["end"])
    return form, contributions


# The rows of the "by unit" table shown before the rest is summed on one line.
TABLE_ROWS = 30


def _collecting_children(
    campaign: Campaign, listed: list[Unit], units: Iterable[tuple]
) -> list[services.UnitRef]:
    """Of ``units`` (pk, name, path, status), those that collect for the campaign: its
    participating units, the units above them, or every unit under its union when it lists
    none."""
    roots = {unit.path for unit in listed}
    above = {path for root in roots for path in paths_above(root)}
    return [
        services.UnitRef(pk, name, path, status == UnitStatus.ACTIVE)
        for pk, name, path, status in units
        # Listing none, every unit under the campaign's union collects.
        if (not roots and path.startswith(campaign.unit.path))
        or path in above
        or any(part in roots for part in paths_above(path))
    ]


def campaign_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Raised against the target, by unit (rolled up to the child units of the union in
    view: the campaign's, or the reader's own, or the unit chosen in the filter, whose child
    units a row's link opens) and by month, and the contributions."""
    campaign = services.get_campaign_for_user(request.user, pk)
    listed = list(campaign.units.all())
    total = services.raised(Contribution.objects.filter(campaign=campaign))
    units = services.collecting_units(campaign, listed).filter(
        pk__in=visible_unit_ids(request.user)
    )
    filter_form, contributions = _filtered(request, campaign, units)
    tops = services.reader_top(request.user, campaign)
    top_paths = [top.path for top in tops]
    chosen = filter_form.cleaned_data.get("unit") if filter_form.is_valid() else None
    if chosen is not None:
        tops = [chosen]
    # The units right under the one in view and those above it that the reader sees from
    # the top of their table (the trail back), in one query.
    trail: list[services.UnitRef] = []
    children: list[services.UnitRef] = []
    if len(tops) == 1:
        node = tops[0]
        around = Unit.objects.filter(Q(parent=node) | Q(pk__in=node.ancestor_ids()[:-1]))
        below = []
        for unit_id, name, path, status in around.order_by("depth").values_list(
            "pk", "name", "path", "status"
        ):
            if path.startswith(node.path):
                below.append((unit_id, name, path, status))
            elif any(path.startswith(top) for top in top_paths):
                trail.append(services.UnitRef(unit_id, name, path))
        children = _collecting_children(campaign, listed, below)
    # Every unit of ``tops`` is in the reader's scope (their own, or one the filter accepted
    # from it), so the contributions under them need no other scoping.
    rows, months = services.raised_by_unit(
        Contribution.objects.filter(campaign=campaign),
        tops,
        children=children,
        keep_empty=bool(listed),
    )
    # The units that raised most, the rest on one line unless all are asked for.
    everyone = request.GET.get("units") == "all"
    shown = rows if everyone else rows[:TABLE_ROWS]
    others = rows[len(shown) :]
    rest = (
        {
            "units": len(others),
            "amount": sum(row.amount for row in others),
            "count": sum(row.count for row in others),
        }
        if others
        else None
    )
    chart = month_columns(
        [
            (month, months.get(month, 0))
            for month in months_between(campaign.starts_on, campaign.ends_on)
        ],
        _("Raised by month"),
    )
    # The filter offers the unit in view and those above it (its child units open from the
    # table); any other unit the reader sees is still accepted (a link, a bookmark).
    offered: list[Unit | services.UnitRef] = [*trail, tops[0]] if len(tops) == 1 else [*tops]
    depth = (lambda index: index) if len(tops) == 1 else (lambda index: 0)
    unit_field = cast(forms.ModelChoiceField, filter_form.fields["unit"])
    unit_field.widget.choices = [("", unit_field.empty_label)] + [
        (unit.pk, f"{'— ' * depth(index)}{unit.name}") for index, unit in enumerate(offered)
    ]
    page = KeysetPaginator(
        contributions.select_related("collected_by", "entry__reversed_by"),
        ["-received_on", "-pk"],
        settings.PAGE_SIZE,
    ).get_page(request.GET)
    return render(
        request,
        "welfare/campaigns/campaign_detail.html",
        {
            "campaign": campaign,
            "listed": listed,
            "total": total,
            "share": total.share_of(campaign.target),
            "bar": min(100.0, total.share_of(campaign.target)),
            "rows": shown,
            "rest": rest,
            "node": tops[0] if len(tops) == 1 else None,
            "trail": trail,
            "chart": chart,
            "filter_form": filter_form,
            "page": page,
            "query": page.filter_query,
            "runs": can(request.user, Capability.OPEN_CASES, campaign.unit),
            "records": services.may_record(request.user, campaign),
        },
    )


def contribution_add(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = services.get_campaign_for_user(request.user, pk)
    authorize_treasurer(request.user, campaign.fund)
    form = ContributionForm(request.POST or None, units=services.collecting_units(campaign))
    if request.method == "POST" and form.is_valid():
        try:
            contribution = services.record_campaign_contribution(
                campaign=campaign, by=request.user, **form.service_data()
            )
        except AlreadyRecorded as error:
            messages.info(request, error.messages[0])
            return redirect("campaigns:detail", pk=campaign.pk)
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(
                request,
                _("A contribution of %(amount)s from %(donor)s was recorded.")
                % {"amount": format_dong(contribution.amount), "donor": contribution.donor_name},
            )
            return redirect("campaigns:detail", pk=campaign.pk)
    return render(
        request, "welfare/campaigns/contribution_form.html", {"form": form, "campaign": campaign}
    )


def contribution_columns() -> list[Column[Contribution]]:
    kinds = dict(DonorKind.choices)
    return [
        Column(_("Receipt number"), lambda c: c.receipt_number),
        Column(_("Date received"), lambda c: c.received_on.strftime("%d/%m/%Y")),
        Column(_("Donor"), lambda c: str(kinds.get(c.donor_kind, c.donor_kind))),
        Column(_("Donor's name"), lambda c: c.donor_name),
        Column(_("Collected by"), lambda c: c.collected_by.name),
        Column(_("Amount"), lambda c: c.amount),
        Column(_("Ledger entry"), lambda c: c.entry_id),
        Column(_("Reversed"), lambda c: _("yes") if hasattr(c.entry, "reversed_by") else ""),
    ]


def campaign_export(request: HttpRequest, pk: int, fmt: str):
    """Exactly the contributions the campaign page lists with the same filters, oldest first."""
    campaign = services.get_campaign_for_user(request.user, pk)
    units = services.collecting_units(campaign).filter(pk__in=visible_unit_ids(request.user))
    _form, contributions = _filtered(request, campaign, units)
    rows = contributions.select_related("collected_by", "entry__reversed_by").order_by(
        "received_on", "pk"
    )
    return export_response(
        fmt, rows, contribution_columns(), f"dong-gop-{campaign.pk}", _("Contributions")
    )


def contribution_receipt(request: HttpRequest, pk: int) -> HttpResponse:
    contribution = services.get_contribution_for_user(request.user, pk)
    response = HttpResponse(render_receipt(contribution), content_type="application/pdf")
    filename = f"bien-nhan-{contribution.pk}.pdf"
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    patch_cache_control(response, private=True, no_store=True)
    return response
