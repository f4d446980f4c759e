"""Past support records from a spreadsheet: support approved and paid before the portal,
loaded so that the reports of those years count it.

A row schema of the import engine in ``common/imports/`` (same preview,
confirmation and refused rows).  Each row becomes a paid ``Case`` at the unit it was given at,
with one "paid" event saying it was imported.  No ledger entry: that money left the funds
before the portal kept their books.  A record stays at its unit; the reports place it in the
tree as it stood at the end of its year, so nothing more is needed here.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from typing import Any

from django.db import connection
from django.db.models import Min, TextChoices
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from common.imports.cells import CellError, amount_from, cell_text, date_from, person_name
from common.imports.engine import (
    Preview,
    StaleImport,
    allocate_ids,
    chunks,
    insert_rows,
    matching,
    refuse,
    register,
    stale_message,
)
from common.imports.reader import WRITE_BATCH, Column, Progress, Row, Table
from common.models import ImportJob
from common.text import normalise
from members.models import Dependant, Member, Membership
from members.national_id import national_id_from
from unions.importing import UNIT_CODE_ALIASES, UnitImportSchema, unit_code_key
from unions.models import PATH_SEPARATOR, Placement, Unit, UnitKind
from unions.scope import Capability, scope_paths
from welfare.cases.models import (
    BeneficiaryOrganisation,
    Case,
    CaseEvent,
    CaseStatus,
    Category,
    OrganisationKind,
    SupportType,
)
from welfare.funds.models import EntryKind, Fund, LedgerEntry
from welfare.reports import tallies

# What the column "Cấp trên hỗ trợ" holds when an upper level gave the support.
YES = {"x", "co", "yes", "1", "dung", "cap tren"}

LARGEST_AMOUNT = 10_000_000_000  # 10 billion đồng: more is a typing mistake

MISSING_LINES_SHOWN = 20  # the lines named under a missing fund on the job's page

# Words real lists use for the categories and support types, besides the portal's own labels.
CATEGORY_WORDS = {
    Category.ILLNESS: ("om dau", "benh hiem ngheo", "om dau hiem ngheo", "benh nang"),
    Category.ACCIDENT: ("tai nan", "tnld", "tai nan lao dong"),
    Category.OCCUPATIONAL: ("bnn", "benh nghe nghiep"),
    Category.JOB_LOSS: ("mat viec", "that nghiep", "mat viec lam"),
    Category.DISASTER: ("thien tai", "lu lut", "bao lu", "bao", "lu"),
    Category.DEATH: ("qua doi", "tu vong", "tu tran", "tu tuat"),
    Category.HOUSING: ("nha o", "nha dot nat", "khong co nha", "chua co nha"),
    Category.POOR: ("ho ngheo", "can ngheo", "ho can ngheo"),
    Category.POLICY: ("gia dinh chinh sach", "gdcs", "chinh sach"),
    Category.EPIDEMIC: ("dich benh", "covid", "covid 19", "dich"),
    Category.OTHER: ("khac", "kho khan khac", "kho khan"),
}
ORGANISATION_WORDS = {
    OrganisationKind.HEALTH: (
        "benh vien",
        "tram y te",
        "trung tam y te",
        "co so y te",
        "phong kham",
        "y te",
    ),
    OrganisationKind.SCHOOL: ("truong", "truong hoc", "diem truong", "nha truong"),
    OrganisationKind.CHECKPOINT: (
        "chot",
        "chot kiem dich",
        "chot phong dich",
        "khu cach ly",
        "cach ly",
        "kiem dich",
    ),
    OrganisationKind.COMMUNITY: (
        "thon",
        "ban",
        "xom",
        "lang",
        "khu pho",
        "cong dong",
        "to dan pho",
    ),
    OrganisationKind.DRIVE: ("chuong trinh", "phong trao", "cuoc van dong", "van dong"),
    OrganisationKind.OTHER: ("khac", "to chuc khac", "tap the"),
}
SUPPORT_WORDS = {
    SupportType.GRANT: ("tro cap", "tien mat", "ho tro tien", "tro cap kho khan"),
    SupportType.VISIT: ("tham hoi", "tang qua", "qua", "tham"),
    SupportType.TET_GIFT: ("qua tet", "tet", "tet sum vay"),
    SupportType.SAVINGS_BOOK: ("so tiet kiem", "stk"),
    SupportType.SHELTER: ("mai am cong doan", "mai am", "xay nha", "sua nha", "nha mai am"),
    SupportType.SCHOLARSHIP: ("hoc bong", "hoc bong nguyen duc canh"),
    SupportType.OTHER: ("khac", "ho tro khac"),
}


def _words_for(choices: type[TextChoices], extra: dict) -> list[tuple[str, str]]:
    """(normalised word, value) for a choice's value, its labels in every language and the
    extra words, longest first so that "quà tết" is tried before "quà"."""
    words: dict[str, str] = {}
    for value, label in choices.choices:
        words[normalise(value.replace("_", " "))] = value
        for language in ("en", "vi"):
            with translation.override(language):
                words[normalise(str(label))] = value
        for word in extra.get(value, ()):
            words[word] = value
    return sorted(words.items(), key=lambda item: -len(item[0]))


def choice_from(value: Any, words: list[tuple[str, str]], message: str) -> str | None:
    key = " ".join(normalise(cell_text(value)).replace(",", " ").replace("-", " ").split())
    if not key:
        return None
    for word, choice in words:
        if key == word:
            return choice
    for word, choice in words:
        if key.startswith(word + " "):
            return choice
    raise CellError(message % {"value": cell_text(value)})


def _path_ids(path: str) -> list[int]:
    return [int(part) for part in path.split(PATH_SEPARATOR) if part]


class SupportSchema(UnitImportSchema):
    kind = ImportJob.Kind.SUPPORT
    capability = Capability.OPEN_CASES
    title = "Hỗ trợ đã chi"
    template_filename = "mau-nhap-ho-tro-da-chi.xlsx"
    columns = (
        # A row names a person (by the CCCD) or an organisation, never both.
        Column(
            "national_id",
            "Số định danh cá nhân (CCCD)",
            ("so dinh danh", "cccd", "so cccd", "cmnd", "so cmnd", "cmnd cccd", "so cmnd cccd"),
            text=True,
            width=20,
        ),
        Column("full_name", "Họ và tên", ("ho ten", "ho va ten", "ten", "full name"), width=26),
        Column("date_of_birth", "Ngày sinh", ("ngay sinh", "date of birth"), text=True, width=14),
        Column("unit_code", "Mã công đoàn cơ sở", UNIT_CODE_ALIASES, text=True, width=16),
        Column(
            "paid_on",
            "Ngày chi",
            ("ngay chi", "ngay chi tra", "ngay ho tro", "ngay nhan", "ngay", "date paid"),
            required=True,
            text=True,
            width=14,
        ),
        Column(
            "category",
            "Diện khó khăn",
            ("dien kho khan", "hoan canh", "loai hoan canh", "ly do", "hardship category"),
            width=24,
        ),
        Column(
            "support_type",
            "Hình thức hỗ trợ",
            ("hinh thuc ho tro", "hinh thuc", "loai ho tro", "support type"),
            required=True,
            width=22,
        ),
        Column(
            "fund",
            "Quỹ",
            ("quy", "nguon quy", "nguon kinh phi", "nguon", "fund"),
            required=True,
            width=28,
        ),
        Column(
            "program",
            "Tên chương trình",
            ("ten chuong trinh", "chuong trinh", "program"),
            width=28,
        ),
        Column(
            "from_above",
            "Cấp trên hỗ trợ",
            ("cap tren ho tro", "cap tren", "do cap tren ho tro", "upper level"),
            width=14,
        ),
        Column(
            "amount",
            "Số tiền (đồng)",
            ("so tien", "thanh tien", "muc ho tro", "so tien ho tro", "amount"),
            required=True,
            width=16,
        ),
        Column(
            "child",
            "Họ tên con (sổ tiết kiệm, học bổng)",
            ("ho ten con so tiet kiem hoc bong", "ho ten con", "ten con", "con", "child"),
            width=26,
        ),
        Column(
            "organisation",
            "Tổ chức nhận hỗ trợ",
            ("to chuc nhan ho tro", "to chuc", "tap the", "to chuc tap the", "organisation"),
            width=30,
        ),
        Column(
            "organisation_kind",
            "Loại tổ chức",
            ("loai to chuc", "loai tap the", "organisation kind"),
            width=20,
        ),
        Column(
            "organisation_address",
            "Địa chỉ tổ chức",
            ("dia chi to chuc", "dia chi", "organisation address"),
            width=30,
        ),
    )
    notes = (
        gettext_lazy("How to fill in this list"),
        gettext_lazy(
            "• One support record per row, from row 2: support already approved and paid "
            "before the portal. Each becomes a paid case; fund balances are not changed."
        ),
        gettext_lazy(
            "• The person must already be in the member list of your unions (matched by the "
            "CCCD); name and date of birth, when given, must match."
        ),
        gettext_lazy(
            "• A worker recorded without a CCCD: leave the CCCD empty and give the full name "
            "and date of birth, as in the member list."
        ),
        gettext_lazy(
            "• Grassroots union code: the union the support was given at; only needed when "
            "importing into a union with several unions under it."
        ),
        gettext_lazy(
            "• Date paid as dd/mm/yyyy. Fund: its name (or its number in the portal), a fund "
            "of that union or of a union above it. Amount in đồng, e.g. 2.000.000."
        ),
        gettext_lazy(
            "• The union, the fund and the person are checked as they stood on the date paid: "
            "the union must have existed then, the fund must have been opened by then at that "
            "union or a union above it, and the person must have been a member of that union. "
            "Support an upper level gave to a member of a grassroots union below it is booked "
            "at the upper level's code with “x” in the column “Cấp trên hỗ trợ”."
        ),
        gettext_lazy(
            "• Support to an organisation or a group (a hospital, a checkpoint, a school, a "
            "drive): leave the CCCD empty and write its name in “Tổ chức nhận hỗ trợ”, with "
            "its kind and address. It is found by its name at the union, or added once."
        ),
        gettext_lazy(
            "• A visit without money (thăm hỏi, động viên): support type “Thăm hỏi” and amount 0."
        ),
        gettext_lazy(
            "• A savings book or a scholarship: the child's name in “Họ tên con”, as recorded "
            "among the member's dependants."
        ),
        gettext_lazy(
            "• Importing the same list again adds nothing twice: a record with the same "
            "person, union, date, support type and amount is already there."
        ),
    )

    def required_keys(self, unit: Unit) -> set[str]:
        keys = super().required_keys(unit)
        if unit.kind != UnitKind.GRASSROOTS:
            keys.add("unit_code")
        return keys

    def template_units(self, unit: Unit):
        return Unit.objects.in_subtree_of(unit)

    # -- checking -----------------------------------------------------------------------------

    def check(self, job: ImportJob, table: Table, progress: Progress) -> Preview:
        target = job.unit
        tree = _Tree(target)
        categories = _words_for(Category, CATEGORY_WORDS)
        support_types = _words_for(SupportType, SUPPORT_WORDS)
        people, namesakes = self._people(table)
        scope = scope_paths(job.created_by, self.capability)
        today = timezone.localdate()
        known = {person["pk"] for person in people.values()} | {
            person["pk"] for found in namesakes.values() for person in found
        }
        memberships = _memberships(known)
        children = _dependants(known)
        organisations = _organisations(tree.codes.values())
        organisation_kinds = _words_for(OrganisationKind, ORGANISATION_WORDS)
        parsed: list[tuple[Row, dict, list]] = []
        total = len(table.rows)
        for number, row in enumerate(table.rows, start=1):
            errors: list[tuple[str, str]] = []
            record = self._parse(
                table, row, errors, categories, support_types, organisation_kinds, today
            )
            if record["national_id"]:
                record["member_id"] = self._person(table, row, record, people, scope, errors)
            elif record["organisation"]:
                record["member_id"] = None
            else:
                record["member_id"] = self._unidentified_person(
                    table, record, namesakes, scope, errors
                )
            record["dependant_id"] = _child(table, record, children, errors)
            unit = tree.unit(table, row, errors)
            record["unit_id"] = unit
            if unit is not None and record["organisation"]:
                record["organisation_id"] = organisations.get(
                    (unit, normalise(record["organisation"]["name"]))
                )
            paid_on = record.get("paid_on")
            if unit is not None and paid_on and not tree.stood(table, unit, paid_on, errors):
                unit = None
            if unit is not None and paid_on and record.get("fund") is not None:
                record["fund_id"], record["fund_unit_id"] = tree.fund(
                    table, record["fund"], unit, paid_on, errors, row.line
                )
            if unit is not None and paid_on and record["member_id"] is not None:
                tree.person_at(
                    table,
                    unit,
                    memberships.get(record["member_id"], ()),
                    paid_on,
                    from_above=record.pop("from_above"),
                    errors=errors,
                )
            record.pop("from_above", None)
            parsed.append((row, record, errors))
            if number % WRITE_BATCH == 0:
                progress(0.8 * number / total)
        existing = self._existing(
            {record["member_id"] for _r, record, _e in parsed},
            {record["organisation_id"] for _r, record, _e in parsed} - {None},
        )
        preview = Preview()
        first_line: dict[tuple, int] = {}
        for row, record, errors in parsed:
            if errors:
                preview.refused.append(refuse(table, row, errors))
                continue
            key = _key(record)
            if key in first_line:
                preview.refused.append(
                    refuse(
                        table,
                        row,
                        [
                            (
                                table.label("amount"),
                                _("The same record is already on line %(line)s of this file.")
                                % {"line": first_line[key]},
                            )
                        ],
                    )
                )
                continue
            first_line[key] = row.line
            if key in existing:
                preview.unchanged += 1
            else:
                record.pop("fund")
                preview.create.append({"line": row.line, **record})
        preview.missing_funds = tree.missing_funds()
        progress(1.0)
        return preview

    def _parse(
        self, table, row, errors, categories, support_types, organisation_kinds, today
    ) -> dict:
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

        record["national_id"] = read("national_id", national_id_from)
        name = " ".join(cell_text(table.value(row, "organisation")).split())[:200]
        record["organisation"] = None
        record["organisation_id"] = None
        if name:
            record["organisation"] = {
                "name": name,
                "kind": read(
                    "organisation_kind",
                    lambda value: choice_from(
                        value,
                        organisation_kinds,
                        _("“%(value)s” is not a kind of organisation of the portal."),
                    ),
                )
                or OrganisationKind.OTHER,
                "address": " ".join(cell_text(table.value(row, "organisation_address")).split())[
                    :255
                ],
            }
            if record["national_id"] or "national_id" in unreadable:
                errors.append(
                    (
                        table.label("organisation"),
                        _(
                            "A row is for one person (CCCD) or for one organisation, not both: "
                            "clear one of the two."
                        ),
                    )
                )
        record["child"] = person_name_or_blank(cell_text(table.value(row, "child")))
        record["full_name"] = read("full_name", person_name)
        record["date_of_birth"] = read("date_of_birth", date_from)
        # Without a number, the name and birth date name a worker recorded without one.
        named = record["full_name"] and record["date_of_birth"]
        if (
            not record["national_id"]
            and not record["organisation"]
            and not named
            and "national_id" not in unreadable
        ):
            errors.append(
                (
                    table.label("national_id"),
                    _(
                        "Missing: the person's CCCD (for a worker recorded without one, the "
                        "full name and date of birth), or the name of the organisation in "
                        "“Tổ chức nhận hỗ trợ”."
                    ),
                )
            )
        paid_on = read("paid_on", date_from)
        if paid_on is None:
            missing("paid_on")
        elif paid_on > today:
            errors.append((table.label("paid_on"), _("The date paid cannot be in the future.")))
            paid_on = None
        record["paid_on"] = paid_on
        record["category"] = (
            read(
                "category",
                lambda value: choice_from(
                    value, categories, _("“%(value)s” is not a hardship category of the portal.")
                ),
            )
            or Category.OTHER
        )
        record["support_type"] = read(
            "support_type",
            lambda value: choice_from(
                value, support_types, _("“%(value)s” is not a support type of the portal.")
            ),
        )
        if record["support_type"] is None:
            missing("support_type")
        amount = read("amount", _amount_or_zero)
        if amount == 0 and record["support_type"] not in (None, SupportType.VISIT):
            errors.append(
                (
                    table.label("amount"),
                    _("Only a visit may be recorded without money (0 đồng)."),
                )
            )
            amount = None
        if amount is not None and amount > LARGEST_AMOUNT:
            errors.append((table.label("amount"), _("The amount is too large.")))
            amount = None
        record["amount"] = amount
        record["fund"] = cell_text(table.value(row, "fund")) or None
        if record["fund"] is None:
            missing("fund")
        record["program"] = cell_text(table.value(row, "program"))[:200]
        record["from_above"] = normalise(cell_text(table.value(row, "from_above"))) in YES
        return record

    def _people(self, table: Table) -> tuple[dict[str, dict], dict[tuple, list[dict]]]:
        """The people the file names by CCCD, and the unidentified workers it may name by
        normalised name and date of birth (rows without a CCCD)."""
        ids, names = set(), set()
        for row in table.rows:
            try:
                number = national_id_from(table.value(row, "national_id"))
            except CellError:
                continue
            if number:
                ids.add(number)
            else:
                names.add(normalise(cell_text(table.value(row, "full_name"))))
        columns = ("pk", "national_id", "full_name", "search_name", "date_of_birth", "unit__path")
        people = {
            person["national_id"]: person
            for person in matching(Member.objects.values(*columns), "national_id", sorted(ids))
        }
        namesakes: dict[tuple, list[dict]] = {}
        unidentified = Member.objects.filter(unidentified=True).values(*columns)
        for person in matching(unidentified, "search_name", sorted(names - {""})):
            key = (person["search_name"], person["date_of_birth"])
            namesakes.setdefault(key, []).append(person)
        return people, namesakes

    def _unidentified_person(self, table, record, namesakes, scope, errors) -> int | None:
        """The one worker without an ID number in the user's scope with the row's name and
        date of birth; none or several is a refusal, never a guess."""
        name, birth = record["full_name"], record["date_of_birth"]
        if not (name and birth):
            return None
        found = [
            person
            for person in namesakes.get((normalise(name), birth), [])
            if any(person["unit__path"].startswith(path) for path in scope)
        ]
        if len(found) != 1:
            errors.append(
                (
                    table.label("full_name"),
                    _(
                        "No CCCD is given, and no worker recorded without one in your unions "
                        "has this name and date of birth: give the CCCD, or add the worker to "
                        "the members first."
                    )
                    if not found
                    else _(
                        "No CCCD is given, and several workers recorded without one in your "
                        "unions have this name and date of birth: record this support on the "
                        "right person's page."
                    ),
                )
            )
            return None
        record.pop("full_name"), record.pop("date_of_birth")
        return found[0]["pk"]

    def _person(self, table, row, record, people, scope, errors) -> int | None:
        national_id = record["national_id"]
        if not national_id:
            record.pop("full_name", None)
            record.pop("date_of_birth", None)
            return None
        person = people.get(national_id)
        label = table.label("national_id")
        if person is None:
            errors.append(
                (label, _("No member has this ID number: add them to the members first."))
            )
            return None
        if not any(person["unit__path"].startswith(path) for path in scope):
            errors.append((label, _("This person is registered in another union.")))
            return None
        name, birth = record.pop("full_name"), record.pop("date_of_birth")
        if name and normalise(name) != person["search_name"]:
            errors.append(
                (
                    table.label("full_name"),
                    _("The member with this ID number is %(name)s.")
                    % {"name": person["full_name"]},
                )
            )
        if birth and birth != person["date_of_birth"]:
            errors.append(
                (
                    table.label("date_of_birth"),
                    _("The member with this ID number was born on %(date)s.")
                    % {"date": person["date_of_birth"].strftime("%d/%m/%Y")},
                )
            )
        return person["pk"]

    def _existing(self, member_ids: set, organisation_ids: set) -> set[tuple]:
        """The paid cases of these people and organisations, as ``_key`` makes them."""
        columns = (
            "member_id",
            "organisation__search_name",
            "unit_id",
            "paid_on",
            "support_type",
            "approved_amount",
            "dependant_id",
        )
        paid = Case.objects.filter(status=CaseStatus.PAID).values_list(*columns)
        found = set(matching(paid, "member_id", sorted(member_ids - {None})))
        if organisation_ids:
            found |= set(matching(paid, "organisation_id", sorted(organisation_ids)))
        return found

    # -- writing ------------------------------------------------------------------------------

    def write(self, job: ImportJob, plan: dict, progress: Progress) -> None:
        by = job.created_by
        rows = plan["create"]
        for row in rows:
            row["paid_on"] = datetime.date.fromisoformat(row["paid_on"])
        # One support import at a time per union, so two confirmed previews of the same file
        # cannot both add their records.
        Unit.objects.select_for_update().filter(pk=job.unit_id).first()
        organisations = _add_organisations(rows)
        existing = self._existing(
            {row["member_id"] for row in rows}, set(organisations.values()) - {None}
        )
        if any(_key(row) in existing for row in rows):
            raise StaleImport(stale_message())
        comment = _("Imported: support paid before the portal (import #%(job)s).") % {"job": job.pk}
        default_circumstances = _("Support paid before the portal, imported from a spreadsheet.")
        now = timezone.now()
        done = 0
        for batch in chunks(rows, WRITE_BATCH):
            cases = [
                {
                    "unit_id": row["unit_id"],
                    "member_id": row["member_id"],
                    "organisation_id": _organisation_id(row, organisations),
                    "dependant_id": row["dependant_id"],
                    "category": row["category"],
                    "circumstances": row["program"] or default_circumstances,
                    "support_type": row["support_type"],
                    "requested_amount": row["amount"],
                    "fund_id": row["fund_id"],
                    "status": CaseStatus.PAID.value,
                    "current_unit_id": None,
                    "approved_amount": row["amount"],
                    "approved_on": row["paid_on"],
                    "paid_on": row["paid_on"],
                    "created_by_id": by.pk,
                    "created_at": now,
                    "submitted_at": None,
                    "updated_at": now,
                }
                for row in batch
            ]
            if connection.vendor == "postgresql":
                for case, pk in zip(cases, allocate_ids(Case, len(cases)), strict=True):
                    case["id"] = pk
                insert_rows(Case, cases)
            else:
                saved = Case.objects.bulk_create([Case(**case) for case in cases])
                for case, instance in zip(cases, saved, strict=True):
                    case["id"] = instance.pk
            insert_rows(
                CaseEvent,
                [
                    {
                        "case_id": case["id"],
                        "action": CaseEvent.Action.PAID.value,
                        "unit_id": row["fund_unit_id"],
                        "actor_id": by.pk,
                        "amount": row["amount"],
                        "comment": comment,
                        "at": now,
                    }
                    for case, row in zip(cases, batch, strict=True)
                ],
            )
            tallies.count_paid(case["id"] for case in cases)
            done += len(batch)
            progress(done / max(1, len(rows)))


def _day(day: datetime.date) -> str:
    return day.strftime("%d/%m/%Y")


def _memberships(member_ids: set) -> dict[int, list[tuple]]:
    """Each person's memberships, as (unit, from, to, the unit's name), in one query."""
    rows = Membership.objects.values_list(
        "member_id", "unit_id", "valid_from", "valid_to", "unit__name"
    )
    found: dict[int, list[tuple]] = defaultdict(list)
    for member_id, *membership in matching(rows, "member_id", sorted(member_ids)):
        found[member_id].append(tuple(membership))
    return found


def _key(record: dict) -> tuple:
    organisation = record.get("organisation")
    return (
        record["member_id"],
        normalise(organisation["name"]) if organisation else None,
        record["unit_id"],
        record["paid_on"],
        record["support_type"],
        record["amount"],
        record.get("dependant_id"),
    )


def _amount_or_zero(value: Any) -> int:
    """An amount in đồng, or 0 (a visit without money; checked against the support type)."""
    if isinstance(value, int | float) and not isinstance(value, bool) and value == 0:
        return 0
    text = cell_text(value)
    if text and text.strip("0 .,đ₫") == "" and "0" in text:
        return 0
    return amount_from(value)


def person_name_or_blank(text: str) -> str:
    return " ".join(text.split())[:128]


def _dependants(member_ids: set) -> dict[int, list[tuple[int, str, str]]]:
    """Each person's dependants, as (id, normalised name, name), in one query."""
    rows = Dependant.objects.values_list("member_id", "pk", "full_name")
    found: dict[int, list[tuple[int, str, str]]] = defaultdict(list)
    for member_id, pk, name in matching(rows, "member_id", sorted(member_ids)):
        found[member_id].append((pk, normalise(name), name))
    return found


def _child(table: Table, record: dict, children: dict, errors: list) -> int | None:
    """The child a savings book or a scholarship was given for, among the member's
    dependants by name; a row that names no child is kept without one (past lists often
    do not say)."""
    name = record.pop("child")
    if not name:
        return None
    label = table.label("child")
    if record["support_type"] not in (SupportType.SAVINGS_BOOK, SupportType.SCHOLARSHIP):
        errors.append((label, _("A child is named only for a savings book or a scholarship.")))
        return None
    if record["member_id"] is None:
        if record.get("organisation"):
            errors.append((label, _("A child is named only for a person.")))
        return None
    known = children.get(record["member_id"], [])
    key = normalise(name)
    found = [pk for pk, search, _name in known if search == key]
    if len(found) == 1:
        return found[0]
    if not known:
        errors.append(
            (
                label,
                _("No child of this member is recorded: add “%(name)s” to their dependants first.")
                % {"name": name},
            )
        )
    else:
        errors.append(
            (
                label,
                _("“%(name)s” is not among this member's children: %(known)s.")
                % {"name": name, "known": ", ".join(sorted(entry[2] for entry in known))},
            )
        )
    return None


def _organisations(unit_ids) -> dict[tuple[int, str], int]:
    """The organisations recorded at the import's unions, by (union, normalised name)."""
    rows = BeneficiaryOrganisation.objects.filter(unit_id__in=list(unit_ids)).values_list(
        "unit_id", "search_name", "pk"
    )
    return {(unit_id, name): pk for unit_id, name, pk in rows}


def _organisation_key(row: dict) -> tuple[int, str] | None:
    organisation = row.get("organisation")
    if not organisation:
        return None
    return (row["unit_id"], normalise(organisation["name"]))


def _organisation_id(row: dict, organisations: dict[tuple[int, str], int]) -> int | None:
    key = _organisation_key(row)
    return None if key is None else organisations[key]


def _add_organisations(rows: list[dict]) -> dict[tuple[int, str], int]:
    """The organisations the rows name, each added once at its union unless it is there."""
    wanted: dict[tuple[int, str], dict] = {}
    for row in rows:  # named as on the first row that names it
        key = _organisation_key(row)
        if key is not None:
            wanted.setdefault(key, row["organisation"])
    if not wanted:
        return {}
    known = _organisations({unit_id for unit_id, _name in wanted})
    BeneficiaryOrganisation.objects.bulk_create(
        [
            BeneficiaryOrganisation(
                unit_id=unit_id,
                name=details["name"],
                search_name=name,
                kind=details["kind"],
                address=details["address"],
            )
            for (unit_id, name), details in wanted.items()
            if (unit_id, name) not in known
        ]
    )
    return _organisations({unit_id for unit_id, _name in wanted})


class _Tree:
    """The units under the import's union, and where each stood on a date: a record's fund
    must belong to its union or a union above it, then or now."""

    def __init__(self, target: Unit):
        self.target = target
        units = list(
            Unit.objects.in_subtree_of(target).values_list(
                "pk", "code", "path", "name", "kind", "founded_on", "closed_on", "successor__name"
            )
        )
        self.codes = {code.upper(): pk for pk, code, *_rest in units}
        self.today = {pk: _path_ids(path) for pk, _code, path, *_rest in units}
        self.info: dict[int, tuple[str, str, datetime.date, datetime.date | None, str | None]] = {
            pk: (name, kind, founded, closed, successor)
            for pk, _code, _path, name, kind, founded, closed, successor in units
        }
        self.predecessors: dict[str, list[str]] = defaultdict(list)
        for name, successor in Unit.objects.filter(
            successor__in=[pk for pk, *_rest in units]
        ).values_list("name", "successor__name"):
            self.predecessors[successor].append(name)
        self.placements: dict[int, list] = defaultdict(list)
        for unit_id, path, start, end in Placement.objects.filter(
            unit__path__startswith=target.path
        ).values_list("unit_id", "path", "valid_from", "valid_to"):
            self.placements[unit_id].append((start, end, _path_ids(path)))
        on_paths = {pk for ids in self.today.values() for pk in ids}
        on_paths |= {pk for rows in self.placements.values() for *_dates, ids in rows for pk in ids}
        self.funds: dict[int, list[tuple[int, str]]] = defaultdict(list)
        for pk, unit_id, name in Fund.objects.filter(unit_id__in=on_paths).values_list(
            "pk", "unit_id", "name"
        ):
            self.funds[unit_id].append((pk, normalise(name)))
        fund_ids = [pk for funds in self.funds.values() for pk, _name in funds]
        # A fund's books start on the day it was opened, or on its first opening entry if
        # that is earlier (or the day was not kept).
        self.opened: dict[int, datetime.date] = dict(
            LedgerEntry.objects.filter(fund_id__in=fund_ids, kind=EntryKind.OPENING)
            .values("fund_id")
            .annotate(first=Min("occurred_on"))
            .values_list("fund_id", "first")
            .order_by()
        )
        self.fund_names = {}
        for pk, name, opened_on in Fund.objects.filter(pk__in=fund_ids).values_list(
            "pk", "name", "opened_on"
        ):
            self.fund_names[pk] = name
            if opened_on is not None:
                self.opened[pk] = min(opened_on, self.opened.get(pk, opened_on))
        # The funds the sheet names that no union on the record's path has: offered on the
        # job's page to be opened (``past_funds``), never opened silently.
        self.missing: dict[tuple[int, str], dict] = {}

    def path_at(self, unit: int, on: datetime.date) -> list[int]:
        """The unit and the units above it on ``on``: its placement then, else today's."""
        for start, end, ids in self.placements.get(unit, ()):
            if start <= on and (end is None or on < end):
                return ids
        return self.today.get(unit, [unit])

    def stood(self, table: Table, unit: int, on: datetime.date, errors: list) -> bool:
        """Whether the union existed on ``on``; if not, say when it did and who stood in its
        place."""
        name, _kind, founded, closed, successor = self.info[unit]
        values = {"unit": name, "date": _day(on)}
        if on < founded:
            message = _("%(unit)s was founded on %(founded)s: it did not exist on %(date)s.") % {
                **values,
                "founded": _day(founded),
            }
            before = self.predecessors.get(name)
            if before:
                message += " " + _("Before that, %(names)s stood in its place.") % {
                    "names": ", ".join(sorted(before))
                }
        elif closed is not None and on >= closed:
            message = _("%(unit)s was closed on %(closed)s: it no longer existed on %(date)s.") % {
                **values,
                "closed": _day(closed),
            }
            if successor:
                message += " " + _("%(successor)s stood in its place then.") % {
                    "successor": successor
                }
        else:
            return True
        errors.append((table.label("unit_code"), message))
        return False

    def person_at(
        self,
        table: Table,
        unit: int,
        memberships,
        on: datetime.date,
        *,
        from_above: bool,
        errors: list,
    ) -> None:
        """The person must have been in the record's union on the date, or in a union below
        it when the sheet says an upper level gave the support."""
        held = [m for m in memberships if m[1] <= on and (m[2] is None or on < m[2])]
        if not held:
            return  # not a member on that day: counted as such by the reports
        member_unit, _start, _end, member_unit_name = held[0]
        if member_unit == unit:
            return
        above = unit in self.path_at(member_unit, on)[:-1]
        if from_above and above:
            return
        name, kind, *_rest = self.info[unit]
        values = {"unit": name, "member_unit": member_unit_name, "date": _day(on)}
        if from_above:
            message = _(
                "“Cấp trên hỗ trợ” is marked, but %(unit)s is not above %(member_unit)s, "
                "the union this person was in on %(date)s."
            )
        elif kind != UnitKind.GRASSROOTS and above:
            message = _(
                "%(unit)s is above the grassroots unions: on %(date)s this person was in "
                "%(member_unit)s. Write that union's code, or “x” in “Cấp trên hỗ trợ” if "
                "%(unit)s gave the support."
            )
        else:
            message = _("On %(date)s this person was in %(member_unit)s, not in %(unit)s.")
        errors.append((table.label("unit_code"), message % values))

    def unit(self, table: Table, row: Row, errors: list) -> int | None:
        code = unit_code_key(table.value(row, "unit_code"))
        if not code:
            if self.target.kind == UnitKind.GRASSROOTS:
                return self.target.pk
            errors.append(
                (
                    table.label("unit_code"),
                    _("Missing: the code of the grassroots union is needed under %(unit)s.")
                    % {"unit": self.target.name},
                )
            )
            return None
        unit = self.codes.get(code)
        if unit is None:
            errors.append(
                (
                    table.label("unit_code"),
                    _("No union with the code “%(code)s” under %(unit)s.")
                    % {"code": code, "unit": self.target.name},
                )
            )
        return unit

    def fund(
        self, table: Table, text: str, unit: int, on: datetime.date, errors: list, line: int = 0
    ) -> tuple[int | None, int | None]:
        """The fund named ``text`` among those of the unit and the units above it."""
        path = self.path_at(unit, on)
        candidates = [(pk, name, owner) for owner in path for pk, name in self.funds[owner]]
        key = normalise(text)
        number = key.lstrip("#").strip()
        found = {(pk, owner) for pk, name, owner in candidates if name == key}
        if not found and number.isdigit():
            found = {(pk, owner) for pk, _name, owner in candidates if pk == int(number)}
        if not found:
            found = {(pk, owner) for pk, name, owner in candidates if name.startswith(key)}
        label = table.label("fund")
        if len(found) == 1:
            fund, owner = next(iter(found))
            opened = self.opened.get(fund)
            if opened is not None and on < opened:
                errors.append(
                    (
                        label,
                        _("%(fund)s was opened on %(opened)s, after %(date)s.")
                        % {"fund": self.fund_names[fund], "opened": _day(opened), "date": _day(on)},
                    )
                )
                return None, None
            return fund, owner
        if found:
            errors.append(
                (label, _("Several funds match “%(fund)s”: write its full name.") % {"fund": text})
            )
        else:
            errors.append(
                (
                    label,
                    _("No fund “%(fund)s” at this union or a union above it.") % {"fund": text},
                )
            )
            self._missing(text, key, unit, on, line)
        return None, None

    def _missing(self, text: str, key: str, unit: int, on: datetime.date, line: int) -> None:
        found = self.missing.setdefault(
            (unit, key),
            {
                "name": " ".join(text.split()),
                "unit_id": unit,
                "unit": self.info[unit][0],
                "first": on,
                "lines": [],
            },
        )
        found["first"] = min(found["first"], on)
        found["lines"].append(line)

    def missing_funds(self) -> list[dict]:
        """The missing funds, each with the lines naming it and the earliest date, as JSON."""
        return [
            {
                **found,
                "first": found["first"].isoformat(),
                "rows": len(found["lines"]),
                "lines": found["lines"][:MISSING_LINES_SHOWN],
            }
            for found in sorted(
                self.missing.values(), key=lambda found: (found["unit"], found["name"])
            )
        ]


register(SupportSchema())
