"""Demo data: a province modelled on Lạng Sơn, before and after the July 2025 reorganisation.

``build_demo`` is what ``manage.py seed_demo`` runs.  The tree is built through the services in
``unions.tree`` so that placements and unit events carry the real history: district federations
with their grassroots unions until 30 June 2025; on 1 July 2025 commune/ward unions and an
industrial-zone union are created, the grassroots unions moved under them (a few directly under
the province) and the district federations dissolved.  Sector unions keep their grassroots unions.

Members are generated with a fixed ``random.Random(2026)``, so every build gives the same people.
Running the build again when the province exists only makes sure the demo accounts work.
"""

from __future__ import annotations

import datetime
import random
from collections import Counter
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from common.text import sort_key
from members.counters import refresh_member_counts
from members.models import Dependant, Member, MemberKind, Membership, MemberStatus, Sex
from members.national_id import make_national_id
from members.search import normalise
from unions.accounts import password_changed
from unions.models import Role, RoleAssignment, Unit, UnitKind, UnitStatus
from unions.tree import create_unit, dissolve_unit, move_unit

DEMO_PASSWORD = "tuongthan-demo"
DEMO_EMAIL_DOMAIN = "example.vn"
PROVINCE_CODE = "LS"
SEED = 2026

FOUNDED = datetime.date(2015, 1, 1)
# Ages and dates are drawn up to this day (or today, if earlier), so that every build on any
# day after it gives exactly the same people.
AS_OF = datetime.date(2026, 10, 1)
REORGANISED_ON = datetime.date(2025, 7, 1)

# The units the demo accounts sit at.
COMMUNE_ACCOUNT_UNIT = "LS-PDK"  # Công đoàn phường Đông Kinh
GRASSROOTS_ACCOUNT_UNIT = "LS-TP-CTN"  # CĐCS Công ty CP Cấp thoát nước Lạng Sơn
PROVINCE_LEVEL = "province"  # "after" target meaning: directly under the province

# --------------------------------------------------------------------------------------------
# The tree
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class UnitSpec:
    code: str
    name: str
    address: str = ""


PROVINCE = UnitSpec(
    PROVINCE_CODE, "Liên đoàn Lao động tỉnh Lạng Sơn", "Phường Đông Kinh, tỉnh Lạng Sơn"
)

DISTRICTS = [
    UnitSpec("LS-TP", "LĐLĐ thành phố Lạng Sơn", "Phường Đông Kinh, thành phố Lạng Sơn"),
    UnitSpec("LS-CL", "LĐLĐ huyện Cao Lộc", "Thị trấn Cao Lộc, huyện Cao Lộc"),
    UnitSpec("LS-HL", "LĐLĐ huyện Hữu Lũng", "Thị trấn Hữu Lũng, huyện Hữu Lũng"),
    UnitSpec("LS-VQ", "LĐLĐ huyện Văn Quan", "Thị trấn Văn Quan, huyện Văn Quan"),
    UnitSpec("LS-CLA", "LĐLĐ huyện Chi Lăng", "Thị trấn Đồng Mỏ, huyện Chi Lăng"),
    UnitSpec("LS-LB", "LĐLĐ huyện Lộc Bình", "Thị trấn Lộc Bình, huyện Lộc Bình"),
    UnitSpec("LS-TD", "LĐLĐ huyện Tràng Định", "Thị trấn Thất Khê, huyện Tràng Định"),
]

SECTORS = [
    UnitSpec("LS-GD", "Công đoàn ngành Giáo dục", "Phường Tam Thanh, tỉnh Lạng Sơn"),
    UnitSpec("LS-YT", "Công đoàn ngành Y tế", "Phường Đông Kinh, tỉnh Lạng Sơn"),
    UnitSpec("LS-VC", "Công đoàn Viên chức tỉnh", "Phường Đông Kinh, tỉnh Lạng Sơn"),
]

# Set up on 1 July 2025, directly under the province.
COMMUNES = [
    UnitSpec("LS-PDK", "Công đoàn phường Đông Kinh", "Phường Đông Kinh, tỉnh Lạng Sơn"),
    UnitSpec("LS-PLVT", "Công đoàn phường Lương Văn Tri", "Phường Lương Văn Tri, tỉnh Lạng Sơn"),
    UnitSpec("LS-PTT", "Công đoàn phường Tam Thanh", "Phường Tam Thanh, tỉnh Lạng Sơn"),
    UnitSpec("LS-PKL", "Công đoàn phường Kỳ Lừa", "Phường Kỳ Lừa, tỉnh Lạng Sơn"),
    UnitSpec("LS-XCL", "Công đoàn xã Cao Lộc", "Xã Cao Lộc, tỉnh Lạng Sơn"),
    UnitSpec("LS-XDD", "Công đoàn xã Đồng Đăng", "Xã Đồng Đăng, tỉnh Lạng Sơn"),
    UnitSpec("LS-XHL", "Công đoàn xã Hữu Lũng", "Xã Hữu Lũng, tỉnh Lạng Sơn"),
    UnitSpec("LS-XVQ", "Công đoàn xã Văn Quan", "Xã Văn Quan, tỉnh Lạng Sơn"),
    UnitSpec("LS-XCLA", "Công đoàn xã Chi Lăng", "Xã Chi Lăng, tỉnh Lạng Sơn"),
    UnitSpec("LS-XLB", "Công đoàn xã Lộc Bình", "Xã Lộc Bình, tỉnh Lạng Sơn"),
]
ZONE = UnitSpec(
    "LS-KCN", "Công đoàn các Khu công nghiệp tỉnh Lạng Sơn", "Phường Tam Thanh, tỉnh Lạng Sơn"
)


@dataclass(frozen=True)
class GrassrootsSpec:
    code: str
    employer: str
    address: str
    work: str  # a key of OCCUPATIONS: school, hospital, factory, garment, mine, ...
    size: int  # members and workers on the list
    before: str  # district or sector code
    after: str | None  # commune/zone code, PROVINCE_LEVEL, or None (stays where it is)
    founded_on: datetime.date = FOUNDED

    @property
    def name(self) -> str:
        return f"CĐCS {self.employer}"


G = GrassrootsSpec
GRASSROOTS = [
    # Thành phố Lạng Sơn -> the four city wards; the two largest employers under the province.
    G("LS-TP-CTN", "Công ty CP Cấp thoát nước Lạng Sơn", "Phường Đông Kinh, tỉnh Lạng Sơn",
      "utility", 80, "LS-TP", "LS-PDK"),
    G("LS-TP-CDK", "Ban Quản lý chợ Đông Kinh", "Phường Đông Kinh, tỉnh Lạng Sơn",
      "market", 32, "LS-TP", "LS-PDK"),
    G("LS-TP-THDK", "Trường Tiểu học Đông Kinh", "Phường Đông Kinh, tỉnh Lạng Sơn",
      "school", 28, "LS-TP", "LS-PDK"),
    G("LS-TP-STB", "Công ty CP Sách và Thiết bị trường học Lạng Sơn",
      "Phường Đông Kinh, tỉnh Lạng Sơn", "service", 18, "LS-TP", "LS-PDK",
      datetime.date(2016, 3, 15)),
    G("LS-TP-MTDT", "Công ty CP Môi trường và Dịch vụ đô thị Lạng Sơn",
      "Phường Lương Văn Tri, tỉnh Lạng Sơn", "utility", 60, "LS-TP", "LS-PLVT"),
    G("LS-TP-THLVT", "Trường Tiểu học Lương Văn Tri", "Phường Lương Văn Tri, tỉnh Lạng Sơn",
      "school", 26, "LS-TP", "LS-PLVT"),
    G("LS-TP-KSMT", "Khách sạn Mường Thanh Lạng Sơn", "Phường Lương Văn Tri, tỉnh Lạng Sơn",
      "service", 36, "LS-TP", "LS-PLVT", datetime.date(2017, 9, 1)),
    G("LS-TP-BX", "Công ty CP Bến xe khách Lạng Sơn", "Phường Tam Thanh, tỉnh Lạng Sơn",
      "service", 26, "LS-TP", "LS-PTT"),
    G("LS-TP-MNTT", "Trường Mầm non Tam Thanh", "Phường Tam Thanh, tỉnh Lạng Sơn",
      "school", 22, "LS-TP", "LS-PTT"),
    G("LS-TP-CKL", "Ban Quản lý chợ Kỳ Lừa", "Phường Kỳ Lừa, tỉnh Lạng Sơn",
      "market", 25, "LS-TP", "LS-PKL"),
    G("LS-TP-THHVT", "Trường Tiểu học Hoàng Văn Thụ", "Phường Kỳ Lừa, tỉnh Lạng Sơn",
      "school", 24, "LS-TP", "LS-PKL"),
    G("LS-TP-TL", "Công ty TNHH MTV Thuốc lá Lạng Sơn", "Phường Tam Thanh, tỉnh Lạng Sơn",
      "factory", 90, "LS-TP", PROVINCE_LEVEL),
    G("LS-TP-DL", "Công ty Điện lực Lạng Sơn", "Phường Đông Kinh, tỉnh Lạng Sơn",
      "utility", 100, "LS-TP", PROVINCE_LEVEL),
    # Cao Lộc -> xã Cao Lộc and xã Đồng Đăng.
    G("LS-CL-THCS", "Trường THCS thị trấn Cao Lộc", "Xã Cao Lộc, tỉnh Lạng Sơn",
      "school", 24, "LS-CL", "LS-XCL"),
    G("LS-CL-DVNN", "Trung tâm Dịch vụ nông nghiệp huyện Cao Lộc", "Xã Cao Lộc, tỉnh Lạng Sơn",
      "agency", 15, "LS-CL", "LS-XCL"),
    G("LS-CL-MN", "Trường Mầm non thị trấn Cao Lộc", "Xã Cao Lộc, tỉnh Lạng Sơn",
      "school", 18, "LS-CL", "LS-XCL"),
    G("LS-CL-XNK", "Công ty CP Xuất nhập khẩu Đồng Đăng", "Xã Đồng Đăng, tỉnh Lạng Sơn",
      "service", 36, "LS-CL", "LS-XDD", datetime.date(2018, 4, 2)),
    G("LS-CL-THCSDD", "Trường THCS thị trấn Đồng Đăng", "Xã Đồng Đăng, tỉnh Lạng Sơn",
      "school", 22, "LS-CL", "LS-XDD"),
    G("LS-CL-GDD", "Ga Đồng Đăng", "Xã Đồng Đăng, tỉnh Lạng Sơn",
      "service", 20, "LS-CL", "LS-XDD"),
    # Hữu Lũng -> xã Hữu Lũng; the factories to the industrial-zone union.
    G("LS-HL-THCS", "Trường THCS thị trấn Hữu Lũng", "Xã Hữu Lũng, tỉnh Lạng Sơn",
      "school", 25, "LS-HL", "LS-XHL"),
    G("LS-HL-KL", "Hạt Kiểm lâm huyện Hữu Lũng", "Xã Hữu Lũng, tỉnh Lạng Sơn",
      "forestry", 15, "LS-HL", "LS-XHL"),
    G("LS-HL-MAY", "Công ty TNHH May mặc Hữu Lũng", "Khu công nghiệp Hữu Lũng, tỉnh Lạng Sơn",
      "garment", 130, "LS-HL", "LS-KCN", datetime.date(2023, 5, 10)),
    G("LS-HL-GACH", "Công ty CP Gạch Tuynel Hữu Lũng", "Khu công nghiệp Hữu Lũng, tỉnh Lạng Sơn",
      "factory", 45, "LS-HL", "LS-KCN"),
    # Văn Quan -> xã Văn Quan.
    G("LS-VQ-THCS", "Trường THCS thị trấn Văn Quan", "Xã Văn Quan, tỉnh Lạng Sơn",
      "school", 22, "LS-VQ", "LS-XVQ"),
    G("LS-VQ-TH", "Trường Tiểu học thị trấn Văn Quan", "Xã Văn Quan, tỉnh Lạng Sơn",
      "school", 20, "LS-VQ", "LS-XVQ"),
    G("LS-VQ-KL", "Hạt Kiểm lâm huyện Văn Quan", "Xã Văn Quan, tỉnh Lạng Sơn",
      "forestry", 15, "LS-VQ", "LS-XVQ"),
    # Chi Lăng -> xã Chi Lăng; Đồng Bành industrial zone companies to the zone union.
    G("LS-CLA-THCS", "Trường THCS thị trấn Đồng Mỏ", "Xã Chi Lăng, tỉnh Lạng Sơn",
      "school", 24, "LS-CLA", "LS-XCLA"),
    G("LS-CLA-TH", "Trường Tiểu học thị trấn Chi Lăng", "Xã Chi Lăng, tỉnh Lạng Sơn",
      "school", 20, "LS-CLA", "LS-XCLA"),
    G("LS-CLA-XMDB", "Công ty CP Xi măng Đồng Bành", "Khu công nghiệp Đồng Bành, tỉnh Lạng Sơn",
      "factory", 110, "LS-CLA", "LS-KCN"),
    G("LS-CLA-GO", "Công ty TNHH Chế biến gỗ Chi Lăng", "Khu công nghiệp Đồng Bành, tỉnh Lạng Sơn",
      "factory", 50, "LS-CLA", "LS-KCN", datetime.date(2019, 8, 20)),
    # Lộc Bình -> xã Lộc Bình; the Na Dương coal mine and power plant under the province.
    G("LS-LB-THCS", "Trường THCS thị trấn Lộc Bình", "Xã Lộc Bình, tỉnh Lạng Sơn",
      "school", 24, "LS-LB", "LS-XLB"),
    G("LS-LB-VH", "Trung tâm Văn hóa, Thể thao và Truyền thông huyện Lộc Bình",
      "Xã Lộc Bình, tỉnh Lạng Sơn", "agency", 15, "LS-LB", "LS-XLB"),
    G("LS-LB-MN", "Trường Mầm non thị trấn Lộc Bình", "Xã Lộc Bình, tỉnh Lạng Sơn",
      "school", 17, "LS-LB", "LS-XLB"),
    G("LS-LB-THAN", "Công ty Than Na Dương - VVMI", "Xã Na Dương, tỉnh Lạng Sơn",
      "mine", 120, "LS-LB", PROVINCE_LEVEL),
    G("LS-LB-NDND", "Công ty Nhiệt điện Na Dương - VVMI", "Xã Na Dương, tỉnh Lạng Sơn",
      "factory", 80, "LS-LB", PROVINCE_LEVEL),
    # Tràng Định: no commune union in the demo, its two units go directly under the province.
    G("LS-TD-THCS", "Trường THCS thị trấn Thất Khê", "Xã Thất Khê, tỉnh Lạng Sơn",
      "school", 21, "LS-TD", PROVINCE_LEVEL),
    G("LS-TD-KL", "Hạt Kiểm lâm huyện Tràng Định", "Xã Thất Khê, tỉnh Lạng Sơn",
      "forestry", 15, "LS-TD", PROVINCE_LEVEL),
    # Sector unions keep their grassroots unions.
    G("LS-GD-VB", "Trường THPT Việt Bắc", "Phường Đông Kinh, tỉnh Lạng Sơn",
      "school", 45, "LS-GD", None),
    G("LS-GD-CVA", "Trường THPT Chuyên Chu Văn An", "Phường Lương Văn Tri, tỉnh Lạng Sơn",
      "school", 42, "LS-GD", None),
    G("LS-GD-CDSP", "Trường Cao đẳng Sư phạm Lạng Sơn", "Phường Tam Thanh, tỉnh Lạng Sơn",
      "school", 36, "LS-GD", None),
    G("LS-GD-HL", "Trường THPT Hữu Lũng", "Xã Hữu Lũng, tỉnh Lạng Sơn",
      "school", 34, "LS-GD", None),
    G("LS-GD-LB", "Trường THPT Lộc Bình", "Xã Lộc Bình, tỉnh Lạng Sơn",
      "school", 32, "LS-GD", None),
    G("LS-YT-BVDK", "Bệnh viện Đa khoa tỉnh Lạng Sơn", "Phường Kỳ Lừa, tỉnh Lạng Sơn",
      "hospital", 130, "LS-YT", None),
    G("LS-YT-YHCT", "Bệnh viện Y học cổ truyền tỉnh Lạng Sơn", "Phường Tam Thanh, tỉnh Lạng Sơn",
      "hospital", 42, "LS-YT", None),
    G("LS-YT-PHOI", "Bệnh viện Phổi tỉnh Lạng Sơn", "Phường Tam Thanh, tỉnh Lạng Sơn",
      "hospital", 35, "LS-YT", None),
    G("LS-YT-CDC", "Trung tâm Kiểm soát bệnh tật tỉnh Lạng Sơn",
      "Phường Đông Kinh, tỉnh Lạng Sơn", "hospital", 42, "LS-YT", None),
    G("LS-YT-TTYTCL", "Trung tâm Y tế huyện Cao Lộc", "Xã Cao Lộc, tỉnh Lạng Sơn",
      "hospital", 45, "LS-YT", None),
    G("LS-VC-VP", "Văn phòng UBND tỉnh Lạng Sơn", "Phường Đông Kinh, tỉnh Lạng Sơn",
      "agency", 26, "LS-VC", None),
    G("LS-VC-STC", "Sở Tài chính tỉnh Lạng Sơn", "Phường Đông Kinh, tỉnh Lạng Sơn",
      "agency", 24, "LS-VC", None),
    G("LS-VC-STP", "Sở Tư pháp tỉnh Lạng Sơn", "Phường Đông Kinh, tỉnh Lạng Sơn",
      "agency", 15, "LS-VC", None),
    G("LS-VC-VHTTDL", "Sở Văn hóa, Thể thao và Du lịch tỉnh Lạng Sơn",
      "Phường Tam Thanh, tỉnh Lạng Sơn", "agency", 22, "LS-VC", None),
]  # fmt: skip
del G

# --------------------------------------------------------------------------------------------
# People
# --------------------------------------------------------------------------------------------

# Family names weighted towards the Tày and Nùng names common in Lạng Sơn.
FAMILY_NAMES: list[tuple[str, int]] = [
    ("Nguyễn", 14), ("Hoàng", 12), ("Nông", 7), ("Vi", 6), ("Trần", 5), ("Lương", 5),
    ("Lê", 4), ("Hà", 4), ("Phạm", 3), ("Lăng", 3), ("Triệu", 3), ("Chu", 3), ("Đặng", 3),
    ("Lý", 3), ("Dương", 3), ("Lường", 2), ("Đinh", 2), ("Bế", 2), ("Lộc", 2), ("Mông", 1),
    ("Hứa", 1), ("Tô", 1), ("Mã", 1), ("Lục", 1), ("La", 1), ("Vũ", 2), ("Bùi", 1),
]  # fmt: skip
MIDDLE_NAMES = {
    Sex.MALE: [("Văn", 10), ("Đức", 3), ("Minh", 3), ("Quang", 2), ("Hữu", 2), ("Xuân", 1),
               ("Thanh", 1), ("Ngọc", 1), ("Mạnh", 1), ("Công", 1), ("Tiến", 1)],
    Sex.FEMALE: [("Thị", 12), ("Thu", 3), ("Minh", 1), ("Thanh", 2), ("Ngọc", 1), ("Hồng", 1),
                 ("Thúy", 1), ("Phương", 1), ("Kim", 1), ("Bích", 1)],
}  # fmt: skip
GIVEN_NAMES = {
    Sex.MALE: [
        "Hùng", "Dũng", "Tuấn", "Cường", "Thắng", "Hải", "Long", "Nam", "Sơn", "Tùng", "Hiếu",
        "Khánh", "Quân", "Đạt", "Hưng", "Phong", "Toàn", "Trung", "Vinh", "Bình", "Chiến",
        "Lâm", "Lợi", "Nghĩa", "Phúc", "Tài", "Thành", "Trọng", "Việt", "Huy", "Kiên", "Tiến",
        "Hoàn", "Quyết", "Duy", "An", "Thịnh", "Tú", "Lực", "Điệp", "Mạnh", "Thái",
    ],
    Sex.FEMALE: [
        "Lan", "Hương", "Hoa", "Mai", "Hạnh", "Huyền", "Thảo", "Trang", "Linh", "Nga",
        "Phương", "Yến", "Dung", "Hằng", "Thủy", "Nhung", "Loan", "Liên", "Oanh", "Vân",
        "Hiền", "Hòa", "Quỳnh", "Chi", "Duyên", "Giang", "Hà", "Thơm", "Xuân", "Mến", "Tươi",
        "Lụa", "Nhàn", "Ngân", "Thoa", "Hường", "Diệp", "Lý", "Thắm", "Uyên",
    ],
}  # fmt: skip
CHILD_NAMES = {
    Sex.MALE: ["Gia Huy", "Minh Khôi", "Đức Anh", "Bảo Nam", "Quang Minh", "Hoàng Long",
               "Tuấn Kiệt", "Nhật Minh", "Đăng Khoa", "Gia Bảo", "Anh Tuấn", "Văn Hiếu",
               "Đức Thịnh", "Minh Quân", "Hải Đăng"],
    Sex.FEMALE: ["Ngọc Hân", "Khánh Linh", "Bảo Ngọc", "Minh Anh", "Phương Thảo", "Thu Trang",
                 "Hà My", "Tuệ An", "Thùy Dương", "Thị Hoa", "Gia Hân", "Diệu Linh",
                 "Bảo Châu", "Ngọc Ánh", "Thanh Hương"],
}  # fmt: skip

OCCUPATIONS = {
    "school": [("Giáo viên", 12), ("Nhân viên văn phòng", 1), ("Kế toán", 1),
               ("Nhân viên thư viện", 1), ("Bảo vệ", 1), ("Nhân viên y tế trường học", 1)],
    "hospital": [("Điều dưỡng", 8), ("Bác sĩ", 5), ("Kỹ thuật viên xét nghiệm", 2),
                 ("Dược sĩ", 1), ("Hộ lý", 2), ("Kế toán", 1), ("Lái xe", 1)],
    "factory": [("Công nhân vận hành", 8), ("Công nhân cơ khí", 3), ("Kỹ sư", 2),
                ("Thủ kho", 1), ("Lái xe", 1), ("Nhân viên kế toán", 1), ("Bảo vệ", 1)],
    "garment": [("Công nhân may", 14), ("Tổ trưởng sản xuất", 1), ("Công nhân cắt", 2),
                ("Nhân viên kiểm hàng", 1), ("Thủ kho", 1)],
    "mine": [("Công nhân khai thác mỏ", 8), ("Công nhân vận hành máy", 3), ("Kỹ sư mỏ", 1),
             ("Lái xe", 2), ("Công nhân cơ điện", 2)],
    "utility": [("Công nhân kỹ thuật", 6), ("Công nhân vệ sinh môi trường", 3),
                ("Nhân viên thu ngân", 1), ("Kỹ sư", 1), ("Lái xe", 1), ("Kế toán", 1)],
    "agency": [("Chuyên viên", 10), ("Kế toán", 1), ("Văn thư", 1), ("Lái xe", 1),
               ("Nhân viên phục vụ", 1)],
    "market": [("Nhân viên quản lý chợ", 4), ("Bảo vệ", 2), ("Nhân viên vệ sinh", 2),
               ("Nhân viên thu phí", 1), ("Kế toán", 1)],
    "service": [("Nhân viên kinh doanh", 4), ("Nhân viên phục vụ", 3), ("Lái xe", 2),
                ("Kế toán", 1), ("Nhân viên kỹ thuật", 1), ("Bảo vệ", 1)],
    "forestry": [("Kiểm lâm viên", 6), ("Kế toán", 1), ("Lái xe", 1)],
}  # fmt: skip

CITY_STREETS = [
    "Trần Đăng Ninh", "Bà Triệu", "Lê Lợi", "Bắc Sơn", "Lý Thái Tổ", "Hùng Vương",
    "Phai Vệ", "Ngô Quyền", "Tô Thị", "Đinh Tiên Hoàng", "Lê Lai", "Văn Vỉ", "Minh Khai",
    "Hoàng Văn Thụ", "Trần Hưng Đạo", "Lương Văn Tri", "Chu Văn An", "Nguyễn Du",
]  # fmt: skip
VILLAGES = [
    "Nà Lầu", "Khòn Pát", "Bản Chu", "Pác Luống", "Nà Cạn", "Khuổi Khoang", "Còn Quan",
    "Pò Mỏ", "Nà Phái", "Bản Làn", "Thâm Mè", "Nà Ngần", "Co Mận", "Tà Lài", "Bản Chắt",
]  # fmt: skip
PHONE_PREFIXES = [
    "091", "094", "088", "083", "084", "085", "081", "082", "096", "097", "098", "086",
    "032", "033", "034", "035", "036", "037", "038", "039", "070", "076", "077", "078",
    "079", "089", "090", "093", "056", "058",
]  # fmt: skip
HOME_PROVINCE = "020"  # Lạng Sơn
OTHER_PROVINCES = ["024", "004", "006", "001", "019", "022", "038", "040", "030", "008"]

# --------------------------------------------------------------------------------------------
# Accounts
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AccountSpec:
    username: str
    role: str
    unit_code: str
    last_name: str  # family and middle name
    first_name: str  # given name


ACCOUNTS = [
    AccountSpec("admin", Role.ADMINISTRATOR, PROVINCE_CODE, "Hoàng Minh", "Quân"),
    AccountSpec("province", Role.PROVINCE_STAFF, PROVINCE_CODE, "Nông Thị", "Hạnh"),
    AccountSpec("commune", Role.STAFF, COMMUNE_ACCOUNT_UNIT, "Lương Văn", "Thắng"),
    AccountSpec("grassroots", Role.OFFICER, GRASSROOTS_ACCOUNT_UNIT, "Vi Thị", "Mến"),
    AccountSpec("treasurer", Role.TREASURER, PROVINCE_CODE, "Nguyễn Thu", "Hà"),
    AccountSpec("leader", Role.LEADER, PROVINCE_CODE, "Lăng Văn", "Chiến"),
    # Every fund the demo's cases draw from has someone who can pay it: an approval from a
    # fund whose union has no treasurer is refused (welfare/cases/rules.py ``approve``).
    AccountSpec("treasurer-ward", Role.TREASURER, COMMUNE_ACCOUNT_UNIT, "Hoàng Thị", "Thu"),
    AccountSpec("treasurer-grassroots", Role.TREASURER, GRASSROOTS_ACCOUNT_UNIT, "Chu Văn", "Lâm"),
]


# --------------------------------------------------------------------------------------------
# Building
# --------------------------------------------------------------------------------------------


@dataclass
class DemoSummary:
    created: bool
    units: Counter = field(default_factory=Counter)  # (kind, still active) -> count
    members: int = 0
    workers: int = 0
    dependants: int = 0
    accounts: list[tuple[str, str, str]] = field(default_factory=list)  # username, role, unit

    def lines(self) -> list[str]:
        kinds = dict(UnitKind.choices)
        out = [
            "Units: "
            + ", ".join(
                f"{count} {kinds.get(kind, kind)}{'' if active else ' (closed)'}"
                for (kind, active), count in self.units.items()
            ),
            f"Members: {self.members} union members, {self.workers} non-member workers, "
            f"{self.dependants} dependants",
            f"Accounts (password {DEMO_PASSWORD!r}):",
        ]
        name_width = max((len(username) for username, _role, _unit in self.accounts), default=0)
        out += [
            f"  {username:<{name_width}}  {role:<20} {unit}"
            for username, role, unit in self.accounts
        ]
        return out


def _say(stdout, text: str) -> None:
    if stdout is not None:
        stdout.write(text if text.endswith("\n") else text + "\n")


def build_demo(stdout=None) -> DemoSummary:
    """Build the demo province once; afterwards only make sure the demo accounts work."""
    with transaction.atomic():
        if Unit.objects.filter(code=PROVINCE_CODE).exists():
            _say(stdout, "The demo province (LS) is already there: checking the demo accounts.")
            created = False
        else:
            _say(stdout, "Building the demo province Lạng Sơn...")
            units = build_tree()
            build_members(units, random.Random(SEED))
            created = True
        accounts = ensure_accounts()
    summary = summarise(created, accounts)
    for line in summary.lines():
        _say(stdout, line)
    return summary


# The superuser the seed acts as where no role can reach: creating the province itself. It
# has no password (nobody signs in as it) and is not one of the demo accounts.
SYSTEM_USERNAME = "he-thong"


def system_account():
    user, _created = get_user_model().objects.get_or_create(
        username=SYSTEM_USERNAME,
        defaults={
            "first_name": "Hệ thống",
            "last_name": "",
            "is_superuser": True,
            "password": make_password(None),
        },
    )
    return user


def _demo_administrator(province: Unit):
    """The demo administrator, granted at the province so that it builds the rest of the tree
    (``ensure_accounts`` then gives it its name and password like the other demo accounts)."""
    spec = next(spec for spec in ACCOUNTS if spec.role == Role.ADMINISTRATOR)
    user, _created = get_user_model().objects.get_or_create(username=spec.username)
    RoleAssignment.objects.get_or_create(user=user, unit=province, role=spec.role)
    return user


def build_tree() -> dict[str, Unit]:
    """The province as it stood before 1 July 2025, then its reorganisation on that day: the
    province created by the system account, everything under it by the demo administrator."""
    units: dict[str, Unit] = {}

    def create(spec: UnitSpec, parent: Unit | None, kind: str, founded_on, employer=""):
        units[spec.code] = create_unit(
            parent=parent,
            code=spec.code,
            name=spec.name,
            kind=kind,
            founded_on=founded_on,
            by=admin,
            address=spec.address,
            employer=employer,
        )

    admin = system_account()  # who acts: the system for the province, then its administrator
    create(PROVINCE, None, UnitKind.PROVINCE, FOUNDED)
    province = units[PROVINCE_CODE]
    admin = _demo_administrator(province)
    for spec in DISTRICTS:
        create(spec, province, UnitKind.DISTRICT, FOUNDED)
    for spec in SECTORS:
        create(spec, province, UnitKind.SECTOR, FOUNDED)
    for g in GRASSROOTS:
        create(
            UnitSpec(g.code, g.name, g.address),
            units[g.before],
            UnitKind.GRASSROOTS,
            g.founded_on,
            employer=g.employer,
        )

    # 1 July 2025: commune/ward unions and the industrial-zone union take over from the
    # district federations.
    for spec in COMMUNES:
        create(spec, province, UnitKind.COMMUNE, REORGANISED_ON)
    create(ZONE, province, UnitKind.ZONE, REORGANISED_ON)
    note = "Sắp xếp tổ chức công đoàn từ ngày 01/7/2025"
    for g in GRASSROOTS:
        if g.after is None:
            continue
        new_parent = province if g.after == PROVINCE_LEVEL else units[g.after]
        units[g.code] = move_unit(
            unit=units[g.code],
            new_parent=new_parent,
            effective_on=REORGANISED_ON,
            by=admin,
            note=note,
        )
    for spec in DISTRICTS:
        units[spec.code] = dissolve_unit(
            unit=units[spec.code], effective_on=REORGANISED_ON, by=admin, note=note
        )
    return units


def _weighted(rng: random.Random, pairs: list[tuple[str, int]]) -> str:
    return rng.choices([value for value, _w in pairs], weights=[w for _v, w in pairs])[0]


def _person_name(rng: random.Random, sex: str) -> str:
    family = _weighted(rng, FAMILY_NAMES)
    middle = _weighted(rng, MIDDLE_NAMES[sex])
    given = rng.choice([name for name in GIVEN_NAMES[sex] if name != middle])
    return f"{family} {middle} {given}"


def _random_date(rng: random.Random, start: datetime.date, end: datetime.date) -> datetime.date:
    if end <= start:
        return start
    return start + datetime.timedelta(days=rng.randint(0, (end - start).days))


def _years_after(day: datetime.date, years: int) -> datetime.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _address(rng: random.Random, unit_address: str) -> str:
    # The unit's own address is "Phường X, tỉnh Lạng Sơn" or "Xã Y, tỉnh Lạng Sơn".
    place = unit_address.split(",")[0].strip()
    if place.startswith("Khu công nghiệp"):
        place = rng.choice(["Xã Chi Lăng", "Xã Hữu Lũng", "Phường Tam Thanh", "Xã Cao Lộc"])
    place = place[0].lower() + place[1:]
    if place.startswith("phường"):
        return f"Số {rng.randint(1, 250)} đường {rng.choice(CITY_STREETS)}, {place}, Lạng Sơn"
    return f"Thôn {rng.choice(VILLAGES)}, {place}, Lạng Sơn"


def _phone(rng: random.Random) -> str:
    if rng.random() < 0.1:
        return ""
    return rng.choice(PHONE_PREFIXES) + f"{rng.randint(0, 9_999_999):07d}"


def build_members(units: dict[str, Unit], rng: random.Random) -> None:
    """About 2,000 members and workers over the grassroots unions, each with one membership;
    children for about one in seven."""
    as_of = min(timezone.localdate(), AS_OF)
    total = sum(g.size for g in GRASSROOTS)
    serials = iter(rng.sample(range(1, 1_000_000), total))
    cards = iter(rng.sample(range(1, 10_000_000), total))
    members: list[Member] = []
    starts: list[datetime.date] = []  # membership valid_from, parallel to members
    for g in GRASSROOTS:
        unit = units[g.code]
        for index in range(g.size):
            sex = Sex.FEMALE if rng.random() < _female_share(g.work) else Sex.MALE
            date_of_birth = _random_date(
                rng, _years_after(as_of, -60) + datetime.timedelta(days=1), _years_after(as_of, -20)
            )
            province = HOME_PROVINCE if rng.random() < 0.85 else rng.choice(OTHER_PROVINCES)
            is_worker = rng.random() < 0.08
            # The first person on each list is an active union member (the unit's officer).
            if index == 0:
                is_worker = False
            adult_from = max(unit.founded_on, _years_after(date_of_birth, 18))
            joined_on = None if is_worker else _random_date(rng, adult_from, as_of)
            status = MemberStatus.ACTIVE
            if index > 0:
                roll = rng.random()
                if roll < 0.03:
                    status = MemberStatus.LEFT
                elif roll < 0.04:
                    status = MemberStatus.DECEASED
            start = joined_on or adult_from
            # Someone who left or died did so on a day between joining and today; their
            # membership closes on it, as members.services.update_member closes it.  The day
            # is drawn from a generator of its own so the rest of the province stays as it was.
            left_on = None
            if status != MemberStatus.ACTIVE:
                left_on = _random_date(random.Random(f"{g.code}/{index}"), start, as_of)
            name = _person_name(rng, sex)
            members.append(
                Member(
                    full_name=name,
                    search_name=normalise(name),
                    sort_name=sort_key(name),
                    sex=sex,
                    date_of_birth=date_of_birth,
                    national_id=make_national_id(province, date_of_birth, sex, next(serials)),
                    kind=MemberKind.WORKER if is_worker else MemberKind.MEMBER,
                    unit=unit,
                    union_card_number="" if is_worker else f"LS{next(cards):07d}",
                    joined_on=joined_on,
                    occupation=_occupation(rng, g.work, sex),
                    phone=_phone(rng),
                    address=_address(rng, g.address),
                    status=status,
                    left_on=left_on,
                    policy_family=rng.random() < 0.04,
                    poor_household=rng.random() < _poor_share(g.work),
                )
            )
            starts.append(start)
    created = bulk_create_with_history(
        members, Member, batch_size=500, default_change_reason="Dữ liệu mẫu"
    )
    ids = dict(Member.objects.filter(unit__in=units.values()).values_list("national_id", "pk"))
    for member in created:
        member.pk = ids[member.national_id]
    Membership.objects.bulk_create(
        [
            Membership(
                member_id=member.pk,
                unit_id=member.unit_id,
                valid_from=start,
                valid_to=member.left_on,
                reason=Membership.Reason.JOINED,
            )
            for member, start in zip(created, starts, strict=True)
        ],
        batch_size=500,
    )
    refresh_member_counts(unit.pk for unit in units.values())
    dependants = []
    for member in created:
        if rng.random() >= 0.15:
            continue
        family = member.full_name.split()[0]
        # Children still of school or student age: born to a parent aged 20-40, under 22 now.
        earliest = max(_years_after(member.date_of_birth, 20), _years_after(as_of, -22))
        latest = min(_years_after(member.date_of_birth, 40), as_of - datetime.timedelta(days=200))
        if earliest > latest:
            continue
        for _child in range(rng.choice([1, 1, 1, 2, 2, 3])):
            born = _random_date(rng, earliest, latest)
            sex = rng.choice([Sex.MALE, Sex.FEMALE])
            father_family = family if member.sex == Sex.MALE else _weighted(rng, FAMILY_NAMES)
            dependants.append(
                Dependant(
                    member_id=member.pk,
                    full_name=f"{father_family} {rng.choice(CHILD_NAMES[sex])}",
                    sex=sex,
                    date_of_birth=born,
                    relationship="child",
                )
            )
    bulk_create_with_history(
        dependants, Dependant, batch_size=500, default_change_reason="Dữ liệu mẫu"
    )


MEN_ONLY_JOBS = {"Lái xe", "Bảo vệ", "Công nhân khai thác mỏ", "Kỹ sư mỏ"}


def _occupation(rng: random.Random, work: str, sex: str) -> str:
    occupation = _weighted(rng, OCCUPATIONS[work])
    while sex == Sex.FEMALE and occupation in MEN_ONLY_JOBS:
        occupation = _weighted(rng, OCCUPATIONS[work])
    return occupation


def _poor_share(work: str) -> float:
    return 0.06 if work in {"garment", "mine"} else 0.02


def _female_share(work: str) -> float:
    return {
        "school": 0.75,
        "hospital": 0.65,
        "garment": 0.85,
        "market": 0.6,
        "mine": 0.12,
        "factory": 0.3,
        "utility": 0.3,
        "forestry": 0.2,
    }.get(work, 0.5)


def ensure_accounts() -> list[RoleAssignment]:
    """The demo accounts exist, are active, have the demo password and their role."""
    User = get_user_model()
    password = make_password(DEMO_PASSWORD)  # hashed once: hashing is slow on purpose
    units = {u.code: u for u in Unit.objects.filter(code__in={a.unit_code for a in ACCOUNTS})}
    assignments = []
    for spec in ACCOUNTS:
        unit = units.get(spec.unit_code)
        if unit is None:
            raise LookupError(f"The demo unit {spec.unit_code} is missing.")
        user, _created = User.objects.get_or_create(username=spec.username)
        user.first_name = spec.first_name
        user.last_name = spec.last_name
        user.email = f"{spec.username}@{DEMO_EMAIL_DOMAIN}"
        user.is_active = True
        user.is_superuser = False
        user.is_staff = False
        user.password = password
        user.save()
        # The documented demo password is not a temporary one: the demo logins go straight in.
        password_changed(user)
        assignment, _created = RoleAssignment.objects.get_or_create(
            user=user, unit=unit, role=spec.role
        )
        assignments.append(assignment)
    return assignments


def summarise(created: bool, assignments: list[RoleAssignment]) -> DemoSummary:
    province = Unit.objects.get(code=PROVINCE_CODE)
    summary = DemoSummary(created=created)
    for kind, status in Unit.objects.in_subtree_of(province).values_list("kind", "status"):
        summary.units[(kind, status == UnitStatus.ACTIVE)] += 1
    subtree_members = Member.objects.filter(unit__path__startswith=province.path)
    summary.members = subtree_members.filter(kind=MemberKind.MEMBER).count()
    summary.workers = subtree_members.filter(kind=MemberKind.WORKER).count()
    summary.dependants = Dependant.objects.filter(member__in=subtree_members).count()
    summary.accounts = [(a.user.username, a.get_role_display(), a.unit.name) for a in assignments]
    return summary
