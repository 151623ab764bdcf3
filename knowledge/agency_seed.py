"""The standard bodies of a province, as a registry starts with them.

Names are written in full as plans write them; aliases are what people and plans also write
(abbreviations, older or shorter names). Province names are not part of a name: "Sở Nội vụ tỉnh
Ninh Thuận" matches "Sở Nội vụ" (see `agencies.agency_key`). The importer adds bodies it meets
that are not here (a provincial newspaper, a project board).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

MERGER_2025 = date(2025, 3, 1)


@dataclass(frozen=True)
class AgencySpec:
    name: str
    kind: str  # department | party | people | mass | media | local | group | other
    aliases: tuple[str, ...] = ()
    successor: str | None = None
    successor_since: date | None = None
    members: tuple[str, ...] = field(default=())  # for groups: names of member agencies

    @property
    def is_group(self) -> bool:
        return self.kind == "group"


DEPARTMENTS: tuple[AgencySpec, ...] = (
    AgencySpec("Sở Nội vụ", "department", ("SNV",)),
    AgencySpec("Sở Tư pháp", "department", ("STP",)),
    AgencySpec("Sở Tài chính", "department", ("STC",)),
    AgencySpec("Sở Kế hoạch và Đầu tư", "department", ("Sở KH&ĐT", "Sở KHĐT", "SKHĐT", "KH&ĐT"),
               successor="Sở Tài chính", successor_since=MERGER_2025),
    AgencySpec("Sở Công Thương", "department", ("SCT", "Sở Công thương")),
    AgencySpec("Sở Nông nghiệp và Phát triển nông thôn", "department",
               ("Sở NN&PTNT", "Sở NNPTNT", "NN&PTNT", "Sở Nông nghiệp và PTNT"),
               successor="Sở Nông nghiệp và Môi trường", successor_since=MERGER_2025),
    AgencySpec("Sở Tài nguyên và Môi trường", "department", ("Sở TN&MT", "Sở TNMT", "TN&MT"),
               successor="Sở Nông nghiệp và Môi trường", successor_since=MERGER_2025),
    AgencySpec("Sở Nông nghiệp và Môi trường", "department", ("Sở NN&MT", "Sở NNMT", "NN&MT")),
    AgencySpec("Sở Giao thông vận tải", "department", ("Sở GTVT", "GTVT"),
               successor="Sở Xây dựng", successor_since=MERGER_2025),
    AgencySpec("Sở Xây dựng", "department", ("SXD",)),
    AgencySpec("Sở Thông tin và Truyền thông", "department",
               ("Sở TT&TT", "Sở TTTT", "STTTT", "TT&TT", "Sở Thông tin - Truyền thông"),
               successor="Sở Khoa học và Công nghệ", successor_since=MERGER_2025),
    AgencySpec("Sở Khoa học và Công nghệ", "department", ("Sở KH&CN", "Sở KHCN", "SKHCN", "KH&CN")),
    AgencySpec("Sở Lao động - Thương binh và Xã hội", "department",
               ("Sở LĐ-TB&XH", "Sở LĐTBXH", "LĐ-TB&XH", "Sở Lao động Thương binh và Xã hội"),
               successor="Sở Nội vụ", successor_since=MERGER_2025),
    AgencySpec("Sở Văn hóa, Thể thao và Du lịch", "department",
               ("Sở VH-TT&DL", "Sở VHTTDL", "VH-TT&DL", "Sở Văn hóa Thể thao và Du lịch")),
    AgencySpec("Sở Giáo dục và Đào tạo", "department", ("Sở GD&ĐT", "Sở GDĐT", "GD&ĐT")),
    AgencySpec("Sở Y tế", "department", ("SYT",)),
    AgencySpec("Sở Ngoại vụ", "department", ()),
    AgencySpec("Sở Dân tộc và Tôn giáo", "department", ()),
    AgencySpec("Ban Dân tộc tỉnh", "department", ("Ban Dân tộc",),
               successor="Sở Dân tộc và Tôn giáo", successor_since=MERGER_2025),
    AgencySpec("Thanh tra tỉnh", "department", ()),
    AgencySpec("Văn phòng Ủy ban nhân dân tỉnh", "department", ("VP UBND tỉnh", "VPUB", "Văn phòng UBND tỉnh")),
)

PROVINCE: tuple[AgencySpec, ...] = (
    AgencySpec("Ủy ban nhân dân tỉnh", "people", ("UBND tỉnh", "Chủ tịch UBND tỉnh", "Chủ tịch Ủy ban nhân dân tỉnh")),
    AgencySpec("Hội đồng nhân dân tỉnh", "people", ("HĐND tỉnh",)),
    AgencySpec("Thường trực Hội đồng nhân dân tỉnh", "people", ("Thường trực HĐND tỉnh",)),
    AgencySpec("Tỉnh ủy", "party", ("Tỉnh ủy",)),
    AgencySpec("Ban Chấp hành Đảng bộ tỉnh", "party", ()),
    AgencySpec("Ban Thường vụ Tỉnh ủy", "party", ("BTV Tỉnh ủy", "BTVTU")),
    AgencySpec("Thường trực Tỉnh ủy", "party", ("TTTU",)),
    AgencySpec("Văn phòng Tỉnh ủy", "party", ("VPTU", "VP Tỉnh ủy")),
    AgencySpec("Ban Tổ chức Tỉnh ủy", "party", ("BTCTU",)),
    AgencySpec("Ban Tuyên giáo Tỉnh ủy", "party", ("BTGTU", "BTG Tỉnh ủy", "Ban Tuyên giáo"),
               successor="Ban Tuyên giáo và Dân vận Tỉnh ủy", successor_since=MERGER_2025),
    AgencySpec("Ban Dân vận Tỉnh ủy", "party", ("BDVTU", "Ban Dân vận"),
               successor="Ban Tuyên giáo và Dân vận Tỉnh ủy", successor_since=MERGER_2025),
    AgencySpec("Ban Tuyên giáo và Dân vận Tỉnh ủy", "party", ()),
    AgencySpec("Ban Nội chính Tỉnh ủy", "party", ("BNCTU",)),
    AgencySpec("Ủy ban Kiểm tra Tỉnh ủy", "party", ("UBKT Tỉnh ủy",)),
    AgencySpec("Ban cán sự đảng Ủy ban nhân dân tỉnh", "party", ("BCSĐ UBND tỉnh", "Ban cán sự đảng UBND tỉnh")),
    AgencySpec("Đảng đoàn Ủy ban Mặt trận Tổ quốc Việt Nam tỉnh", "party", ("Đảng đoàn MTTQ tỉnh",)),
    AgencySpec("Đảng đoàn Hội đồng nhân dân tỉnh", "party", ("Đảng đoàn HĐND tỉnh",)),
    AgencySpec("Ủy ban Mặt trận Tổ quốc Việt Nam tỉnh", "mass",
               ("Mặt trận Tổ quốc", "Mặt trận Tổ quốc Việt Nam", "Mặt trận Tổ quốc Việt Nam tỉnh",
                "UBMTTQVN tỉnh", "UBMTTQ tỉnh", "MTTQ tỉnh", "MTTQVN tỉnh", "UBMT TQVN tỉnh",
                "Ủy ban Mặt trận Tổ quốc Việt Nam", "Ủy ban MTTQ Việt Nam tỉnh")),
    AgencySpec("Tỉnh đoàn", "mass", ("Tỉnh Đoàn", "Đoàn Thanh niên tỉnh")),
    AgencySpec("Ban Thường vụ Tỉnh đoàn", "mass", ()),
    AgencySpec("Hội Liên hiệp Phụ nữ tỉnh", "mass", ("Hội LHPN tỉnh",)),
    AgencySpec("Hội Nông dân tỉnh", "mass", ()),
    AgencySpec("Hội Cựu chiến binh tỉnh", "mass", ()),
    AgencySpec("Liên đoàn Lao động tỉnh", "mass", ("LĐLĐ tỉnh",)),
    AgencySpec("Liên hiệp các Hội Khoa học và Kỹ thuật tỉnh", "mass",
               ("Liên hiệp các Hội Khoa học và Kỹ thuật", "LHH", "Liên hiệp hội", "Liên hiệp các hội KH&KT",
                "Liên hiệp các Hội KH&KT tỉnh")),
    # Since 2025 a province's newspaper and broadcaster are one body: "Báo và Phát thanh, Truyền hình Nghệ An".
    AgencySpec("Báo và Phát thanh, Truyền hình", "media", ("Báo và Phát thanh, Truyền hình tỉnh",)),
    AgencySpec("Đài Phát thanh và Truyền hình tỉnh", "media",
               ("Đài Phát thanh - Truyền hình tỉnh", "Đài PT-TH tỉnh", "Đài PTTH tỉnh", "Đài PT-TH", "Đài PTTH")),
    AgencySpec("Công an tỉnh", "other", ()),
    AgencySpec("Bộ Chỉ huy Quân sự tỉnh", "other", ("Bộ CHQS tỉnh",)),
)

_DEPARTMENT_NAMES = tuple(a.name for a in DEPARTMENTS if a.successor is None)
_MASS_NAMES = ("Ủy ban Mặt trận Tổ quốc Việt Nam tỉnh", "Tỉnh đoàn", "Hội Liên hiệp Phụ nữ tỉnh",
               "Hội Nông dân tỉnh", "Hội Cựu chiến binh tỉnh", "Liên đoàn Lao động tỉnh")
_PARTY_ADVISORY = ("Văn phòng Tỉnh ủy", "Ban Tổ chức Tỉnh ủy", "Ban Tuyên giáo và Dân vận Tỉnh ủy",
                   "Ban Nội chính Tỉnh ủy", "Ủy ban Kiểm tra Tỉnh ủy")

GROUPS: tuple[AgencySpec, ...] = (
    AgencySpec("Các Sở, ban, ngành thuộc tỉnh", "group",
               ("các sở, ban, ngành", "các sở, ban, ngành tỉnh", "các sở, ngành", "các sở, ngành tỉnh",
                "các sở, ngành cấp tỉnh", "sở, ban, ngành thuộc tỉnh", "các cơ quan chuyên môn",
                "các cơ quan chuyên môn thuộc Ủy ban nhân dân tỉnh", "các sở ban ngành",
                "các Sở, ban, ngành, đoàn thể", "các sở, ban, ngành, đoàn thể tỉnh",
                "các sở, ban, ngành, đoàn thể và địa phương", "các sở, ngành, địa phương",
                "các Sở, ban, ngành, địa phương"),
               members=_DEPARTMENT_NAMES),
    AgencySpec("Ủy ban nhân dân các huyện, thành phố", "group",
               ("UBND các huyện, thành phố", "UBND các huyện, thị xã, thành phố",
                "Ủy ban nhân dân các huyện, thị xã, thành phố", "UBND cấp huyện", "Ủy ban nhân dân cấp huyện",
                "các địa phương", "Ủy ban nhân dân các cấp", "UBND các cấp", "UBND các xã, phường",
                "Ủy ban nhân dân các xã, phường, đặc khu", "Ủy ban nhân dân các quận, huyện", "UBND các quận, huyện",
                "Ủy ban nhân dân các huyện, thị xã", "UBND các huyện, thị xã", "Ủy ban nhân dân quận, huyện")),
    AgencySpec("Các tổ chức chính trị - xã hội tỉnh", "group",
               ("các tổ chức chính trị - xã hội", "các đoàn thể chính trị - xã hội", "đoàn thể chính trị - xã hội",
                "các đoàn thể", "các đoàn thể tỉnh", "các hội, đoàn thể"),
               members=_MASS_NAMES),
    AgencySpec("Các huyện ủy, thành ủy", "group",
               ("các huyện ủy, thị ủy, thành ủy", "các huyện, thành ủy", "các huyện, thị ủy, thành ủy",
                "Ban Thường vụ các huyện ủy, thị ủy, thành ủy", "các huyện ủy, thành ủy, đảng ủy trực thuộc Tỉnh ủy")),
    AgencySpec("Các đảng ủy trực thuộc Tỉnh ủy", "group", ("đảng ủy trực thuộc", "đảng ủy trực thuộc Tỉnh ủy")),
    AgencySpec("Các ban cán sự đảng, đảng đoàn", "group",
               ("các ban cán sự đảng", "đảng đoàn", "các đảng đoàn", "các ban cán sự đảng, đảng đoàn")),
    AgencySpec("Các cơ quan tham mưu, giúp việc Tỉnh ủy", "group",
               ("các cơ quan tham mưu giúp việc Tỉnh ủy", "các ban đảng", "các ban đảng Tỉnh ủy"),
               members=_PARTY_ADVISORY),
)

SEED: tuple[AgencySpec, ...] = DEPARTMENTS + PROVINCE + GROUPS
