"""Lists made like the funders' (issue 23 §8), for the import tests and the bench:
a title in merged cells above the header, blank lines, accents, dates as Excel serial
numbers, « ; » and Windows-1252 from a French Excel, UTF-8 with a BOM."""
from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from pathlib import Path

CSP_HEADERS = ["Identifiant France Travail", "Civilité", "Nom", "Prénom", "Date de naissance",
               "Date d'orientation", "Conseiller", "Agence", "Commune"]
DEL_HEADERS = ["N° DEL", "Sexe", "Nom", "Prénom", "Né(e) le", "Date de prescription",
               "Prescripteur", "Lieu de prescription", "Motif"]

LAST_NAMES = ["Lefèvre-Dupont", "Çelik", "Prévost", "N'Guyen", "Wamytan", "Gaïa", "Oudinot",
              "Béranger", "Kaloï", "Müller"]
FIRST_NAMES = ["Anne-Marie", "Jérôme", "Zoé", "Noël", "Héléna", "François", "Maëlle", "Loïc"]


def excel_serial(day: date) -> int:
    """The number Excel stores for `day` (what a « Standard » cell shows)."""
    return (day - date(1899, 12, 30)).days


def csp_rows(count: int, start: int = 0, referred_on: date = date(2026, 3, 2)) -> list[list]:
    """`count` CSP adhesions, distinct people (birth dates differ), dates as serials."""
    rows = []
    for i in range(start, start + count):
        born = date(1955, 1, 1) + timedelta(days=(3 * i) % 14000)
        rows.append([f"FT{i:07d}", "Mme" if i % 2 else "M.", LAST_NAMES[i % len(LAST_NAMES)],
                     FIRST_NAMES[i % len(FIRST_NAMES)], excel_serial(born),
                     excel_serial(referred_on), "Mme Conseillère", "Agence de Lunel",
                     "Lunel"])
    return rows


def csv_bytes(headers: list[str], rows: list[list], *, delimiter: str = ";",
              encoding: str = "utf-8-sig", title: str | None = None,
              blank_every: int = 0) -> bytes:
    """A CSV as Excel saves it: optional title line and blank lines between rows."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    if title:
        writer.writerow([title])
        writer.writerow([])
    writer.writerow(headers)
    for i, row in enumerate(rows, start=1):
        writer.writerow(row)
        if blank_every and i % blank_every == 0:
            writer.writerow([""] * len(headers))
    return out.getvalue().encode(encoding)


def xlsx_file(path: Path, headers: list[str], rows: list[list], *,
              title: str | None = "Liste des adhésions CSP — mars 2026",
              blank_every: int = 0) -> Path:
    """An XLSX as France Travail sends it: a merged title row, the header, the rows."""
    import xlsxwriter

    workbook = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    sheet = workbook.add_worksheet("Adhésions")
    line = 0
    if title:
        sheet.merge_range(0, 0, 0, len(headers) - 1, title)
        line = 2
    for col, header in enumerate(headers):
        sheet.write_string(line, col, header)
    line += 1
    for i, row in enumerate(rows, start=1):
        for col, value in enumerate(row):
            if isinstance(value, int | float):
                sheet.write_number(line, col, value)
            elif value is not None:
                sheet.write_string(line, col, str(value))
        line += 1
        if blank_every and i % blank_every == 0:
            line += 1
    workbook.close()
    return path
