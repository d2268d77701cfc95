"""Excel (.xlsx) export of listings and reports, written with openpyxl.

Every listing and report in the web front end can be downloaded as a workbook. The web layer passes sheets
whose titles and headers are already in the reader's language; this module knows nothing of Flask. Cells keep
their types (numbers stay numbers, dates stay dates) so that a reader can sort, filter and sum in Excel, and a
test can read the file back with openpyxl and compare values, not strings.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

_SHEET_TITLE_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
_MAX_TITLE = 31  # Excel's limit on a sheet name
# Text that a spreadsheet would read as a formula: written with a leading apostrophe-equivalent (as text),
# so that an applicant's name such as "=HYPERLINK(...)" cannot run in an officer's Excel (CSV/formula injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass
class Sheet:
    """One worksheet: a title, the column headers and the rows (sequences of plain Python values)."""

    title: str
    headers: Sequence[str]
    rows: Iterable[Sequence[Any]]
    widths: Sequence[int] = field(default_factory=tuple)
    """Column widths in characters; columns without one are sized from the header."""
    formats: Sequence[str | None] = field(default_factory=tuple)
    """Excel number formats per column (e.g. ``"0.0%"``, ``"0.00"``), applied to the column's numbers."""


def _sheet_title(title: str, taken: set[str]) -> str:
    """A sheet name Excel accepts: no forbidden characters, at most 31 characters, unique in the workbook."""
    clean = _SHEET_TITLE_FORBIDDEN.sub("_", title).strip() or "Sheet"
    clean = clean[:_MAX_TITLE]
    candidate, n = clean, 2
    while candidate.lower() in taken:
        suffix = f" ({n})"
        candidate = clean[: _MAX_TITLE - len(suffix)] + suffix
        n += 1
    taken.add(candidate.lower())
    return candidate


def _cell_value(value: Any) -> Any:
    """A value openpyxl writes faithfully: aware datetimes lose their zone (Excel has none), text is defused."""
    if value is None or isinstance(value, bool | int | float | date):
        if isinstance(value, datetime) and value.tzinfo is not None:
            return value.replace(tzinfo=None)
        return value
    text = str(value)
    if text.startswith(_FORMULA_START):
        # A leading space keeps the text visible as written while Excel no longer reads it as a formula.
        return " " + text
    return text


def workbook_bytes(sheets: Sequence[Sheet]) -> bytes:
    """The workbook with ``sheets`` in order, as the bytes of an .xlsx file.

    Written in openpyxl's write-only mode, so a listing of tens of thousands of rows streams through
    without holding a cell object per value.
    """
    if not sheets:
        raise ValueError("a workbook needs at least one sheet")
    book = Workbook(write_only=True)
    taken: set[str] = set()
    for sheet in sheets:
        ws = book.create_sheet(_sheet_title(sheet.title, taken))
        for index, header in enumerate(sheet.headers, start=1):
            width = sheet.widths[index - 1] if index - 1 < len(sheet.widths) else max(10, 2 * len(str(header)) + 2)
            ws.column_dimensions[get_column_letter(index)].width = width
        ws.freeze_panes = "A2"
        header_cells = []
        for header in sheet.headers:
            cell = WriteOnlyCell(ws, value=str(header))
            cell.font = Font(bold=True)
            header_cells.append(cell)
        ws.append(header_cells)
        for row in sheet.rows:
            cells = []
            for index, value in enumerate(row):
                written = _cell_value(value)
                number_format = sheet.formats[index] if index < len(sheet.formats) else None
                if number_format and isinstance(written, int | float) and not isinstance(written, bool):
                    cell = WriteOnlyCell(ws, value=written)
                    cell.number_format = number_format
                    cells.append(cell)
                elif isinstance(written, datetime):
                    cell = WriteOnlyCell(ws, value=written)
                    cell.number_format = "yyyy-mm-dd hh:mm"
                    cells.append(cell)
                elif isinstance(written, date):
                    cell = WriteOnlyCell(ws, value=written)
                    cell.number_format = "yyyy-mm-dd"
                    cells.append(cell)
                else:
                    cells.append(written)
            ws.append(cells)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def safe_filename(stem: str, today: date) -> str:
    """An ASCII download name such as ``report-2026-11-29.xlsx`` (the Chinese name goes in filename*)."""
    clean = re.sub(r"[^A-Za-z0-9_-]+", "-", stem).strip("-") or "export"
    return f"{clean}-{today.isoformat()}.xlsx"
