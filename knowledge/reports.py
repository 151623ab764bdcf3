"""Files made from the status views: an Excel workbook of tasks, an agency's deadlines as an .ics
calendar, a chart of the four states. Sent in chat (handlers.admin_status) and written by
`nhacviec export` (bot/cmd_export.py); all three are built here, from knowledge.status, once.

Libraries: openpyxl (the workbook: filters and a frozen header, which a CSV cannot carry),
icalendar (RFC 5545 text that Outlook and Google Calendar import), matplotlib on its Agg backend
(no display; a PNG in memory). None needs the internet.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from datetime import date, datetime, timedelta

from knowledge.status import LABELS, STATES, Counts, TaskStatus, per_agency

TASK_HEADER = ("Kế hoạch", "Mục", "Nhiệm vụ", "Chủ trì", "Phối hợp", "Báo cáo về", "Hạn (theo kế hoạch)",
               "Hạn áp dụng", "Trạng thái", "Ngày hoàn thành")
SUMMARY_HEADER = ("Cơ quan chủ trì", *(LABELS[s] for s in STATES), "Tổng")
COLUMN_WIDTHS = (22, 8, 80, 30, 30, 24, 24, 14, 26, 16)
DATE_FORMAT = "DD/MM/YYYY"
CHART_AGENCIES = 12  # bars in the chart: the agencies with most tasks (a phone shows about this many)
CHART_COLORS = {"done_on_time": "#2e7d32", "done_late": "#9ccc65", "open_in_term": "#1e88e5",
                "open_overdue": "#e53935"}
PRODID = "-//nhacviec//Nhắc việc//VI"


def workbook(statuses: list[TaskStatus], title: str = "") -> bytes:
    """Sheet "Nhiệm vụ" (one row per task, filters, frozen header) and sheet "Tổng hợp" (per lead agency)."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Nhiệm vụ"
    ws.append(TASK_HEADER)
    for st in statuses:
        ws.append([st.plan, st.ref, st.text, st.names("lead"), st.names("coordinator"), st.names("report_to"),
                   st.deadline_text, st.due, LABELS[st.state], st.done_on])
    for col, width in enumerate(COLUMN_WIDTHS, 1):
        ws.column_dimensions[ws.cell(1, col).column_letter].width = width
    for row in ws.iter_rows(min_row=2):
        row[2].alignment = Alignment(wrap_text=True, vertical="top")
        for cell in (row[7], row[9]):
            cell.number_format = DATE_FORMAT
    for cell in ws[1]:
        cell.font = Font(bold=True)
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = ws.dimensions
    summary = wb.create_sheet("Tổng hợp")
    summary.append(SUMMARY_HEADER)
    for (_aid, name), counts in per_agency(statuses).items():
        summary.append([name, *(counts.by_state[s] for s in STATES), counts.total])
    summary.column_dimensions["A"].width = 45
    for cell in summary[1]:
        cell.font = Font(bold=True)
    summary.freeze_panes = "A2"
    summary.auto_filter.ref = summary.dimensions
    if title:
        wb.properties.title = title
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def calendar(statuses: Iterable[TaskStatus], agency: str, now: datetime) -> bytes:
    """One all-day event per task of the agency that has a day (recurring ones repeat by RRULE)."""
    from icalendar import Calendar, Event

    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("x-wr-calname", f"Hạn nhiệm vụ — {agency}")
    cal.add("x-wr-timezone", "Asia/Ho_Chi_Minh")
    for st in statuses:
        if st.due is None:
            continue
        ev = Event()
        ev.add("uid", f"task-{st.task_id}@nhacviec")
        ev.add("dtstamp", now)
        ev.add("summary", f"Hạn: {st.plan} {st.ref}".strip() + f" — {_short(st.text, 80)}")
        ev.add("dtstart", st.due)
        ev.add("dtend", st.due + timedelta(days=1))
        lines = [st.text, f"Chủ trì: {st.names('lead') or '—'}"]
        if st.names("coordinator"):
            lines.append(f"Phối hợp: {st.names('coordinator')}")
        if st.deadline_text:
            lines.append(f"Thời hạn theo kế hoạch: {st.deadline_text}")
        lines.append(f"Trạng thái: {LABELS[st.state]}")
        ev.add("description", "\n".join(lines))
        if st.recurring and st.due == st.nominal:
            freq = {"yearly": "YEARLY", "monthly": "MONTHLY", "quarterly": "MONTHLY"}[st.recurring]
            rule: dict[str, object] = {"freq": freq}
            if st.recurring == "quarterly":
                rule["interval"] = 3
            ev.add("rrule", rule)
        cal.add_component(ev)
    return cal.to_ical()


def chart(counts: dict[tuple[int, str], Counts], title: str) -> bytes:
    """A horizontal stacked bar per agency (or plan) of the four states, as PNG bytes."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    items = list(counts.items())[:CHART_AGENCIES]
    names = [_short(name, 38) for (_id, name), _c in items][::-1]
    fig, ax = plt.subplots(figsize=(8, 1.2 + 0.45 * max(len(items), 1)), dpi=110)
    left = [0] * len(items)
    for state in STATES:
        values = [c.by_state[state] for _k, c in items][::-1]
        ax.barh(names, values, left=left, color=CHART_COLORS[state], label=LABELS[state])
        left = [a + b for a, b in zip(left, values, strict=True)]
    ax.set_title(title)
    ax.set_xlabel("Số nhiệm vụ")
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.02 + 0.5 / max(len(items), 1)), ncol=2, fontsize=8,
              frameon=False)
    fig.tight_layout()
    out = io.BytesIO()
    fig.savefig(out, format="png")
    plt.close(fig)
    return out.getvalue()


def _short(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0] + "…"


def file_stamp(day: date) -> str:
    return f"{day:%Y%m%d}"
