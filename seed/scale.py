"""Scale data: a province or city of any size, with years of support, for the benchmark.

``build_scale`` is what ``manage.py seed_scale`` runs.  It fills an empty database with what a
confederation holds after some years on the portal:

- a province root (the demo's Lạng Sơn, so the six demo accounts of ``seed.demo_members`` work);
  until 30 June 2025 district federations (about one per 60 grassroots unions) and sector unions
  with the grassroots unions under them; on 1 July 2025 the reorganisation: commune/ward unions
  (about one per 10 grassroots unions) and 1-3 industrial-zone unions are set up, the grassroots
  unions under districts move under them (a few directly under the province; closed and new
  placements, unit events and history as ``unions.tree`` records them) and the districts are
  dissolved;
- members and non-member workers (8 %) with the demo's names, occupations, addresses and valid,
  unique national ID numbers, one membership each, children for about one in seven;
- funds: three at the province, one per commune/zone union and one for about one grassroots
  union in five, each with a ledger (opening balance, contributions, allocations, support paid)
  whose running ``balance_after`` and final balance match, and ``reserved`` equal to the approved
  but unpaid cases;
- about ``members / 2`` support records a year over ``years`` years ending this year, across
  every support type and hardship category, with the timeline of each (created, submitted,
  endorsed, approved, paid, or returned, rejected), a payment and a disbursement entry per paid
  case.  Past years are almost all paid; this year has cases in every state;
- officer, staff and treasurer accounts at the units (no usable password), who appear as the
  actors of the timelines.

Rows are generated with a seeded ``random.Random`` and written in bulk with ids assigned here
(PostgreSQL: COPY, with the big tables' foreign keys and plain indexes dropped during the load
and rebuilt after it, as the PostgreSQL manual advises for populating a database; other
databases: executemany in batches).  The services are not called, so the invariants they keep
are reproduced here, and ``tests/welfare/test_seed_scale.py`` checks them.
"""

from __future__ import annotations

import bisect
import datetime
import gc
import itertools
import math
import random
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.management.color import no_style
from django.db import connection, transaction
from django.db.models import Max, Model, Q
from django.utils import timezone

from common.text import sort_key
from members.counters import rebuild_member_counts, rebuild_membership_years
from members.models import (
    Dependant,
    Member,
    MemberKind,
    Membership,
    MembershipYear,
    MemberStatus,
    Sex,
)
from members.national_id import make_national_id
from members.search import normalise
from seed import demo_members as demo
from seed.demo_members import (
    CHILD_NAMES,
    COMMUNE_ACCOUNT_UNIT,
    COMMUNES,
    DISTRICTS,
    FAMILY_NAMES,
    GIVEN_NAMES,
    GRASSROOTS,
    GRASSROOTS_ACCOUNT_UNIT,
    HOME_PROVINCE,
    MEN_ONLY_JOBS,
    MIDDLE_NAMES,
    OCCUPATIONS,
    OTHER_PROVINCES,
    PROVINCE,
    REORGANISED_ON,
    SECTORS,
    ZONE,
    UnitSpec,
    ensure_accounts,
)
from unions.models import (
    PATH_SEPARATOR,
    Placement,
    Role,
    RoleAssignment,
    Unit,
    UnitEvent,
    UnitKind,
    UnitStatus,
)
from welfare.loans import schedule
from welfare.loans import tallies as loan_tallies
from welfare.loans.models import Frequency, LoanYear, RepaymentKind
from welfare.models import (
    Campaign,
    Case,
    CaseEvent,
    CaseStatus,
    Category,
    Contribution,
    DonorKind,
    EntryKind,
    Fund,
    FundKind,
    Instalment,
    LedgerEntry,
    LedgerMonth,
    Loan,
    LoanEvent,
    LoanProduct,
    LoanStatus,
    Payment,
    PaymentMethod,
    RaisedYear,
    Repayment,
    SupportTally,
    SupportType,
)
from welfare.reports import unlisted
from welfare.reports.tallies import rebuild as rebuild_tallies
from welfare.reports.tallies import rebuild_raised

ORIGIN = datetime.date(1995, 1, 1)  # the province, its districts and sectors
CHANGE_REASON = "Dữ liệu quy mô"
REORGANISATION_NOTE = "Sắp xếp tổ chức công đoàn từ ngày 01/7/2025"
VN = datetime.timezone(datetime.timedelta(hours=7))  # Asia/Ho_Chi_Minh has no summer time
MAX_YEARS = 20

# --------------------------------------------------------------------------------------------
# Names of the generated units (the demo's own units come first)
# --------------------------------------------------------------------------------------------

PLACE_FIRST = [
    "Tân", "Hòa", "Phú", "An", "Đông", "Tây", "Bình", "Thạnh", "Long", "Vĩnh", "Hưng", "Quang",
    "Minh", "Đại", "Thanh", "Hồng", "Kim", "Ngọc", "Trung", "Nam", "Bắc", "Cẩm", "Gia", "Lạc",
    "Phúc", "Thuận", "Yên", "Xuân", "Đồng", "Hải", "Mỹ", "Thái", "Tràng", "Quế", "Na", "Bản",
]  # fmt: skip
PLACE_SECOND = [
    "Lập", "Bình", "Phú", "Hòa", "An", "Thịnh", "Hưng", "Lợi", "Phong", "Sơn", "Thành", "Tiến",
    "Long", "Khánh", "Lộc", "Mỹ", "Quang", "Tân", "Xuân", "Hải", "Trung", "Phước", "Thuận",
    "Vinh", "Hà", "Lâm", "Yên", "Định", "Giang", "Châu", "Kỳ", "Sầm", "Mẫu", "Đức", "Nghĩa",
]  # fmt: skip

MORE_SECTORS = [
    UnitSpec("LS-CT", "Công đoàn ngành Công Thương", "Phường Đông Kinh, tỉnh Lạng Sơn"),
    UnitSpec("LS-GT", "Công đoàn ngành Giao thông vận tải", "Phường Tam Thanh, tỉnh Lạng Sơn"),
    UnitSpec("LS-NN", "Công đoàn ngành Nông nghiệp và Phát triển nông thôn",
             "Phường Lương Văn Tri, tỉnh Lạng Sơn"),
]  # fmt: skip
SECTOR_WORK = {
    "LS-GD": "school", "LS-YT": "hospital", "LS-VC": "agency", "LS-CT": "factory",
    "LS-GT": "service", "LS-NN": "forestry",
}  # fmt: skip
MORE_ZONES = [
    UnitSpec("LS-KKT", "Công đoàn Khu kinh tế cửa khẩu Đồng Đăng - Lạng Sơn",
             "Khu công nghiệp Đồng Đăng, tỉnh Lạng Sơn"),
    UnitSpec("LS-CCN", "Công đoàn các Cụm công nghiệp tỉnh Lạng Sơn",
             "Khu công nghiệp Hợp Thành, tỉnh Lạng Sơn"),
]  # fmt: skip

# Grassroots unions by kind of workplace (the keys of the demo's OCCUPATIONS): how common under a
# district, the typical size of the member list, and how the employer is named.
WORK_WEIGHTS = {
    "school": 30, "agency": 14, "service": 16, "factory": 14, "garment": 7, "hospital": 5,
    "market": 4, "utility": 4, "forestry": 4, "mine": 2,
}  # fmt: skip
WORK_SIZE = {
    "school": 30, "hospital": 90, "agency": 18, "market": 14, "service": 35, "utility": 70,
    "factory": 160, "garment": 450, "mine": 350, "forestry": 12,
}  # fmt: skip
EMPLOYERS = {
    "school": ["Trường Mầm non {p}", "Trường Tiểu học {p}", "Trường THCS {p}", "Trường THPT {p}",
               "Trường Tiểu học và THCS {p}"],
    "hospital": ["Trung tâm Y tế {p}", "Bệnh viện Đa khoa {p}", "Phòng khám Đa khoa khu vực {p}"],
    "agency": ["UBND {u}", "Kho bạc Nhà nước {p}", "Chi cục Thuế khu vực {p}",
               "Bảo hiểm xã hội {p}", "Ngân hàng Nông nghiệp chi nhánh {p}"],
    "market": ["Ban Quản lý chợ {p}"],
    "service": ["Công ty CP Vận tải {p}", "Công ty TNHH Thương mại {p}", "Bưu điện {p}",
                "Khách sạn {p}", "Công ty CP Dịch vụ {p}", "Hợp tác xã {p}"],
    "utility": ["Công ty CP Cấp nước {p}", "Điện lực {p}", "Công ty CP Môi trường đô thị {p}"],
    "factory": ["Công ty CP Cơ khí {p}", "Công ty CP Vật liệu xây dựng {p}",
                "Công ty TNHH Chế biến gỗ {p}", "Công ty CP Xi măng {p}",
                "Công ty TNHH Điện tử {p}", "Công ty CP Chế biến nông sản {p}"],
    "garment": ["Công ty TNHH May {p}", "Công ty TNHH Giày da {p}", "Công ty CP May mặc {p}"],
    "mine": ["Công ty CP Khoáng sản {p}", "Công ty Than {p}"],
    "forestry": ["Hạt Kiểm lâm {p}", "Ban Quản lý rừng phòng hộ {p}"],
}  # fmt: skip

# --------------------------------------------------------------------------------------------
# Support
# --------------------------------------------------------------------------------------------

# Per support type: (share, [(category, weight)], (lowest, highest) amount in units of 100,000 đồng)
SUPPORT = {
    SupportType.TET_GIFT: (36, [(Category.POOR, 50), (Category.POLICY, 20), (Category.OTHER, 30)],
                           (5, 10)),
    SupportType.VISIT: (22, [(Category.ILLNESS, 60), (Category.ACCIDENT, 25),
                             (Category.OCCUPATIONAL, 10), (Category.EPIDEMIC, 5)], (3, 20)),
    SupportType.GRANT: (25, [(Category.ILLNESS, 35), (Category.ACCIDENT, 15),
                             (Category.OCCUPATIONAL, 5), (Category.JOB_LOSS, 10),
                             (Category.DISASTER, 15), (Category.DEATH, 5),
                             (Category.EPIDEMIC, 5), (Category.OTHER, 10)], (10, 100)),
    SupportType.SCHOLARSHIP: (6, [(Category.POOR, 60), (Category.POLICY, 20),
                                  (Category.OTHER, 20)], (10, 30)),
    SupportType.SAVINGS_BOOK: (2, [(Category.DEATH, 50), (Category.POOR, 50)], (50, 200)),
    SupportType.SHELTER: (1, [(Category.HOUSING, 80), (Category.DISASTER, 20)], (400, 800)),
    SupportType.OTHER: (8, [(Category.OTHER, 70), (Category.EPIDEMIC, 30)], (5, 30)),
}  # fmt: skip
STEP = 100_000  # amounts are multiples of 100.000 đồng
FOR_CHILDREN = {SupportType.SCHOLARSHIP, SupportType.SAVINGS_BOOK}
SMALL_SUPPORT = {SupportType.TET_GIFT, SupportType.VISIT, SupportType.OTHER}

# Final states: past years are almost all paid; this year has every state.
PAST_STATES = [
    (CaseStatus.PAID, 935), (CaseStatus.REJECTED, 40), (CaseStatus.RETURNED, 15),
    (CaseStatus.DRAFT, 10),
]  # fmt: skip
CURRENT_STATES = [
    (CaseStatus.PAID, 72), (CaseStatus.APPROVED, 6), (CaseStatus.SUBMITTED, 9),
    (CaseStatus.RETURNED, 3), (CaseStatus.REJECTED, 5), (CaseStatus.DRAFT, 5),
]  # fmt: skip
IN_PROGRESS = {CaseStatus.DRAFT, CaseStatus.SUBMITTED, CaseStatus.APPROVED}

CIRCUMSTANCES = {
    Category.ILLNESS: [
        "Mắc bệnh ung thư, đang điều trị dài ngày tại bệnh viện tuyến trung ương.",
        "Suy thận mạn giai đoạn cuối, chạy thận nhân tạo ba lần mỗi tuần.",
        "Bị tai biến mạch máu não, liệt nửa người, không còn khả năng lao động.",
        "Mắc bệnh hiểm nghèo, chi phí điều trị lớn, gia đình không có nguồn thu khác.",
    ],
    Category.ACCIDENT: [
        "Bị tai nạn lao động khi đang làm việc, gãy chân, phải nằm viện nhiều ngày.",
        "Bị tai nạn trên đường đi làm, phẫu thuật chấn thương sọ não.",
    ],
    Category.OCCUPATIONAL: [
        "Mắc bệnh bụi phổi silic nghề nghiệp, sức khỏe suy giảm.",
        "Mắc bệnh điếc nghề nghiệp do tiếng ồn, phải chuyển công việc nhẹ.",
    ],
    Category.JOB_LOSS: [
        "Bị mất việc làm do doanh nghiệp cắt giảm lao động, chưa tìm được việc mới.",
        "Doanh nghiệp ngừng hoạt động, nợ lương, gia đình không có thu nhập.",
    ],
    Category.DISASTER: [
        "Nhà bị sập do mưa lũ, mất toàn bộ tài sản.",
        "Nhà và hoa màu bị thiệt hại nặng do bão, lũ quét.",
    ],
    Category.DEATH: [
        "Đoàn viên qua đời, để lại con nhỏ đang đi học.",
        "Đoàn viên mất do bệnh hiểm nghèo, gia đình thuộc diện khó khăn.",
    ],
    Category.HOUSING: [
        "Nhà ở tạm bợ, dột nát, không có khả năng tự sửa chữa.",
        "Chưa có nhà ở, đang ở nhờ nhà người thân.",
    ],
    Category.POOR: [
        "Hộ nghèo, thu nhập thấp, nuôi con nhỏ và bố mẹ già.",
        "Hộ cận nghèo, một mình nuôi hai con đi học.",
    ],
    Category.POLICY: [
        "Gia đình chính sách (con thương binh), hoàn cảnh khó khăn.",
        "Gia đình liệt sĩ, bố mẹ già yếu, đau ốm thường xuyên.",
    ],
    Category.EPIDEMIC: [
        "Bị ảnh hưởng bởi dịch bệnh, phải nghỉ việc không lương nhiều tháng.",
    ],
    Category.OTHER: [
        "Hoàn cảnh đặc biệt khó khăn, được công đoàn cơ sở đề nghị hỗ trợ.",
        "Chồng đau ốm lâu năm, một mình lo kinh tế gia đình.",
    ],
}
RETURN_COMMENTS = [
    "Đề nghị bổ sung giấy xác nhận hoàn cảnh của chính quyền địa phương.",
    "Hồ sơ thiếu giấy ra viện, đề nghị bổ sung.",
]
REJECT_COMMENTS = [
    "Không thuộc đối tượng hỗ trợ của quỹ.",
    "Đã được hỗ trợ cho cùng hoàn cảnh trong năm.",
    "Quỹ đã hết nguồn cho nội dung này trong năm.",
]
CONTRIBUTION_SOURCES = [
    "Cán bộ, đoàn viên công đoàn đóng góp",
    "Doanh nghiệp trên địa bàn ủng hộ",
    "Kinh phí công đoàn cấp bổ sung",
    "Vận động trong Tháng Công nhân",
    "Quỹ Xã hội Tổng Liên đoàn hỗ trợ",
]

# --------------------------------------------------------------------------------------------
# Writing rows in bulk
# --------------------------------------------------------------------------------------------

# The tables that get most rows: during a PostgreSQL load their foreign keys and plain indexes
# are dropped and rebuilt at the end (one validating join and one sorted build each, instead of
# one check and one index update per row).
BIG_MODELS = [
    Member,
    Member.history.model,
    Membership,
    Dependant,
    Dependant.history.model,
    Case,
    CaseEvent,
    LedgerEntry,
    Payment,
    Loan,
    Instalment,
    LoanEvent,
    Repayment,
    Contribution,
]

LOAN_PURPOSES = [
    "Chăn nuôi lợn, gà cải thiện thu nhập",
    "Sửa chữa nhà ở",
    "Mở cửa hàng tạp hóa nhỏ",
    "Mua xe máy để đi làm",
    "Trồng rau sạch, cây ăn quả",
    "Học nghề cho con",
]
# Each year's campaigns of the province: name, fund, first and last day (month, day).
PROVINCE_CAMPAIGNS = [
    ("Tháng Công nhân {year}", "social", (5, 1), (5, 31)),
    ("Mái ấm Công đoàn {year}", "shelter", (3, 1), (9, 30)),
    ("Tết Sum vầy {year}: chung tay vì đoàn viên khó khăn", "social", (11, 15), (12, 31)),
]
COMMUNE_CAMPAIGN = "Ủng hộ đoàn viên bị thiệt hại do thiên tai {year}"
ENTERPRISE_DONORS = [
    "Công ty TNHH May mặc Phú Thịnh",
    "Công ty Cổ phần Xi măng Đồng Bành",
    "Ngân hàng TMCP Công Thương - Chi nhánh tỉnh",
    "Công ty TNHH Điện tử Hòa Bình",
    "Hợp tác xã Nông nghiệp Thành Công",
]


class _Linked:
    """A row that names the ledger entry it was posted with: the entry's id is filled in at
    ``slot`` when the ledger is numbered."""

    __slots__ = ("row", "slot")

    def __init__(self, row: list, slot: int):
        self.row, self.slot = row, slot


class Loader:
    """Writes rows (tuples in column order) with ids given here: COPY on PostgreSQL, batched
    executemany elsewhere."""

    BATCH = 5000

    def __init__(self):
        self.postgres = connection.vendor == "postgresql"
        self.rows = Counter()
        self._next: dict[type[Model], int] = {}
        self.models: set[type[Model]] = set()

    def ids(self, model: type[Model], count: int) -> range:
        start = self._next.get(model)
        if start is None:
            start = (model._default_manager.aggregate(top=Max("pk"))["top"] or 0) + 1
        self._next[model] = start + count
        return range(start, start + count)

    def write(self, model: type[Model], columns: Sequence[str], rows: Iterable[tuple]) -> int:
        self.models.add(model)
        table = connection.ops.quote_name(model._meta.db_table)
        names = ", ".join(connection.ops.quote_name(c) for c in columns)
        written = 0
        with connection.cursor() as cursor:
            if self.postgres:
                types = self._column_types(cursor, model._meta.db_table, columns)
                sql = f"COPY {table} ({names}) FROM STDIN (FORMAT BINARY)"
                with cursor.cursor.copy(sql) as copy:
                    copy.set_types(types)  # binary, dumped in C by the column's own type
                    for row in rows:
                        copy.write_row(row)
                        written += 1
            else:
                fields = [model._meta.get_field(c) for c in columns]
                marks = ", ".join(["%s"] * len(columns))
                sql = f"INSERT INTO {table} ({names}) VALUES ({marks})"
                batch = []
                for row in rows:
                    batch.append(
                        [
                            f.get_db_prep_save(v, connection)
                            for f, v in zip(fields, row, strict=True)
                        ]
                    )
                    if len(batch) >= self.BATCH:
                        cursor.executemany(sql, batch)
                        written += len(batch)
                        batch = []
                if batch:
                    cursor.executemany(sql, batch)
                    written += len(batch)
        self.rows[model._meta.label] += written
        return written

    @staticmethod
    def _column_types(cursor, table: str, columns: Sequence[str]) -> list[str]:
        cursor.execute(
            "SELECT column_name, udt_name FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND table_name = %s",
            [table],
        )
        types = dict(cursor.fetchall())
        return [types[c] for c in columns]

    def write_history(
        self, model: type[Model], columns: Sequence[str], versions: Iterable[tuple]
    ) -> int:
        """simple_history rows for ``model``: ``versions`` are (row, date, "+" or "~"), the row
        in ``columns`` order as written for the model."""
        history = model.history.model
        tracked = [
            f.attname
            for f in history._meta.concrete_fields
            if not f.attname.startswith("history_") and f.attname in columns
        ]
        positions = [columns.index(name) for name in tracked]
        out_columns = [*tracked, "history_date", "history_change_reason", "history_type"]
        return self.write(
            history,
            out_columns,
            (
                (*(row[i] for i in positions), when, CHANGE_REASON, kind)
                for row, when, kind in versions
            ),
        )

    def reset_sequences(self) -> None:
        with connection.cursor() as cursor:
            for sql in connection.ops.sequence_reset_sql(no_style(), sorted(self.models, key=str)):
                cursor.execute(sql)


class _BulkMode:
    """PostgreSQL: drop the big tables' foreign keys, unique constraints and indexes (all but the
    primary keys), and put them back after the load.

    Rebuilding validates exactly what the per-row checks would have (a unique index is built
    unique, a foreign key is validated by one join), at a fraction of the cost: inserting rows
    with random keys (national IDs) into a unique index touches a random page per row, and after
    every checkpoint each first touch writes a full page to the WAL.
    """

    def __init__(self, loader: Loader):
        self.loader = loader
        self.foreign: list[tuple[str, str, str]] = []  # table, name, definition
        self.unique: list[tuple[str, str, str]] = []
        self.indexes: list[tuple[str, str]] = []  # name, CREATE INDEX statement

    def __enter__(self):
        if not self.loader.postgres:
            return self
        tables = [m._meta.db_table for m in BIG_MODELS]
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
            cursor.execute(
                "SELECT contype, conrelid::regclass::text, conname, pg_get_constraintdef(oid) "
                "FROM pg_constraint WHERE contype IN ('f', 'u') "
                "AND conrelid::regclass::text = ANY(%s) ORDER BY conname",
                [tables],
            )
            for kind, table, name, definition in cursor.fetchall():
                (self.foreign if kind == "f" else self.unique).append((table, name, definition))
            cursor.execute(
                "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) "
                "FROM pg_index i WHERE i.indrelid::regclass::text = ANY(%s) "
                "AND NOT i.indisprimary "
                "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid) "
                "ORDER BY 1",
                [tables],
            )
            self.indexes = cursor.fetchall()
            # Foreign keys first; no CASCADE, so anything unexpected depending on them fails.
            for table, name, _definition in [*self.foreign, *self.unique]:
                cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
            for name, _definition in self.indexes:
                cursor.execute(f"DROP INDEX {name}")
        return self

    def restore(self) -> list[tuple[float, str]]:
        """Rebuild what ``__enter__`` dropped; the time each statement took, slowest first."""
        timings = []
        statements = [
            *(definition for _name, definition in self.indexes),
            *(
                f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}'
                for table, name, definition in [*self.unique, *self.foreign]
            ),
        ]
        with connection.cursor() as cursor:
            for sql in statements:
                started = time.perf_counter()
                cursor.execute(sql)
                timings.append((time.perf_counter() - started, sql))
        self.foreign, self.unique, self.indexes = [], [], []
        return sorted(timings, reverse=True)

    def __exit__(self, *exc):
        return False


# --------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------


class Pick:
    """A weighted choice with precomputed cumulative weights (called hundreds of thousands of
    times)."""

    def __init__(self, pairs: Sequence[tuple[object, float]]):
        self.values = [value for value, _w in pairs]
        self.cumulative = list(itertools.accumulate(w for _v, w in pairs))
        self.total = self.cumulative[-1]

    def __call__(self, rng: random.Random):
        return self.values[bisect.bisect_right(self.cumulative, rng.random() * self.total)]


# random.randint and random.choice go through slow pure-Python paths; at a million calls these
# matter.  Same distribution, same seed, same data every time.
def _randint(rng: random.Random, low: int, high: int) -> int:
    return low + int(rng.random() * (high - low + 1))


def _choice(rng: random.Random, seq: Sequence):
    return seq[int(rng.random() * len(seq))]


def _random_date(rng: random.Random, start: datetime.date, end: datetime.date) -> datetime.date:
    if end <= start:
        return start
    return start + datetime.timedelta(days=_randint(rng, 0, (end - start).days))


_MIDNIGHT: dict[datetime.date, datetime.datetime] = {}


def _at(day: datetime.date, seconds: float) -> datetime.datetime:
    """A moment on ``day`` (Vietnam time), ``seconds`` after midnight."""
    midnight = _MIDNIGHT.get(day)
    if midnight is None:
        midnight = _MIDNIGHT[day] = datetime.datetime(day.year, day.month, day.day, tzinfo=VN)
    return midnight + datetime.timedelta(seconds=seconds)


def _working_time(rng: random.Random) -> float:
    return 27_000 + rng.random() * 34_200  # 7:30 to 17:00


def _amount(rng: random.Random, low: int, high: int) -> int:
    return _randint(rng, low, high) * STEP


class _People:
    """Names and occupations drawn from the demo's weighted lists (``seed.demo_members``), with
    cumulative weights computed once: the demo's ``_weighted`` rebuilds its lists on every call,
    which is fine for 2,000 people and the slowest step for 500,000."""

    def __init__(self):
        self.family = Pick(FAMILY_NAMES)
        self.middle = {sex: Pick(pairs) for sex, pairs in MIDDLE_NAMES.items()}
        self.occupations = {work: Pick(pairs) for work, pairs in OCCUPATIONS.items()}

    def name(self, rng: random.Random, sex: str) -> str:
        """As ``demo._person_name``: family, middle and a given name unlike the middle one."""
        middle = self.middle[sex](rng)
        given = _choice(rng, GIVEN_NAMES[sex])
        while given == middle:
            given = _choice(rng, GIVEN_NAMES[sex])
        return f"{self.family(rng)} {middle} {given}"

    def occupation(self, rng: random.Random, work: str, sex: str) -> str:
        """As ``demo._occupation``: no women in the jobs the demo keeps for men."""
        occupation = self.occupations[work](rng)
        while sex == Sex.FEMALE and occupation in MEN_ONLY_JOBS:
            occupation = self.occupations[work](rng)
        return occupation


def _round_up(amount: float, step: int = 1_000_000) -> int:
    return max(step, math.ceil(amount / step) * step)


def _split_name(name: str) -> tuple[str, str]:
    family_middle, given = name.rsplit(" ", 1)
    return family_middle, given


@dataclass(frozen=True)
class Size:
    members: int
    units: int  # grassroots unions; the intermediate levels are added on top
    years: int
    seed: int = 2026

    def __post_init__(self):
        if self.members < 1 or self.units < 1:
            raise ValueError("members and units must be positive")
        if not 1 <= self.years <= MAX_YEARS:
            raise ValueError(f"years must be between 1 and {MAX_YEARS}")
        if self.members < 5 * self.units:
            raise ValueError("give at least 5 members per grassroots union")

    @property
    def districts(self) -> int:
        return max(1, round(self.units / 60))

    @property
    def sectors(self) -> int:
        return min(len(SECTORS) + len(MORE_SECTORS), max(1, self.units // 250))

    @property
    def communes(self) -> int:
        return max(1, round(self.units / 10))

    @property
    def zones(self) -> int:
        return 1 if self.units < 300 else 2 if self.units < 3000 else 3


# --------------------------------------------------------------------------------------------
# The build
# --------------------------------------------------------------------------------------------


@dataclass
class Grassroots:
    index: int
    id: int = 0
    code: str = ""
    name: str = ""
    work: str = ""
    address: str = ""
    founded_on: datetime.date = ORIGIN
    before: int | None = None  # parent unit id until the reorganisation (None: founded after)
    after: int = 0  # parent unit id today
    size: int = 0
    fund: int | None = None
    officer: int = 0
    chair: int = 0  # the second officer, who approves on the union's own fund
    treasurer: int = 0

    @property
    def start(self) -> datetime.date:
        """The first day the union stood in the tree (cases are made from then on)."""
        return self.founded_on


@dataclass
class Tree:
    province: int
    province_path: str
    units: dict[int, dict] = field(default_factory=dict)  # id -> unit row as a dict
    districts: list[int] = field(default_factory=list)
    sectors: list[int] = field(default_factory=list)
    communes: list[int] = field(default_factory=list)
    zones: list[int] = field(default_factory=list)
    grassroots: list[Grassroots] = field(default_factory=list)
    staff: dict[int, int] = field(default_factory=dict)  # unit id -> staff user id
    treasurer: dict[int, int] = field(default_factory=dict)  # unit id -> treasurer user id
    province_staff: list[int] = field(default_factory=list)
    province_treasurers: list[int] = field(default_factory=list)


@dataclass
class Report:
    phases: list[tuple[str, float, str]] = field(default_factory=list)
    rows: Counter = field(default_factory=Counter)

    @property
    def seconds(self) -> float:
        return sum(s for _n, s, _d in self.phases)


class ScaleBuilder:
    def __init__(self, size: Size, stdout=None):
        self.size = size
        self.stdout = stdout
        self.rng = random.Random(size.seed)
        self.loader = Loader()
        self.report = Report()
        self.today = timezone.localdate()
        self.now = timezone.now()
        self.years = list(range(self.today.year - size.years + 1, self.today.year + 1))
        self.first_day = datetime.date(self.years[0], 1, 1)
        if self.today < REORGANISED_ON + datetime.timedelta(days=1):
            raise ValueError("The scale data includes the reorganisation of 1 July 2025.")
        self._clock = time.perf_counter()

    # --- reporting --------------------------------------------------------------------------

    def say(self, text: str) -> None:
        if self.stdout is not None:
            self.stdout.write(text if text.endswith("\n") else text + "\n")
            if hasattr(self.stdout, "flush"):
                self.stdout.flush()

    def phase(self, name: str, detail: str) -> None:
        now = time.perf_counter()
        seconds, self._clock = now - self._clock, now
        self.report.phases.append((name, seconds, detail))
        self.say(f"  {name:<28} {seconds:7.1f} s  {detail}")

    # --- entry point ------------------------------------------------------------------------

    def build(self) -> Report:
        if Unit.objects.exists():
            raise ValueError(
                "The database already has union units: seed_scale fills an empty database "
                "(create a new one, or flush this one)."
            )
        s = self.size
        self.say(
            f"Seeding {s.members:,} members, {s.units:,} grassroots unions, {s.years} years "
            f"({self.years[0]}-{self.years[-1]}) on {connection.vendor}, seed {s.seed}"
        )
        start = time.perf_counter()
        # Millions of live tuples and no reference cycles: the cyclic garbage collector would
        # walk them all on every full collection (a quarter of the run at 100,000 members).
        gc.collect()
        gc.freeze()
        gc.disable()
        try:
            self._build()
        finally:
            gc.enable()
            gc.unfreeze()
        programs = build_programs(self.today.year)
        shelters = sum(attach_shelters(program) for program in programs)
        self.phase(
            "programs",
            ", ".join(f"{p.name} ({p.participants.count():,} units)" for p in programs)
            + f"; {shelters:,} shelters",
        )
        self.report.rows = self.loader.rows
        self.say(f"Done in {time.perf_counter() - start:.1f} s.")
        for label, count in sorted(self.loader.rows.items()):
            self.say(f"  {label:<32} {count:>12,}")
        return self.report

    def _build(self) -> None:
        with transaction.atomic():
            with _BulkMode(self.loader) as bulk:
                if self.loader.postgres:
                    with connection.cursor() as cursor:
                        cursor.execute("SET LOCAL synchronous_commit = off")
                tree = self.build_tree()
                self.build_accounts(tree)
                members = self.build_members(tree)
                funds = self.build_funds(tree)
                self.build_support(tree, members, funds)
                if self.loader.postgres:
                    slowest = bulk.restore()
                    self.phase(
                        "indexes and constraints",
                        f"{len(slowest)} rebuilt; slowest: "
                        + "; ".join(f"{sql[:70]}... {t:.1f} s" for t, sql in slowest[:3]),
                    )
            self.loader.reset_sequences()
            rows = rebuild_tallies()
            raised = rebuild_raised()
            loan_tallies.rebuild_late_since()
            lending = loan_tallies.rebuild()
            membership = rebuild_membership_years()
            unlisted.rebuild()
            self.loader.models |= {SupportTally, RaisedYear, LoanYear, Loan, MembershipYear}
            self.phase(
                "tallies",
                f"{rows:,} rows of support paid, {raised:,} of money raised, {lending:,} of "
                f"lending, {membership:,} of membership",
            )
        if self.loader.postgres:
            # VACUUM sets the visibility map (index-only scans) as autovacuum would in time;
            # inside a caller's transaction (a test) only ANALYZE can run.
            command = "ANALYZE" if connection.in_atomic_block else "VACUUM (ANALYZE)"
            with connection.cursor() as cursor:
                for model in sorted(self.loader.models, key=str):
                    cursor.execute(f"{command} {model._meta.db_table}")
            self.phase(command.lower(), "planner statistics up to date")

    # --- the tree ---------------------------------------------------------------------------

    def _places(self, count: int, exclude: set[str]) -> list[str]:
        names = [
            f"{a} {b}"
            for a in PLACE_FIRST
            for b in PLACE_SECOND
            if a != b and f"{a} {b}" not in exclude
        ]
        self.rng.shuffle(names)
        while len(names) < count:  # beyond ~1,200: numbered wards, as cities have
            names.append(f"{len(names) + 1}")
        return names[:count]

    def build_tree(self) -> Tree:
        s, rng = self.size, self.rng
        reorg = REORGANISED_ON
        ids = iter(
            self.loader.ids(Unit, 1 + s.districts + s.sectors + s.communes + s.zones + s.units)
        )
        units: dict[int, dict] = {}
        placements: list[tuple] = []
        events: list[tuple] = []
        history: list[tuple] = []  # unit rows as they stood, with the date and change type

        def unit(spec: UnitSpec, kind: str, parent: int | None, founded, **extra) -> int:
            pk = next(ids)
            path = (units[parent]["path"] if parent else "") + f"{pk}{PATH_SEPARATOR}"
            units[pk] = {
                "id": pk,
                "code": spec.code,
                "name": spec.name,
                "search_name": normalise(spec.name),
                "kind": kind,
                "status": UnitStatus.ACTIVE,
                "parent_id": parent,
                "path": path,
                "depth": path.count(PATH_SEPARATOR) - 1,
                "founded_on": founded,
                "closed_on": None,
                "successor_id": None,
                "address": spec.address,
                "phone": "",
                "email": "",
                "employer": extra.get("employer", ""),
            }
            placed_from = max(founded, units[parent]["_placed"] if parent else founded)
            units[pk]["_placed"] = placed_from
            placements.append((pk, parent, path, units[pk]["depth"], placed_from, None))
            events.append((pk, UnitEvent.Kind.CREATED, placed_from, None, parent, None, ""))
            history.append((dict(units[pk]), placed_from, "+"))
            return pk

        tree = Tree(province=0, province_path="")
        tree.province = unit(PROVINCE, UnitKind.PROVINCE, None, ORIGIN)
        tree.province_path = units[tree.province]["path"]
        used = {spec.address.split(",")[0].split(" ", 1)[-1] for spec in COMMUNES}
        places = self._places(s.districts + s.communes + s.units, used)
        place = iter(places)

        for index in range(s.districts):
            if index < len(DISTRICTS):
                spec = DISTRICTS[index]
            else:
                name = next(place)
                spec = UnitSpec(
                    f"LS-H{index:02d}", f"LĐLĐ huyện {name}", f"Thị trấn {name}, huyện {name}"
                )
            tree.districts.append(unit(spec, UnitKind.DISTRICT, tree.province, ORIGIN))
        all_sectors = [*SECTORS, *MORE_SECTORS]
        for index in range(s.sectors):
            tree.sectors.append(unit(all_sectors[index], UnitKind.SECTOR, tree.province, ORIGIN))

        # Communes set up on 1 July 2025; each takes over part of one district's territory.
        commune_place: dict[int, str] = {}
        commune_district: dict[int, int] = {}
        for index in range(s.communes):
            if index < len(COMMUNES):
                spec = COMMUNES[index]
                name = spec.address.split(",")[0]
            else:
                ward = rng.random() < 0.3
                name = f"{'Phường' if ward else 'Xã'} {next(place)}"
                spec = UnitSpec(
                    f"LS-{'P' if ward else 'X'}{index:04d}",
                    f"Công đoàn {name[0].lower()}{name[1:]}",
                    f"{name}, tỉnh Lạng Sơn",
                )
            pk = unit(spec, UnitKind.COMMUNE, tree.province, reorg)
            tree.communes.append(pk)
            commune_place[pk] = name
            commune_district[pk] = tree.districts[index * s.districts // s.communes]
        for spec in [ZONE, *MORE_ZONES][: s.zones]:
            tree.zones.append(unit(spec, UnitKind.ZONE, tree.province, reorg))
        communes_of: dict[int, list[int]] = defaultdict(list)
        for commune, district in commune_district.items():
            communes_of[district].append(commune)

        # Grassroots unions: created under their district or sector, moved on 1 July 2025.
        work_pick = Pick(list(WORK_WEIGHTS.items()))
        # Older unions were founded before the seed's years and before the reorganisation.
        window = (min(self.first_day, reorg) - ORIGIN).days
        for index in range(s.units):
            g = Grassroots(index)
            roll = rng.random()
            if index == 0:  # the demo grassroots account's union, as in the demo
                spec = GRASSROOTS[0]
                g.code, g.name, g.work, g.address = spec.code, spec.name, spec.work, spec.address
                before, after = tree.districts[0], tree.communes[0]
                g.founded_on = spec.founded_on
            else:
                g.code = f"LS-G{index:05d}"
                if tree.sectors and roll < 0.18:
                    before = rng.choice(tree.sectors)
                    after = before
                    g.work = SECTOR_WORK[units[before]["code"]]
                    commune = rng.choice(tree.communes)
                else:
                    before = rng.choice(tree.districts)
                    commune = rng.choice(communes_of.get(before) or tree.communes)
                    g.work = work_pick(rng)
                    move = rng.random()
                    if g.work in ("factory", "garment") and move < 0.45:
                        after = rng.choice(tree.zones)
                    elif g.work in ("utility", "mine", "factory") and move < 0.55:
                        after = tree.province  # the largest employers, directly under it
                    else:
                        after = commune
                where = commune_place.get(commune, "")
                short = where.split(" ", 1)[-1]
                template = rng.choice(EMPLOYERS[g.work])
                employer = template.format(p=short, u=where[:1].lower() + where[1:])
                if units[after]["kind"] == UnitKind.ZONE:
                    g.address = units[after]["address"]
                else:
                    g.address = f"{where}, tỉnh Lạng Sơn"
                g.name = f"CĐCS {employer}"
                age = rng.random()
                if age < 0.10 and (reorg - self.first_day).days > 60:
                    # Set up during the years of the seed, before the reorganisation.
                    g.founded_on = self.first_day + datetime.timedelta(
                        days=rng.randint(0, (reorg - self.first_day).days - 30)
                    )
                elif age < 0.13 and (self.today - reorg).days > 60:
                    # Set up after it, straight under today's parent (a sector keeps its own).
                    g.founded_on = reorg + datetime.timedelta(
                        days=rng.randint(30, (self.today - reorg).days - 20)
                    )
                    if before not in tree.sectors:
                        before = None
                else:
                    g.founded_on = ORIGIN + datetime.timedelta(days=rng.randint(0, window - 1))
            employer = g.name.removeprefix("CĐCS ")
            spec = UnitSpec(g.code, g.name, g.address)
            g.id = unit(
                spec,
                UnitKind.GRASSROOTS,
                after if before is None else before,
                g.founded_on,
                employer=employer,
            )
            g.before, g.after = before, after
            tree.grassroots.append(g)

        # 1 July 2025: move the grassroots unions, dissolve the districts.
        open_row = {p[0]: i for i, p in enumerate(placements)}
        for g in tree.grassroots:
            if g.before is None or g.before == g.after:
                continue
            row = units[g.id]
            new_path = units[g.after]["path"] + f"{g.id}{PATH_SEPARATOR}"
            i = open_row[g.id]
            placements[i] = (*placements[i][:5], reorg)
            row["parent_id"], row["path"] = g.after, new_path
            row["depth"] = new_path.count(PATH_SEPARATOR) - 1
            placements.append((g.id, g.after, new_path, row["depth"], reorg, None))
            events.append(
                (g.id, UnitEvent.Kind.MOVED, reorg, g.before, g.after, None,
                 REORGANISATION_NOTE)
            )  # fmt: skip
            history.append((dict(row), reorg, "~"))
        for district in tree.districts:
            row = units[district]
            row["status"], row["closed_on"] = UnitStatus.DISSOLVED, reorg
            events.append(
                (district, UnitEvent.Kind.DISSOLVED, reorg, None, None, None,
                 REORGANISATION_NOTE)
            )  # fmt: skip
            history.append((dict(row), reorg, "~"))

        columns = [
            "id", "code", "name", "kind", "status", "parent_id", "path", "depth", "founded_on",
            "closed_on", "successor_id", "address", "phone", "email", "employer",
        ]  # fmt: skip
        self.loader.write(
            Unit,
            [*columns, "search_name"],
            (tuple(u[c] for c in [*columns, "search_name"]) for u in units.values()),
        )
        self.loader.write_history(
            Unit,
            columns,
            ((tuple(u[c] for c in columns), _at(day, 8 * 3600), kind) for u, day, kind in history),
        )
        placement_ids = self.loader.ids(Placement, len(placements))
        self.loader.write(
            Placement,
            ["id", "unit_id", "parent_id", "path", "depth", "valid_from", "valid_to"],
            ((pk, *p) for pk, p in zip(placement_ids, placements, strict=True)),
        )
        event_ids = self.loader.ids(UnitEvent, len(events))
        self.loader.write(
            UnitEvent,
            [
                "id",
                "unit_id",
                "kind",
                "effective_on",
                "old_parent_id",
                "new_parent_id",
                "other_unit_id",
                "note",
                "by_id",
                "recorded_at",
            ],
            (
                (pk, *e[:6], e[6], None, _at(e[2], 9 * 3600))
                for pk, e in zip(event_ids, events, strict=True)
            ),
        )
        tree.units = units
        kinds = Counter(u["kind"] for u in units.values())
        self.phase(
            "tree",
            f"{len(units):,} units ({', '.join(f'{n} {k}' for k, n in kinds.items())}), "
            f"{len(placements):,} placements",
        )
        return tree

    # --- accounts ---------------------------------------------------------------------------

    def build_accounts(self, tree: Tree) -> None:
        """The six demo accounts (``seed.demo_members.ensure_accounts``), then an officer for every
        grassroots union, staff at every intermediate union, treasurers where there is money."""
        rng = self.rng
        demo_users = {a.user.username: a.user_id for a in ensure_accounts()}
        User = get_user_model()
        by_code = {u["code"]: pk for pk, u in tree.units.items()}
        tree.province_staff = [demo_users["province"]]
        tree.province_treasurers = [demo_users["treasurer"]]
        tree.staff[by_code[COMMUNE_ACCOUNT_UNIT]] = demo_users["commune"]

        wanted: list[tuple[str, int, str]] = []  # username, unit id, role
        for n in (1, 2):
            wanted.append((f"tinh.bandiem{n}", tree.province, Role.PROVINCE_STAFF))
        wanted.append(("tinh.ketoan2", tree.province, Role.TREASURER))
        for pk in [*tree.districts, *tree.sectors, *tree.communes, *tree.zones]:
            code = tree.units[pk]["code"].lower()
            if pk not in tree.staff:
                wanted.append((f"cb.{code}", pk, Role.STAFF))
            if pk in tree.communes or pk in tree.zones:
                wanted.append((f"kt.{code}", pk, Role.TREASURER))
        funded = self._funded_grassroots(tree)
        for g in tree.grassroots:
            code = g.code.lower()
            if g.code == GRASSROOTS_ACCOUNT_UNIT:
                g.officer = demo_users["grassroots"]
            else:
                wanted.append((f"cb.{code}", g.id, Role.OFFICER))
            if g.index in funded:
                wanted.append((f"ct.{code}", g.id, Role.OFFICER))
                wanted.append((f"kt.{code}", g.id, Role.TREASURER))

        user_ids = self.loader.ids(User, len(wanted))
        joined = _at(self.first_day - datetime.timedelta(days=30), 8 * 3600)
        users, roles = [], []
        for pk, (username, unit_id, role) in zip(user_ids, wanted, strict=True):
            sex = Sex.FEMALE if rng.random() < 0.55 else Sex.MALE
            last, first = _split_name(demo._person_name(rng, sex))
            users.append(
                ("!", None, False, username, first, last, f"{username}@example.vn", False, True,
                 joined, pk)
            )  # fmt: skip
            roles.append((pk, unit_id, role))
            if role == Role.PROVINCE_STAFF:
                tree.province_staff.append(pk)
            elif role == Role.TREASURER and unit_id == tree.province:
                tree.province_treasurers.append(pk)
            elif role == Role.TREASURER:
                tree.treasurer[unit_id] = pk
            elif role == Role.STAFF:
                tree.staff[unit_id] = pk
        self.loader.write(
            User,
            ["password", "last_login", "is_superuser", "username", "first_name", "last_name",
             "email", "is_staff", "is_active", "date_joined", "id"],
        users)  # fmt: skip
        role_ids = self.loader.ids(RoleAssignment, len(roles))
        role_rows = [
            (pk, user, unit, role, None, joined)
            for pk, (user, unit, role) in zip(role_ids, roles, strict=True)
        ]
        role_columns = ["id", "user_id", "unit_id", "role", "granted_by_id", "granted_at"]
        self.loader.write(RoleAssignment, role_columns, role_rows)
        self.loader.write_history(
            RoleAssignment, role_columns, ((r, joined, "+") for r in role_rows)
        )

        by_unit_role = defaultdict(list)
        for user, unit, role in roles:
            by_unit_role[(unit, role)].append(user)
        for g in tree.grassroots:
            officers = by_unit_role[(g.id, Role.OFFICER)]
            if not g.officer:
                g.officer = officers.pop(0)
            if g.index in funded:
                g.chair = officers[-1]
                g.treasurer = tree.treasurer[g.id] = by_unit_role[(g.id, Role.TREASURER)][0]
        self.phase("accounts", f"6 demo accounts and {len(users):,} officers, staff, treasurers")

    def _funded_grassroots(self, tree: Tree) -> set[int]:
        """About one grassroots union in five keeps welfare money of its own (the larger ones
        more often); decided once, by index."""
        if not hasattr(self, "_funded"):
            rng = random.Random(self.size.seed + 1)
            self._funded = {
                g.index
                for g in tree.grassroots
                if rng.random() < (0.35 if g.work in ("factory", "garment", "mine") else 0.17)
            }
        return self._funded

    # --- members ----------------------------------------------------------------------------

    def build_members(self, tree: Tree) -> Members:
        s, rng = self.size, self.rng
        today = self.today
        # List sizes: skewed by kind of workplace, scaled to exactly ``members`` in total.
        weights = [WORK_SIZE[g.work] * rng.lognormvariate(0, 0.6) for g in tree.grassroots]
        spare = s.members - 5 * s.units
        total = sum(weights)
        raw = [spare * w / total for w in weights]
        sizes = [5 + int(r) for r in raw]
        leftover = s.members - sum(sizes)
        for i in sorted(range(s.units), key=lambda i: raw[i] - int(raw[i]), reverse=True)[
            :leftover
        ]:
            sizes[i] += 1
        for g, size in zip(tree.grassroots, sizes, strict=True):
            g.size = size

        ids = self.loader.ids(Member, s.members)
        cards = iter(rng.sample(range(1, 10_000_000), s.members))
        taken: set[str] = set()
        members = Members()
        people = _People()
        rows, memberships, versions = [], [], []
        imported = _at(self.first_day - datetime.timedelta(days=20), 9 * 3600)
        earliest_birth = demo._years_after(today, -60) + datetime.timedelta(days=1)
        latest_birth = demo._years_after(today, -20)
        pk_iter = iter(ids)
        for g in tree.grassroots:
            female_share = demo._female_share(g.work)
            poor_share = demo._poor_share(g.work)
            for index in range(g.size):
                pk = next(pk_iter)
                sex = Sex.FEMALE if rng.random() < female_share else Sex.MALE
                birth = _random_date(rng, earliest_birth, latest_birth)
                province = HOME_PROVINCE if rng.random() < 0.85 else _choice(rng, OTHER_PROVINCES)
                national_id = ""
                while not national_id or national_id in taken:
                    serial = int(rng.random() * 1_000_000)
                    national_id = make_national_id(province, birth, sex, serial)
                taken.add(national_id)
                is_worker = index > 0 and rng.random() < 0.08
                adult_from = max(g.founded_on, demo._years_after(birth, 18))
                joined_on = None if is_worker else _random_date(rng, adult_from, today)
                status = MemberStatus.ACTIVE
                if index > 0:
                    roll = rng.random()
                    if roll < 0.03:
                        status = MemberStatus.LEFT
                    elif roll < 0.04:
                        status = MemberStatus.DECEASED
                name = people.name(rng, sex)
                start = joined_on or adult_from
                created = imported if start < self.first_day else _at(start, 10 * 3600)
                updated, left_on = created, None
                if status != MemberStatus.ACTIVE:
                    # The change of status, recorded during the years of the seed; the
                    # membership closes on that day.
                    day = _random_date(rng, max(start, self.first_day), today)
                    updated = max(_at(day, 11 * 3600), created + datetime.timedelta(hours=1))
                    left_on = max(timezone.localtime(updated).date(), start)
                row = (
                    pk, name, normalise(name), sex, birth, national_id,
                    MemberKind.WORKER if is_worker else MemberKind.MEMBER, g.id,
                    "" if is_worker else f"LS{next(cards):07d}", joined_on,
                    people.occupation(rng, g.work, sex), demo._phone(rng),
                    demo._address(rng, g.address), status, rng.random() < 0.04,
                    rng.random() < poor_share, created, updated, left_on, sort_key(name),
                )  # fmt: skip
                rows.append(row)
                memberships.append((pk, g.id, start, left_on, Membership.Reason.JOINED, "", None))
                position = len(members.ids)
                if status == MemberStatus.ACTIVE:
                    members.active.append(position)
                    versions.append((row, created, "+"))
                else:
                    # Imported as active, then the change of status.
                    active = (*row[:13], MemberStatus.ACTIVE, *row[14:-2], None, row[-1])
                    versions.append((active, created, "+"))
                    versions.append((row, updated, "~"))
                    if status == MemberStatus.DECEASED:
                        members.deceased.append(position)
                members.ids.append(pk)
                members.names.append(name)
                members.unit.append(g.index)
        columns = [
            "id", "full_name", "search_name", "sex", "date_of_birth", "national_id", "kind",
            "unit_id", "union_card_number", "joined_on", "occupation", "phone", "address",
            "status", "policy_family", "poor_household", "created_at", "updated_at", "left_on",
            "sort_name",
        ]  # fmt: skip
        self.loader.write(Member, columns, rows)
        self.loader.write_history(Member, columns, versions)
        del versions
        membership_ids = self.loader.ids(Membership, len(memberships))
        self.loader.write(
            Membership,
            ["id", "member_id", "unit_id", "valid_from", "valid_to", "reason", "note", "by_id"],
            ((pk, *m) for pk, m in zip(membership_ids, memberships, strict=True)),
        )
        dependants = self._dependants(rows, members)
        rebuild_member_counts()
        self.phase(
            "members",
            f"{s.members:,} members and workers, {len(memberships):,} memberships, "
            f"{dependants:,} children",
        )
        return members

    def _dependants(self, rows: list[tuple], members: Members) -> int:
        """Children still of school or student age for about one member in seven."""
        rng, today = self.rng, self.today
        out = []
        family_pick = Pick(FAMILY_NAMES)
        youngest_parent = demo._years_after(today, -22)
        for position, row in enumerate(rows):
            if rng.random() >= 0.15:
                continue
            pk, name, _search, sex, birth = row[:5]
            earliest = max(demo._years_after(birth, 20), youngest_parent)
            latest = min(demo._years_after(birth, 40), today - datetime.timedelta(days=200))
            if earliest > latest:
                continue
            for _child in range(_choice(rng, [1, 1, 1, 2, 2, 3])):
                child_sex = Sex.MALE if rng.random() < 0.5 else Sex.FEMALE
                family = name.split(" ", 1)[0] if sex == Sex.MALE else family_pick(rng)
                out.append(
                    (
                        pk,
                        f"{family} {_choice(rng, CHILD_NAMES[child_sex])}",
                        child_sex,
                        _random_date(rng, earliest, latest),
                        "child",
                        "",
                    )
                )
            members.parents.append(position)
        ids = self.loader.ids(Dependant, len(out))
        rows_out = [(pk, *d) for pk, d in zip(ids, out, strict=True)]
        columns = ["id", "member_id", "full_name", "sex", "date_of_birth", "relationship", "note"]
        self.loader.write(Dependant, columns, rows_out)
        created = _at(self.first_day - datetime.timedelta(days=20), 9 * 3600)
        self.loader.write_history(Dependant, columns, ((r, created, "+") for r in rows_out))
        return len(rows_out)

    # --- funds ------------------------------------------------------------------------------

    def build_funds(self, tree: Tree) -> Funds:
        s = self.size
        funds = Funds()
        rows = []
        count = 3 + len(tree.communes) + len(tree.zones) + len(self._funded_grassroots(tree))
        ids = iter(self.loader.ids(Fund, count))
        opened = self.first_day
        province_name = tree.units[tree.province]["name"].removeprefix("Liên đoàn Lao động ")

        def add(unit: int, name: str, kind: str, opened_on: datetime.date, opening: int,
                supply: str) -> int:  # fmt: skip
            pk = next(ids)
            rows.append(
                (pk, unit, name, normalise(name), kind, 0, 0, True, _at(opened_on, 8 * 3600))
            )
            funds.info[pk] = FundInfo(pk, unit, name, opened_on, opening, supply)
            return pk

        funds.social = add(
            tree.province, f"Quỹ Xã hội LĐLĐ {province_name}", FundKind.SOCIAL, opened,
            _round_up(s.members * 30_000, 10_000_000), "province",
        )  # fmt: skip
        funds.shelter = add(
            tree.province, "Quỹ Mái ấm Công đoàn", FundKind.SHELTER, opened,
            _round_up(s.members * 8_000, 10_000_000), "province",
        )  # fmt: skip
        funds.loan = add(
            tree.province, "Quỹ Trợ vốn CNVCLĐ nghèo", FundKind.LOAN, opened,
            _round_up(s.members * 20_000, 10_000_000), "province",
        )  # fmt: skip
        for pk in [*tree.communes, *tree.zones]:
            unit = tree.units[pk]
            funds.of_unit[pk] = add(
                pk, f"Quỹ phúc lợi {unit['name']}", FundKind.WELFARE, REORGANISED_ON, 0,
                "allocation",
            )  # fmt: skip
        funded = self._funded_grassroots(tree)
        for g in tree.grassroots:
            if g.index in funded:
                opening_day = max(opened, g.founded_on)
                g.fund = add(
                    g.id, f"Quỹ phúc lợi {g.name}", FundKind.WELFARE, opening_day,
                    _round_up(g.size * 150_000), "members",
                )  # fmt: skip
        self.loader.write(
            Fund,
            [
                "id",
                "unit_id",
                "name",
                "search_name",
                "kind",
                "balance",
                "reserved",
                "is_active",
                "created_at",
            ],
            rows,
        )
        return funds

    # --- support ----------------------------------------------------------------------------

    def build_support(self, tree: Tree, members: Members, funds: Funds) -> None:
        """About ``members / 2`` cases a year, written year by year with their timelines; the
        payments wait in ``funds.paid`` for the ledgers."""
        s, rng = self.size, self.rng
        deceased = list(members.deceased)
        rng.shuffle(deceased)
        picker = _CasePicker(members, deceased)
        case_columns = [
            "id", "unit_id", "member_id", "category", "circumstances", "support_type",
            "requested_amount", "fund_id", "status", "current_unit_id", "approved_amount",
            "approved_on", "paid_on", "created_by_id", "created_at", "submitted_at", "updated_at",
        ]  # fmt: skip
        event_columns = [
            "id", "case_id", "action", "unit_id", "actor_id", "amount", "comment", "at",
        ]  # fmt: skip
        for year in self.years:
            started = time.perf_counter()
            count = round(s.members / 2 * rng.uniform(0.95, 1.05))
            cases, events = [], []
            event_ids = itertools.count(self.loader.ids(CaseEvent, 0).start)
            for pk in self.loader.ids(Case, count):
                cases.append(self._case(pk, year, tree, members, funds, picker, events, event_ids))
            self.loader.ids(CaseEvent, len(events))
            self.loader.write(Case, case_columns, cases)
            self.loader.write(CaseEvent, event_columns, events)
            states = Counter(c[8] for c in cases)
            self.phase(
                f"support {year}",
                f"{len(cases):,} cases, {len(events):,} events "
                f"({', '.join(f'{n:,} {k}' for k, n in states.most_common())}), "
                f"{len(cases) / (time.perf_counter() - started):,.0f} cases/s",
            )
        self.build_ledger(tree, members, funds)

    def _case(
        self,
        pk: int,
        year: int,
        tree: Tree,
        members: Members,
        funds: Funds,
        picker: _CasePicker,
        out: list[tuple],
        event_ids: Iterator[int],
    ) -> tuple:
        """One case; its timeline, as far as it has got by today, goes to ``out``."""
        rng, today = self.rng, self.today
        current = year == today.year
        stype, category, status, m = picker.pick(rng, current)
        g = tree.grassroots[members.unit[m]]
        year_start = datetime.date(year, 1, 1)
        # The day the case was opened.
        if status in IN_PROGRESS and current:
            created = today - datetime.timedelta(days=int(rng.random() ** 2 * 40))
        elif stype == SupportType.TET_GIFT:
            created = datetime.date(year, 1, 5) + datetime.timedelta(days=_randint(rng, 0, 31))
        else:
            last = min(datetime.date(year, 12, 31), today)
            created = year_start + datetime.timedelta(
                days=_randint(rng, 0, (last - year_start).days)
            )
        if current and status not in IN_PROGRESS:
            created = min(created, today - datetime.timedelta(days=25))
        created = min(max(created, year_start, g.start), today)
        before = created < REORGANISED_ON and g.before is not None
        parent = g.before if before else g.after
        # The fund, and the levels the case climbs to reach the union that owns it.
        low, high = SUPPORT[stype][2]
        requested = _amount(rng, low, high)
        roll = rng.random()
        commune_fund = None if before else funds.of_unit.get(g.after)
        if stype == SupportType.SHELTER:
            fund = funds.shelter
        elif stype in SMALL_SUPPORT and g.fund and roll < 0.45:
            fund = g.fund
        elif stype in SMALL_SUPPORT | {SupportType.GRANT} and commune_fund and roll < 0.75:
            fund = commune_fund
        else:
            fund = funds.social
        owner = funds.info[fund].unit
        if owner == g.id:
            levels = [g.id]
        elif owner == parent:
            levels = [parent]
        else:
            levels = [parent, owner]

        clock = _Clock(rng, created, today, self.now)
        Action = CaseEvent.Action
        events: list[tuple] = []

        def add(action: str, unit: int, actor: int, amount, comment: str, at) -> None:
            events.append((next(event_ids), pk, action, unit, actor, amount, comment, at))

        add(Action.CREATED, g.id, g.officer, requested, "", clock.at)
        current_unit = approved = approved_on = paid_on = submitted_at = None
        if status != CaseStatus.DRAFT:
            submitted_at = clock.step(_randint(rng, 0, 3))
            events.append(
                (
                    next(event_ids),
                    pk,
                    Action.SUBMITTED,
                    g.id,
                    g.officer,
                    requested,
                    "",
                    submitted_at,
                )
            )
            if status == CaseStatus.RETURNED:
                level = levels[0]
                actor = self._reviewer(tree, g, level) if len(levels) == 1 else tree.staff[level]
                comment = _choice(rng, RETURN_COMMENTS)
                events.append(
                    (
                        next(event_ids),
                        pk,
                        Action.RETURNED,
                        level,
                        actor,
                        None,
                        comment,
                        clock.step(1, 7),
                    )
                )
            else:
                reached = len(levels) - 1
                if status == CaseStatus.SUBMITTED:
                    reached = _randint(rng, 0, len(levels) - 1)
                for level in levels[:reached]:
                    actor = tree.staff[level]
                    events.append(
                        (
                            next(event_ids),
                            pk,
                            Action.ENDORSED,
                            level,
                            actor,
                            None,
                            "",
                            clock.step(1, 5),
                        )
                    )
                level = levels[reached]
                actor = self._reviewer(tree, g, level)
                if status == CaseStatus.SUBMITTED:
                    current_unit = level
                elif status == CaseStatus.REJECTED:
                    comment = _choice(rng, REJECT_COMMENTS)
                    events.append(
                        (
                            next(event_ids),
                            pk,
                            Action.REJECTED,
                            level,
                            actor,
                            None,
                            comment,
                            clock.step(1, 10),
                        )
                    )
                else:
                    approved = requested
                    if rng.random() < 0.25:
                        approved = max(STEP, int(requested * rng.uniform(0.5, 0.9)) // STEP * STEP)
                    events.append(
                        (
                            next(event_ids),
                            pk,
                            Action.APPROVED,
                            level,
                            actor,
                            approved,
                            "",
                            clock.step(1, 12),
                        )
                    )
                    approved_on = clock.day
                    if status == CaseStatus.PAID:
                        if owner == g.id:
                            payer = g.treasurer
                        elif owner == tree.province:
                            payer = _choice(rng, tree.province_treasurers)
                        else:
                            payer = tree.treasurer[owner]
                        when = clock.step(0, 10)
                        paid_on = clock.day
                        cash = rng.random() < 0.4
                        receipt = f"{'PC' if cash else 'UNC'}{pk:07d}/{paid_on.year}"
                        events.append(
                            (
                                next(event_ids),
                                pk,
                                Action.PAID,
                                owner,
                                payer,
                                approved,
                                receipt,
                                when,
                            )
                        )
                        method = PaymentMethod.CASH if cash else PaymentMethod.TRANSFER
                        funds.paid.append(
                            (paid_on, fund, approved, pk, members.names[m], payer, method,
                             receipt, when)
                        )  # fmt: skip
                    else:
                        funds.reserved[fund] += approved
        case = (
            pk, g.id, members.ids[m], category, _choice(rng, CIRCUMSTANCES[category]), stype,
            requested, fund, status, current_unit, approved, approved_on, paid_on, g.officer,
            events[0][7], submitted_at, events[-1][7],
        )  # fmt: skip
        out.extend(events)
        return case

    @staticmethod
    def _reviewer(tree: Tree, g: Grassroots, level: int) -> int:
        """Who decides at ``level``: never the case's creator, who is ``g.officer``."""
        if level == g.id:
            return g.chair
        if level == tree.province:
            return tree.province_staff[level % len(tree.province_staff)]
        return tree.staff[level]

    # --- ledgers ----------------------------------------------------------------------------

    def build_ledger(self, tree: Tree, members: Members, funds: Funds) -> None:
        """Every fund's entries in date order with running balances, topped up by contributions
        (or allocations from the province) so that no balance ever goes below what is owed."""
        rng, today = self.rng, self.today
        province_treasurer = tree.province_treasurers[0]
        # (day, order, kind, amount, description, source, case id, by, recorded at, payment)
        per_fund: dict[int, list[tuple]] = defaultdict(list)
        for paid_on, fund, amount, case_id, name, payer, method, receipt, when in funds.paid:
            per_fund[fund].append(
                (paid_on, 1, EntryKind.DISBURSEMENT, -amount,
                 f"Hỗ trợ {name} (hồ sơ số {case_id})", "", case_id, payer, when,
                 (method, receipt, name))
            )  # fmt: skip

        def keeper(info: FundInfo) -> int:
            return tree.treasurer.get(info.unit, province_treasurer)

        linked = self.build_loans(tree, members, funds, per_fund)
        linked += self.build_campaigns(tree, members, funds, per_fund, keeper)

        def period_start(day: datetime.date, months: int) -> datetime.date:
            return datetime.date(day.year, (day.month - 1) // months * months + 1, 1)

        def supply(fund: int, info: FundInfo, months: int, margin: tuple[float, float]) -> None:
            """An inflow at the start of each period, sized on what the period pays out."""
            outflow: Counter = Counter()
            for entry in per_fund[fund]:
                if entry[3] < 0:
                    outflow[period_start(entry[0], months)] -= entry[3]
            by = keeper(info)
            for start, amount in sorted(outflow.items()):
                day = max(start, info.opened_on)
                inflow = _round_up(amount * rng.uniform(*margin))
                self._inflow(per_fund, funds, tree, fund, info, day, inflow, by)

        def settle(fund: int, info: FundInfo) -> None:
            """Opening balance first, then top-ups wherever the running balance would go below
            zero, and at the end below the reserved amount."""
            entries = per_fund[fund]
            if info.opening:
                entries.append(
                    (info.opened_on, 0, EntryKind.OPENING, info.opening, "Số dư đầu kỳ", "", None,
                     keeper(info), _at(info.opened_on, 8 * 3600), None)
                )  # fmt: skip
            entries.sort(key=lambda e: (e[0], e[1], e[8]))
            balance, settled = 0, []
            for entry in entries:
                if balance + entry[3] < 0:
                    top_up = _round_up(-(balance + entry[3]) * 1.2)
                    settled.extend(
                        self._inflow_entries(funds, tree, fund, info, entry[0], top_up,
                                             keeper(info), per_fund)
                    )  # fmt: skip
                    balance += top_up
                balance += entry[3]
                settled.append(entry)
            owed = funds.reserved[fund]
            if balance < owed:
                top_up = _round_up(owed - balance)
                settled.extend(
                    self._inflow_entries(funds, tree, fund, info, today, top_up, keeper(info),
                                         per_fund)
                )  # fmt: skip
            per_fund[fund] = settled

        # Grassroots and commune funds first: their allocations are the province's outflows.
        order = sorted(funds.info.values(), key=lambda i: (i.unit == tree.province, i.id))
        for info in order:
            if info.supply == "members":
                supply(info.id, info, 3, (1.0, 1.3))
            elif info.supply == "allocation":
                supply(info.id, info, 3, (1.1, 1.4))
            elif info.id == funds.social:
                supply(info.id, info, 1, (1.0, 1.25))
            elif info.id == funds.shelter:
                supply(info.id, info, 3, (1.0, 1.3))
            else:  # the loan fund: a yearly contribution sized on the year's lending
                supply(info.id, info, 12, (0.6, 0.8))
            if info.unit != tree.province:
                settle(info.id, info)
        for info in order:
            if info.unit == tree.province:
                settle(info.id, info)

        # Ids in date order across all funds; balances in the same order within each fund.
        flat = []
        for fund, entries in per_fund.items():
            entries.sort(key=lambda e: (e[0], e[1], e[8]))
            flat.extend((e[0], e[1], fund, position, e) for position, e in enumerate(entries))
        flat.sort(key=lambda item: item[:4])
        ids = iter(self.loader.ids(LedgerEntry, len(flat)))
        balances: Counter = Counter()
        # The ledger's totals kept on each fund (money in, money out, entries), as post_entry does.
        money_in: Counter = Counter()
        money_out: Counter = Counter()
        entry_count: Counter = Counter()
        # ... and per month and kind, as post_entry keeps LedgerMonth: [count, in, out, first, last]
        months: dict[tuple, list] = {}
        ledger_rows, payments = [], []
        payment_ids = iter(self.loader.ids(Payment, len(funds.paid)))
        for day, _order, fund, _position, e in flat:
            pk = next(ids)
            balances[fund] += e[3]
            if e[3] > 0:
                money_in[fund] += e[3]
            else:
                money_out[fund] += e[3]
            entry_count[fund] += 1
            month = months.setdefault((fund, day.replace(day=1), e[2]), [0, 0, 0, pk, pk])
            month[0] += 1
            month[1 if e[3] > 0 else 2] += e[3]
            month[4] = pk
            ledger_rows.append(
                (pk, fund, e[2], e[3], balances[fund], day, e[4], e[5], e[6], None, e[7], e[8])
            )
            if isinstance(e[9], _Linked):
                e[9].row[e[9].slot] = pk
            elif e[9] is not None:
                method, receipt, name = e[9]
                payments.append(
                    (next(payment_ids), e[6], fund, -e[3], day, method, receipt, name, pk, e[7],
                     e[8])
                )  # fmt: skip
        self.loader.write(
            LedgerEntry,
            ["id", "fund_id", "kind", "amount", "balance_after", "occurred_on", "description",
             "source", "case_id", "reverses_id", "by_id", "recorded_at"],
            ledger_rows,
        )  # fmt: skip
        self.loader.write(
            Payment,
            ["id", "case_id", "fund_id", "amount", "paid_on", "method", "receipt_reference",
             "received_by", "ledger_entry_id", "by_id", "recorded_at"],
            payments,
        )  # fmt: skip
        self.loader.write(
            LedgerMonth,
            ["id", "fund_id", "month", "kind", "entry_count", "money_in", "money_out", "first_id",
             "last_id"],
            (
                (pk, *key, *totals)
                for pk, (key, totals) in zip(
                    self.loader.ids(LedgerMonth, len(months)), months.items(), strict=True
                )
            ),
        )  # fmt: skip
        for model, columns, rows in linked:
            self.loader.write(model, columns, (tuple(row) for row in rows))
        updates = [
            (balances[pk], funds.reserved[pk], money_in[pk], money_out[pk], entry_count[pk], pk)
            for pk in funds.info
        ]
        with connection.cursor() as cursor:
            table = connection.ops.quote_name(Fund._meta.db_table)
            cursor.executemany(
                f"UPDATE {table} SET balance = %s, reserved = %s, money_in = %s, "
                "money_out = %s, entry_count = %s WHERE id = %s",
                updates,
            )
        self.phase(
            "funds and ledgers",
            f"{len(funds.info):,} funds, {len(ledger_rows):,} entries, {len(payments):,} payments",
        )

    # --- loans and campaigns ----------------------------------------------------------------

    def build_loans(self, tree: Tree, members: Members, funds: Funds, per_fund) -> list:
        """About one loan for 25 members from the province's loan fund, disbursed over the
        years with their schedules; most repaid on time (monthly or each quarter), some
        early, some falling behind (their instalments marked overdue as the daily task
        would).  The loan fund's entries go to ``per_fund``; the repayments are returned to
        be written once their entries have ids."""
        rng, today = self.rng, self.today
        count = max(1, self.size.members // 25)
        treasurer, reviewer = tree.province_treasurers[0], tree.province_staff[0]
        (product,) = self.loader.ids(LoanProduct, 1)
        self.loader.write(
            LoanProduct,
            ["id", "fund_id", "name", "annual_rate", "max_principal", "term_months",
             "frequency", "grace_days", "is_active", "created_at"],
            [(product, funds.loan, "Cho vay vốn CNVCLĐ nghèo", Decimal(0), 50_000_000, 36,
              Frequency.MONTHLY, 10, True, _at(self.first_day, 8 * 3600))],
        )  # fmt: skip
        grace = datetime.timedelta(days=10)
        loans, instalments, events, repayments = [], [], [], []
        instalment_ids = itertools.count(self.loader.ids(Instalment, 0).start)
        event_ids = itertools.count(self.loader.ids(LoanEvent, 0).start)
        repayment_ids = itertools.count(self.loader.ids(Repayment, 0).start)
        last_day = today - datetime.timedelta(days=20)
        for pk in self.loader.ids(Loan, count):
            position = _choice(rng, members.active)
            g = tree.grassroots[members.unit[position]]
            member, name = members.ids[position], members.names[position]
            start = max(self.first_day, g.start)
            disbursed_on = _random_date(rng, start, max(start, last_day))
            term = _choice(rng, (12, 24, 36))
            principal = _randint(rng, 5, 50) * 1_000_000
            rows = schedule.build(
                principal=principal, term_months=term, frequency=Frequency.MONTHLY,
                annual_rate=Decimal(0), start=disbursed_on,
            )  # fmt: skip
            behaviour = rng.random()
            every = 1 if rng.random() < 0.6 else 3
            stops_after = _randint(rng, 1, len(rows)) if behaviour < 0.12 else len(rows)
            early = _randint(rng, 2, len(rows)) if behaviour > 0.92 else 0
            applied = _at(disbursed_on - datetime.timedelta(days=_randint(rng, 5, 20)), 9 * 3600)
            loan_events = [
                ("applied", g.officer, None, applied.date(), applied),
                ("confirmed", g.chair or g.officer, None, applied.date(), applied),
                ("approved", reviewer, principal, disbursed_on, _at(disbursed_on, 8 * 3600)),
                ("disbursed", treasurer, principal, disbursed_on, _at(disbursed_on, 10 * 3600)),
            ]
            receipt = f"PC-VAY-{pk}"
            per_fund[funds.loan].append(
                (disbursed_on, 1, EntryKind.LOAN_OUT, -principal,
                 f"Cho vay {name} (khoản vay số {pk})", receipt, None, treasurer,
                 _at(disbursed_on, 10 * 3600), None)
            )  # fmt: skip
            paid = [0] * len(rows)
            settled: list[datetime.date | None] = [None] * len(rows)
            pending: list[int] = []
            for index, row in enumerate(rows):
                if index >= stops_after:
                    break
                pending.append(index)
                last = index == len(rows) - 1
                if not (early and index + 1 == early) and (index + 1) % every and not last:
                    continue
                if early and index + 1 == early:
                    pending = list(range(pending[0], len(rows)))
                day = row.due_on + datetime.timedelta(days=_randint(rng, -5, 3))
                day = max(day, disbursed_on + datetime.timedelta(days=1))
                if day > today:
                    break
                amount = sum(rows[i].principal for i in pending)
                for i in pending:
                    paid[i], settled[i] = rows[i].principal, day
                moment = _at(day, _working_time(rng))
                repayment = [
                    next(repayment_ids), pk, RepaymentKind.REPAYMENT, amount, amount, 0, day,
                    f"PT-VAY-{pk}-{index + 1}", None, treasurer, moment,
                ]  # fmt: skip
                repayments.append(repayment)
                per_fund[funds.loan].append(
                    (day, 0, EntryKind.LOAN_REPAYMENT, amount,
                     f"Trả nợ vay của {name} (khoản vay số {pk})", repayment[7], None,
                     treasurer, moment, _Linked(repayment, 8))
                )  # fmt: skip
                loan_events.append(("repaid", treasurer, amount, day, moment))
                pending = []
                if early and index + 1 == early:
                    break
            repaid = sum(paid)
            closed = repaid == principal
            if closed:
                day = max(d for d in settled if d is not None)
                loan_events.append(("closed", treasurer, None, day, _at(day, 16 * 3600)))
            for index, row in enumerate(rows):
                overdue_after = row.due_on + grace
                marked = None
                if settled[index] is None and overdue_after < today:
                    marked = overdue_after + datetime.timedelta(days=1)
                    loan_events.append(
                        ("overdue", None, row.principal, marked, _at(marked, 2 * 3600))
                    )
                instalments.append(
                    (next(instalment_ids), pk, 1, row.number, row.due_on, overdue_after,
                     row.principal, 0, paid[index], 0, settled[index], marked)
                )  # fmt: skip
            loans.append(
                (pk, product, funds.loan, g.id, member, _choice(rng, LOAN_PURPOSES), principal,
                 term, "", LoanStatus.CLOSED if closed else LoanStatus.CURRENT, disbursed_on, 1,
                 principal - repaid, repaid, 0, 0, 0, g.officer, applied)
            )  # fmt: skip
            events.extend(
                (next(event_ids), pk, action, actor, amount, "", on, at)
                for action, actor, amount, on, at in loan_events
            )
        for model, rows_written in ((Instalment, instalments), (LoanEvent, events)):
            self.loader.ids(model, len(rows_written))
        self.loader.ids(Repayment, len(repayments))
        self.loader.write(
            Loan,
            ["id", "product_id", "fund_id", "unit_id", "member_id", "purpose", "principal",
             "term_months", "guarantor", "status", "disbursed_on", "schedule_version",
             "outstanding", "principal_paid", "interest_paid", "written_off", "recovered",
             "created_by_id", "created_at"],
            loans,
        )  # fmt: skip
        self.loader.write(
            Instalment,
            ["id", "loan_id", "version", "number", "due_on", "overdue_after", "principal",
             "interest", "principal_paid", "interest_paid", "settled_on", "marked_overdue_on"],
            instalments,
        )  # fmt: skip
        self.loader.write(
            LoanEvent, ["id", "loan_id", "action", "actor_id", "amount", "comment", "on", "at"],
            events,
        )  # fmt: skip
        self.phase(
            "loans",
            f"{len(loans):,} loans, {len(instalments):,} instalments, "
            f"{len(repayments):,} repayments",
        )
        return [
            (
                Repayment,
                ["id", "loan_id", "kind", "amount", "principal", "interest", "paid_on",
                 "receipt_reference", "ledger_entry_id", "by_id", "recorded_at"],
                repayments,
            )
        ]  # fmt: skip

    def build_campaigns(self, tree: Tree, members: Members, funds: Funds, per_fund, keeper):
        """The province's three campaigns a year and, since the reorganisation, one a year
        at a tenth of the commune unions: about 0.41 contributions per member, each a
        ``contribution`` entry of its campaign's fund.  The contributions are returned to
        be written once their entries have ids."""
        rng, today = self.rng, self.today
        campaigns: list[tuple] = []
        # (campaign id, fund, unit, first day, last day, name, weight, grassroots indexes)
        runs: list[tuple] = []
        everywhere = list(range(len(tree.grassroots)))
        below: dict[int, list[int]] = defaultdict(list)
        for g in tree.grassroots:
            below[g.after].append(g.index)
        communes = [pk for pk in tree.communes if below.get(pk)][::10]
        for year in self.years:
            for name, fund, first, last in PROVINCE_CAMPAIGNS:
                starts_on = max(datetime.date(year, *first), self.first_day)
                if starts_on > today:
                    continue
                ends_on = datetime.date(year, *last)
                fund_id = funds.social if fund == "social" else funds.shelter
                runs.append((tree.province, fund_id, starts_on, ends_on,
                             name.format(year=year), 8.0, everywhere))  # fmt: skip
            for commune in communes:
                starts_on = datetime.date(year, 9, 1)
                if starts_on <= REORGANISED_ON or starts_on > today:
                    continue
                runs.append((commune, funds.of_unit[commune], starts_on,
                             datetime.date(year, 10, 31), COMMUNE_CAMPAIGN.format(year=year),
                             0.1, below[commune]))  # fmt: skip
        by_unit: dict[int, list[int]] = defaultdict(list)
        for position in members.active:
            by_unit[members.unit[position]].append(position)
        total = max(1, round(self.size.members * 0.41))
        weights = sum(run[5] for run in runs) or 1
        contributions: list[list] = []
        ids = itertools.count(self.loader.ids(Contribution, 0).start)
        for campaign, run in zip(self.loader.ids(Campaign, len(runs)), runs, strict=True):
            unit, fund, starts_on, ends_on, name, weight, units = run
            info = funds.info[fund]
            recorder = keeper(info)
            count = max(1, round(total * weight / weights))
            raised = 0
            for number in range(1, count + 1):
                kind = rng.random()
                g = tree.grassroots[_choice(rng, units)]
                member = donor_unit = None
                if kind < 0.75 and by_unit.get(g.index):
                    position = _choice(rng, by_unit[g.index])
                    donor = (DonorKind.MEMBER, members.names[position])
                    member = members.ids[position]
                    amount = _randint(rng, 1, 20) * 50_000
                elif kind < 0.9:
                    donor, donor_unit = (DonorKind.UNIT, g.name), g.id
                    amount = _randint(rng, 1, 20) * 500_000
                else:
                    donor = (DonorKind.ENTERPRISE, _choice(rng, ENTERPRISE_DONORS))
                    amount = _randint(rng, 1, 50) * 1_000_000
                day = _random_date(rng, starts_on, min(ends_on, today))
                moment = _at(day, _working_time(rng))
                receipt = f"BN{number:06d}"
                row = [next(ids), campaign, donor[0], donor[1], member, donor_unit, amount, day,
                       receipt, g.id, None, "", recorder, moment]  # fmt: skip
                contributions.append(row)
                per_fund[fund].append(
                    (day, 0, EntryKind.CONTRIBUTION, amount,
                     f"Đóng góp {name}: {donor[1]}"[:255], receipt, None, recorder, moment,
                     _Linked(row, 10))
                )  # fmt: skip
                raised += amount
            campaigns.append(
                (campaign, unit, name, "", _round_up(raised * rng.uniform(0.8, 1.3)), fund,
                 starts_on, ends_on, False, recorder, _at(starts_on, 8 * 3600))
            )  # fmt: skip
        self.loader.ids(Contribution, len(contributions))
        self.loader.write(
            Campaign,
            ["id", "unit_id", "name", "purpose", "target", "fund_id", "starts_on", "ends_on",
             "has_units", "created_by_id", "created_at"],
            campaigns,
        )  # fmt: skip
        self.phase(
            "campaigns", f"{len(campaigns):,} campaigns, {len(contributions):,} contributions"
        )
        return [
            (
                Contribution,
                ["id", "campaign_id", "donor_kind", "donor_name", "member_id", "donor_unit_id",
                 "amount", "received_on", "receipt_number", "collected_by_id", "entry_id",
                 "row_key", "recorded_by_id", "recorded_at"],
                contributions,
            )
        ]  # fmt: skip

    def _inflow_entries(self, funds, tree, fund, info, day, amount, by, per_fund) -> list[tuple]:
        """The entries that bring ``amount`` into ``fund`` on ``day``: an allocation from the
        province's social fund for a commune fund (its outflow goes to the province's list),
        a contribution otherwise."""
        moment = _at(day, 7 * 3600 + self.rng.random() * 3600)
        if info.supply == "allocation":
            social = funds.info[funds.social]
            per_fund[funds.social].append(
                (day, 1, EntryKind.ALLOCATION_OUT, -amount,
                 f"Cấp kinh phí hỗ trợ đoàn viên cho {tree.units[info.unit]['name']}",
                 info.name, None, tree.province_treasurers[0], moment, None)
            )  # fmt: skip
            return [
                (day, 0, EntryKind.ALLOCATION_IN, amount, "Kinh phí hỗ trợ đoàn viên",
                 social.name, None, tree.province_treasurers[0], moment, None)
            ]  # fmt: skip
        return [
            (day, 0, EntryKind.CONTRIBUTION, amount, "Đóng góp vào quỹ",
             _choice(self.rng, CONTRIBUTION_SOURCES), None, by, moment, None)
        ]  # fmt: skip

    def _inflow(self, per_fund, funds, tree, fund, info, day, amount, by) -> None:
        per_fund[fund].extend(
            self._inflow_entries(funds, tree, fund, info, day, amount, by, per_fund)
        )


class _Clock:
    """The moments of a case's timeline: working hours, days apart, never after now (early in
    the morning, today's working hours are still to come)."""

    def __init__(
        self, rng: random.Random, day: datetime.date, today: datetime.date, now: datetime.datetime
    ):
        self.rng, self.day, self.today, self.now = rng, day, today, now
        self.seconds = _working_time(rng)
        self.at = min(_at(day, self.seconds), now)

    def step(self, low: int, high: int | None = None) -> datetime.datetime:
        days = low if high is None else _randint(self.rng, low, high)
        if days == 0:
            self.seconds = min(self.seconds + 600 + self.rng.random() * 7200, 86_000)
        else:
            self.day += datetime.timedelta(days=days)
            self.seconds = _working_time(self.rng)
        if self.day > self.today:
            self.day = self.today
            self.seconds = min(self.seconds + 600, 86_000)
        self.at = min(_at(self.day, self.seconds), self.now)
        return self.at


class _CasePicker:
    """Support type, hardship category, final state and person of the next case."""

    def __init__(self, members: Members, deceased: list[int]):
        self.members = members
        self.deceased = deceased
        self.deceased_set = set(members.deceased)
        self.types = Pick([(t, spec[0]) for t, spec in SUPPORT.items()])
        self.categories = {t: Pick(spec[1]) for t, spec in SUPPORT.items()}
        self.past, self.current = Pick(PAST_STATES), Pick(CURRENT_STATES)

    def pick(self, rng: random.Random, current: bool) -> tuple[str, str, str, int]:
        stype = self.types(rng)
        category = self.categories[stype](rng)
        status = (self.current if current else self.past)(rng)
        if category == Category.DEATH and self.deceased:
            m = self.deceased.pop()  # each deceased member once
        elif stype in FOR_CHILDREN:
            m = _choice(rng, self.members.parents or self.members.active)
        else:
            m = _choice(rng, self.members.active)
        if category == Category.DEATH and m not in self.deceased_set:
            category = Category.POOR if stype in FOR_CHILDREN else Category.ILLNESS
        return stype, category, status, m


@dataclass
class Members:
    ids: list[int] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    unit: list[int] = field(default_factory=list)  # index into Tree.grassroots
    active: list[int] = field(default_factory=list)  # positions in the lists above
    deceased: list[int] = field(default_factory=list)
    parents: list[int] = field(default_factory=list)  # active or not, with children


@dataclass
class FundInfo:
    id: int
    unit: int
    name: str
    opened_on: datetime.date
    opening: int
    supply: str  # "province", "allocation" (from the province's social fund) or "members"


@dataclass
class Funds:
    info: dict[int, FundInfo] = field(default_factory=dict)
    of_unit: dict[int, int] = field(default_factory=dict)  # commune/zone unit -> its fund
    social: int = 0
    shelter: int = 0
    loan: int = 0
    reserved: Counter = field(default_factory=Counter)
    # (paid on, fund, amount, case, name, payer, method, receipt, moment) per paid case
    paid: list[tuple] = field(default_factory=list)


def build_scale(size: Size, stdout=None) -> Report:
    """Fill an empty database; raises ValueError if it already has units."""
    return ScaleBuilder(size, stdout).build()


# --- programs -------------------------------------------------------------------------------


def build_programs(year: int | None = None) -> list:
    """The province's programs of ``year`` (this year by default), unless there already: a Tết
    program over every grassroots union (members 500.000 ₫, poor households and policy
    families 1.000.000 ₫), a shelter program and a scholarship program over the commune and
    industrial-zone unions.  No batch is built: that is the program-wide run's work
    (welfare/programs/runs.py, measured by bench/program_run.py)."""
    from welfare.cases.models import Category, SupportType
    from welfare.funds.models import Fund, FundKind
    from welfare.programs.models import Applies, Participant, Program
    from welfare.programs.services import create_program

    year = year or timezone.localdate().year
    province = Unit.objects.filter(parent__isnull=True, kind=UnitKind.PROVINCE).order_by("pk")
    top = province.first()
    if top is None:
        return []
    by = get_user_model().objects.get(username="province")
    social = Fund.objects.get(unit=top, kind=FundKind.SOCIAL)
    shelter = Fund.objects.get(unit=top, kind=FundKind.SHELTER)
    below = Unit.objects.filter(path__startswith=top.path, status=UnitStatus.ACTIVE)
    specs = [
        (
            f"Tết Sum vầy {year}",
            SupportType.TET_GIFT,
            Category.OTHER,
            social,
            [
                ("Đoàn viên công đoàn", Applies.MEMBER, 500_000),
                ("Hộ nghèo", Applies.POOR, 1_000_000),
                ("Gia đình chính sách", Applies.POLICY, 1_000_000),
            ],
            below.filter(kind=UnitKind.GRASSROOTS),
        ),
        (
            f"Mái ấm Công đoàn {year}",
            SupportType.SHELTER,
            Category.HOUSING,
            shelter,
            [("Xây mới", Applies.POOR, 60_000_000)],
            below.filter(kind__in=[UnitKind.COMMUNE, UnitKind.ZONE]),
        ),
        (
            f"Học bổng Nguyễn Đức Cảnh {year}",
            SupportType.SCHOLARSHIP,
            Category.OTHER,
            social,
            [("Học bổng", Applies.EVERYONE, 1_000_000)],
            below.filter(kind__in=[UnitKind.COMMUNE, UnitKind.ZONE]),
        ),
    ]
    made = []
    for name, support_type, category, fund, levels, units in specs:
        if Program.objects.filter(unit=top, name=name).exists():
            continue
        unit_ids = list(units.values_list("pk", flat=True))
        with transaction.atomic():
            program = create_program(
                unit=top,
                name=name,
                support_type=support_type,
                category=category,
                fund=fund,
                year=year,
                budget=max(1, len(unit_ids)) * 200 * max(a for _l, _f, a in levels),
                levels=levels,
                by=by,
            )
            Participant.objects.bulk_create(
                (Participant(program=program, unit_id=pk) for pk in unit_ids), batch_size=2000
            )
        made.append(program)
    return made


def attach_shelters(program) -> int:
    """A shelter program's shelters: this year's shelter records paid or approved from the
    program's fund become the program's, each with its shelter (a new build or, every third,
    a repair; an enterprise's and the family's money beside the union's; a paid one under
    construction since two weeks after its payment, an approved one not started).  None is
    handed over: that needs a photo, and the scale data has no files.  Returns how many."""
    from welfare.cases.models import Case, CaseStatus, SupportType
    from welfare.programs.services import committed
    from welfare.shelters.models import ContributorKind, Progress, Shelter, ShelterContributor, Work

    if program.support_type != SupportType.SHELTER:
        return 0
    start = datetime.date(program.year, 1, 1)
    records = Case.objects.filter(
        Q(paid_on__gte=start) | Q(status=CaseStatus.APPROVED, approved_on__gte=start),
        support_type=SupportType.SHELTER,
        fund=program.fund,
        status__in=[CaseStatus.APPROVED, CaseStatus.PAID],
        program__isnull=True,
        shelter__isnull=True,
    )
    by = get_user_model().objects.get(username="province")
    today = timezone.localdate()
    with transaction.atomic():
        rows = list(
            records.order_by("pk").values_list("pk", "status", "approved_amount", "paid_on")
        )
        Case.objects.filter(pk__in=[row[0] for row in rows]).update(program=program)
        shelters = []
        for number, (pk, status, amount, paid_on) in enumerate(rows):
            started = paid_on + datetime.timedelta(days=14) if paid_on else None
            building = status == CaseStatus.PAID and started is not None and started <= today
            shelters.append(
                Shelter(
                    case_id=pk,
                    work=Work.REPAIR if number % 3 == 2 else Work.BUILD,
                    estimated_cost=(amount or 1) * 2,
                    progress=Progress.BUILDING if building else Progress.APPROVED,
                    started_on=started if building else None,
                    updated_by=by,
                )
            )
        Shelter.objects.bulk_create(shelters, batch_size=2000)
        contributors = []
        for shelter in Shelter.objects.filter(case__program=program).values_list(
            "pk", "estimated_cost"
        ):
            contributors += [
                ShelterContributor(
                    shelter_id=shelter[0],
                    kind=ContributorKind.ENTERPRISE,
                    name="Doanh nghiệp đỡ đầu",
                    amount=max(1, shelter[1] // 4),
                ),
                ShelterContributor(
                    shelter_id=shelter[0],
                    kind=ContributorKind.FAMILY,
                    amount=max(1, shelter[1] // 4),
                ),
            ]
        ShelterContributor.objects.bulk_create(contributors, batch_size=2000)
        program.committed = committed(program)
        program.save(update_fields=["committed"])
    if connection.vendor == "postgresql":  # the records' program was set after the vacuum
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE welfare_case, welfare_shelter, welfare_sheltercontributor")
    return len(rows)
