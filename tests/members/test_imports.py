"""Member import from a spreadsheet: tolerant reading, preview, confirm, all or nothing."""

from __future__ import annotations

import csv
import datetime
import io
import zipfile

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext
from openpyxl import Workbook, load_workbook

from common.imports import cells, engine, reader
from common.models import ImportJob
from members import imports, national_id
from members.models import Member, Membership
from members.national_id import make_national_id
from unions.models import UnitKind

from ..factories import MemberFactory, make_unit

pytestmark = pytest.mark.django_db

HEADER = [
    "STT",
    "Họ và tên",
    "Giới tính",
    "Ngày sinh",
    "Số định danh cá nhân (CCCD)",
    "Số thẻ đoàn viên",
    "Ngày vào công đoàn",
    "Nghề nghiệp",
    "Điện thoại",
    "Địa chỉ",
    "Đối tượng (đoàn viên / người lao động)",
    "Gia đình chính sách",
    "Hộ nghèo",
]
BIRTH = datetime.date(1990, 4, 2)


def cccd(serial: int, birth=BIRTH, sex="male", province="040") -> str:
    """Province 040: the factories use 020, so the numbers never meet."""
    return make_national_id(province, birth, sex, serial)


def person(serial: int, **overrides) -> list:
    """One row in HEADER's order: a valid new member."""
    values = {
        "name": "Hoàng Văn Minh",
        "sex": "Nam",
        "birth": BIRTH.strftime("%d/%m/%Y"),
        "id": cccd(serial),
        "card": "",
        "joined": "01/06/2015",
        "occupation": "Công nhân",
        "phone": "0912345678",
        "address": "Phường Đông Kinh",
        "kind": "Đoàn viên",
        "policy": "",
        "poor": "",
    }
    values.update(overrides)
    return [serial, *values.values()]


def xlsx(rows: list[list], header=HEADER, above: list[list] | None = None) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    for row in above or []:
        sheet.append(row)
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def csv_bytes(rows: list[list], *, bom=True, delimiter=",", header=HEADER) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter)
    writer.writerow(header)
    writer.writerows(rows)
    return (("\ufeff" if bom else "") + buffer.getvalue()).encode("utf-8")


def upload(content: bytes, name: str = "danh-sach.xlsx") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content)


def preview(world, content: bytes, *, role="grassroots", unit=None, name="danh-sach.xlsx"):
    unit = unit or world.a1
    return engine.start_import(
        kind=ImportJob.Kind.MEMBERS,
        unit=unit,
        upload=upload(content, name),
        by=world.users[role],
    )


def confirm(world, job, role="grassroots") -> ImportJob:
    return engine.confirm_import(job=job, by=world.users[role])


def reasons(job) -> dict[int, list[tuple[str, str]]]:
    return {row["line"]: [tuple(error) for error in row["errors"]] for row in job.refused_sample}


@pytest.fixture
def eager_celery():
    from portal.celery import app

    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield app
    app.conf.task_always_eager = before


# -- tolerant reading ------------------------------------------------------------------------


def test_reads_the_quirks_of_real_sheets(world):
    """Title rows above the header, headers without marks in capitals, a row of column
    numbers, names in any case, IDs that lost their leading zero, dates as text, as d/m/yy and
    as Excel dates, sex in several spellings, extra spaces everywhere."""
    header = ["stt", "HO VA TEN", "gioi tinh", "NGAY SINH", "So CCCD", "Dien thoai", "Ho ngheo"]
    ids = {
        "an": cccd(1, province="001"),  # Hà Nội: starts with 00, stored as a number
        "binh": cccd(2, datetime.date(1985, 7, 9), "female"),
        "chi": cccd(3, datetime.date(2001, 2, 5), "female"),
        "dung": cccd(4, datetime.date(1979, 12, 31)),
    }
    content = xlsx(
        [
            [1, "NGUYỄN văn  an", "Nam", " 02/04/1990 ", int(ids["an"]), 912345678, "x"],
            [2, "  trần THỊ bình ", "female", "9/7/85", ids["binh"], "0987 654 321", ""],
            [
                3,
                "lê thị chi",
                0,
                datetime.datetime(2001, 2, 5),
                f" {ids['chi'][:3]} {ids['chi'][3:]}",
                "",
                "có",
            ],
            [4, "phạm   văn dũng", 1, "31-12-1979", ids["dung"], "", "không"],
            [None, None, None, None, None, None, None],
        ],
        header=header,
        above=[
            ["CÔNG ĐOÀN CƠ SỞ CÔNG TY A1"],
            ["DANH SÁCH ĐOÀN VIÊN NĂM 2025"],
            [],
            [],
        ],
    )
    # the "(1) (2) (3)" row under the header
    workbook = load_workbook(io.BytesIO(content))
    workbook.active.insert_rows(6)
    for column in range(1, 8):
        workbook.active.cell(row=6, column=column, value=f"({column})")
    buffer = io.BytesIO()
    workbook.save(buffer)

    job = preview(world, buffer.getvalue())

    assert job.status == ImportJob.Status.PREVIEWED, job.error
    assert (job.to_create, job.refused) == (4, 0), job.refused_sample
    confirm(world, job)
    people = {m.national_id: m for m in Member.objects.filter(national_id__in=ids.values())}
    an = people[ids["an"]]
    assert ids["an"].startswith("001") and an.full_name == "Nguyễn Văn An"
    assert (an.search_name, an.sort_name) == ("nguyen van an", "nguye|n va{n an")
    assert an.date_of_birth == datetime.date(1990, 4, 2)
    assert (an.sex, an.phone, an.poor_household) == ("male", "0912345678", True)
    binh = people[ids["binh"]]
    assert (binh.full_name, binh.sex, binh.date_of_birth) == (
        "Trần Thị Bình",
        "female",
        datetime.date(1985, 7, 9),
    )
    assert binh.phone == "0987 654 321"
    chi = people[ids["chi"]]
    assert (chi.full_name, chi.sex, chi.date_of_birth) == (
        "Lê Thị Chi",
        "female",
        datetime.date(2001, 2, 5),
    )
    assert chi.poor_household is True
    dung = people[ids["dung"]]
    assert (dung.full_name, dung.sex, dung.date_of_birth) == (
        "Phạm Văn Dũng",
        "male",
        datetime.date(1979, 12, 31),
    )
    assert all(m.unit_id == world.a1.pk for m in people.values())


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("15/03/1985", datetime.date(1985, 3, 15)),
        ("5/3/85", datetime.date(1985, 3, 5)),
        ("5/3/05", datetime.date(2005, 3, 5)),
        ("15.03.1985", datetime.date(1985, 3, 15)),
        ("1985-03-15", datetime.date(1985, 3, 15)),
        ("15/03/1985 00:00:00", datetime.date(1985, 3, 15)),
        (datetime.datetime(1985, 3, 15), datetime.date(1985, 3, 15)),
        (31121, datetime.date(1985, 3, 15)),  # an Excel serial without a date format
    ],
)
def test_dates_in_every_usual_form(cell, expected):
    assert cells.date_from(cell) == expected


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        (20190000777, "020190000777"),  # 11 digits: the leading zero came back
        (1190000777, "001190000777"),  # Hà Nội (001) as a number loses two zeros
        (20190000777.0, "020190000777"),
        ("020 190 000 777", "020190000777"),
        ("020.190.000.777", "020190000777"),
        ("'020190000777", "020190000777"),
        (12345678, "012345678"),  # an old 9-digit CMND that lost its zero
    ],
)
def test_national_ids_get_their_leading_zero_back(cell, expected):
    assert national_id.national_id_from(cell) == expected


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("Nam", "male"),
        ("NỮ", "female"),
        ("nu", "female"),
        ("male", "male"),
        ("F", "female"),
        (1, "male"),
        (0, "female"),
        ("1", "male"),
    ],
)
def test_sex_in_every_usual_spelling(cell, expected):
    assert imports.sex_from(cell) == expected


def test_names_in_any_case_become_title_case_with_vietnamese_letters():
    assert cells.person_name("NGUYỄN văn  an") == "Nguyễn Văn An"
    assert cells.person_name("  ĐẶNG thị   HÒA ") == "Đặng Thị Hòa"
    # decomposed Unicode (as some Mac and VNI-converted files hold it) is stored composed
    assert cells.person_name("nguye\u0302\u0303n") == "Nguyễn"


@pytest.mark.parametrize(("bom", "delimiter"), [(True, ","), (False, ","), (True, ";")])
def test_csv_in_utf8_with_or_without_bom(world, bom, delimiter):
    content = csv_bytes(
        [person(11, name="đỗ thị hằng", sex="Nữ", id=cccd(11, sex="female"))],
        bom=bom,
        delimiter=delimiter,
    )
    job = preview(world, content, name="danh-sach.csv")
    assert (job.status, job.to_create, job.refused) == ("previewed", 1, 0), job.error
    confirm(world, job)
    assert Member.objects.get(national_id=cccd(11, sex="female")).full_name == "Đỗ Thị Hằng"


def test_csv_not_in_utf8_is_refused_with_what_to_do(world):
    content = "Ho va ten,Ngay sinh,So CCCD\nTrâm,01/01/1990,001090000001\n".encode("cp1258")
    job = preview(world, content, name="danh-sach.csv")
    assert job.status == ImportJob.Status.FAILED
    assert "UTF-8" in job.error
    assert not job.file  # nothing of the person's data is kept


def test_a_sheet_without_the_needed_columns_is_refused(world):
    job = preview(world, xlsx([["a", "b"]], header=["Tên đơn vị", "Ghi chú"]))
    assert job.status == ImportJob.Status.FAILED
    assert "Họ và tên" in job.error and "Số định danh cá nhân (CCCD)" in job.error


def _repacked(content: bytes, extra: dict[str, bytes] | None = None, pad: int = 0) -> bytes:
    """The workbook ``content`` with its first sheet padded by ``pad`` bytes of whitespace
    (legal XML between elements) and ``extra`` members added."""
    source = zipfile.ZipFile(io.BytesIO(content))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for member in source.infolist():
            data = source.read(member)
            if member.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b"<sheetData>", b"<sheetData>" + b" " * pad)
            target.writestr(member.filename, data)
        for name, data in (extra or {}).items():
            target.writestr(name, data)
    return buffer.getvalue()


ZIP_BOMB_MESSAGE = "Tệp bảng tính này khi giải nén lớn hơn rất nhiều so với một danh sách cần nhập"


def test_an_xlsx_zip_bomb_is_refused_from_its_directory(world, monkeypatch):
    opened = []
    monkeypatch.setattr(reader, "ExcelReader", lambda *a, **k: opened.append(a))
    bomb = _repacked(xlsx([person(1)]), pad=30 * 1024 * 1024)
    assert len(bomb) < 100 * 1024  # 30 MB of sheet packed in a few dozen KB
    with translation.override("vi"):
        job = preview(world, bomb)
    assert job.status == ImportJob.Status.FAILED
    assert job.error.startswith(ZIP_BOMB_MESSAGE)
    assert opened == []  # openpyxl never saw it
    assert not Member.objects.filter(national_id=cccd(1)).exists()


def test_an_xlsx_of_too_many_files_or_too_much_data_is_refused(world, monkeypatch):
    many = _repacked(xlsx([person(1)]), {f"xl/media/{n}.bin": b"x" for n in range(10_001)})
    with translation.override("vi"):
        assert preview(world, many).error.startswith(ZIP_BOMB_MESSAGE)
        monkeypatch.setattr(reader, "ZIP_MAX_UNPACKED_BYTES", 64 * 1024)
        wide = _repacked(xlsx([person(1)]), {"xl/media/scan.bin": bytes(range(256)) * 512})
        assert preview(world, wide).error.startswith(ZIP_BOMB_MESSAGE)


def test_an_ordinary_xlsx_is_well_within_the_zip_limits(world):
    job = preview(world, xlsx([person(n) for n in range(1, 40)]))
    assert job.status == ImportJob.Status.PREVIEWED, job.error


def test_an_old_xls_file_is_refused_at_upload(client_for, world):
    response = client_for("grassroots").post(
        reverse("members:import_list"),
        {"unit": world.a1.pk, "file": upload(b"\xd0\xcf\x11\xe0", "cu.xls")},
    )
    assert response.status_code == 200
    assert ".xlsx" in response.context["form"].errors["file"][0]
    assert not ImportJob.objects.exists()


EXCEL_PARTS = {
    "[Content_Types].xml": (
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
        'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
        'officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.'
        'openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.'
        'openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
        '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-'
        'officedocument.spreadsheetml.styles+xml"/></Types>'
    ),
    "_rels/.rels": (
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'
    ),
    "xl/workbook.xml": (
        '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        '<sheets><sheet name="DS" sheetId="1" r:id="rId1"/></sheets></workbook>'
    ),
    "xl/_rels/workbook.xml.rels": (
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/worksheet" Target="worksheets/sheet1.xml"/>'
        '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/sharedStrings" Target="sharedStrings.xml"/>'
        '<Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/styles" Target="styles.xml"/></Relationships>'
    ),
    "xl/styles.xml": (
        '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        '<fonts count="1"><font><sz val="11"/></font></fonts>'
        '<fills count="1"><fill><patternFill patternType="none"/></fill></fills>'
        '<borders count="1"><border/></borders>'
        '<cellStyleXfs count="1"><xf numFmtId="0"/></cellStyleXfs>'
        '<cellXfs count="2"><xf numFmtId="0" xfId="0"/>'
        '<xf numFmtId="14" xfId="0" applyNumberFormat="1"/></cellXfs>'
        '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
        "</styleSheet>"
    ),
    "xl/sharedStrings.xml": (
        '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        "<si><t>DANH SÁCH ĐOÀN VIÊN</t></si><si><t>Họ và tên</t></si><si><t>Ngày sinh</t></si>"
        "<si><t>Số CCCD</t></si><si><r><t>NGUYỄN </t></r><r><t>văn an</t></r>"
        '<rPh sb="0" eb="1"><t>x</t></rPh></si></sst>'
    ),
}


def excel_package(sheet_data: str) -> bytes:
    """A workbook laid out as Excel saves it: shared strings, a size, cells by reference."""
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as package:
        for name, xml in EXCEL_PARTS.items():
            package.writestr(name, xml)
        package.writestr(
            "xl/worksheets/sheet1.xml",
            '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            f'<dimension ref="A1:D6"/><sheetData>{sheet_data}</sheetData></worksheet>',
        )
    return buffer.getvalue()


def test_reads_a_workbook_as_excel_saves_it(world):
    """Shared strings with rich text, a header starting in column B, a date cell in a date
    style, a formula's cached text, an empty row: lines keep their spreadsheet numbers."""
    first, second = cccd(301, datetime.date(1990, 1, 1)), cccd(302)
    content = excel_package(
        '<row r="1"><c r="A1" t="s"><v>0</v></c></row>'
        '<row r="3"><c r="B3" t="s"><v>1</v></c><c r="C3" t="s"><v>2</v></c>'
        '<c r="D3" t="s"><v>3</v></c></row>'
        f'<row r="4"><c r="B4" t="s"><v>4</v></c><c r="C4" s="1"><v>32874</v></c>'
        f'<c r="D4"><v>{int(first)}</v></c></row>'
        '<row r="6"><c r="B6" t="inlineStr"><is><t>lê thị  bình</t></is></c>'
        '<c r="C6" t="str"><f>TEXT(X1)</f><v>02/04/1990</v></c>'
        f'<c r="D6" t="str"><v>{second[:-1]}X</v></c></row>'
    )
    assert reader.estimate_rows(_saved(content)) == 6

    job = preview(world, content)

    assert (job.to_create, job.refused) == (1, 1), job.error
    assert "Số CCCD" in [column for column, _reason in reasons(job)[6]]
    confirm(world, job)
    member = Member.objects.get(national_id=first)
    assert (member.full_name, member.date_of_birth) == ("Nguyễn Văn An", datetime.date(1990, 1, 1))


def _saved(content: bytes):
    import tempfile
    from pathlib import Path

    path = Path(tempfile.mkdtemp()) / "ds.xlsx"
    path.write_bytes(content)
    return path


def test_sex_is_read_from_the_cccd_when_the_column_is_missing(world):
    header = ["Họ và tên", "Ngày sinh", "Số định danh cá nhân (CCCD)"]
    birth = datetime.date(1992, 1, 1)
    content = xlsx([["Vi Thị Lan", "01/01/1992", cccd(21, birth, "female")]], header=header)
    job = preview(world, content)
    confirm(world, job)
    assert Member.objects.get(national_id=cccd(21, birth, "female")).sex == "female"


# -- preview ---------------------------------------------------------------------------------


def test_preview_counts_new_updated_unchanged_and_refused_and_writes_nothing(world):
    same = MemberFactory(
        unit=world.a1,
        full_name="Hoàng Văn Minh",
        phone="0912345678",
        occupation="Công nhân",
        address="Phường Đông Kinh",
        date_of_birth=BIRTH,
        joined_on=datetime.date(2015, 6, 1),
    )
    moved = MemberFactory(unit=world.a1, full_name="Hoàng Văn Nam", date_of_birth=BIRTH)
    content = xlsx(
        [
            person(31),  # new
            person(32, name="Lò Văn Páo", id=moved.national_id),  # a new name: update
            person(33, id=same.national_id),  # nothing differs: unchanged
            person(34, id="12345"),  # refused
        ]
    )
    members, memberships = Member.objects.count(), Membership.objects.count()

    job = preview(world, content)

    assert (job.rows, job.to_create, job.to_update, job.unchanged, job.refused) == (4, 1, 1, 1, 1)
    assert (Member.objects.count(), Membership.objects.count()) == (members, memberships)
    moved.refresh_from_db()
    assert moved.full_name == "Hoàng Văn Nam"

    confirm(world, job)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE
    moved.refresh_from_db()
    assert (moved.full_name, moved.search_name, moved.sort_name) == (
        "Lò Văn Páo",
        "lo van pao",
        "lo va{n pao",
    )
    created = Member.objects.get(national_id=cccd(31))
    assert created.memberships.get().valid_from == datetime.date(2015, 6, 1)
    assert created.history.get().history_user == world.users["grassroots"]
    assert moved.history.first().history_type == "~"
    assert not job.file and not job.plan  # the working files are gone once written


def test_empty_cells_leave_existing_data_alone(world):
    member = MemberFactory(
        unit=world.a1,
        full_name="Hoàng Văn Minh",
        phone="0900000000",
        date_of_birth=BIRTH,
        occupation="Kế toán",
    )
    job = preview(world, xlsx([person(41, id=member.national_id, phone="", occupation="")]))
    confirm(world, job)
    member.refresh_from_db()
    assert (member.phone, member.occupation) == ("0900000000", "Kế toán")


def test_refused_rows_give_line_column_and_reason_in_vietnamese(world):
    future = datetime.date.today() + datetime.timedelta(days=3)
    rows = [
        person(51),  # line 2: fine
        person(52, id=cccd(51)),  # line 3: the same ID as line 2
        person(53, id="0201900"),  # line 4: too short
        person(54, id=cccd(54, sex="female")),  # line 5: says Nam, the ID says a woman
        person(55, birth=future.strftime("%d/%m/%Y"), id=cccd(55, future)),  # line 6
        person(56, name=""),  # line 7: no name
        person(57, birth="32/13/1990"),  # line 8
        person(58, id=world.member_q1.national_id, birth="14/03/1985"),  # line 9: in province Q
        person(59, joined=future.strftime("%d/%m/%Y")),  # line 10
    ]
    with translation.override("vi"):
        job = preview(world, xlsx(rows))
        expected = {
            3: gettext("The same ID number is already on line %(line)s of this file.")
            % {"line": 2},
            7: gettext("Missing: this column must be filled in."),
            9: gettext("This person is registered in another union."),
        }
    found = reasons(job)
    assert sorted(found) == [3, 4, 5, 6, 7, 8, 9, 10]
    assert found[3] == [("Số định danh cá nhân (CCCD)", expected[3])]
    assert found[4][0][0] == "Số định danh cá nhân (CCCD)"
    assert found[5] == [
        (
            "Số định danh cá nhân (CCCD)",
            "Chữ số thứ tư (1) không khớp với giới tính và thế kỷ sinh đã nhập: đúng ra phải là 0.",
        )
    ]
    assert found[6] == [("Ngày sinh", "Ngày sinh không được sau ngày hôm nay.")]
    assert found[7] == [("Họ và tên", expected[7])]
    assert found[8][0][0] == "Ngày sinh" and "32/13/1990" in found[8][0][1]
    assert found[9] == [("Số định danh cá nhân (CCCD)", expected[9])]
    assert world.q1.name not in str(job.refused_sample)  # never says where
    assert found[10] == [("Ngày vào công đoàn", "Ngày vào công đoàn không được sau ngày hôm nay.")]
    assert job.to_create == 1


def test_a_person_in_scope_at_another_union_is_refused_with_its_name(world):
    row = person(61, id=world.member_b1.national_id, sex="Nữ", birth="14/03/1985")
    job = preview(world, xlsx([row]), role="province")
    [(_column, reason)] = reasons(job)[2]
    assert world.b1.name in reason


def test_union_cards_twice_in_the_file_or_held_by_another_person_are_refused(world):
    job = preview(
        world,
        xlsx([person(71, card="LS-1"), person(72, card="LS-1"), person(73, card="C002")]),
        role="province",
    )
    found = reasons(job)
    assert sorted(found) == [3, 4]
    assert found[3][0][0] == found[4][0][0] == "Số thẻ đoàn viên"


def test_at_most_200_refused_rows_are_shown_and_all_are_downloadable(client_for, world):
    rows = [person(1000 + n, id=f"99{n:010d}") for n in range(230)]
    job = preview(world, xlsx(rows))
    assert job.refused == 230 and len(job.refused_sample) == 200

    response = client_for("grassroots").get(reverse("members:import_detail", args=[job.pk]))
    assert response.status_code == 200
    assert response.text.count('class="text-end font-monospace"') == 200

    response = client_for("grassroots").get(reverse("members:import_refused", args=[job.pk]))
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    table = list(sheet.iter_rows(values_only=True))
    assert list(table[0]) == [*HEADER, "Lỗi"]
    assert len(table) == 231
    assert table[1][4] == "990000000000" and "2" in table[1][-1]


def test_refused_rows_corrected_in_their_spreadsheet_import_again(client_for, world):
    job = preview(world, xlsx([person(81, birth="31/02/1990")]))
    response = client_for("grassroots").get(reverse("members:import_refused", args=[job.pk]))
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    sheet.active["D2"] = "02/04/1990"
    buffer = io.BytesIO()
    sheet.save(buffer)
    again = preview(world, buffer.getvalue())
    assert (again.to_create, again.refused) == (1, 0)


# -- into a union with several grassroots unions -----------------------------------------------


def test_importing_into_a_commune_needs_the_grassroots_code(world):
    header = [*HEADER, "Công đoàn cơ sở (mã)"]
    closed = make_unit("CĐCS đã giải thể", parent=world.commune_a, code="P-A-9")
    closed.status, closed.closed_on = "dissolved", datetime.date(2024, 1, 1)
    closed.save()
    content = xlsx(
        [
            [*person(91), "p-a-2"],  # found, whatever the case
            [*person(92), ""],
            [*person(93), "P-B-1"],  # under commune B, not A
            [*person(94), "P-A-9"],  # closed
        ],
        header=header,
    )
    job = preview(world, content, role="commune", unit=world.commune_a)
    found = reasons(job)
    assert sorted(found) == [3, 4, 5]
    assert all(errors[0][0] == "Công đoàn cơ sở (mã)" for errors in found.values())
    confirm(world, job, role="commune")
    assert Member.objects.get(national_id=cccd(91)).unit == world.a2


def test_without_the_code_column_a_commune_import_is_refused_whole(world):
    job = preview(world, xlsx([person(95)]), role="commune", unit=world.commune_a)
    assert job.status == ImportJob.Status.FAILED
    assert "Công đoàn cơ sở (mã)" in job.error


# -- confirm ---------------------------------------------------------------------------------


def test_all_or_nothing_when_the_database_fails_in_the_middle(world, monkeypatch):
    """The memberships of the second batch fail: the first batch is rolled back too."""
    monkeypatch.setattr(imports, "WRITE_BATCH", 2)
    job = preview(world, xlsx([person(100 + n) for n in range(5)]))
    original, calls = engine.insert_rows, []

    def failing(model, rows):
        if model is Membership:
            calls.append(len(rows))
            if len(calls) == 2:
                raise IntegrityError("disk full, say")
        return original(model, rows)

    monkeypatch.setattr(imports, "insert_rows", failing)
    members = Member.objects.count()

    confirm(world, job)

    job.refresh_from_db()
    assert calls == [2, 2]
    assert job.status == ImportJob.Status.FAILED
    with translation.override(job.language):
        assert job.error == engine.stale_message()
    assert Member.objects.count() == members
    assert not Member.history.filter(national_id=cccd(100)).exists()
    assert not Membership.objects.filter(member__national_id=cccd(100)).exists()


def test_reimporting_the_same_file_creates_no_duplicates(world):
    content = xlsx([person(110 + n) for n in range(3)])
    confirm(world, preview(world, content))
    members = Member.objects.count()

    again = preview(world, content)

    assert (again.to_create, again.to_update, again.unchanged) == (0, 0, 3)
    confirm(world, again)
    assert Member.objects.count() == members


def test_a_person_added_since_the_preview_stops_the_whole_import(world):
    job = preview(world, xlsx([person(121), person(122)]))
    MemberFactory(unit=world.a2, national_id=cccd(122))
    confirm(world, job)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED
    assert not job.plan and not job.file
    assert not Member.objects.filter(national_id=cccd(121)).exists()


def test_only_the_uploader_confirms(world):
    job = preview(world, xlsx([person(131)]))
    with pytest.raises(PermissionDenied):
        confirm(world, job, role="commune")
    assert not Member.objects.filter(national_id=cccd(131)).exists()


def test_a_confirmed_import_is_not_written_twice(world):
    job = preview(world, xlsx([person(132)]))
    confirm(world, job)
    engine.run_apply(job.pk)
    with pytest.raises(Exception, match=r"confirmation|xác nhận"):
        confirm(world, job)
    assert Member.objects.filter(national_id=cccd(132)).count() == 1


# -- scope -----------------------------------------------------------------------------------


def test_a_union_outside_scope_cannot_be_imported_into(client_for, world):
    with pytest.raises(PermissionDenied):
        preview(world, xlsx([person(141)]), unit=world.q1)
    response = client_for("grassroots").post(
        reverse("members:import_list"),
        {"unit": world.b1.pk, "file": upload(xlsx([person(141)]))},
    )
    assert response.status_code == 200
    assert "unit" in response.context["form"].errors
    assert not ImportJob.objects.exists()


def test_the_job_list_shows_only_imports_in_scope(client_for, world):
    preview(world, xlsx([person(151)]))  # at A1
    MemberFactory(unit=world.q1)
    other = engine.start_import(
        kind=ImportJob.Kind.MEMBERS,
        unit=world.q1,
        upload=upload(xlsx([person(152)]), "tinh-q.xlsx"),
        by=world.users["q_officer"],
    )
    response = client_for("commune").get(reverse("members:import_list"))
    assert "danh-sach.xlsx" in response.text
    assert other.original_name not in response.text
    response = client_for("commune").get(reverse("members:import_detail", args=[other.pk]))
    assert response.status_code == 404


# -- pages -----------------------------------------------------------------------------------


def test_upload_preview_confirm_through_the_pages(client_for, world):
    client = client_for("grassroots")
    response = client.post(
        reverse("members:import_list"), {"unit": world.a1.pk, "file": upload(xlsx([person(161)]))}
    )
    job = ImportJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("members:import_detail", args=[job.pk])
    page = client.get(response["Location"])
    assert 'id="confirm-form"' in page.text
    assert not Member.objects.filter(national_id=cccd(161)).exists()

    response = client.post(reverse("members:import_confirm", args=[job.pk]))

    assert response.status_code == 302
    assert Member.objects.filter(national_id=cccd(161), unit=world.a1).exists()
    assert 'id="job-done"' in client.get(response["Location"]).text


def test_cancel_discards_the_preview(client_for, world):
    job = preview(world, xlsx([person(162)]))
    client_for("grassroots").post(reverse("members:import_cancel", args=[job.pk]))
    job.refresh_from_db()
    assert job.status == ImportJob.Status.CANCELLED and not job.plan
    assert not Member.objects.filter(national_id=cccd(162)).exists()


def test_the_job_page_runs_a_fixed_number_of_queries(
    client_for, world, django_assert_max_num_queries
):
    job = preview(world, xlsx([person(170 + n, id="1") for n in range(50)]))
    client = client_for("grassroots")
    url = reverse("members:import_detail", args=[job.pk])
    client.get(url)
    # A page in the layout counts one query more for the notice bell's unread count.
    with django_assert_max_num_queries(7):
        assert client.get(url).status_code == 200
    preview(world, xlsx([person(180)]))
    with django_assert_max_num_queries(8):  # whatever the number of imports listed
        assert client.get(reverse("members:import_list")).status_code == 200
    with django_assert_max_num_queries(5):
        assert client.get(reverse("members:import_status", args=[job.pk])).status_code == 200


def test_the_template_has_the_vietnamese_headers_and_imports_as_it_is(client_for, world):
    response = client_for("commune").get(
        reverse("members:import_template"), {"unit": world.commune_a.pk}
    )
    workbook = load_workbook(io.BytesIO(response.content))
    sheet = workbook.worksheets[0]
    headers = [cell.value for cell in sheet[1]]
    assert headers[:4] == ["Họ và tên", "Giới tính", "Ngày sinh", "Số định danh cá nhân (CCCD)"]
    assert headers[-1] == "Công đoàn cơ sở (mã)"
    codes = [row[0] for row in workbook.worksheets[2].iter_rows(min_row=2, values_only=True)]
    assert codes == ["P-A-1", "P-A-2"]

    birth = datetime.date(1988, 8, 8)
    sheet.append(
        [
            "trần văn tú",
            "Nam",
            "08/08/1988",
            cccd(181, birth),
            "",  # Không có CCCD
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "x",
            "",
            "",
            "P-A-1",
        ]
    )
    buffer = io.BytesIO()
    workbook.save(buffer)
    job = preview(world, buffer.getvalue(), role="commune", unit=world.commune_a)
    assert (job.to_create, job.refused) == (1, 0), job.refused_sample
    confirm(world, job, role="commune")
    member = Member.objects.get(national_id=cccd(181, birth))
    assert (member.unit, member.poor_household) == (world.a1, True)


def test_the_template_of_a_union_outside_scope_is_not_found(client_for, world):
    response = client_for("grassroots").get(
        reverse("members:import_template"), {"unit": world.q1.pk}
    )
    assert response.status_code == 404


def test_the_member_list_offers_the_import_to_member_editors(client_for, world):
    url = reverse("members:import_list")
    assert url in client_for("grassroots").get(reverse("members:list")).text
    assert url not in client_for("leader").get(reverse("members:list")).text


# -- Celery ----------------------------------------------------------------------------------


def test_large_files_go_through_celery_with_progress(
    world, monkeypatch, eager_celery, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(engine, "INLINE_ROWS", 2)
    content = xlsx([person(200 + n) for n in range(5)])
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        job = preview(world, content)
        assert job.status == ImportJob.Status.QUEUED  # not read inside the request
    assert len(callbacks) == 1
    job.refresh_from_db()
    assert (job.status, job.progress, job.to_create) == ("previewed", 100, 5)

    with django_capture_on_commit_callbacks(execute=True):
        job = confirm(world, job)
        assert job.status == ImportJob.Status.CONFIRMED
    job.refresh_from_db()
    assert (job.status, job.progress) == ("done", 100)
    assert Member.objects.filter(national_id__in=[cccd(200 + n) for n in range(5)]).count() == 5


def test_the_status_answers_progress_for_the_page_to_poll(client_for, world, monkeypatch):
    monkeypatch.setattr(engine, "INLINE_ROWS", 0)
    job = preview(world, xlsx([person(210)]))
    response = client_for("grassroots").get(reverse("members:import_status", args=[job.pk]))
    assert response.json() == {
        "status": "queued",
        "active": True,
        "progress": 0,
        "label": str(ImportJob.Status.QUEUED.label),
    }
    page = client_for("grassroots").get(reverse("members:import_detail", args=[job.pk]))
    assert 'data-active="1"' in page.text and "job-progress.js" in page.text


def test_a_closed_union_takes_no_import(world):
    world.a2.status, world.a2.closed_on = "dissolved", datetime.date(2024, 1, 1)
    world.a2.save()
    with pytest.raises(ValidationError):
        preview(world, xlsx([person(230)]), role="commune", unit=world.a2)


def test_unit_kinds_for_a_fresh_unit(world):
    """A grassroots union made today takes its first members from a file."""
    fresh = make_unit("CĐCS Công ty mới", UnitKind.GRASSROOTS, world.commune_b, code="P-B-7")
    job = preview(world, xlsx([person(220)]), role="province", unit=fresh)
    confirm(world, job, role="province")
    assert Member.objects.get(national_id=cccd(220)).unit == fresh


@pytest.mark.parametrize(("role", "offered"), [("admin", False), ("grassroots", True)])
def test_the_member_import_links_to_the_support_import_only_for_who_may_use_it(
    client_for, role, offered
):
    """An administrator imports members but not support records: no link to a 403."""
    page = client_for(role).get(reverse("members:import_list")).content.decode()
    assert (reverse("support_imports:list") in page) is offered


# -- departures --------------------------------------------------------------------------------

LEFT_HEADER = [*HEADER, "Tình trạng", "Ngày nghỉ / chuyển đi / mất"]


def test_a_departure_or_a_death_is_imported_and_closes_the_membership(world):
    from members.models import MemberStatus

    existing = MemberFactory(unit=world.a1, full_name="Trần Thị Lan")
    rows = [
        [*person(1, name="Hoàng Văn Minh"), "Đã mất", "12/03/2024"],  # new, already deceased
        [
            9,
            existing.full_name,
            "Nam" if existing.sex == "male" else "Nữ",
            existing.date_of_birth.strftime("%d/%m/%Y"),
            existing.national_id,
            "",
            existing.joined_on.strftime("%d/%m/%Y"),
            "",
            "",
            "",
            "Đoàn viên",
            "",
            "",
            "Đã nghỉ",
            "30/06/2025",
        ],
        [*person(2), "Đang sinh hoạt", ""],
    ]
    job = preview(world, xlsx(rows, header=LEFT_HEADER))
    assert (job.to_create, job.to_update, job.refused) == (2, 1, 0), job.refused_sample
    job = confirm(world, job)
    assert job.status == ImportJob.Status.DONE, job.error
    died = Member.objects.get(national_id=cccd(1))
    assert (died.status, died.left_on) == (MemberStatus.DECEASED, datetime.date(2024, 3, 12))
    assert died.memberships.get().valid_to == datetime.date(2024, 3, 12)
    existing.refresh_from_db()
    assert (existing.status, existing.left_on) == (MemberStatus.LEFT, datetime.date(2025, 6, 30))
    assert existing.memberships.get(valid_to__isnull=False).valid_to == datetime.date(2025, 6, 30)
    assert not existing.memberships.filter(valid_to__isnull=True).exists()
    still = Member.objects.get(national_id=cccd(2))
    assert still.status == MemberStatus.ACTIVE and still.memberships.get().valid_to is None


def test_a_departure_without_its_date_or_a_date_without_a_departure_is_refused(world):
    tomorrow = (datetime.date.today() + datetime.timedelta(days=1)).strftime("%d/%m/%Y")
    rows = [
        [*person(1), "Đã nghỉ", ""],  # line 2: no date
        [*person(2), "", "01/01/2025"],  # line 3: a date, no status
        [*person(3), "Đã mất", tomorrow],  # line 4
        [*person(4), "Đã nghỉ", "01/01/2010"],  # line 5: before joining (01/06/2015)
        [*person(5), "Về hưu sớm", "01/01/2025"],  # line 6: not a status
    ]
    job = preview(world, xlsx(rows, header=LEFT_HEADER))
    found = reasons(job)
    assert sorted(found) == [2, 3, 4, 5, 6] and job.to_create == 0
    assert found[2][0][0] == "Ngày nghỉ / chuyển đi / mất"
    assert found[3][0][0] == "Tình trạng"
    assert found[4][0][0] == "Ngày nghỉ / chuyển đi / mất"
    assert found[5][0][0] == "Ngày nghỉ / chuyển đi / mất"
    assert found[6][0][0] == "Tình trạng" and "Về hưu sớm" in found[6][0][1]


def test_the_file_name_is_kept_without_folders_or_control_characters(world):
    job = preview(world, xlsx([person(1)]), name="../../tmp/danh\x1b[31m sách\r\n.xlsx")
    assert job.original_name == "danh[31m sách .xlsx"
    assert job.file.name.startswith(f"imports/{job.token}/source")
