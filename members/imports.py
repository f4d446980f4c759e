"""The member list import: its columns, its cell readers and how its rows are checked and
written.  The engine that reads the files and runs the jobs is ``common/imports/``."""

from __future__ import annotations

import datetime
import logging
from collections.abc import Callable
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db import connection, models
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from common.forms import DateInput
from common.imports.cells import (
    CellError,
    cell_text,
    choice,
    date_from,
    person_name,
    phone_from,
    yes_no_from,
)
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
from common.text import sort_key
from unions.importing import UNIT_CODE_ALIASES, UnitImportSchema, unit_code_key
from unions.models import Unit, UnitKind, UnitStatus
from unions.scope import Capability, scope_paths

from .counters import refresh_member_counts
from .models import ENDED_STATUSES, Member, MemberKind, Membership, MemberStatus, Sex
from .national_id import national_id_from
from .search import normalise
from .validation import check_birth_date, member_errors

logger = logging.getLogger(__name__)

# --------------------------------------------------------------------------------------------
# Cells only the member list has
# --------------------------------------------------------------------------------------------

_SEXES = {
    **dict.fromkeys(["nam", "m", "male", "1", "trai", "man"], Sex.MALE),
    **dict.fromkeys(["nu", "nữ", "f", "female", "0", "2", "gai", "woman"], Sex.FEMALE),
}


def sex_from(value: Any) -> str | None:
    """Nam/Nữ, male/female, M/F, 1/0 (1 = male, 0 or 2 = female, as in social insurance)."""
    text = cell_text(value)
    if not text:
        return None
    try:
        return choice(text, _SEXES)
    except KeyError:
        raise CellError(_("“%(value)s” is not a sex: write Nam or Nữ.") % {"value": text}) from None


_KINDS = {"đoàn viên": MemberKind.MEMBER, "người lao động": MemberKind.WORKER}


def kind_from(value: Any) -> str | None:
    text = cell_text(value)
    if not text:
        return None
    if text.lower() in _KINDS:
        return _KINDS[text.lower()]
    key = normalise(text)
    if "doan vien" in key or key in ("dv", "member", "union member"):
        return MemberKind.MEMBER
    if "lao dong" in key or key in ("nld", "worker", "non-member worker"):
        return MemberKind.WORKER
    raise CellError(
        _("“%(value)s” is neither “đoàn viên” nor “người lao động”.") % {"value": cell_text(value)}
    )


# --------------------------------------------------------------------------------------------
# The member list
# --------------------------------------------------------------------------------------------

UPDATABLE = (
    "full_name",
    "sex",
    "date_of_birth",
    "union_card_number",
    "joined_on",
    "occupation",
    "phone",
    "address",
    "kind",
    "policy_family",
    "poor_household",
)


STATUS_WORDS = {
    MemberStatus.ACTIVE: ("dang sinh hoat", "sinh hoat", "active", "dang hoat dong"),
    MemberStatus.LEFT: ("da nghi", "nghi", "nghi viec", "thoi viec", "left"),
    MemberStatus.TRANSFERRED: ("chuyen di", "da chuyen", "chuyen cong tac", "transferred"),
    MemberStatus.DECEASED: ("da mat", "mat", "tu tran", "qua doi", "deceased"),
}


def status_from(value: Any) -> str | None:
    key = normalise(cell_text(value))
    if not key:
        return None
    for status, words in STATUS_WORDS.items():
        if key in words:
            return status
    raise CellError(
        _("“%(value)s” is not a status: write Đang sinh hoạt, Đã nghỉ, Chuyển đi or Đã mất.")
        % {"value": cell_text(value)}
    )


def _max_length(name: str) -> int:
    field = Member._meta.get_field(name)
    assert isinstance(field, models.CharField) and field.max_length is not None
    return field.max_length


MAX_LENGTHS = {
    name: _max_length(name)
    for name in ("full_name", "union_card_number", "occupation", "phone", "address")
}


class MemberSchema(UnitImportSchema):
    kind = ImportJob.Kind.MEMBERS
    capability = Capability.EDIT_MEMBERS
    title = "Danh sách đoàn viên"
    template_filename = "mau-nhap-doan-vien.xlsx"
    columns = (
        Column(
            "full_name",
            "Họ và tên",
            ("ho ten", "ho va ten", "ten", "full name", "name"),
            required=True,
            width=28,
        ),
        Column("sex", "Giới tính", ("gioi tinh", "sex", "gender", "nam nu"), choices=("Nam", "Nữ")),
        Column(
            "date_of_birth",
            "Ngày sinh",
            ("ngay sinh", "ngay thang nam sinh", "sinh ngay", "date of birth", "birth date"),
            required=True,
            text=True,
            width=14,
        ),
        Column(
            "national_id",
            "Số định danh cá nhân (CCCD)",
            (
                "so dinh danh",
                "dinh danh ca nhan",
                "cccd",
                "so cccd",
                "can cuoc cong dan",
                "so can cuoc",
                "cmnd",
                "so cmnd",
                "cmnd cccd",
                "so cmnd cccd",
                "personal id number",
                "national id",
                "id number",
            ),
            required=True,
            text=True,
            width=20,
        ),
        Column(
            "unidentified",
            "Không có CCCD",
            (
                "khong co cccd",
                "khong cccd",
                "khong co so dinh danh",
                "chua co cccd",
                "no id number",
            ),
            width=14,
            choices=("x",),
        ),
        Column(
            "union_card_number",
            "Số thẻ đoàn viên",
            ("so the doan vien", "so the", "the doan vien", "ma the", "union card"),
            text=True,
        ),
        Column(
            "joined_on",
            "Ngày vào công đoàn",
            ("ngay vao cong doan", "ngay ket nap", "ngay gia nhap", "ngay vao", "date joined"),
            text=True,
            width=14,
        ),
        Column(
            "occupation",
            "Nghề nghiệp",
            ("nghe nghiep", "chuc vu", "cong viec", "vi tri viec lam", "occupation"),
            width=22,
        ),
        Column(
            "phone",
            "Điện thoại",
            ("dien thoai", "so dien thoai", "sdt", "dt", "phone"),
            text=True,
            width=14,
        ),
        Column(
            "address",
            "Địa chỉ",
            ("dia chi", "noi o", "cho o hien nay", "noi thuong tru", "address"),
            width=34,
        ),
        Column(
            "kind",
            "Đối tượng (đoàn viên / người lao động)",
            ("doi tuong", "loai", "membership", "kind"),
            width=20,
            choices=("Đoàn viên", "Người lao động"),
        ),
        Column(
            "policy_family",
            "Gia đình chính sách",
            ("gia dinh chinh sach", "gdcs", "policy family"),
            width=12,
            choices=("x",),
        ),
        Column(
            "poor_household",
            "Hộ nghèo",
            ("ho ngheo", "poor household"),
            width=10,
            choices=("x",),
        ),
        Column(
            "status",
            "Tình trạng",
            ("tinh trang", "trang thai", "tinh trang sinh hoat", "status"),
            choices=("Đang sinh hoạt", "Đã nghỉ", "Chuyển đi", "Đã mất"),
            width=16,
        ),
        Column(
            "left_on",
            "Ngày nghỉ / chuyển đi / mất",
            (
                "ngay nghi",
                "ngay nghi viec",
                "ngay chuyen di",
                "ngay mat",
                "ngay tu tran",
                "left on",
            ),
            text=True,
            width=16,
        ),
        Column("unit_code", "Công đoàn cơ sở (mã)", UNIT_CODE_ALIASES, text=True, width=16),
    )
    notes = (
        gettext_lazy("How to fill in this list"),
        gettext_lazy(
            "• One person per row, from row 2. Keep the header row; columns may be "
            "in any order and other columns are ignored."
        ),
        gettext_lazy(
            "• Required: full name, date of birth, personal ID number (CCCD, 12 "
            "digits; 9 digits for an old ID card). Sex may be left empty when the CCCD "
            "has 12 digits: it is read from the number."
        ),
        gettext_lazy("• Dates as dd/mm/yyyy (15/03/1985) or as Excel dates."),
        gettext_lazy(
            "• Sex: Nam or Nữ. Membership: Đoàn viên or Người lao động (empty means "
            "Đoàn viên). Policy family, poor household: x for yes."
        ),
        gettext_lazy(
            "• Grassroots union (code): only needed when importing into a union with "
            "several grassroots unions under it. The codes are on the sheet "
            "“Union codes” when the template is downloaded for a union."
        ),
        gettext_lazy(
            "• A person already registered in your unions (same CCCD) is updated, not "
            "added twice; empty cells leave their data as it is."
        ),
        gettext_lazy(
            "• A non-member worker without a CCCD (informal, seasonal): leave the CCCD empty "
            "and put x in “Không có CCCD”. They are recognised again by name and date of "
            "birth at the same grassroots union."
        ),
        gettext_lazy(
            "• Date joined: when it is empty, the date given on the import page counts "
            "(“members since”), or today when none is given there."
        ),
    )

    def option_fields(self) -> dict[str, forms.Field]:
        return {
            "joined_on": forms.DateField(
                label=gettext_lazy("Members since (when the list gives no date joined the union)"),
                help_text=gettext_lazy(
                    "For example 01/01/2020 for a list of people who were members at least "
                    "since then. The list's own “Ngày vào công đoàn” wins where it is filled."
                ),
                required=False,
                widget=DateInput(),
                validators=[_not_in_future],
            )
        }

    def required_keys(self, unit: Unit) -> set[str]:
        keys = super().required_keys(unit)
        if unit.kind != UnitKind.GRASSROOTS:
            keys.add("unit_code")
        return keys

    # -- checking -----------------------------------------------------------------------------

    def check(self, job: ImportJob, table: Table, progress: Progress) -> Preview:
        target = job.unit
        grassroots = {
            code.upper(): (pk, status, name)
            for pk, code, status, name in Unit.objects.in_subtree_of(target)
            .filter(kind=UnitKind.GRASSROOTS)
            .values_list("pk", "code", "status", "name")
        }
        parsed: list[tuple[Row, dict, set[str], list[tuple[str, str]]]] = []
        total = len(table.rows)
        today = timezone.localdate()
        for number, row in enumerate(table.rows, start=1):
            fields, provided, errors = self._parse(table, row, target, grassroots, today)
            parsed.append((row, fields, provided, errors))
            if number % WRITE_BATCH == 0:
                progress(0.7 * number / total)
        self._refuse_duplicates(table, parsed)
        progress(0.75)
        existing = self._existing(parsed)
        progress(0.9)
        preview = Preview()
        scope = scope_paths(job.created_by, self.capability)
        since = job.options.get("joined_on")
        since = since and datetime.date.fromisoformat(since)
        dated_by_page = undated = 0
        for row, fields, provided, errors in parsed:
            if fields.get("unidentified"):
                person = self._unidentified_match(table, fields, existing, errors)
            else:
                person = existing["people"].get(fields.get("national_id"))
            card = fields.get("union_card_number")
            holder = existing["cards"].get(card) if card else None
            if not errors and holder is not None and holder != _identity(fields, person):
                errors.append(
                    (
                        table.label("union_card_number"),
                        _("This union card number belongs to another person."),
                    )
                )
            if not errors and person is not None:
                if not any(person["unit__path"].startswith(path) for path in scope):
                    errors.append(
                        (
                            table.label("national_id"),
                            _("This person is registered in another union."),
                        )
                    )
                elif person["unit_id"] != fields["unit_id"]:
                    errors.append(
                        (
                            table.label("national_id"),
                            _(
                                "This person is already a member of %(unit)s: transfer them, "
                                "or import them into that union."
                            )
                            % {"unit": person["unit__name"]},
                        )
                    )
            if person is None and not errors and fields["joined_on"] is None:
                if since and fields["left_on"] and fields["left_on"] < since:
                    errors.append(
                        (
                            table.label("left_on"),
                            _(
                                "The date left is before the “members since” date of this "
                                "import: give the date joined."
                            ),
                        )
                    )
                elif since:
                    fields["joined_on"] = since
                    dated_by_page += 1
                else:
                    undated += 1
            if errors:
                preview.refused.append(refuse(table, row, errors))
            elif person is None:
                preview.create.append(self._new(fields, row.line))
            else:
                changes = {
                    name: fields[name]
                    for name in UPDATABLE
                    if name in provided and fields[name] != person[name]
                }
                if "status" in provided and (fields["status"], fields["left_on"]) != (
                    person["status"],
                    person["left_on"],
                ):
                    if person["status"] != MemberStatus.ACTIVE:
                        preview.refused.append(
                            refuse(
                                table,
                                row,
                                [
                                    (
                                        table.label("status"),
                                        _(
                                            "This person's membership has already ended: "
                                            "change it on their page."
                                        ),
                                    )
                                ],
                            )
                        )
                        continue
                    changes.update(status=fields["status"], left_on=fields["left_on"])
                if changes:
                    preview.update.append({"id": person["pk"], "line": row.line, **changes})
                else:
                    preview.unchanged += 1
        if dated_by_page:
            preview.notes.append(
                ngettext(
                    "%(count)s new person has no date joined in the list: a member since "
                    "%(date)s, the date given on the import page.",
                    "%(count)s new people have no date joined in the list: members since "
                    "%(date)s, the date given on the import page.",
                    dated_by_page,
                )
                % {"count": dated_by_page, "date": since.strftime("%d/%m/%Y")}
            )
        if undated:
            preview.notes.append(
                ngettext(
                    "%(count)s new person has no date joined: a member from today. Give the "
                    "date on their page, or import again with “members since”.",
                    "%(count)s new people have no date joined: members from today. Give the "
                    "date on their pages, or import again with “members since”.",
                    undated,
                )
                % {"count": undated}
            )
        progress(1.0)
        return preview

    def _unidentified_match(self, table: Table, fields: dict, existing: dict, errors: list):
        """The unidentified worker of the row's unit with its normalised name and date of
        birth: so importing the list again creates nobody twice."""
        key = _unidentified_key(fields)
        found = existing["unidentified"].get(key, [])
        if len(found) > 1 and not errors:
            errors.append(
                (
                    table.label("full_name"),
                    _(
                        "Several workers without a CCCD at this union have this name and date "
                        "of birth: update them on their pages."
                    ),
                )
            )
            return None
        return found[0] if found else None

    def _parse(self, table: Table, row: Row, target: Unit, grassroots: dict, today):
        """The row's fields, which optional ones the file gave, and its errors."""
        errors: list[tuple[str, str]] = []
        unreadable: set[str] = set()
        fields: dict[str, Any] = {}
        provided: set[str] = {"full_name", "date_of_birth", "sex"}
        cells, width = row.cells, len(row.cells)
        raw = {key: cells[at] if at < width else None for key, at in table.index.items()}

        def read(key: str, parser: Callable[[Any], Any]) -> Any:
            try:
                return parser(raw.get(key))
            except CellError as error:
                errors.append((table.label(key), str(error)))
                unreadable.add(key)
                return None

        def missing(key: str, message: str = "") -> None:
            if key not in unreadable:
                reason = message or _("Missing: this column must be filled in.")
                errors.append((table.label(key), reason))

        fields["full_name"] = read("full_name", person_name)
        if not fields["full_name"]:
            missing("full_name")
        national_id = fields["national_id"] = read("national_id", national_id_from) or None
        unidentified = fields["unidentified"] = bool(read("unidentified", yes_no_from))
        if not national_id and not unidentified:
            missing(
                "national_id",
                _(
                    "Missing: write the CCCD. For a non-member worker without one, put x in "
                    "the column “Không có CCCD”."
                ),
            )
        birth = read("date_of_birth", date_from)
        if birth is None:
            missing("date_of_birth")
        else:
            try:
                check_birth_date(birth, today=today)
            except ValidationError as error:
                errors.append((table.label("date_of_birth"), error.messages[0]))
                birth = None
        fields["date_of_birth"] = birth
        sex = read("sex", sex_from)
        if sex is None and national_id and len(national_id) == 12 and national_id.isdigit():
            sex = Sex.FEMALE if int(national_id[3]) % 2 else Sex.MALE  # the CCCD says it
        if sex is None:
            missing("sex", _("Missing: write Nam or Nữ."))
        fields["sex"] = sex
        fields["occupation"] = cell_text(raw.get("occupation"))
        fields["address"] = cell_text(raw.get("address"))
        fields["phone"] = phone_from(raw.get("phone"))
        fields["union_card_number"] = cell_text(raw.get("union_card_number")).lstrip("'")
        for key, length in MAX_LENGTHS.items():
            if fields[key]:
                provided.add(key)
                if len(fields[key]) > length:
                    errors.append(
                        (
                            table.label(key),
                            _("Too long: at most %(max)s characters.") % {"max": length},
                        )
                    )
        joined = fields["joined_on"] = read("joined_on", date_from)
        if joined is not None:
            provided.add("joined_on")
        kind = read("kind", kind_from)
        # Only a non-member worker goes without a number: the mark says which one the row is.
        fields["kind"] = kind or (MemberKind.WORKER if unidentified else MemberKind.MEMBER)
        if kind is not None:
            provided.add("kind")
        for key in ("policy_family", "poor_household"):
            flag = read(key, yes_no_from)
            fields[key] = bool(flag)
            if flag is not None:
                provided.add(key)
        fields["unit_id"] = self._unit(table, raw, target, grassroots, errors)
        status = read("status", status_from)
        left_on = read("left_on", date_from)
        fields["status"], fields["left_on"] = status or MemberStatus.ACTIVE, left_on
        if status is not None or left_on is not None:
            provided.update({"status", "left_on"})
        if status in ENDED_STATUSES and left_on is None:
            missing("left_on", _("Missing: the date the membership ended."))
        elif left_on is not None and status in (None, MemberStatus.ACTIVE):
            errors.append(
                (
                    table.label("status"),
                    _("A date left is given: say Đã nghỉ, Chuyển đi or Đã mất."),
                )
            )
        elif left_on is not None and left_on > today:
            errors.append((table.label("left_on"), _("The date left cannot be in the future.")))
        elif left_on is not None and joined is not None and left_on < joined:
            errors.append(
                (table.label("left_on"), _("The date left cannot be before the date joined."))
            )
        if "date_of_birth" in unreadable or "sex" in unreadable:
            birth = sex = None  # the ID is checked for its format only
        for field_name, problem in member_errors(
            national_id=national_id,
            date_of_birth=birth,
            sex=sex,
            joined_on=joined,
            kind=fields["kind"],
            union_card_number=fields["union_card_number"],
            unidentified=unidentified,
            today=today,
        ):
            if field_name == "national_id" and not national_id and not unidentified:
                continue  # already said, with the column to mark
            errors.append((table.label(field_name), problem.messages[0]))
        return fields, provided, errors

    def _unit(self, table, raw, target, grassroots, errors) -> int | None:
        code = unit_code_key(raw.get("unit_code"))
        if not code:
            if target.kind == UnitKind.GRASSROOTS:
                return target.pk
            errors.append(
                (
                    table.label("unit_code"),
                    _("Missing: the code of the grassroots union is needed under %(unit)s.")
                    % {"unit": target.name},
                )
            )
            return None
        found = grassroots.get(code)
        if found is None:
            errors.append(
                (
                    table.label("unit_code"),
                    _("No grassroots union with the code “%(code)s” under %(unit)s.")
                    % {"code": code, "unit": target.name},
                )
            )
            return None
        pk, status, name = found
        if status != UnitStatus.ACTIVE:
            errors.append(
                (
                    table.label("unit_code"),
                    _("%(unit)s is closed: it can take no new members.") % {"unit": name},
                )
            )
            return None
        return pk

    def _refuse_duplicates(self, table: Table, parsed: list) -> None:
        """A person or a union card twice in the file: the first row counts, later ones are
        refused and name it."""
        first_id: dict[str, int] = {}
        first_card: dict[str, int] = {}
        first_unidentified: dict[tuple, int] = {}
        for row, fields, _provided, errors in parsed:
            if fields.get("unidentified") and fields["date_of_birth"] and fields["full_name"]:
                key = _unidentified_key(fields)
                if key in first_unidentified:
                    errors.append(
                        (
                            table.label("full_name"),
                            _(
                                "The same name and date of birth without a CCCD are already "
                                "on line %(line)s of this file."
                            )
                            % {"line": first_unidentified[key]},
                        )
                    )
                else:
                    first_unidentified[key] = row.line
            national_id = fields.get("national_id")
            if national_id:
                if national_id in first_id:
                    errors.append(
                        (
                            table.label("national_id"),
                            _("The same ID number is already on line %(line)s of this file.")
                            % {"line": first_id[national_id]},
                        )
                    )
                else:
                    first_id[national_id] = row.line
            card = fields.get("union_card_number")
            if card:
                if card in first_card:
                    errors.append(
                        (
                            table.label("union_card_number"),
                            _("The same union card number is already on line %(line)s.")
                            % {"line": first_card[card]},
                        )
                    )
                else:
                    first_card[card] = row.line

    def _existing(self, parsed: list) -> dict:
        """The people and union cards of the file already registered: one query each on
        PostgreSQL, one per batch elsewhere."""
        ids = {fields["national_id"] for _r, fields, _p, _e in parsed if fields["national_id"]}
        cards = {
            fields["union_card_number"]
            for _r, fields, _p, _e in parsed
            if fields["union_card_number"]
        }
        columns = (
            "pk",
            "national_id",
            "unit_id",
            "unit__path",
            "unit__name",
            "status",
            "left_on",
            *UPDATABLE,
        )
        people = {
            person["national_id"]: person
            for person in matching(Member.objects.values(*columns), "national_id", sorted(ids))
        }
        holders = {
            card: national_id or f"#{pk}"
            for card, national_id, pk in matching(
                Member.objects.values_list("union_card_number", "national_id", "pk"),
                "union_card_number",
                sorted(cards),
            )
        }
        names = {
            normalise(fields["full_name"])
            for _r, fields, _p, _e in parsed
            if fields.get("unidentified") and fields["full_name"]
        }
        unidentified: dict[tuple, list[dict]] = {}
        if names:
            for person in matching(
                Member.objects.filter(unidentified=True).values(*columns, "search_name"),
                "search_name",
                sorted(names),
            ):
                key = (person["unit_id"], person["search_name"], person["date_of_birth"])
                unidentified.setdefault(key, []).append(person)
        return {"people": people, "cards": holders, "unidentified": unidentified}

    @staticmethod
    def _new(fields: dict, line: int) -> dict:
        return {"line": line, **fields}

    # -- writing ------------------------------------------------------------------------------

    def write(self, job: ImportJob, plan: dict, progress: Progress) -> None:
        by = job.created_by
        creates, updates = plan["create"], plan["update"]
        total = max(1, len(creates) + len(updates))
        reason = f"import #{job.pk}"
        new_ids = [row["national_id"] for row in creates if row["national_id"]]
        if next(matching(Member.objects.values_list("pk"), "national_id", new_ids), None):
            raise StaleImport(stale_message())
        if self._unidentified_taken(creates):
            raise StaleImport(stale_message())
        now = timezone.now()
        today = timezone.localdate()
        done = 0
        touched = {row["unit_id"] for row in creates}
        for batch in chunks(creates, WRITE_BATCH):
            self._create(batch, by=by, reason=reason, now=now, today=today)
            done += len(batch)
            progress(done / total)
        scope = scope_paths(by, self.capability)
        for batch in chunks(updates, WRITE_BATCH // 4):
            found = Member.objects.select_related("unit").in_bulk([row["id"] for row in batch])
            members: list[Member] = []
            ended: list[Member] = []
            for row in batch:
                member = found.get(row["id"])
                if member is None or not any(member.unit.path.startswith(p) for p in scope):
                    raise StaleImport(stale_message())
                for name in (*UPDATABLE, "status", "left_on"):
                    if name in row:
                        setattr(member, name, _decode(name, row[name]))
                if "status" in row:
                    ended.append(member)
                member.search_name = normalise(member.full_name)
                member.sort_name = sort_key(member.full_name)
                member.updated_at = now
                members.append(member)
                touched.add(member.unit_id)
            Member.objects.bulk_update(
                members, [*UPDATABLE, "status", "left_on", "search_name", "sort_name", "updated_at"]
            )
            for member in ended:  # the open membership closes on the date left
                member.memberships.filter(valid_to__isnull=True).update(valid_to=member.left_on)
            Member.history.bulk_history_create(
                members,
                update=True,
                default_user=by,
                default_change_reason=reason,
                default_date=now,
            )
            done += len(batch)
            progress(done / total)
        refresh_member_counts(touched)

    @staticmethod
    def _unidentified_taken(creates: list[dict]) -> bool:
        """Whether one of the new unidentified workers was recorded since the preview."""
        keys = {
            (
                row["unit_id"],
                normalise(row["full_name"]),
                _decode("date_of_birth", row["date_of_birth"]),
            )
            for row in creates
            if row.get("unidentified")
        }
        if not keys:
            return False
        recorded = matching(
            Member.objects.filter(unidentified=True).values_list(
                "unit_id", "search_name", "date_of_birth"
            ),
            "search_name",
            sorted({name for _unit, name, _birth in keys}),
        )
        return any(tuple(found) in keys for found in recorded)

    @staticmethod
    def _create(rows: list[dict], *, by, reason: str, now, today) -> None:
        """New members with their history row and first membership: plain rows, COPY on
        PostgreSQL (the ids come from the sequence first), bulk inserts elsewhere."""
        members = []
        for row in rows:
            values = {name: _decode(name, row[name]) for name in (*UPDATABLE, "national_id")}
            values["unidentified"] = bool(row.get("unidentified"))
            values["kind"] = str(values["kind"])
            values["sex"] = str(values["sex"])
            members.append(
                {
                    **values,
                    "unit_id": row["unit_id"],
                    "status": str(row.get("status") or MemberStatus.ACTIVE),
                    "left_on": _decode("left_on", row.get("left_on")),
                    "search_name": normalise(values["full_name"]),
                    "sort_name": sort_key(values["full_name"]),
                    "created_at": now,
                    "updated_at": now,
                }
            )
        if connection.vendor == "postgresql":
            for member, pk in zip(members, allocate_ids(Member, len(members)), strict=True):
                member["id"] = pk
            insert_rows(Member, members)
        else:
            saved = Member.objects.bulk_create([Member(**member) for member in members])
            for member, instance in zip(members, saved, strict=True):
                member["id"] = instance.pk
        history = Member.history.model
        kept = [
            field.attname for field in history._meta.concrete_fields if field.attname in members[0]
        ]
        insert_rows(
            history,
            [
                {
                    **{name: member[name] for name in kept},
                    "history_date": now,
                    "history_change_reason": reason,
                    "history_type": "+",
                    "history_user_id": by.pk,
                }
                for member in members
            ],
        )
        insert_rows(
            Membership,
            [
                {
                    "member_id": member["id"],
                    "unit_id": member["unit_id"],
                    "valid_from": member["joined_on"] or min(today, member["left_on"] or today),
                    "valid_to": member["left_on"],
                    "reason": Membership.Reason.JOINED.value,
                    "note": "",
                    "by_id": by.pk,
                }
                for member in members
            ],
        )


def _unidentified_key(fields: dict) -> tuple:
    return (fields["unit_id"], normalise(fields["full_name"]), fields["date_of_birth"])


def _identity(fields: dict, person: dict | None) -> str | None:
    """Who a row is, as the union card holders are keyed: the number, else the record."""
    if fields.get("national_id"):
        return fields["national_id"]
    return f"#{person['pk']}" if person else None


def _not_in_future(value: datetime.date | None) -> None:
    if value and value > timezone.localdate():
        raise ValidationError(_("The date joined cannot be in the future."))


_DATE_FIELDS = {"date_of_birth", "joined_on", "paid_on", "left_on"}


def _decode(name: str, value: Any) -> Any:
    """A value read back from the saved plan (dates were written as ISO text)."""
    if name in _DATE_FIELDS and isinstance(value, str):
        return datetime.date.fromisoformat(value)
    return value


register(MemberSchema())
