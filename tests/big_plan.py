"""A large plan, built in memory (never committed): for tests that need an import that takes a while."""

from __future__ import annotations

AGENCIES = ("Sở Tài chính", "Sở Nội vụ", "Sở Y tế", "Sở Giáo dục và Đào tạo", "Sở Xây dựng", "Sở Công Thương")
ROMAN = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X")


def big_plan(megabytes: float) -> bytes:
    """A plan of about `megabytes` MB: sections of numbered items with lettered tasks, each with a lead,
    a coordinator and a deadline."""
    head = ("ỦY BAN NHÂN DÂN\nTỈNH NINH THUẬN\n\nSố: 9999/KH-UBND\n\nKẾ HOẠCH\n\n"
            "Thực hiện các nhiệm vụ trọng tâm năm 2026\n\nI. MỤC ĐÍCH, YÊU CẦU\n\n"
            "1. Bảo đảm thực hiện đúng tiến độ.\n\n")
    parts = [head]
    size, n = len(head.encode()), 0
    section = 1
    while size < megabytes * 1024 * 1024:
        section += 1
        parts.append(f"{ROMAN[(section - 1) % len(ROMAN)]}. NHIỆM VỤ NHÓM {section}\n\n")
        for item in range(1, 41):
            parts.append(f"{item}. Lĩnh vực {section}.{item}\n\n")
            for letter in "abcdefgh":
                n += 1
                lead, coord = AGENCIES[n % len(AGENCIES)], AGENCIES[(n + 1) % len(AGENCIES)]
                line = (f"{letter}) {lead} chủ trì, phối hợp với {coord} triển khai nội dung số {n} về cải cách "
                        f"hành chính, chuyển đổi số và nâng cao chất lượng phục vụ người dân; "
                        f"hoàn thành trước ngày {1 + n % 28}/{1 + n % 12}/2026.\n\n")
                parts.append(line)
                size += len(line.encode())
    return "".join(parts).encode()
