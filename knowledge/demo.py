"""The demo plans shipped with the project (knowledge/data/demo), so a bare clone has something to ask about.

`NHACVIEC_LOAD_SAMPLES=demo` names them from an installed package; `make run` passes their folder.
"""

from __future__ import annotations

from pathlib import Path

DEMO_DIR = Path(__file__).parent / "data" / "demo"
DEMO_NAME = "demo"  # the value of NHACVIEC_LOAD_SAMPLES that means DEMO_DIR


def samples_folder(value: str) -> Path | None:
    """The folder NHACVIEC_LOAD_SAMPLES names ("demo": the shipped plans), or None when unset."""
    value = value.strip()
    if not value:
        return None
    return DEMO_DIR if value == DEMO_NAME else Path(value)


def loaded_line(count: int, numbers: list[str]) -> str:
    """The one line `nhacviec run` prints after filling an empty store with sample plans."""
    listed = ", ".join(numbers)
    return (f"Đã nạp {count} kế hoạch mẫu ({listed}) vào kho trống để hỏi thử. Nhập kế hoạch của cơ quan mình: "
            "`nhacviec import TỆP` hoặc (quản trị viên) gửi tệp vào cuộc trò chuyện với bot.")
