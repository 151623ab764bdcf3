"""A small store for the answerer's tests: tasks copied from the sample plans, written as ORM rows.

Independent of the importer on purpose: these tests judge the answers, not the extraction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from core.context import AppContext
from core.messages import Incoming
from handlers import router
from knowledge.agencies import Registry, ensure_agency
from knowledge.db import Database
from knowledge.models import Plan, Task, TaskAgency

TODAY = date(2026, 11, 23)


@dataclass
class T:
    ref: str
    text: str
    lead: list[str]
    coord: list[str] = field(default_factory=list)
    report: list[str] = field(default_factory=list)
    kind: str | None = None
    due: date | None = None
    month: int | None = None
    day: int | None = None
    when: str | None = None


PLANS: list[dict] = [
    {
        "identity": "3021/KH-UBND", "number": "3021/KH-UBND", "issued_on": date(2020, 8, 25),
        "title": "Triển khai thực hiện Quyết định số 696/QĐ-TTg ngày 25/5/2020 của Thủ tướng Chính phủ "
                 "trên địa bàn tỉnh",
        "tasks": [
            T("II.1.a", "Các Sở, ban, ngành thuộc tỉnh, Ủy ban nhân dân các huyện, thành phố có trách nhiệm tham "
              "mưu, phối hợp với cấp ủy cùng cấp tổ chức học tập, quán triệt làm rõ các quan điểm, mục tiêu và giải "
              "pháp của Nghị quyết số 20 đến đảng viên, cán bộ, công chức, viên chức.",
              ["Các Sở, ban, ngành thuộc tỉnh", "Ủy ban nhân dân các huyện, thành phố"]),
            T("II.1.b", "Sở Thông tin và Truyền thông, Sở Văn hóa, Thể thao và Du lịch, Đài Phát thanh và Truyền "
              "hình tỉnh, Báo Ninh Thuận có kế hoạch tổ chức tuyên truyền rộng rãi Nghị quyết số 20, Quyết định số "
              "696 và Kế hoạch số 201 cho nhân dân trên địa bàn tỉnh.",
              ["Sở Thông tin và Truyền thông", "Sở Văn hóa, Thể thao và Du lịch",
               "Đài Phát thanh và Truyền hình tỉnh", "Báo Ninh Thuận"]),
            T("II.2.c", "Sở Nội vụ nghiên cứu, tham mưu bổ sung tiêu chí về thúc đẩy phát triển, ứng dụng khoa học "
              "và công nghệ vào tiêu chí thi đua, khen thưởng đối với các cơ quan, đơn vị; hoàn thành trong năm 2020.",
              ["Sở Nội vụ"], kind="year", due=date(2020, 12, 31), when="trong năm 2020"),
            T("II.3.a", "Sở Tài chính chủ trì, phối hợp với Sở Khoa học và Công nghệ rà soát, đối chiếu các quy định "
              "hiện hành của Trung ương, của tỉnh về tài chính cho khoa học và công nghệ.",
              ["Sở Tài chính"], ["Sở Khoa học và Công nghệ"]),
            T("II.4.b", "Sở Thông tin và Truyền thông chủ trì, phối hợp với các Sở, ngành, địa phương xây dựng và "
              "hoàn thiện hạ tầng thông tin, xây dựng cơ sở dữ liệu phục vụ công tác nghiên cứu và quản lý.",
              ["Sở Thông tin và Truyền thông"], ["Các Sở, ban, ngành thuộc tỉnh"]),
            T("III.1", "Các Sở, ban, ngành thuộc tỉnh định kỳ, trước ngày 15 tháng 11 hằng năm báo cáo kết quả thực "
              "hiện Kế hoạch gửi về Sở Khoa học và Công nghệ để tổng hợp.",
              ["Các Sở, ban, ngành thuộc tỉnh"], report=["Sở Khoa học và Công nghệ"],
              kind="yearly", month=11, day=15, when="định kỳ, trước ngày 15 tháng 11 hằng năm"),
            T("III.2", "Sở Khoa học và Công nghệ theo dõi, đôn đốc; định kỳ trước ngày 15 tháng 12 hằng năm tổng hợp "
              "báo cáo tình hình, kết quả thực hiện và tham mưu, đề xuất gửi Ủy ban nhân dân tỉnh.",
              ["Sở Khoa học và Công nghệ"], report=["Ủy ban nhân dân tỉnh"],
              kind="yearly", month=12, day=15, when="định kỳ trước ngày 15 tháng 12 hằng năm"),
        ],
    },
    {
        "identity": "tong ket 10 nam nghi quyet 20", "number": None, "issued_on": None,
        "title": "Tổng kết 10 năm thực hiện Nghị quyết số 20-NQ/TW ngày 01/11/2012 của Ban Chấp hành Trung ương "
                 "Đảng Khóa XI về phát triển khoa học và công nghệ",
        "tasks": [
            T("III.1", "Ban Thường vụ các huyện ủy, thành ủy, các ban cán sự đảng, đảng đoàn xây dựng báo cáo tổng "
              "kết; gửi Ban Thường vụ Tỉnh ủy (qua Ban cán sự đảng Ủy ban nhân dân tỉnh) trước ngày 08/4/2022.",
              ["Các huyện ủy, thành ủy", "Các ban cán sự đảng, đảng đoàn"], report=["Ban Thường vụ Tỉnh ủy"],
              kind="date", due=date(2022, 4, 8), when="trước ngày 08/4/2022"),
            T("III.3", "Trên cơ sở báo cáo tổng kết của Ban cán sự đảng Ủy ban nhân dân tỉnh, Ban Tuyên giáo Tỉnh ủy "
              "thẩm định, trình Ban Thường vụ Tỉnh ủy trước ngày 15/4/2022.",
              ["Ban Tuyên giáo Tỉnh ủy"], report=["Ban Thường vụ Tỉnh ủy"],
              kind="date", due=date(2022, 4, 15), when="trước ngày 15/4/2022"),
            T("III.3", "Tham mưu Ban Thường vụ Tỉnh ủy tổ chức hội nghị tổng kết trước ngày 29/4/2022.",
              ["Ban Tuyên giáo Tỉnh ủy"], kind="date", due=date(2022, 4, 29), when="trước ngày 29/4/2022"),
        ],
    },
    {
        "identity": "ket luan 69", "number": None, "issued_on": None,
        "title": "Thực hiện Kết luận số 69-KL/TW, ngày 11-01-2024 của Bộ Chính trị về tiếp tục thực hiện Nghị quyết "
                 "số 20-NQ/TW",
        "tasks": [
            T("II.1", "Tổ chức nghiên cứu, quán triệt Kết luận số 69-KL/TW và Kế hoạch này đến cấp ủy, tổ chức đảng, "
              "cán bộ, đảng viên. Ban Tuyên giáo Tỉnh ủy hướng dẫn các huyện ủy, thành ủy, đảng ủy trực thuộc Tỉnh ủy "
              "triển khai thực hiện; hoàn thành trong quý II-2024.",
              ["Ban Tuyên giáo Tỉnh ủy"], kind="quarter", due=date(2024, 6, 30), when="trong quý II-2024"),
            T("II.1", "Đẩy mạnh tuyên truyền các chủ trương của Đảng, chính sách, pháp luật của Nhà nước về phát triển "
              "khoa học, công nghệ bằng nhiều hình thức phong phú.",
              ["Các cơ quan tham mưu, giúp việc Tỉnh ủy"], kind="ongoing", when="thường xuyên"),
        ],
    },
    {
        "identity": "15/KH-UBND", "number": "15/KH-UBND", "issued_on": date(2026, 10, 1),
        "title": "Chuyển đổi số trong ngành y tế năm 2026",
        "tasks": [
            T("II.1", "Sở Y tế hoàn thành triển khai bệnh án điện tử tại các bệnh viện tuyến tỉnh trước ngày "
              "05/12/2026.", ["Sở Y tế"], kind="date", due=date(2026, 12, 5), when="trước ngày 05/12/2026"),
            T("II.2", "Sở Xây dựng phối hợp Sở Y tế cải tạo hệ thống phòng máy chủ trước ngày 01/11/2026.",
              ["Sở Xây dựng"], ["Sở Y tế"], kind="date", due=date(2026, 11, 1), when="trước ngày 01/11/2026"),
        ],
    },
]


async def add_plan(db: Database, spec: dict[str, Any], tag: str = "") -> None:
    """Write one plan spec (identity, number, title, issued_on, tasks of T; signer and issuer optional) into
    the store, its agencies created as needed; `tag` keeps fingerprints and hashes apart between callers."""
    async with db.session() as s:
        reg = await Registry.load(s)
        plan = Plan(identity=spec["identity"], number=spec["number"], kind="Kế hoạch", title=spec["title"],
                    issued_on=spec["issued_on"], signer=spec.get("signer"), issuer=spec.get("issuer"),
                    content_hash=(tag or "x") * 64)
        s.add(plan)
        await s.flush()
        for pos, t in enumerate(spec["tasks"]):
            task = Task(plan_id=plan.id, position=pos, ref=t.ref, text=t.text, fingerprint=f"{tag}{pos}",
                        deadline_kind=t.kind, deadline_due=t.due, deadline_month=t.month, deadline_day=t.day,
                        deadline_text=t.when)
            s.add(task)
            await s.flush()
            n = 0
            for role, names in (("lead", t.lead), ("coordinator", t.coord), ("report_to", t.report)):
                for name in names:
                    info = await ensure_agency(s, reg, name)
                    s.add(TaskAgency(task_id=task.id, agency_id=info.id, role=role, written=name, position=n))
                    n += 1
        await s.commit()


async def load_sample(db: Database) -> None:
    """Write the sample plans above into a seeded store."""
    for spec in PLANS:
        await add_plan(db, spec)


async def ask(ctx: AppContext, text: str) -> str:
    """The one console reply to a question, as a focal point would read it (the channel and router included)."""
    [reply] = await router.handle(ctx, Incoming(channel="console", chat_id="q1", user_id="q1", text=text))
    return reply.text
