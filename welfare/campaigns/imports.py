"""A list of a campaign's contributions from a spreadsheet, imported by the treasurer of the
union that owns the campaign's fund.

A row schema of the import engine in ``common/imports/`` (same preview, confirmation and
refused rows).  Each row names its campaign (its name or number in the portal).  The rows are
written in bulk (``ContributionSchema.write``): each a ledger entry of the campaign's fund,
posted under the fund's lock, and the contribution with its receipt, all rows in the import's
one transaction.  A receipt number is used once in a campaign, so importing the same file
again adds nothing: its rows are found already recorded.
"""

from __future__ import annotations

import datetime
import hashlib
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from common.imports.cells import CellError, amount_from, cell_text, date_from
from common.imports.engine import Preview, StaleImport, matching, refuse, register, stale_message
from common.imports.reader import WRITE_BATCH, Column, Progress, Row, Table
from common.models import ImportJob
from common.text import normalise
from members.models import Member
from members.national_id import national_id_from
from unions.importing import UNIT_CODE_ALIASES, UnitImportSchema, unit_code_key
from unions.models import Unit
from unions.scope import Capability, holds_at, scope_paths
from welfare.funds.ledger import Inflow, authorize_treasurer, lock_fund, post_contributions

from . import services
from .models import Campaign, Contribution, DonorKind

LARGEST_AMOUNT = 100_000_000_000  # 100 billion đồng: more is a typing mistake

DONOR_WORDS = {
    DonorKind.MEMBER: ("doan vien", "dv", "nguoi lao dong", "cong nhan", "member"),
    DonorKind.UNIT: ("cong doan", "don vi", "cdcs", "to chuc cong doan", "unit"),
    DonorKind.ENTERPRISE: ("doanh nghiep", "cong ty", "dn", "enterprise"),
    DonorKind.OTHER: ("ca nhan", "to chuc", "khac", "nha hao tam", "other"),
}


class ContributionSchema(UnitImportSchema):
    kind = ImportJob.Kind.CONTRIBUTIONS
    capability = Capability.PAY
    title = "Danh sách đóng góp"
    template_filename = "mau-nhap-dong-gop.xlsx"
    columns = (
        Column(
            "campaign",
            "Cuộc vận động",
            ("cuoc van dong", "dot van dong", "chuong trinh", "campaign"),
            required=True,
            width=30,
        ),
        Column(
            "receipt_number",
            "Số biên nhận",
            ("so bien nhan", "bien nhan", "so phieu thu", "so phieu", "receipt number"),
            required=True,
            text=True,
            width=14,
        ),
        Column(
            "received_on",
            "Ngày nhận",
            ("ngay nhan", "ngay nop", "ngay", "date received"),
            required=True,
            text=True,
            width=14,
        ),
        Column(
            "donor_kind",
            "Đối tượng",
            ("doi tuong", "loai", "nguoi ung ho la", "donor"),
            required=True,
            width=18,
        ),
        Column(
            "donor_name",
            "Tên người, đơn vị ủng hộ",
            ("ten nguoi don vi ung ho", "ho ten", "ten", "nguoi ung ho", "don vi ung ho"),
            width=32,
        ),
        Column(
            "national_id",
            "Số CCCD của đoàn viên",
            ("so cccd cua doan vien", "so dinh danh", "cccd", "so cccd", "cmnd"),
            text=True,
            width=18,
        ),
        Column(
            "donor_unit",
            "Mã công đoàn ủng hộ",
            ("ma cong doan ung ho", "ma don vi ung ho"),
            text=True,
            width=16,
        ),
        Column(
            "amount",
            "Số tiền (đồng)",
            ("so tien", "so tien ung ho", "thanh tien", "amount"),
            required=True,
            width=16,
        ),
        Column(
            "collected_by",
            "Mã đơn vị thu",
            ("ma don vi thu", *UNIT_CODE_ALIASES),
            text=True,
            width=16,
        ),
    )
    notes = (
        gettext_lazy("How to fill in this list"),
        gettext_lazy(
            "• One contribution per row, from row 2. Campaign: its name or its number in the "
            "portal, a campaign whose fund belongs to the union you import into."
        ),
        gettext_lazy(
            "• Donor: member, union, enterprise or other. A member is found by the CCCD; a "
            "union by its code; otherwise write the donor's name."
        ),
        gettext_lazy(
            "• Date received as dd/mm/yyyy, within the campaign. Amount in đồng, e.g. "
            "2.000.000. Collecting unit code: empty for the campaign's own union."
        ),
        gettext_lazy(
            "• A receipt number is used once in a campaign: importing the same list again "
            "adds nothing twice."
        ),
    )

    def may_import(self, user, unit: Unit) -> bool:
        """Only the treasurer of the union that owns the fund records its contributions."""
        return user.is_superuser or holds_at(user, Capability.PAY, unit.pk)

    def required_keys(self, unit: Unit) -> set[str]:
        return {column.key for column in self.columns if column.required}

    def template_units(self, unit: Unit):
        return Unit.objects.in_subtree_of(unit).active()

    # -- checking -----------------------------------------------------------------------------

    def check(self, job: ImportJob, table: Table, progress: Progress) -> Preview:
        campaigns = list(
            Campaign.objects.filter(fund__unit=job.unit)
            .select_related("unit")
            .prefetch_related("units")
        )
        by_name = {normalise(c.name): c for c in campaigns}
        by_number = {str(c.pk): c for c in campaigns}
        codes = {
            code.upper(): (pk, path, name)
            for pk, code, path, name in Unit.objects.filter(
                path__startswith=job.unit.path
            ).values_list("pk", "code", "path", "name")
        }
        people = self._people(table)
        scope = scope_paths(job.created_by)
        existing = {
            (campaign_id, receipt): (amount, donor)
            for campaign_id, receipt, amount, donor in Contribution.objects.filter(
                campaign__in=campaigns
            ).values_list("campaign_id", "receipt_number", "amount", "donor_name")
        }
        today = timezone.localdate()
        preview = Preview()
        first_line: dict[tuple, int] = {}
        total = len(table.rows)
        for number, row in enumerate(table.rows, start=1):
            errors: list[tuple[str, str]] = []
            record = self._parse(table, row, errors, today)
            campaign = self._campaign(table, row, by_name, by_number, errors)
            if campaign is not None:
                record["campaign_id"] = campaign.pk
                self._in_campaign(table, record, campaign, codes, errors)
            self._donor(table, row, record, people, scope, codes, errors)
            if errors:
                preview.refused.append(refuse(table, row, errors))
                continue
            key = (record["campaign_id"], record["receipt_number"])
            if key in first_line:
                preview.refused.append(
                    refuse(
                        table,
                        row,
                        [
                            (
                                table.label("receipt_number"),
                                _("The same receipt is already on line %(line)s of this file.")
                                % {"line": first_line[key]},
                            )
                        ],
                    )
                )
                continue
            first_line[key] = row.line
            if key in existing:
                if existing[key] == (record["amount"], record["donor_name"]):
                    preview.unchanged += 1
                else:
                    preview.refused.append(
                        refuse(
                            table,
                            row,
                            [
                                (
                                    table.label("receipt_number"),
                                    _(
                                        "Receipt %(number)s is already recorded in this "
                                        "campaign for %(donor)s."
                                    )
                                    % {"number": key[1], "donor": existing[key][1]},
                                )
                            ],
                        )
                    )
                continue
            preview.create.append({"line": row.line, **record})
            if number % WRITE_BATCH == 0:
                progress(0.9 * number / total)
        progress(1.0)
        return preview

    def _parse(self, table: Table, row: Row, errors: list, today: datetime.date) -> dict:
        record: dict[str, Any] = {}
        unreadable: set[str] = set()

        def read(key: str, parser) -> Any:
            try:
                return parser(table.value(row, key))
            except CellError as error:
                errors.append((table.label(key), str(error)))
                unreadable.add(key)
                return None

        def missing(key: str) -> None:
            if key not in unreadable:
                errors.append((table.label(key), _("Missing: this column must be filled in.")))

        record["receipt_number"] = cell_text(table.value(row, "receipt_number"))[:32]
        if not record["receipt_number"]:
            missing("receipt_number")
        received = read("received_on", date_from)
        if received is None:
            missing("received_on")
        elif received > today:
            errors.append((table.label("received_on"), _("The date cannot be in the future.")))
            received = None
        record["received_on"] = received
        kind = read("donor_kind", _donor_kind)
        if kind is None:
            missing("donor_kind")
        record["donor_kind"] = kind
        record["donor_name"] = cell_text(table.value(row, "donor_name"))[:255]
        amount = read("amount", amount_from)
        if amount is None:
            missing("amount")
        elif amount > LARGEST_AMOUNT:
            errors.append((table.label("amount"), _("The amount is too large.")))
            amount = None
        record["amount"] = amount
        record["collected_by"] = unit_code_key(table.value(row, "collected_by"))
        return record

    def _campaign(self, table, row, by_name, by_number, errors) -> Campaign | None:
        text = cell_text(table.value(row, "campaign"))
        if not text:
            errors.append((table.label("campaign"), _("Missing: this column must be filled in.")))
            return None
        found = by_name.get(normalise(text)) or by_number.get(text.lstrip("#").strip())
        if found is None:
            errors.append(
                (
                    table.label("campaign"),
                    _("No campaign “%(campaign)s” raises money into a fund of this union.")
                    % {"campaign": text},
                )
            )
        return found

    def _in_campaign(self, table, record, campaign: Campaign, codes, errors) -> None:
        received = record.get("received_on")
        if received and not campaign.starts_on <= received <= campaign.ends_on:
            errors.append(
                (
                    table.label("received_on"),
                    _("The date must be within the campaign, %(start)s to %(end)s.")
                    % {
                        "start": campaign.starts_on.strftime("%d/%m/%Y"),
                        "end": campaign.ends_on.strftime("%d/%m/%Y"),
                    },
                )
            )
        code = record.pop("collected_by")
        if not code:
            record["collected_by_id"] = campaign.unit_id
            return
        found = codes.get(code)
        roots = [unit.path for unit in campaign.units.all()] or [campaign.unit.path]
        if found is None or not any(found[1].startswith(root) for root in roots):
            errors.append(
                (
                    table.label("collected_by"),
                    _("No unit with the code “%(code)s” collects for this campaign.")
                    % {"code": code},
                )
            )
            return
        record["collected_by_id"] = found[0]

    def _people(self, table: Table) -> dict[str, dict]:
        ids = set()
        for row in table.rows:
            try:
                ids.add(national_id_from(table.value(row, "national_id")))
            except CellError:
                continue
        ids.discard("")
        columns = ("pk", "national_id", "full_name", "unit__path")
        return {
            person["national_id"]: person
            for person in matching(Member.objects.values(*columns), "national_id", sorted(ids))
        }

    def _donor(self, table, row, record, people, scope, codes, errors) -> None:
        kind = record.get("donor_kind")
        record["member_id"] = record["donor_unit_id"] = None
        if kind == DonorKind.MEMBER:
            label = table.label("national_id")
            try:
                number = national_id_from(table.value(row, "national_id"))
            except CellError as error:
                errors.append((label, str(error)))
                return
            person = people.get(number) if number else None
            if not number:
                errors.append((label, _("Give the member's ID number.")))
            elif person is None or not any(person["unit__path"].startswith(p) for p in scope):
                errors.append((label, _("No member has this ID number in your unions.")))
            else:
                record["member_id"] = person["pk"]
                record["donor_name"] = record["donor_name"] or person["full_name"]
        elif kind == DonorKind.UNIT:
            code = unit_code_key(table.value(row, "donor_unit"))
            found = codes.get(code) if code else None
            if found is None:
                errors.append(
                    (
                        table.label("donor_unit"),
                        _("Give the code of a union under this one."),
                    )
                )
                return
            record["donor_unit_id"] = found[0]
            record["donor_name"] = record["donor_name"] or found[2]
        elif kind and not record["donor_name"]:
            errors.append((table.label("donor_name"), _("Give the donor's name.")))

    # -- writing ------------------------------------------------------------------------------

    def write(self, job: ImportJob, plan: dict, progress: Progress) -> None:
        """The rows in bulk, in the import's one transaction: each campaign's fund locked once
        (in id order), then a chunk at a time the receipts looked up again, the ledger entries
        posted together (``ledger.post_contributions``) and the contributions inserted; the
        queries do not grow with the rows.  Whatever changed since the preview (a receipt
        recorded meanwhile, a campaign's dates, a unit moved out of it) writes nothing."""
        rows = plan["create"]
        by = job.created_by
        campaigns = {
            c.pk: c
            for c in Campaign.objects.filter(fund__unit=job.unit)
            .select_related("unit", "fund__unit")
            .prefetch_related("units")
        }
        unit_ids = {row["collected_by_id"] for row in rows} | {
            row["donor_unit_id"] for row in rows if row["donor_unit_id"]
        }
        units = Unit.objects.in_bulk(unit_ids)
        members = set(
            Member.objects.filter(
                pk__in=[row["member_id"] for row in rows if row["member_id"]]
            ).values_list("pk", flat=True)
        )
        today = timezone.localdate()
        for row in rows:
            self._still_valid(row, campaigns, units, members, today)
        used = {campaigns[row["campaign_id"]].fund_id for row in rows}
        for campaign in campaigns.values():
            if campaign.fund_id in used:
                authorize_treasurer(by, campaign.fund)
        funds = {pk: lock_fund(pk) for pk in sorted(used)}
        for start in range(0, len(rows), WRITE_BATCH):
            chunk = rows[start : start + WRITE_BATCH]
            self._write_chunk(chunk, campaigns, funds, by)
            progress(min(1.0, (start + len(chunk)) / len(rows)))
        progress(1.0)

    def _still_valid(self, row, campaigns, units, members, today) -> None:
        """What ``services.record_campaign_contribution`` checks of one row, from what was
        read in bulk: the import stops (nothing written) when the preview no longer holds."""
        campaign = campaigns.get(row["campaign_id"])
        collected_by = units.get(row["collected_by_id"])
        received_on = datetime.date.fromisoformat(row["received_on"])
        kind = row["donor_kind"]
        if (
            campaign is None
            or collected_by is None
            or not services.in_scope(campaign, collected_by, campaign.units.all())
            or not campaign.starts_on <= received_on <= campaign.ends_on
            or received_on > today
            or row["amount"] is None
            or row["amount"] <= 0
            or not row["donor_name"].strip()
            or (kind == DonorKind.MEMBER) != bool(row["member_id"])
            or (row["member_id"] and row["member_id"] not in members)
            or (kind == DonorKind.UNIT) != bool(row["donor_unit_id"])
            or (row["donor_unit_id"] and row["donor_unit_id"] not in units)
        ):
            raise StaleImport(stale_message())

    def _write_chunk(self, chunk, campaigns, funds, by) -> None:
        keys = {(row["campaign_id"], row["receipt_number"].strip()) for row in chunk}
        recorded = Contribution.objects.filter(
            campaign_id__in={campaign for campaign, _receipt in keys},
            receipt_number__in={receipt for _campaign, receipt in keys},
        ).values_list("campaign_id", "receipt_number")
        if any(key in keys for key in recorded):
            raise StaleImport(stale_message())
        by_fund: dict[int, list[dict]] = {}
        for row in chunk:
            by_fund.setdefault(campaigns[row["campaign_id"]].fund_id, []).append(row)
        contributions = []
        for fund_id, fund_rows in sorted(by_fund.items()):
            inflows = []
            for row in fund_rows:
                campaign = campaigns[row["campaign_id"]]
                number = row["receipt_number"].strip()
                inflows.append(
                    Inflow(
                        amount=row["amount"],
                        occurred_on=datetime.date.fromisoformat(row["received_on"]),
                        source=row["donor_name"].strip()[:255],
                        description=(
                            _("%(campaign)s, receipt %(number)s")
                            % {"campaign": campaign.name, "number": number}
                        )[:255],
                        campaign_id=campaign.pk,
                    )
                )
            entries = post_contributions(fund=funds[fund_id], inflows=inflows, by=by)
            contributions += [
                Contribution(
                    campaign_id=row["campaign_id"],
                    donor_kind=row["donor_kind"],
                    donor_name=row["donor_name"].strip(),
                    member_id=row["member_id"],
                    donor_unit_id=row["donor_unit_id"],
                    amount=row["amount"],
                    received_on=entry.occurred_on,
                    receipt_number=row["receipt_number"].strip(),
                    collected_by_id=row["collected_by_id"],
                    entry=entry,
                    row_key=row_key(row),
                    recorded_by=by,
                )
                for row, entry in zip(fund_rows, entries, strict=True)
            ]
        Contribution.objects.bulk_create(contributions)


def _donor_kind(value: Any) -> str | None:
    key = " ".join(normalise(cell_text(value)).replace("-", " ").split())
    if not key:
        return None
    for kind, words in DONOR_WORDS.items():
        labels = {normalise(str(kind.label)), kind.value}
        if key in words or key in labels or any(key.startswith(word + " ") for word in words):
            return kind
    raise CellError(
        _("“%(value)s” is not a donor of the portal: member, union, enterprise or other.")
        % {"value": cell_text(value)}
    )


def row_key(row: dict) -> str:
    """The stable key of an imported line: the same line imported again has the same key."""
    text = "|".join(
        str(row[name])
        for name in ("campaign_id", "receipt_number", "received_on", "amount", "donor_name")
    )
    return hashlib.sha256(text.encode()).hexdigest()[:64]


register(ContributionSchema())
