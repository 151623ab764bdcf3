"""Builds g_tinh_uy_ctr.docx: a provincial Party committee's action programme as Word writes it (a
two-column header table, a task table with a two-row merged header, group rows merged across, a time
cell merged down its rows). Run: ../../../.venv/bin/python make_g_docx.py"""

from __future__ import annotations

from pathlib import Path

import docx

HERE = Path(__file__).parent

BODY = [
    "CHƯƠNG TRÌNH HÀNH ĐỘNG",
    "thực hiện Nghị quyết số 66-NQ/TW ngày 30/4/2025 của Bộ Chính trị về đổi mới công tác xây dựng và thi hành pháp luật",
    "Thực hiện Nghị quyết số 66-NQ/TW của Bộ Chính trị, Ban Thường vụ Tỉnh ủy xây dựng Chương trình hành động như sau:",
    "I. MỤC ĐÍCH, YÊU CẦU",
    "1. Quán triệt sâu sắc nội dung Nghị quyết đến cán bộ, đảng viên.",
    "II. NHIỆM VỤ, GIẢI PHÁP",
    "1. Ban Tuyên giáo và Dân vận Tỉnh ủy chủ trì, phối hợp với Ban cán sự đảng Ủy ban nhân dân tỉnh tổ chức "
    "hội nghị quán triệt Nghị quyết cho cán bộ chủ chốt của tỉnh, hoàn thành trong tháng 7/2025.",
    "2. Ban cán sự đảng Ủy ban nhân dân tỉnh lãnh đạo, chỉ đạo rà soát toàn bộ văn bản quy phạm pháp luật "
    "của tỉnh, đề xuất sửa đổi, bổ sung những quy định không còn phù hợp, xong trước ngày 30/9/2025.",
    "3. Đảng đoàn Hội đồng nhân dân tỉnh chỉ đạo tăng cường giám sát việc thi hành pháp luật; thực hiện hằng năm.",
    "4. Các nhiệm vụ cụ thể khác tại Phụ lục kèm theo.",
    "III. TỔ CHỨC THỰC HIỆN",
    "1. Các huyện ủy, thị ủy, thành ủy, đảng ủy trực thuộc Tỉnh ủy xây dựng kế hoạch thực hiện, "
    "gửi về Ban Thường vụ Tỉnh ủy (qua Văn phòng Tỉnh ủy) trước ngày 15/8/2025.",
    "2. Văn phòng Tỉnh ủy chủ trì theo dõi, đôn đốc, định kỳ hằng năm tổng hợp kết quả thực hiện, báo cáo Ban Thường vụ Tỉnh ủy.",
    "Nơi nhận:",
    "- Ban Bí thư Trung ương Đảng,",
    "- Lưu Văn phòng Tỉnh ủy.",
    "T/M BAN THƯỜNG VỤ",
    "PHÓ BÍ THƯ THƯỜNG TRỰC",
    "Nguyễn Hữu Đông",
    "PHỤ LỤC",
    "NHIỆM VỤ CỤ THỂ THỰC HIỆN CHƯƠNG TRÌNH HÀNH ĐỘNG",
]
# (STT, Nội dung, Chủ trì, Phối hợp, Thời gian); None in time = merged with the cell above.
ROWS = [
    ("I", "ĐỔI MỚI CÔNG TÁC XÂY DỰNG PHÁP LUẬT", None, None, None),
    ("1", "Xây dựng quy chế phối hợp trong công tác xây dựng văn bản quy phạm pháp luật của tỉnh",
     "Sở Tư pháp", "Văn phòng Ủy ban nhân dân tỉnh", "Quý III/2025"),
    ("2", "Nâng cao chất lượng thẩm định dự thảo văn bản quy phạm pháp luật", "Sở Tư pháp", "Các sở, ban, ngành", None),
    ("3", "Lấy ý kiến Nhân dân, doanh nghiệp đối với dự thảo nghị quyết của Hội đồng nhân dân tỉnh",
     "Văn phòng Đoàn đại biểu Quốc hội và Hội đồng nhân dân tỉnh", "Ủy ban Mặt trận Tổ quốc Việt Nam tỉnh", None),
    ("II", "TỔ CHỨC THI HÀNH PHÁP LUẬT", None, None, None),
    ("4", "Đẩy mạnh phổ biến, giáo dục pháp luật trên nền tảng số", "Sở Tư pháp",
     "Báo và Phát thanh, Truyền hình tỉnh", "Thường xuyên"),
    ("5", "Kiểm tra việc thi hành pháp luật trong lĩnh vực đất đai, xây dựng", "Thanh tra tỉnh",
     "Sở Nông nghiệp và Môi trường; Sở Xây dựng", "Tháng 11/2025"),
    ("6", "Bồi dưỡng nghiệp vụ cho đội ngũ làm công tác pháp chế", "Sở Nội vụ", "Sở Tư pháp", "Năm 2025"),
]


def build() -> bytes:
    d = docx.Document()
    head = d.add_table(rows=3, cols=2)
    for r, (left, right) in enumerate([("TỈNH ỦY QUẢNG NAM", "ĐẢNG CỘNG SẢN VIỆT NAM"), ("*", ""),
                                       ("Số 28-CTr/TU", "Tam Kỳ, ngày 20 tháng 6 năm 2025")]):
        head.cell(r, 0).text = left
        head.cell(r, 1).text = right
    for p in BODY:
        d.add_paragraph(p)
    t = d.add_table(rows=2 + len(ROWS), cols=5)
    for c, h in enumerate(["STT", "Nội dung nhiệm vụ", "Cơ quan thực hiện", "", "Thời gian hoàn thành"]):
        t.cell(0, c).text = h
    t.cell(0, 2).merge(t.cell(0, 3))
    t.cell(1, 2).text, t.cell(1, 3).text = "Chủ trì", "Phối hợp"
    for c in (0, 1, 4):
        t.cell(0, c).merge(t.cell(1, c))
    start = None
    for r, (ref, text, lead, coord, due) in enumerate(ROWS, start=2):
        t.cell(r, 0).text, t.cell(r, 1).text = ref, text
        if lead is None:
            t.cell(r, 1).merge(t.cell(r, 4))
            start = None
            continue
        t.cell(r, 2).text, t.cell(r, 3).text = lead, coord or ""
        if due is not None:
            t.cell(r, 4).text = due
            start = r
        elif start is not None:
            t.cell(start, 4).merge(t.cell(r, 4))
    import io
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


if __name__ == "__main__":
    (HERE / "g_tinh_uy_ctr.docx").write_bytes(build())
