"""Read a funder's list one row at a time (constant memory in the number of rows).

Funders send CSV exported from their tools (« ; » from a French Excel, « , » elsewhere;
UTF-8, with or without the BOM Excel writes, or Windows-1252) and XLSX workbooks, often
with a title (merged cells) above the header, blank lines, and dates stored as Excel
serial numbers. `read_rows` hides all that: it yields the header once, then each
non-blank line with its line number as the spreadsheet shows it.
"""
from __future__ import annotations

import codecs
import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

#: How many lines at the top may hold a title, a date, an agency… before the header.
HEADER_SEARCH_LINES = 15
#: Bytes looked at to choose the separator (the header is within them).
SNIFF_BYTES = 64 * 1024
#: Excel's day 0 (the 1900 date system, with its 29/02/1900 that never was).
EXCEL_EPOCH = date(1899, 12, 30)


class UnreadableFile(ValueError):
    """A file that cannot be read as a list; the message is French, for the user."""


@dataclass(frozen=True)
class Line:
    """One line of the list: its number in the file (1 = first line) and its cells."""

    number: int
    cells: tuple


def file_kind(filename: str) -> str:
    """« csv » or « xlsx » from the file's name; anything else is refused in French."""
    suffix = Path(filename or "").suffix.lower()
    if suffix in (".csv", ".txt"):
        return "csv"
    if suffix in (".xlsx", ".xlsm"):
        return "xlsx"
    if suffix == ".xls":
        raise UnreadableFile(
            "Fichier : le format .xls (Excel 97-2003) n'est pas lu ; enregistrez-le en .xlsx "
            "ou en .csv depuis Excel.")
    raise UnreadableFile(
        f"Fichier : « {Path(filename or '').name or 'sans nom'} » n'est ni un .csv ni un "
        ".xlsx.")


def _blank(cells) -> bool:
    return all(cell is None or (isinstance(cell, str) and not cell.strip()) for cell in cells)


def _filled(cells) -> int:
    return sum(1 for cell in cells if not (cell is None or (isinstance(cell, str)
                                                            and not cell.strip())))


# --- CSV --------------------------------------------------------------------------------

def csv_encoding(path: Path) -> str:
    """« utf-8-sig » when the whole file is UTF-8 (BOM or not), else « cp1252 » (what a
    French Windows Excel writes). Read in chunks: the file is never held in memory."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        with open(path, "rb") as stream:
            while chunk := stream.read(SNIFF_BYTES):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return "cp1252"
    return "utf-8-sig"


def csv_delimiter(sample: str) -> str:
    """The separator of the header line: the one of « ; », « , », tab that cuts the most
    cells on the widest of the first lines (a title line has none)."""
    best, best_count = ";", 0
    for line in sample.splitlines()[:HEADER_SEARCH_LINES]:
        for delimiter in (";", ",", "\t"):
            count = line.count(delimiter)
            if count > best_count:
                best, best_count = delimiter, count
    return best


def _csv_lines(path: Path) -> Iterator[Line]:
    encoding = csv_encoding(path)
    with open(path, encoding=encoding, newline="") as stream:
        delimiter = csv_delimiter(stream.read(SNIFF_BYTES))
        stream.seek(0)
        reader = csv.reader(stream, delimiter=delimiter)
        number = 1
        try:
            for cells in reader:
                yield Line(number, tuple(cells))
                number = reader.line_num + 1
        except csv.Error as error:
            raise UnreadableFile(f"Fichier : ligne {number} illisible ({error}).") from None


# --- XLSX -------------------------------------------------------------------------------

def _xlsx_lines(path: Path) -> Iterator[Line]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # noqa: BLE001 — zip, XML: any corruption is one message
        raise UnreadableFile(
            f"Fichier : ce classeur .xlsx est illisible ({type(error).__name__}).") from None
    try:
        sheet = next((ws for ws in workbook.worksheets
                      if getattr(ws, "sheet_state", "visible") == "visible"),
                     workbook.worksheets[0])
        for number, cells in enumerate(sheet.iter_rows(values_only=True), start=1):
            yield Line(number, tuple(cells))
    finally:
        workbook.close()


# --- Both -------------------------------------------------------------------------------

def lines(path: Path, filename: str | None = None) -> Iterator[Line]:
    """Every line of the file, blank ones included (numbered as the file shows them)."""
    kind = file_kind(filename or path.name)
    return _csv_lines(path) if kind == "csv" else _xlsx_lines(path)


def header_text(cell) -> str:
    """A header cell as text (« Date de naissance », a number header as « 2026 »)."""
    if cell is None:
        return ""
    return " ".join(str(cell).split())


def read_rows(path: Path, filename: str | None = None
              ) -> tuple[list[str], int, Iterator[Line]]:
    """(headers, header line number, the data lines after it, blank ones skipped).

    The header is the first line, among the first `HEADER_SEARCH_LINES` non-blank ones,
    that fills at least two cells and at least 60 % of the widest of them: a title in
    merged cells (one cell filled) or an « Agence : Lunel » line is passed over.
    """
    stream = lines(path, filename)
    top: list[Line] = []
    for line in stream:
        if not _blank(line.cells):
            top.append(line)
        if len(top) >= HEADER_SEARCH_LINES:
            break
    if not top:
        raise UnreadableFile("Fichier : il est vide (aucune ligne remplie).")
    widest = max(_filled(line.cells) for line in top)
    header = next((line for line in top
                   if _filled(line.cells) >= max(2, 0.6 * widest)), None)
    if header is None:
        raise UnreadableFile(
            "Fichier : aucune ligne d'en-tête trouvée (une ligne nommant au moins deux "
            "colonnes est attendue en haut du fichier).")
    headers = [header_text(cell) for cell in header.cells]
    while headers and not headers[-1]:
        headers.pop()

    def data() -> Iterator[Line]:
        for line in top[top.index(header) + 1:]:
            yield line
        for line in stream:
            if not _blank(line.cells):
                yield line

    return headers, header.number, data()


# --- Values -----------------------------------------------------------------------------

DATE_FORMATS = ("%d/%m/%Y", "%d/%m/%y", "%Y-%m-%d", "%d-%m-%Y", "%d.%m.%Y", "%Y/%m/%d",
                "%d-%m-%y", "%d.%m.%y")


def excel_serial_date(number: float) -> date | None:
    """The day an Excel serial number stands for (45000 → 15/03/2023), None when it is
    not a plausible one (before 1900 or after 2199)."""
    if not 1 <= number < 109574:  # 01/01/1900 … 31/12/2199
        return None
    return EXCEL_EPOCH + timedelta(days=int(number))


def parse_date(value) -> date | None:
    """A date written by a funder's tool: a date cell, an Excel serial number (as a
    number or as text), « 12/03/2026 », « 12/03/26 », « 2026-03-12 », « 12.03.2026 »,
    with or without a time. None when it is none of these (the caller says so)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return excel_serial_date(value)
    text = str(value).strip()
    if not text:
        return None
    if re.fullmatch(r"\d{4,6}(\.0+)?", text):  # « 45000 »: a serial written as text
        return excel_serial_date(float(text))
    text = text.split(" ")[0].split("T")[0]
    for fmt in DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


def cell_text(value) -> str:
    """A cell as the user reads it: « 12/03/2026 » for a date, « 1234 » for 1234.0."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        if value.time() == datetime.min.time():
            return f"{value:%d/%m/%Y}"
        return f"{value:%d/%m/%Y %H:%M}"
    if isinstance(value, date):
        return f"{value:%d/%m/%Y}"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return " ".join(str(value).split())

