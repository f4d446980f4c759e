"""Demo money for the Lạng Sơn demo province: funds, contributions, support paid since 2021 and
this year's cases in every state.

``manage.py seed_demo`` runs ``build_welfare_demo`` after ``seed.demo_members.build_demo``.

Past cases are written directly, as the money path left them at the time: each went up the tree
as it stood on its date (through a district federation before 1 July 2025), which the services,
routing by today's tree, cannot replay.  Their payments are posted with ``ledger.post_entry`` on
locked funds in date order, so each fund's balance stays the sum of its entries and the running
balance reads right.  This year's cases go through the real services, so every demo account
finds something waiting for it.  Runs once: when the province has funds, it does nothing.
"""

from __future__ import annotations

import bisect
import datetime
import random
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.db.models import Count, OuterRef, Q, Subquery, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from common.money import format_dong
from members.models import Dependant, Member, MemberStatus, Sex
from members.search import normalise
from seed.demo_members import (
    COMMUNE_ACCOUNT_UNIT,
    COMMUNES,
    DEMO_EMAIL_DOMAIN,
    DEMO_PASSWORD,
    FAMILY_NAMES,
    GIVEN_NAMES,
    GRASSROOTS,
    GRASSROOTS_ACCOUNT_UNIT,
    MIDDLE_NAMES,
    PROVINCE_CODE,
    REORGANISED_ON,
    ZONE,
)
from unions.accounts import password_changed
from unions.models import Placement, Role, RoleAssignment, Unit, UnitKind
from welfare.cases import approvals
from welfare.cases.approvals import FOR_A_CHILD
from welfare.cases.evidence import attach_evidence
from welfare.funds.ledger import open_fund, post_entry
from welfare.models import (
    Case,
    CaseEvent,
    CaseStatus,
    Category,
    EntryKind,
    Fund,
    FundKind,
    LedgerEntry,
    OrganisationKind,
    Payment,
    PaymentMethod,
    SupportType,
)
from welfare.programs import services as programs
from welfare.programs.models import Applies, BatchLine, Unpaid

SEED = 2021
FIRST_YEAR = 2021
OPENED_ON = datetime.date(FIRST_YEAR, 1, 1)
# Past cases end this long before today; the weeks after belong to this year's live cases.
QUIET_DAYS = 40
Action = CaseEvent.Action


def live_since() -> datetime.datetime:
    """The start of the weeks that belong to the live cases: the local midnight after the last
    day a past case can fall on (a past case on that day may be fewer than 40 days old by
    the clock)."""
    first = timezone.localdate() - datetime.timedelta(days=QUIET_DAYS - 1)
    return timezone.make_aware(datetime.datetime.combine(first, datetime.time.min))


# --------------------------------------------------------------------------------------------
# Funds
# --------------------------------------------------------------------------------------------

SOCIAL, LOAN, SHELTER = "social", "loan", "shelter"
PROVINCE_FUNDS = [
    (SOCIAL, "Quỹ Xã hội LĐLĐ tỉnh Lạng Sơn", FundKind.SOCIAL, 3_500_000_000),
    (LOAN, "Quỹ Trợ vốn CNVCLĐ nghèo", FundKind.LOAN, 2_000_000_000),
    (SHELTER, "Quỹ Mái ấm Công đoàn", FundKind.SHELTER, 1_200_000_000),
]
# A few grassroots unions keep their own welfare money; the demo grassroots account's among them.
GRASSROOTS_FUNDS = {
    GRASSROOTS_ACCOUNT_UNIT: 45_000_000,
    "LS-YT-BVDK": 80_000_000,
    "LS-LB-THAN": 60_000_000,
    "LS-HL-MAY": 30_000_000,
    "LS-GD-VB": 20_000_000,
}
# Province funds: (month, day, source, description, low, high) for each year.
YEARLY_CONTRIBUTIONS = {
    SOCIAL: [
        (5, 20, "CNVCLĐ toàn tỉnh", "Ủng hộ Quỹ Xã hội trong Tháng Công nhân năm {year}",
         120_000_000, 200_000_000),
        (12, 15, "Các doanh nghiệp trên địa bàn tỉnh", "Ủng hộ chương trình Tết Sum vầy {next}",
         60_000_000, 120_000_000),
    ],
    SHELTER: [
        (7, 28, "Các cấp công đoàn và doanh nghiệp",
         "Ủng hộ Quỹ Mái ấm Công đoàn nhân ngày thành lập Công đoàn Việt Nam {year}",
         150_000_000, 250_000_000),
    ],
    LOAN: [
        (3, 15, "Kinh phí công đoàn tỉnh", "Bổ sung nguồn vốn Quỹ Trợ vốn năm {year}",
         80_000_000, 150_000_000),
    ],
}  # fmt: skip
COMMUNE_ALLOCATION = (1, 10, "Phân bổ kinh phí thăm hỏi, hỗ trợ đoàn viên năm {year}")

# --------------------------------------------------------------------------------------------
# Cases: what was asked for, and the words an officer would write
# --------------------------------------------------------------------------------------------

HOSPITALS = [
    "Bệnh viện Đa khoa tỉnh Lạng Sơn", "Bệnh viện K Trung ương", "Bệnh viện Bạch Mai",
    "Bệnh viện Hữu nghị Việt Đức", "Bệnh viện Phổi tỉnh Lạng Sơn",
    "Bệnh viện Trung ương Thái Nguyên",
]  # fmt: skip
ILLNESSES = [
    "ung thư phổi", "ung thư vú", "suy thận mạn, chạy thận định kỳ", "tai biến mạch máu não",
    "xơ gan", "phẫu thuật thay van tim", "ung thư dạ dày", "thoát vị đĩa đệm phải phẫu thuật",
]  # fmt: skip
ACCIDENTS = [
    "ngã từ giàn giáo khi sửa chữa nhà xưởng", "bị máy cuốn tay khi vận hành dây chuyền",
    "tai nạn giao thông trên đường đi làm", "sập lò khi đang khai thác",
    "bị điện giật khi sửa đường dây",
]  # fmt: skip


def _circumstances(rng: random.Random, category: str, support_type: str, day: datetime.date) -> str:
    if support_type == SupportType.TET_GIFT:
        return (
            f"Đoàn viên có hoàn cảnh khó khăn, đề nghị tặng quà Tết Sum vầy {day.year} "
            "theo kế hoạch của LĐLĐ tỉnh."
        )
    if support_type == SupportType.SCHOLARSHIP:
        return (
            "Con đoàn viên học giỏi, gia đình khó khăn; đề nghị xét học bổng Nguyễn Đức Cảnh "
            f"năm học {day.year}-{day.year + 1}."
        )
    if support_type == SupportType.SAVINGS_BOOK:
        return (
            "Đoàn viên từ trần, để lại con nhỏ đang đi học; đề nghị trao sổ tiết kiệm "
            "cho cháu đến tuổi trưởng thành."
        )
    texts = {
        Category.ILLNESS: f"Điều trị {rng.choice(ILLNESSES)} tại {rng.choice(HOSPITALS)}, "
        "chi phí lớn, thu nhập gia đình thấp.",
        Category.ACCIDENT: f"Bị tai nạn lao động do {rng.choice(ACCIDENTS)}, nghỉ điều trị "
        f"{rng.randint(3, 12)} tuần.",
        Category.OCCUPATIONAL: "Mắc bệnh bụi phổi silic nghề nghiệp, sức khỏe suy giảm "
        f"{rng.randint(31, 61)}%, phải điều trị dài ngày.",
        Category.JOB_LOSS: "Mất việc do doanh nghiệp cắt giảm lao động, gia đình có "
        f"{rng.randint(1, 3)} con nhỏ, chưa tìm được việc làm mới.",
        Category.DISASTER: f"Nhà bị hư hỏng do mưa lũ tháng {day.month}/{day.year}, "
        "tốc mái, ngập nước, mất tài sản.",
        Category.DEATH: "Đoàn viên từ trần đột ngột, gia đình neo đơn, con còn nhỏ.",
        Category.HOUSING: "Nhà ở tạm bợ, xuống cấp nghiêm trọng; đề nghị hỗ trợ xây nhà "
        "Mái ấm Công đoàn, gia đình đối ứng một phần.",
        Category.POOR: f"Hộ nghèo theo xác nhận của UBND xã năm {day.year}, "
        "vợ/chồng không có việc làm ổn định.",
        Category.POLICY: "Gia đình chính sách, bố là thương binh, mẹ già yếu.",
        Category.EPIDEMIC: "Mắc COVID-19 phải điều trị và cách ly tập trung, "
        "thu nhập giảm trong thời gian nghỉ việc.",
    }
    return texts.get(category, "Hoàn cảnh khó khăn đột xuất.")


def _money(rng: random.Random, support_type: str, category: str = "") -> int:
    million = 1_000_000
    if support_type == SupportType.VISIT:
        return rng.choice([500_000, 1_000_000, 1_000_000, 1_500_000, 2_000_000])
    if support_type == SupportType.TET_GIFT:
        return rng.choice([500_000, 700_000, 1_000_000])
    if support_type == SupportType.SAVINGS_BOOK:
        return rng.choice([5, 7, 10]) * million
    if support_type == SupportType.SHELTER:
        return rng.choice([50, 60, 70, 80]) * million
    if support_type == SupportType.SCHOLARSHIP:
        return rng.choice([1_000_000, 1_500_000, 2_000_000])
    if category == Category.EPIDEMIC:
        return rng.choice([1_000_000, 1_500_000, 2_000_000, 3_000_000])
    return rng.choice([1, 2, 2, 3, 3, 4, 5, 5, 6, 8, 10]) * million


NORMAL, QUICK, SLOW = "normal", "quick", "slow"
# Hours between the steps: Tết gifts go through in days, a shelter is paid when it is built.
PACES = {
    NORMAL: {"endorse": (24, 96), "decide": (48, 168), "pay": (24, 168)},
    QUICK: {"endorse": (1, 24), "decide": (2, 24), "pay": (2, 48)},
    SLOW: {"endorse": (24, 168), "decide": (72, 336), "pay": (24 * 20, 24 * 60)},
}


@dataclass(frozen=True)
class Yearly:
    """A kind of support given each year: how much of it, what for, from which fund, when."""

    support_type: str
    categories: tuple[str, ...]  # drawn at random, so a repeated one is drawn more often
    per_year: int
    fund: str = SOCIAL
    window: tuple[tuple[int, int], tuple[int, int]] = ((1, 2), (12, 20))  # (month, day)
    years: tuple[int, int] = (FIRST_YEAR, 9999)
    pace: str = NORMAL


# Support given every year from the province's funds.
G = Category
YEARLY = [
    # Tết Sum vầy: gifts before the Lunar New Year.
    Yearly(SupportType.TET_GIFT, (G.POOR,) * 6 + (G.POLICY,), 24, window=((1, 2), (1, 14)),
           pace=QUICK),
    Yearly(SupportType.GRANT, (G.ILLNESS,) * 5 + (G.ACCIDENT,) * 2 + (G.OCCUPATIONAL,
           G.JOB_LOSS, G.DEATH), 11),
    Yearly(SupportType.GRANT, (G.DISASTER,), 3, window=((7, 1), (9, 30))),  # the flood season
    Yearly(SupportType.GRANT, (G.DISASTER,), 6, window=((9, 9), (9, 30)), years=(2024, 2024)),
    Yearly(SupportType.GRANT, (G.EPIDEMIC,), 12, window=((7, 1), (12, 20)), years=(2021, 2021)),
    Yearly(SupportType.SAVINGS_BOOK, (G.DEATH,), 3),
    Yearly(SupportType.SHELTER, (G.HOUSING,), 3, fund=SHELTER, pace=SLOW),
    # Học bổng Nguyễn Đức Cảnh, before the school year.
    Yearly(SupportType.SCHOLARSHIP, (G.POOR,), 4, window=((8, 15), (9, 10))),
]  # fmt: skip
del G
# Who a hardship category is drawn from.
POOL_OF = {
    Category.POOR: "needy",
    Category.POLICY: "needy",
    Category.HOUSING: "needy",
    Category.DEATH: "deceased",
    Category.ACCIDENT: "heavy",
    Category.OCCUPATIONAL: "dust",
    Category.JOB_LOSS: "jobs",
}
WORK_POOLS = {
    "heavy": {"mine", "factory", "garment", "utility", "forestry"},
    "dust": {"mine", "factory"},
    "jobs": {"garment", "factory", "service"},
}
REJECTIONS = [
    "Đã được hỗ trợ cho cùng sự việc trong năm.",
    "Không thuộc đối tượng hỗ trợ theo quy chế Quỹ Xã hội.",
]

# --------------------------------------------------------------------------------------------
# Building
# --------------------------------------------------------------------------------------------


@dataclass
class WelfareSummary:
    created: bool
    funds: int = 0
    balance: int = 0
    reserved: int = 0
    paid_by_year: dict[int, tuple[int, int]] = field(default_factory=dict)  # year -> (n, đồng)
    live: Counter = field(default_factory=Counter)  # status -> cases opened in recent weeks

    def lines(self) -> list[str]:
        if not self.created:
            return ["The demo funds and cases are already there."]
        return [
            f"Funds: {self.funds}, balance {format_dong(self.balance)}, "
            f"reserved for approved cases {format_dong(self.reserved)}",
            "Support paid: "
            + ", ".join(
                f"{year}: {n} cases, {format_dong(total)}"
                for year, (n, total) in sorted(self.paid_by_year.items())
            ),
            "Recent cases through the approval chain: "
            + ", ".join(f"{count} {status}" for status, count in sorted(self.live.items())),
        ]


def build_welfare_demo(stdout=None) -> WelfareSummary:
    """Funds, contributions and cases for the demo province, once."""
    province = Unit.objects.get(code=PROVINCE_CODE)
    if Fund.objects.filter(unit__path__startswith=province.path).exists():
        summary = WelfareSummary(created=False)
    else:
        _say(stdout, "Adding the demo funds, contributions and cases...")
        with _no_mail(), transaction.atomic():
            builder = Builder(province, timezone.localdate())
            builder.build()
        summary = summarise(province)
    for line in summary.lines():
        _say(stdout, line)
    return summary


def _say(stdout, text: str) -> None:
    if stdout is not None:
        stdout.write(text if text.endswith("\n") else text + "\n")


@contextmanager
def _no_mail() -> Iterator[None]:
    """The demo's cases are made up: nobody is e-mailed about them."""
    backend = settings.EMAIL_BACKEND
    settings.EMAIL_BACKEND = "django.core.mail.backends.dummy.EmailBackend"
    try:
        yield
    finally:
        settings.EMAIL_BACKEND = backend


@dataclass(frozen=True)
class Person:
    """A member as the generator needs them."""

    pk: int
    unit_id: int
    full_name: str
    status: str
    joined_on: datetime.date | None
    needy: bool  # poor household or policy family


@dataclass
class PastCase:
    member: Person
    fund: Fund
    category: str
    support_type: str
    requested: int
    approved: int | None
    circumstances: str
    status: str
    created_by: object
    # (action, unit id, actor, at, amount, comment), in order
    steps: list[tuple[str, int, object, datetime.datetime, int | None, str]]
    approved_on: datetime.date | None = None
    paid_on: datetime.date | None = None
    method: str = PaymentMethod.CASH
    receipt: str = ""
    payer: object = None
    case: Case | None = None
    entry: LedgerEntry | None = None


@dataclass(order=True)
class MoneyOp:
    """One dated movement: a contribution, an allocation or the payment of a past case."""

    on: datetime.date
    order: int  # money in before money out on the same day
    seq: int
    kind: str = field(compare=False)
    fund: Fund = field(compare=False)
    amount: int = field(compare=False)  # the change to ``fund``: negative for money out
    description: str = field(compare=False, default="")
    source: str = field(compare=False, default="")
    other: Fund | None = field(compare=False, default=None)
    past: PastCase | None = field(compare=False, default=None)


class Builder:
    def __init__(self, province: Unit, today: datetime.date):
        self.province = province
        self.today = today
        self.rng = random.Random(SEED)
        self.units = {u.code: u for u in Unit.objects.in_subtree_of(province)}
        self.unit_by_id = {u.pk: u for u in self.units.values()}
        self.work = {self.units[g.code].pk: g.work for g in GRASSROOTS if g.code in self.units}
        User = get_user_model()
        self.accounts = {u.username: u for u in User.objects.filter(is_superuser=False)}
        self.people: dict[tuple[int, str], object] = {}
        self.funds: dict[str, Fund] = {}
        self.opened: dict[int, datetime.date] = {}  # fund id -> opening day
        self.trees: dict[int, dict[int, int | None]] = {}
        self.changes = sorted(
            {
                day
                for pair in Placement.objects.values_list("valid_from", "valid_to")
                for day in pair
                if day
            }
        )
        self.ops: list[MoneyOp] = []
        self.past: list[PastCase] = []
        self.demo_password = make_password(DEMO_PASSWORD)  # hashed once: slow on purpose

    # --- who acted ---------------------------------------------------------------------------

    def person(self, unit: Unit, duty: str):
        """Who did ``duty`` (open, review, approve, pay) at a union: the demo account sitting
        there, otherwise a person without an account (no role, no password) — except the
        treasurer: every union with a fund gets a treasurer login ("<code>-ketoan", the demo
        password), so every fund's approved cases can be paid in the demo."""
        demo = {
            (PROVINCE_CODE, "approve"): "province",
            (PROVINCE_CODE, "review"): "province",
            (PROVINCE_CODE, "pay"): "treasurer",
            (COMMUNE_ACCOUNT_UNIT, "review"): "commune",
            (COMMUNE_ACCOUNT_UNIT, "approve"): "commune",
            (COMMUNE_ACCOUNT_UNIT, "pay"): "treasurer-ward",
            (GRASSROOTS_ACCOUNT_UNIT, "pay"): "treasurer-grassroots",
            (GRASSROOTS_ACCOUNT_UNIT, "open"): "grassroots",
        }.get((unit.code, duty))
        if demo:
            return self.accounts[demo]
        title = {"pay": "ketoan", "approve": "chutich"}.get(duty, "canbo")
        if duty == "approve" and unit.kind != UnitKind.GRASSROOTS:
            title = "canbo"  # the commune union's staff approve from its fund
        key = (unit.pk, title)
        if key not in self.people:
            sex = self.rng.choice([Sex.MALE, Sex.FEMALE])
            family = self.rng.choice([name for name, _w in FAMILY_NAMES])
            middle = self.rng.choice([name for name, _w in MIDDLE_NAMES[sex]])
            pays = duty == "pay"
            username = f"{unit.code.lower()}-{title}"
            user, _created = get_user_model().objects.get_or_create(
                username=username,
                defaults={
                    "first_name": self.rng.choice(GIVEN_NAMES[sex]),
                    "last_name": f"{family} {middle}",
                    "is_active": pays,
                    "email": f"{username}@{DEMO_EMAIL_DOMAIN}" if pays else "",
                    "password": self.demo_password if pays else make_password(None),
                },
            )
            if pays:
                password_changed(user)  # a documented demo login goes straight in
                RoleAssignment.objects.get_or_create(user=user, unit=unit, role=Role.TREASURER)
            self.people[key] = user
        return self.people[key]

    def fund_opener(self, unit: Unit):
        """Who opens a union's fund: its treasurer when that is a demo account (the province's),
        otherwise the demo administrator, who manages every union of the province."""
        treasurer = self.person(unit, "pay")
        return treasurer if treasurer.username in self.accounts else self.accounts["admin"]

    # --- the tree as it stood ----------------------------------------------------------------

    def parents_on(self, day: datetime.date) -> dict[int, int | None]:
        """Each unit's parent on ``day``: read once for each stretch of days between two
        changes to the tree."""
        stretch = bisect.bisect_right(self.changes, day)
        if stretch not in self.trees:
            self.trees[stretch] = dict(
                Placement.objects.on(day).values_list("unit_id", "parent_id")
            )
        return self.trees[stretch]

    def route(self, unit_id: int, owner_id: int, day: datetime.date) -> list[int] | None:
        """The unions from the case's union up to the fund's owner, as the tree stood."""
        parents = self.parents_on(day)
        if unit_id not in parents:
            return None
        chain = [unit_id]
        while chain[-1] != owner_id:
            parent = parents.get(chain[-1])
            if parent is None:
                return None
            chain.append(parent)
        return chain

    # --- everything --------------------------------------------------------------------------

    def build(self) -> None:
        self.open_funds()
        self.plan_contributions()
        self.plan_past_cases()
        self.keep_what_the_funds_could_pay()
        self.write_past_cases()
        self.post_money()
        self.write_payments_and_timelines()
        LiveCases(self).build()
        TetProgram(self).build()

    def open_funds(self) -> None:
        """The province's three funds, one for each commune and the zone union, a few
        grassroots ones; each opened on 1 January 2021 or, if later, the day its union began
        (the commune unions on 1 July 2025)."""
        specs = [
            (key, self.province, name, kind, opening) for key, name, kind, opening in PROVINCE_FUNDS
        ]
        for spec in [*COMMUNES, ZONE]:
            unit = self.units[spec.code]
            opening = self.rng.randrange(100, 301, 10) * 1_000_000
            specs.append((spec.code, unit, f"Quỹ Xã hội {unit.name}", FundKind.WELFARE, opening))
        for code, opening in GRASSROOTS_FUNDS.items():
            unit = self.units[code]
            specs.append((code, unit, f"Quỹ phúc lợi {unit.name}", FundKind.WELFARE, opening))
        for key, unit, name, kind, opening in specs:
            opened_on = max(OPENED_ON, unit.founded_on)
            self.funds[key] = open_fund(
                unit=unit,
                name=name,
                kind=kind,
                opening_balance=opening,
                opened_on=opened_on,
                by=self.fund_opener(unit),
            )
            self.opened[self.funds[key].pk] = opened_on

    def money(self, on: datetime.date, kind: str, fund: Fund, amount: int, **details) -> None:
        """Plan a dated movement; money comes in before it goes out on the same day."""
        order = 1 if kind == EntryKind.DISBURSEMENT else 0
        self.ops.append(MoneyOp(on, order, len(self.ops), kind, fund, amount, **details))

    def plan_contributions(self) -> None:
        """Each year's contributions to the province's funds and the grassroots funds, and,
        since the reorganisation, the social fund's allocation to each commune union."""
        rng, last = self.rng, self.today - datetime.timedelta(days=1)
        for year in range(FIRST_YEAR, self.today.year + 1):
            for key, rows in YEARLY_CONTRIBUTIONS.items():
                for month, day, source, text, low, high in rows:
                    on = datetime.date(year, month, day)
                    if on <= last:
                        amount = rng.randrange(low, high + 1, 5_000_000)
                        description = text.format(year=year, next=year + 1)
                        self.money(
                            on,
                            EntryKind.CONTRIBUTION,
                            self.funds[key],
                            amount,
                            description=description,
                            source=source,
                        )
            for code in GRASSROOTS_FUNDS:
                on = datetime.date(year, 1, 15)
                if self.units[code].founded_on <= on <= last:
                    amount = rng.randrange(5, 16) * 1_000_000
                    description = f"Đoàn viên đóng góp quỹ phúc lợi năm {year}"
                    self.money(
                        on,
                        EntryKind.CONTRIBUTION,
                        self.funds[code],
                        amount,
                        description=description,
                        source="Đoàn viên công đoàn cơ sở",
                    )
            month, day, text = COMMUNE_ALLOCATION
            on = datetime.date(year, month, day)
            if REORGANISED_ON <= on <= last:
                for spec in [*COMMUNES, ZONE]:
                    amount = rng.randrange(20, 41, 5) * 1_000_000
                    self.money(
                        on,
                        EntryKind.ALLOCATION_OUT,
                        self.funds[SOCIAL],
                        -amount,
                        description=text.format(year=year),
                        other=self.funds[spec.code],
                    )

    # --- past cases --------------------------------------------------------------------------

    def load_people(self) -> list[Person]:
        rows = Member.objects.filter(unit__path__startswith=self.province.path).values_list(
            "pk", "unit_id", "full_name", "status", "joined_on", "poor_household", "policy_family"
        )
        return [
            Person(pk, unit, name, status, joined, poor or policy)
            for pk, unit, name, status, joined, poor, policy in sorted(rows)
        ]

    def plan_past_cases(self) -> None:
        """Each year's support, drawn from the people who fit it."""
        people = self.load_people()
        active = [p for p in people if p.status == MemberStatus.ACTIVE]
        pools = {"any": active}
        pools["deceased"] = [p for p in people if p.status == MemberStatus.DECEASED]
        pools["needy"] = [p for p in active if p.needy]
        for pool, works in WORK_POOLS.items():
            pools[pool] = [p for p in active if self.work.get(p.unit_id) in works]
        by_unit: dict[int, list[Person]] = {}
        for person in active:
            by_unit.setdefault(person.unit_id, []).append(person)
        last = self.today - datetime.timedelta(days=QUIET_DAYS)
        for year in range(FIRST_YEAR, last.year + 1):
            for programme in YEARLY:
                self.plan_programme(programme, year, last, pools)
            self.plan_visits(year, last, by_unit)

    def plan_programme(self, programme: Yearly, year: int, last: datetime.date, pools) -> None:
        first_year, last_year = programme.years
        if not first_year <= year <= last_year:
            return
        (from_month, from_day), (to_month, to_day) = programme.window
        start = datetime.date(year, from_month, from_day)
        end = datetime.date(year, to_month, to_day)
        if start > last:
            return
        # A year not over yet gets the share of its cases that fits in the days gone by.
        share = ((min(end, last) - start).days + 1) / ((end - start).days + 1)
        for _i in range(round(programme.per_year * share)):
            category = self.rng.choice(programme.categories)
            pool = pools[POOL_OF.get(category, "any")] or pools["any"]
            self.plan(
                pool,
                self.funds[programme.fund],
                start,
                min(end, last),
                programme.support_type,
                category,
                pace=programme.pace,
            )

    def plan_visits(self, year: int, last: datetime.date, by_unit) -> None:
        """Visits from a union's own money: grassroots funds, and commune funds since 2025."""
        start, end = datetime.date(year, 1, 2), min(datetime.date(year, 12, 20), last)
        for code in GRASSROOTS_FUNDS:
            unit = self.units[code]
            for _i in range(5):
                self.plan(
                    by_unit.get(unit.pk, []),
                    self.funds[code],
                    start,
                    end,
                    SupportType.VISIT,
                    Category.ILLNESS,
                )
        for spec in [*COMMUNES, ZONE]:
            commune = self.units[spec.code]
            below = [
                person
                for unit in self.units.values()
                if unit.parent_id == commune.pk
                for person in by_unit.get(unit.pk, [])
            ]
            for _i in range(4):
                self.plan(
                    below,
                    self.funds[spec.code],
                    max(start, REORGANISED_ON),
                    end,
                    SupportType.VISIT,
                    Category.ILLNESS,
                )

    def plan(self, pool, fund, start, end, support_type, category, *, pace=NORMAL) -> None:
        """One past case for someone in ``pool``, opened between ``start`` and ``end`` and
        routed up the tree as it stood that day; nothing if nobody fits."""
        rng = self.rng
        if not pool or end < start:
            return
        for _attempt in range(8):
            day = start + datetime.timedelta(days=rng.randint(0, (end - start).days))
            person = rng.choice(pool)
            if person.joined_on and person.joined_on > day:
                continue
            chain = self.route(person.unit_id, fund.unit_id, day)
            if chain and day >= self.opened[fund.pk]:
                break
        else:
            return
        unit, owner = self.unit_by_id[person.unit_id], self.unit_by_id[fund.unit_id]
        creator = self.person(unit, "open")
        requested = approved = _money(rng, support_type, category)
        if support_type == SupportType.GRANT and requested > 1_000_000 and rng.random() < 0.2:
            approved = requested * rng.choice([6, 7, 8]) // 10 // 500_000 * 500_000
        at = timezone.make_aware(
            datetime.datetime.combine(day, datetime.time(rng.randint(7, 15), rng.randint(0, 59)))
        )
        steps = [
            (Action.CREATED, unit.pk, creator, at, requested, ""),
            (Action.SUBMITTED, unit.pk, creator, at + _hours(rng, 1, 6), requested, ""),
        ]
        waits = PACES[pace]
        for level_id in chain[1:-1]:  # the levels in between, as they stood that day
            level = self.unit_by_id[level_id]
            comment = rng.choice(["", "Đúng hoàn cảnh, đề nghị cấp trên xem xét hỗ trợ."])
            at = steps[-1][3] + _hours(rng, *waits["endorse"])
            steps.append(
                (Action.ENDORSED, level_id, self.person(level, "review"), at, None, comment)
            )
        decided = steps[-1][3] + _hours(rng, *waits["decide"])
        approver = self.person(owner, "approve")
        past = PastCase(
            member=person,
            fund=fund,
            category=category,
            support_type=support_type,
            requested=requested,
            approved=approved,
            circumstances=_circumstances(rng, category, support_type, day),
            status=CaseStatus.PAID,
            created_by=creator,
            steps=steps,
        )
        if support_type == SupportType.GRANT and rng.random() < 0.05:
            past.status, past.approved = CaseStatus.REJECTED, None
            steps.append(
                (Action.REJECTED, owner.pk, approver, decided, None, rng.choice(REJECTIONS))
            )
            self.past.append(past)
            return
        paid_at = decided + _hours(rng, *waits["pay"])
        if timezone.localdate(paid_at) >= self.today:
            return
        steps.append((Action.APPROVED, owner.pk, approver, decided, approved, ""))
        past.approved_on = timezone.localdate(decided)
        past.paid_on = timezone.localdate(paid_at)
        past.payer = self.person(owner, "pay")
        past.method = PaymentMethod.TRANSFER if approved >= 5_000_000 else PaymentMethod.CASH
        prefix = "UNC" if past.method == PaymentMethod.TRANSFER else "PC"
        past.receipt = f"{prefix}-{rng.randint(1, 999):03d}/{past.paid_on.year}"
        steps.append((Action.PAID, owner.pk, past.payer, paid_at, approved, past.receipt))
        self.money(past.paid_on, EntryKind.DISBURSEMENT, fund, -approved, past=past)
        self.past.append(past)

    def keep_what_the_funds_could_pay(self) -> None:
        """Drop the past payments a fund could not have covered on their day."""
        balance = {fund.pk: fund.balance for fund in self.funds.values()}
        dropped = set()
        for op in sorted(self.ops):
            if op.kind == EntryKind.DISBURSEMENT and balance[op.fund.pk] + op.amount < 0:
                dropped.add(id(op.past))
                continue
            balance[op.fund.pk] += op.amount
            if op.other is not None:
                balance[op.other.pk] -= op.amount
        self.ops = [op for op in self.ops if op.past is None or id(op.past) not in dropped]
        self.past = [past for past in self.past if id(past) not in dropped]

    def write_past_cases(self) -> None:
        self.past.sort(key=lambda past: past.steps[0][3])
        cases = [
            Case(
                unit_id=past.member.unit_id,
                member_id=past.member.pk,
                category=past.category,
                circumstances=past.circumstances,
                support_type=past.support_type,
                requested_amount=past.requested,
                fund=past.fund,
                status=past.status,
                approved_amount=past.approved,
                approved_on=past.approved_on,
                paid_on=past.paid_on,
                created_by=past.created_by,
                submitted_at=past.steps[1][3],
            )
            for past in self.past
        ]
        for past, case in zip(self.past, cases, strict=True):
            case.created_at = past.steps[0][3]
            past.case = case
        with _keeping_past_times(Case, "created_at"):
            Case.objects.bulk_create(cases, batch_size=500)
        # A savings book or a scholarship went to the member's eldest child, when one is kept.
        eldest = Dependant.objects.filter(member_id=OuterRef("member_id")).order_by(
            "date_of_birth", "pk"
        )
        Case.objects.filter(
            pk__in=[case.pk for case in cases], support_type__in=FOR_A_CHILD
        ).update(dependant_id=Subquery(eldest.values("pk")[:1]))

    def post_money(self) -> None:
        """Every dated movement in date order, on funds locked for the whole build."""
        locked = {f.pk: f for f in Fund.objects.select_for_update().filter(pk__in=self.opened)}
        for op in sorted(self.ops):
            fund = locked[op.fund.pk]
            by = self.person(self.unit_by_id[fund.unit_id], "pay")
            if op.kind == EntryKind.ALLOCATION_OUT:
                target = locked[op.other.pk]
                post_entry(
                    fund=fund,
                    kind=EntryKind.ALLOCATION_OUT,
                    amount=op.amount,
                    occurred_on=op.on,
                    by=by,
                    description=op.description,
                    source=target.name,
                )
                post_entry(
                    fund=target,
                    kind=EntryKind.ALLOCATION_IN,
                    amount=-op.amount,
                    occurred_on=op.on,
                    by=by,
                    description=op.description,
                    source=fund.name,
                )
            elif op.kind == EntryKind.CONTRIBUTION:
                post_entry(
                    fund=fund,
                    kind=op.kind,
                    amount=op.amount,
                    occurred_on=op.on,
                    by=by,
                    description=op.description,
                    source=op.source,
                )
            else:
                past = op.past
                past.entry = post_entry(
                    fund=fund,
                    kind=EntryKind.DISBURSEMENT,
                    amount=op.amount,
                    occurred_on=op.on,
                    description=_("Support for %(name)s (case #%(case)s)")
                    % {"name": past.member.full_name, "case": past.case.pk},
                    case=past.case,
                    by=past.payer,
                )

    def write_payments_and_timelines(self) -> None:
        Payment.objects.bulk_create(
            [
                Payment(
                    case=past.case,
                    fund=past.fund,
                    amount=past.approved,
                    paid_on=past.paid_on,
                    method=past.method,
                    receipt_reference=past.receipt,
                    received_by=past.member.full_name,
                    ledger_entry=past.entry,
                    by=past.payer,
                )
                for past in self.past
                if past.status == CaseStatus.PAID
            ],
            batch_size=500,
        )
        events, times = [], []
        for past in self.past:
            for action, unit_id, actor, at, amount, comment in past.steps:
                events.append(
                    CaseEvent(
                        case=past.case,
                        action=action,
                        unit_id=unit_id,
                        actor=actor,
                        amount=amount,
                        comment=comment,
                    )
                )
                times.append(at)
        for event, at in zip(events, times, strict=True):
            event.at = at
        with _keeping_past_times(CaseEvent, "at"):
            CaseEvent.objects.bulk_create(events, batch_size=1000)


@contextmanager
def _keeping_past_times(model, name: str) -> Iterator[None]:
    """Let ``bulk_create`` keep the past times set on the objects, where ``auto_now_add`` would
    stamp them with now.  Far faster than updating thousands of rows one by one afterwards;
    only for this one-off build in a management command."""
    stamp = model._meta.get_field(name)
    stamp.auto_now_add = False
    try:
        yield
    finally:
        stamp.auto_now_add = True


def _hours(rng: random.Random, low: int, high: int) -> datetime.timedelta:
    return datetime.timedelta(hours=rng.randint(low, high), minutes=rng.randint(0, 59))


# --------------------------------------------------------------------------------------------
# This year's cases, through the services
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Live:
    """A case at the demo grassroots union, taken through ``steps`` by the demo accounts."""

    steps: tuple[str, ...]
    category: str
    support_type: str
    amount: int
    fund: str = SOCIAL
    approve: int | None = None  # the amount approved, if not the one asked for
    comment: str = ""  # why it was returned or rejected
    days_ago: int = 3  # when its last step was taken (a payment is made today)
    earlier_support: bool = False  # a person already supported in the last 24 months
    # Support to an organisation or a group of the demo union instead of a person.
    organisation: str = ""
    organisation_kind: str = OrganisationKind.OTHER


SUBMIT, ENDORSE, APPROVE, PAY = "submit", "endorse", "approve", "pay"
RETURN, REJECT, EDIT = "return", "reject", "edit"
LIVE = [
    Live((), Category.ILLNESS, SupportType.GRANT, 3_000_000, days_ago=1),
    Live((), Category.ILLNESS, SupportType.VISIT, 1_000_000, fund=GRASSROOTS_ACCOUNT_UNIT,
         days_ago=2),
    # Waiting at the commune union (the `commune` account).
    Live((SUBMIT,), Category.ILLNESS, SupportType.GRANT, 5_000_000, days_ago=6,
         earlier_support=True),
    Live((SUBMIT, RETURN, EDIT, SUBMIT), Category.ACCIDENT, SupportType.GRANT, 4_000_000,
         comment="Đề nghị bổ sung biên bản điều tra tai nạn lao động của công ty.", days_ago=2),
    Live((SUBMIT,), Category.ILLNESS, SupportType.VISIT, 1_500_000, fund=COMMUNE_ACCOUNT_UNIT,
         days_ago=4),
    # Waiting at the province (the `province` account).
    Live((SUBMIT, ENDORSE), Category.DEATH, SupportType.SAVINGS_BOOK, 10_000_000, days_ago=5),
    Live((SUBMIT, ENDORSE), Category.HOUSING, SupportType.SHELTER, 70_000_000, fund=SHELTER,
         days_ago=9),
    Live((SUBMIT, ENDORSE), Category.OCCUPATIONAL, SupportType.GRANT, 6_000_000, days_ago=3),
    # Waiting for payment (the `treasurer` account).
    Live((SUBMIT, ENDORSE, APPROVE), Category.ILLNESS, SupportType.GRANT, 5_000_000,
         approve=4_000_000, days_ago=4),
    Live((SUBMIT, ENDORSE, APPROVE), Category.DISASTER, SupportType.GRANT, 3_000_000,
         days_ago=2),
    Live((SUBMIT, ENDORSE, APPROVE), Category.ACCIDENT, SupportType.GRANT, 5_000_000,
         days_ago=1),
    # Back with the `grassroots` account.
    Live((SUBMIT, RETURN), Category.POOR, SupportType.GRANT, 2_000_000,
         comment="Đề nghị bổ sung giấy xác nhận hộ nghèo năm nay của UBND phường.", days_ago=3),
    # Closed.
    Live((SUBMIT, REJECT), Category.JOB_LOSS, SupportType.GRANT, 3_000_000,
         comment="Người lao động đã có việc làm mới, không thuộc diện hỗ trợ.", days_ago=12),
    Live((SUBMIT, ENDORSE, REJECT), Category.ILLNESS, SupportType.GRANT, 8_000_000,
         comment="Đã được Quỹ Xã hội hỗ trợ cho cùng đợt điều trị.", days_ago=15),
    # A visit without money: done when approved, nothing to pay.
    Live((SUBMIT, ENDORSE, APPROVE), Category.ILLNESS, SupportType.VISIT, 0, days_ago=2),
    # Paid today.
    Live((SUBMIT, ENDORSE, APPROVE, PAY), Category.ILLNESS, SupportType.GRANT, 3_000_000),
    Live((SUBMIT, ENDORSE, APPROVE, PAY), Category.DEATH, SupportType.SAVINGS_BOOK, 7_000_000),
    Live((SUBMIT, ENDORSE, APPROVE, PAY), Category.DISASTER, SupportType.GRANT, 15_000_000,
         organisation="Điểm trường Tiểu học Hữu Lũng, thôn Bản Chắt",
         organisation_kind=OrganisationKind.SCHOOL),
    Live((SUBMIT, ENDORSE, APPROVE, PAY), Category.ACCIDENT, SupportType.GRANT, 5_000_000,
         approve=4_000_000),
    Live((SUBMIT, ENDORSE, APPROVE, PAY), Category.DISASTER, SupportType.GRANT, 2_000_000),
]  # fmt: skip

ORGANISATION_CIRCUMSTANCES = (
    "Điểm trường bị ngập sâu trong đợt mưa lũ, hư hỏng mái, bàn ghế và sách vở của học sinh; "
    "đề nghị hỗ trợ sửa chữa để các cháu sớm trở lại lớp."
)

EVIDENCE_NAMES = {
    Category.ILLNESS: "giay-ra-vien.pdf",
    Category.ACCIDENT: "bien-ban-tai-nan-lao-dong.pdf",
    Category.OCCUPATIONAL: "ket-luan-giam-dinh-benh-nghe-nghiep.pdf",
    Category.DEATH: "giay-chung-tu.pdf",
    Category.HOUSING: "anh-hien-trang-nha-o.pdf",
    Category.POOR: "xac-nhan-ho-ngheo.pdf",
    Category.DISASTER: "xac-nhan-thiet-hai-mua-lu.pdf",
    Category.JOB_LOSS: "quyet-dinh-cham-dut-hop-dong.pdf",
}


def evidence_pdf(title: str) -> bytes:
    """A valid one-page PDF carrying one line of text: a stand-in for a scanned paper."""
    text = normalise(title).replace("\\", "").replace("(", "").replace(")", "")
    stream = f"BT /F1 16 Tf 72 770 Td ({text}) Tj ET".encode("ascii", "replace")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


class LiveCases:
    def __init__(self, builder: Builder):
        self.builder = builder
        self.rng = random.Random(SEED + 1)
        accounts = builder.accounts
        self.grassroots = accounts["grassroots"]
        self.commune = accounts["commune"]
        self.province = accounts["province"]
        self.treasurer = accounts["treasurer"]

    def people(self) -> list[Member]:
        """Active people of the demo grassroots union, those supported lately first."""
        unit = self.builder.units[GRASSROOTS_ACCOUNT_UNIT]
        since = self.builder.today - datetime.timedelta(days=600)
        members = list(
            Member.objects.filter(unit=unit, status=MemberStatus.ACTIVE)
            .annotate(
                lately=Count(
                    "cases", filter=Q(cases__status=CaseStatus.PAID, cases__paid_on__gte=since)
                )
            )
            .order_by("pk")
        )
        self.rng.shuffle(members)
        members.sort(key=lambda m: not m.lately)
        return members

    def build(self) -> None:
        people = self.people()
        supported = [m for m in people if m.lately]
        fresh = [m for m in people if not m.lately]
        for spec in LIVE:
            if spec.support_type in FOR_A_CHILD:  # someone with a child to give it to
                member = next(m for m in fresh if m.dependants.exists())
                fresh.remove(member)
            elif spec.earlier_support and supported:
                member = supported.pop(0)
            else:
                member = fresh.pop(0)
            case = self.drive(spec, member)
            self.backdate(case, spec)

    def reviewer(self, case: Case):
        return self.commune if case.current_unit.code == COMMUNE_ACCOUNT_UNIT else self.province

    def drive(self, spec: Live, member: Member) -> Case:
        fund = self.builder.funds[spec.fund]
        organisation = None
        if spec.organisation:
            organisation = approvals.organisation_for(
                unit=member.unit,
                name=spec.organisation,
                kind=spec.organisation_kind,
                address="Huyện Hữu Lũng, tỉnh Lạng Sơn",
                by=self.grassroots,
            )
        child = member.dependants.first() if spec.support_type in FOR_A_CHILD else None
        case = approvals.create_case(
            case=Case(
                unit=member.unit,
                member=None if organisation else member,
                organisation=organisation,
                dependant=child,
                category=spec.category,
                circumstances=(
                    ORGANISATION_CIRCUMSTANCES
                    if organisation
                    else _circumstances(
                        self.rng, spec.category, spec.support_type, self.builder.today
                    )
                ),
                support_type=spec.support_type,
                requested_amount=spec.amount,
                fund=fund,
            ),
            by=self.grassroots,
        )
        self.attach(case, EVIDENCE_NAMES.get(spec.category, "giay-xac-nhan.pdf"))
        for step in spec.steps:
            if step == SUBMIT:
                case = approvals.submit_case(case=case, by=self.grassroots)
            elif step == ENDORSE:
                case = approvals.endorse_case(case=case, by=self.reviewer(case))
            elif step == RETURN:
                case = approvals.return_case(
                    case=case, by=self.reviewer(case), comment=spec.comment
                )
            elif step == REJECT:
                case = approvals.reject_case(
                    case=case, by=self.reviewer(case), comment=spec.comment
                )
            elif step == EDIT:
                case.circumstances += " Đã bổ sung hồ sơ theo yêu cầu."
                case = approvals.update_case(case=case, by=self.grassroots)
                self.attach(case, "ho-so-bo-sung.pdf")
            elif step == APPROVE:
                case = approvals.approve_case(
                    case=case, by=self.reviewer(case), amount=spec.approve or spec.amount
                )
            elif step == PAY:
                approvals.record_payment(
                    case=case,
                    by=self.treasurer,
                    paid_on=self.builder.today,
                    method=PaymentMethod.TRANSFER,
                    receipt_reference=f"UNC-{self.rng.randint(100, 999)}/{self.builder.today.year}",
                    received_by=member.full_name if organisation is None else "Hiệu trưởng",
                )
        case.refresh_from_db()
        return case

    def attach(self, case: Case, name: str) -> None:
        upload = SimpleUploadedFile(
            name, evidence_pdf(f"{name} - ho so {case.pk}"), content_type="application/pdf"
        )
        attach_evidence(case=case, upload=upload, by=self.grassroots)

    def backdate(self, case: Case, spec: Live) -> None:
        """Spread the steps over the days before ``spec.days_ago``, keeping their order; a
        payment stays today, as the ledger has it."""
        rng = self.rng
        events = list(case.events.order_by("at", "id"))
        fixed = [e for e in events if e.action in (Action.APPROVED, Action.PAID)]
        movable = events if case.status != CaseStatus.PAID else events[: -len(fixed)]
        now = timezone.now()
        at = now - datetime.timedelta(days=spec.days_ago, hours=rng.randint(1, 5))
        if case.status == CaseStatus.PAID:
            at = now - datetime.timedelta(days=rng.randint(2, 4))
        for event in reversed(movable):
            event.at = at
            at -= _hours(rng, 4, 60)
        CaseEvent.objects.bulk_update(movable, ["at"])
        created = events[0].at
        changes = {"created_at": created}
        submitted = [e.at for e in events if e.action == Action.SUBMITTED]
        if submitted:
            changes["submitted_at"] = submitted[-1]
        if case.status == CaseStatus.APPROVED:
            changes["approved_on"] = timezone.localdate(fixed[-1].at)
        Case.objects.filter(pk=case.pk).update(**changes)
        case.evidence.update(uploaded_at=created + datetime.timedelta(minutes=20))


# --------------------------------------------------------------------------------------------
# This year's Tết program
# --------------------------------------------------------------------------------------------

# The units taking part (those of the ward union of the `commune` account, and one of the next
# ward's), and how far each one's batch has gone: every demo account finds one waiting for it.
DRAFT, AT_COMMUNE, RETURNED, AT_PROVINCE, REJECTED, APPROVED, PAID = (
    "draft",
    "at_commune",
    "returned",
    "at_province",
    "rejected",
    "approved",
    "paid",
)
TET_UNITS = [
    (GRASSROOTS_ACCOUNT_UNIT, DRAFT),  # the `grassroots` account goes on building it
    ("LS-TP-CDK", AT_COMMUNE),  # the `commune` account endorses it
    ("LS-TP-THDK", AT_PROVINCE),  # the `province` account approves it
    ("LS-TP-STB", APPROVED),  # the `treasurer` account pays it
    ("LS-TP-MTDT", PAID),  # under Công đoàn phường Lương Văn Tri, paid
    ("LS-TP-THLVT", RETURNED),  # sent back by its ward union for changes
    ("LS-TP-KSMT", REJECTED),  # refused by the province
]

# Mái ấm Công đoàn: unions with poor households, each batch paid.
SHELTER_UNITS = [("LS-LB-THAN", PAID), ("LS-HL-MAY", PAID), ("LS-TP-DL", PAID)]
# Học bổng Nguyễn Đức Cảnh: unions with members' children of school age.
SCHOLARSHIP_UNITS = [("LS-HL-MAY", PAID), ("LS-CLA-XMDB", AT_PROVINCE), ("LS-LB-NDND", DRAFT)]


class TetProgram:
    """Tết Sum vầy of this year on the province's social fund, through the real services."""

    def __init__(self, builder: Builder):
        self.builder = builder
        self.accounts = builder.accounts
        self.rng = random.Random(SEED + 2)

    def acting(self, unit: Unit, duty: str, role: str):
        """Who builds (``open``) or endorses (``review``) at a union: the demo account sitting
        there, otherwise the union's officer, an account that cannot sign in, given the role
        there to act."""
        person = self.builder.person(unit, duty)
        if person.username not in self.accounts:
            RoleAssignment.objects.get_or_create(user=person, unit=unit, role=role)
        return person

    def build(self) -> None:
        year = self.builder.today.year
        province, social = self.builder.province, self.builder.funds[SOCIAL]
        program = programs.create_program(
            unit=province,
            name=f"Tết Sum vầy {year}",
            support_type=SupportType.TET_GIFT,
            category=Category.OTHER,
            fund=social,
            year=year,
            budget=150_000_000,
            levels=[
                ("Đoàn viên, người lao động", Applies.EVERYONE, 500_000),
                ("Hộ nghèo", Applies.POOR, 1_000_000),
                ("Gia đình chính sách", Applies.POLICY, 1_000_000),
            ],
            by=self.accounts["province"],
        )
        for code, state in TET_UNITS:
            unit = self.builder.units[code]
            participant = programs.add_participant(
                program=program, unit=unit, quota_people=120, by=self.accounts["province"]
            )
            self.drive(participant, state)
        self.ward_gifts(year)
        self.shelters(year)
        self.scholarships(year)

    def shelters(self, year: int) -> None:
        """Mái ấm Công đoàn of this year on the province's shelter fund: two poor households in
        each of three unions, approved and paid; their shelters are recorded and taken forward
        by ``seed.demo_shelters``, one in each stage at every union."""
        program = programs.create_program(
            unit=self.builder.province,
            name=f"Mái ấm Công đoàn {year}",
            support_type=SupportType.SHELTER,
            category=Category.HOUSING,
            fund=self.builder.funds[SHELTER],
            year=year,
            budget=400_000_000,
            by=self.accounts["province"],
        )
        for code, state in SHELTER_UNITS:
            participant = programs.add_participant(
                program=program,
                unit=self.builder.units[code],
                quota_people=2,
                quota_amount=100_000_000,
                by=self.accounts["province"],
            )
            self.drive(participant, state, poor_only=2, amount=50_000_000, take_out=0)

    def scholarships(self, year: int) -> None:
        """Học bổng Nguyễn Đức Cảnh of this year on the social fund, for members' children of
        school age: paid at one union, waiting for the province at another, a draft at a third."""
        program = programs.create_program(
            unit=self.builder.province,
            name=f"Học bổng Nguyễn Đức Cảnh {year}",
            support_type=SupportType.SCHOLARSHIP,
            category=Category.OTHER,
            fund=self.builder.funds[SOCIAL],
            year=year,
            budget=60_000_000,
            levels=[
                ("Con đoàn viên", Applies.EVERYONE, 1_000_000),
                ("Con đoàn viên hộ nghèo", Applies.POOR, 2_000_000),
            ],
            by=self.accounts["province"],
        )
        for code, state in SCHOLARSHIP_UNITS:
            participant = programs.add_participant(
                program=program, unit=self.builder.units[code], by=self.accounts["province"]
            )
            self.drive(participant, state, school_age=True, take_out=0)

    def ward_gifts(self, year: int) -> None:
        """The ward union's own Tết gifts to three needy people of the grassroots account's
        union, paid: that union's batch in the province's program shows who already has one."""
        ward = self.builder.units[COMMUNE_ACCOUNT_UNIT]
        unit = self.builder.units[GRASSROOTS_ACCOUNT_UNIT]
        commune, grassroots = self.accounts["commune"], self.accounts["grassroots"]
        program = programs.create_program(
            unit=ward,
            name=f"Quà Tết phường Đông Kinh {year}",
            support_type=SupportType.TET_GIFT,
            fund=self.builder.funds[COMMUNE_ACCOUNT_UNIT],
            year=year,
            budget=5_000_000,
            by=commune,
        )
        participant = programs.add_participant(program=program, unit=unit, by=commune)
        batch = programs.start_batch(participant=participant, by=grassroots)
        needy = (
            Member.objects.filter(unit=unit, status=MemberStatus.ACTIVE)
            .filter(Q(poor_household=True) | Q(policy_family=True))
            .order_by("pk")
            .values_list("pk", flat=True)[:3]
        )
        programs.add_people(
            batch=batch,
            members=Member.objects.filter(pk__in=list(needy)),
            amount=300_000,
            by=grassroots,
        )
        batch = programs.submit_batch(batch=batch, by=grassroots)
        batch = programs.approve_batch(batch=batch, by=commune)
        programs.record_batch_payment(
            batch=batch,
            by=self.accounts["treasurer-ward"],
            paid_on=self.builder.today,
            receipt_reference=f"PC-{self.rng.randint(100, 999)}/{year}",
        )

    def drive(
        self,
        participant,
        state: str,
        *,
        poor_only: int = 0,
        school_age: bool = False,
        amount: int | None = None,
        take_out: int = 1,
    ) -> None:
        """Build the participant's batch (everyone the batch may list; or the first
        ``poor_only`` poor households; or the members with a child of school age) and take it
        as far as ``state``, through the services."""
        unit = participant.unit
        officer = self.acting(unit, "open", Role.OFFICER)
        batch = programs.start_batch(participant=participant, by=officer)
        people = programs.candidates(batch)
        if poor_only:
            poor = people.filter(poor_household=True).order_by("pk").values_list("pk", flat=True)
            people = people.filter(pk__in=list(poor[:poor_only]))
        if school_age:
            year = participant.program.year
            people = people.filter(
                dependants__date_of_birth__gte=datetime.date(year - 18, 1, 1),
                dependants__date_of_birth__lte=datetime.date(year - 6, 12, 31),
            ).distinct()
        programs.add_people(batch=batch, members=people, amount=amount, by=officer)
        if state == DRAFT:
            return
        batch = programs.submit_batch(batch=batch, by=officer)
        if state == AT_COMMUNE:
            return
        if batch.current_unit is not None and batch.current_unit_id != batch.fund.unit_id:
            reviewer = self.acting(batch.current_unit, "review", Role.STAFF)
            if state == RETURNED:
                programs.return_batch(
                    batch=batch,
                    by=reviewer,
                    comment="Đề nghị bổ sung các gia đình chính sách còn thiếu trong danh sách.",
                )
                return
            batch = programs.endorse_batch(batch=batch, by=reviewer)
        if state == AT_PROVINCE:
            return
        if state == REJECTED:
            programs.reject_batch(
                batch=batch,
                by=self.accounts["province"],
                comment="Đơn vị đã tự tổ chức tặng quà Tết cho toàn bộ người lao động.",
            )
            return
        lines = list(BatchLine.objects.filter(batch=batch).order_by("pk")[:take_out])
        taken = {line.pk: "Đã nhận quà Tết của công ty" for line in lines}
        batch = programs.approve_batch(batch=batch, by=self.accounts["province"], take_out=taken)
        if state == APPROVED:
            return
        unpaid = BatchLine.objects.filter(batch=batch, status="listed").order_by("-pk")[:take_out]
        programs.record_batch_payment(
            batch=batch,
            by=self.accounts["treasurer"],
            paid_on=self.builder.today,
            receipt_reference=f"PC-{self.rng.randint(100, 999)}/{self.builder.today.year}",
            unpaid={line.pk: Unpaid.MOVED_AWAY for line in unpaid},
        )


# --------------------------------------------------------------------------------------------
# Summary
# --------------------------------------------------------------------------------------------


def summarise(province: Unit) -> WelfareSummary:
    funds = Fund.objects.filter(unit__path__startswith=province.path)
    totals = funds.aggregate(n=Count("pk"), balance=Sum("balance"), reserved=Sum("reserved"))
    cases = Case.objects.filter(unit__path__startswith=province.path)
    paid = (
        cases.filter(status=CaseStatus.PAID)
        .values_list("paid_on__year")
        .annotate(n=Count("pk"), total=Sum("approved_amount"))
        .order_by("paid_on__year")
    )
    live = (
        cases.filter(created_at__gte=live_since(), batch__isnull=True)
        .values_list("status")
        .annotate(n=Count("pk"))
    )
    return WelfareSummary(
        created=True,
        funds=totals["n"],
        balance=totals["balance"] or 0,
        reserved=totals["reserved"] or 0,
        paid_by_year={year: (n, total) for year, n, total in paid},
        live=Counter(dict(live.order_by())),
    )
