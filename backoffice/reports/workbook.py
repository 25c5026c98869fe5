"""The shared shape of every funder workbook (XlsxWriter, constant-memory mode).

A workbook has: a cover sheet (programme, period, date produced, producer), sheets of
key figures, distributions (with a native Excel chart) and lists (frozen header row,
column widths, date / percent formats, a total line), and a « Définitions » sheet that
defines every indicator in words.

Safety: every text — names, notes, anything a user typed — is written with
``write_string``, so « =1+1 », « +33 6… », « -x » or « @x » stay text and never become a
formula. Rates that cannot be computed (nobody to divide by) are written « — ».

Print (issue 22 §1): every sheet is set up for A4, one page wide (landscape when wide),
its header rows repeated, the report and its period in the page header and « page N sur
M » in the footer; the cover and the key figures fit one page each.

Constant-memory mode writes each row to disk as soon as the next one starts: a sheet must
be written top to bottom, and the memory used does not grow with the number of rows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from itertools import chain, islice

import xlsxwriter

from ..indicators.base import Indicator, Kind, Result, one_reading
from ..indicators.compliance import LEDGER, late_obligations, ledger
from ..indicators.lists import MASKED, Column, pseudonym
from ..indicators.targets import scope_targets

EMPTY_RATE = "—"
#: Excel's limit on sheet names.
MAX_SHEET_NAME = 31
#: Bars of one chart at most: beyond, the chart shows the first ones (the largest counts).
CHART_BARS = 20
#: Categories of a distribution shown one by one; the next ones are added up in one line
#: « Autres » (issue 22 §3: a typology by prescriber has hundreds of labels).
TOP_CATEGORIES = 10
OTHERS_LABEL = "Autres"
#: Print set-up (issue 22 §1): A4 (XlsxWriter's paper 9), one page wide; a sheet wider
#: than this many character widths is printed in landscape.
PAPER_A4 = 9
PORTRAIT_MAX_WIDTH = 95
#: Rows read before writing a list, to size its columns to their content (the rest of the
#: list is streamed: no second pass over 100 000 rows), and the widest column allowed.
WIDTH_SAMPLE = 200
MAX_COLUMN_WIDTH = 60
#: Excel refuses a header or footer longer than 255 characters.
MAX_HEADER = 255
#: Options every workbook is opened with (see module docstring).
WORKBOOK_OPTIONS = {
    "constant_memory": True,
    "strings_to_formulas": False,
    "strings_to_numbers": False,
    "strings_to_urls": False,
    "default_date_format": "dd/mm/yyyy",
}
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
#: Excel numbers days from 31/12/1899 and counts a 29/02/1900 that never was: from
#: 01/03/1900 a day's number is simply the days since 30/12/1899.
FIRST_SERIAL_DAY = date(1900, 3, 1)
_DAY_ZERO = date(1899, 12, 30).toordinal()


def excel_day(day: date) -> int:
    """The number Excel stores for ``day`` (from 01/03/1900), shown with a date format:
    what XlsxWriter's ``write_datetime`` writes, without converting to a date-time first."""
    return day.toordinal() - _DAY_ZERO


def _page_header(title: str, period: str) -> str:
    """The printed header: the report on the left, the period on the right (« & » doubled,
    Excel's escape; the title cut to stay within Excel's 255 characters)."""
    right = f"&R{period.replace('&', '&&')}" if period else ""
    room = MAX_HEADER - len(right) - 2
    left = title.replace("&", "&&")[:room].rstrip("&")
    return f"&L{left}{right}"


def _print_period(scope) -> str:
    """The period printed on every page: « Période du 01/01/2025 au 31/12/2025 »."""
    return f"Période {scope.period_label}"


def fitted_widths(columns: Sequence[Column], sample: Sequence[Sequence]) -> list[float]:
    """Column widths that fit the content of the first rows (issue 22 §3): the longest
    value of each column, the header's longest word, never more than MAX_COLUMN_WIDTH
    (longer texts wrap) nor less than the column's declared width for dates and numbers."""
    widths = []
    for i, column in enumerate(columns):
        longest = max((len(word) for word in column.header.split()), default=4)
        for values in sample:
            value = values[i]
            if isinstance(value, str):
                longest = max(longest, len(value))
            elif isinstance(value, date):
                longest = max(longest, 10)
            elif isinstance(value, int | float):
                longest = max(longest, len(f"{value:.1f}"))
        fitted = min(longest + 2, MAX_COLUMN_WIDTH)
        if column.kind in ("date", "int", "decimal", "percent"):
            fitted = max(fitted, min(column.width, 14))
        widths.append(fitted)
    return widths


def top_categories(items: Iterable[Sequence], *, sort: bool) -> Iterator[tuple]:
    """The first TOP_CATEGORIES rows (label, count, *extras), then one line « Autres (n
    modalités) » adding up the counts of the rest (issue 22 §3). ``sort``: rows in a list
    are first put in decreasing count when there are too many; streamed rows come sorted."""
    if sort:
        items = list(items)
        if len(items) > TOP_CATEGORIES:
            items.sort(key=lambda item: -item[1])
    rest: list | None = None
    grouped = 0
    for k, item in enumerate(items):
        if k < TOP_CATEGORIES:
            yield tuple(item)
            continue
        grouped += 1
        if rest is None:
            rest = [0] * (len(item) - 1)
        for j, extra in enumerate(item[1:]):
            rest[j] += extra or 0
    if rest is not None:
        yield (f"{OTHERS_LABEL} ({grouped} modalités)", *rest)


class ReportWorkbook:
    """One funder workbook; use as a context manager or call :meth:`close`."""

    def __init__(
        self,
        target,
        *,
        title: str,
        cover: Sequence[tuple[str, object]],
        period: str = "",
    ):
        """Open ``target`` (a path or a binary file object) and write the cover sheet.

        ``cover`` is a list of (French label, value) lines shown under the title;
        ``title`` and ``period`` are printed in the header of every page.
        """
        self.book = xlsxwriter.Workbook(target, WORKBOOK_OPTIONS)
        self.book.set_properties({"title": title, "comments": "Produit par Parcours"})
        self._cards: dict[str, Indicator] = {}
        self._names: set[str] = set()
        self._header = _page_header(title, period)
        # the sheet :meth:`table` wrote last, its last row and its columns' widths, for
        # :meth:`table_below`
        self._current = None
        self._end = 0
        self._widths: list[float] = []
        b = self.book
        self.f = {
            "title": b.add_format({"bold": True, "font_size": 14}),
            "subtitle": b.add_format({"bold": True, "font_size": 11, "font_color": "#1F4E79"}),
            "header": b.add_format(
                {
                    "bold": True,
                    "bg_color": "#DDEBF7",
                    "border": 1,
                    "text_wrap": True,
                    "valign": "top",
                }
            ),
            "label": b.add_format({"bold": True}),
            "text": b.add_format({"text_wrap": False}),
            "wrap": b.add_format({"text_wrap": True, "valign": "top"}),
            "int": b.add_format({"num_format": "0"}),
            "decimal": b.add_format({"num_format": "0.00"}),
            "percent": b.add_format({"num_format": "0.0%"}),
            "date": b.add_format({"num_format": "dd/mm/yyyy"}),
            "dash": b.add_format({"align": "right"}),
            "total_text": b.add_format({"bold": True, "top": 1}),
            "total_int": b.add_format({"bold": True, "top": 1, "num_format": "0"}),
            "total_percent": b.add_format({"bold": True, "top": 1, "num_format": "0.0%"}),
        }
        sheet = self._sheet("Couverture", one_page=True)
        sheet.set_column(0, 0, 28)
        sheet.set_column(1, 1, 60)
        sheet.write_string(0, 0, title, self.f["title"])
        i = 1
        for i, (label, value) in enumerate(cover, start=2):
            sheet.write_string(i, 0, label, self.f["label"])
            self.cell(sheet, i, 1, value)
        sheet.print_area(0, 0, i, 1)

    # --- low level ------------------------------------------------------------------

    def _sheet(self, name: str, *, landscape: bool = False, one_page: bool = False):
        """Add a sheet with a valid, unique Excel name (≤ 31 characters, no []:*?/\\) and
        its print set-up (issue 22 §1): A4, one page wide (``one_page``: one page in all),
        landscape when asked, the report and its period in the header, « page N sur M »
        in the footer."""
        clean = "".join(" " if c in "[]:*?/\\" else c for c in name)[:MAX_SHEET_NAME].strip()
        base, n = clean, 2
        while clean.lower() in self._names:
            suffix = f" ({n})"
            clean = base[: MAX_SHEET_NAME - len(suffix)] + suffix
            n += 1
        self._names.add(clean.lower())
        sheet = self.book.add_worksheet(clean)
        sheet.set_paper(PAPER_A4)
        if landscape:
            sheet.set_landscape()
        else:
            sheet.set_portrait()
        sheet.fit_to_pages(1, 1 if one_page else 0)
        sheet.set_margins(left=0.5, right=0.5, top=0.75, bottom=0.75)
        sheet.set_header(self._header)
        sheet.set_footer("&L&A&Rpage &P sur &N")
        return sheet

    def cell(
        self, sheet, row: int, col: int, value, kind: str = "text", total: bool = False
    ) -> None:
        """Write one value with the format of its kind; texts always as text."""
        if value is None:
            if kind == "percent":
                sheet.write_string(row, col, EMPTY_RATE, self.f["dash"])
            return
        if isinstance(value, str):
            sheet.write_string(
                row,
                col,
                value,
                self.f["total_text" if total else ("wrap" if kind == "wrap" else "text")],
            )
        elif isinstance(value, bool):
            sheet.write_string(row, col, "oui" if value else "non")
        elif isinstance(value, datetime):
            sheet.write_datetime(row, col, value, self.f["date"])
        elif isinstance(value, date):
            if value >= FIRST_SERIAL_DAY:
                sheet.write_number(row, col, excel_day(value), self.f["date"])
            else:
                sheet.write_datetime(row, col, value, self.f["date"])
        elif kind == "percent":
            sheet.write_number(row, col, value, self.f["total_percent" if total else "percent"])
        elif kind == "decimal":
            sheet.write_number(row, col, value, self.f["decimal"])
        else:
            sheet.write_number(row, col, value, self.f["total_int" if total else "int"])

    def _column_writer(self, sheet, kind: str) -> Callable[[int, int, object], None]:
        """A function (row, col, value) writing the cells of a column of ``kind``, as
        :meth:`cell` does; the usual values (texts, numbers, days, empty cells) go straight
        to XlsxWriter, with the formats chosen once for the column rather than per cell."""
        # XlsxWriter's own writers, past the wrapper of its public ones that reads « A1 »
        # cell names (these cells are numbered): a million cells in the DEL report
        cell = self.cell
        write_string = getattr(sheet, "_write_string", sheet.write_string)
        write_number = getattr(sheet, "_write_number", sheet.write_number)
        text_format = self.f["wrap" if kind == "wrap" else "text"]
        number_format = self.f[kind if kind in ("percent", "decimal") else "int"]
        date_format = self.f["date"]

        def write(row: int, col: int, value) -> None:
            of = value.__class__
            if of is str:
                write_string(row, col, value, text_format)
            elif value is None:
                if kind == "percent":
                    cell(sheet, row, col, value, kind)
            elif of is int or of is float:
                write_number(row, col, value, number_format)
            elif of is date and value >= FIRST_SERIAL_DAY:
                write_number(row, col, excel_day(value), date_format)
            else:  # booleans, date-times, enums…
                cell(sheet, row, col, value, kind)

        return write

    def remember(self, *cards: Indicator) -> None:
        """Note indicators shown in the workbook, for the « Définitions » sheet."""
        for card in cards:
            self._cards.setdefault(card.code, card)

    # --- sheets -----------------------------------------------------------------------

    def key_figures(self, name: str, results: Iterable[Result], title: str | None = None) -> None:
        """The key figures on one printed page, in three labelled tables (issue 22 §3: a
        score never sits in a column of rates): « Effectifs » (Indicateur | Effectif),
        « Taux » (Indicateur | Taux | Numérateur | Dénominateur) and « Moyennes »
        (Indicateur | Moyenne | Somme | Nombre); the value is always in column B, the source
        in column E."""
        results = list(results)
        sheet = self._sheet(name, one_page=True)
        widths = (58, 14, 14, 14, 30)
        for i, w in enumerate(widths):
            sheet.set_column(i, i, w)
        row = -1
        if title:
            sheet.write_string(0, 0, title, self.f["subtitle"])
            row = 0
        sheet.freeze_panes(1, 0)
        sheet.repeat_rows(0)
        groups = (
            ("Effectifs", "int", ("Effectif", "", ""),
             [r for r in results if r.indicator.kind not in (Kind.RATE, Kind.AVERAGE)]),
            ("Taux", "percent", ("Taux", "Numérateur", "Dénominateur"),
             [r for r in results if r.indicator.kind is Kind.RATE]),
            ("Moyennes (notes, durées…)", "decimal", ("Moyenne", "Somme", "Nombre"),
             [r for r in results if r.indicator.kind is Kind.AVERAGE]),
        )
        for label, kind, headers, group in groups:
            if not group:
                continue
            row += 2 if row >= 0 else 1
            sheet.write_string(row, 0, label, self.f["subtitle"])
            row += 1
            for col, header in enumerate(("Indicateur", *headers, "Source")):
                sheet.write_string(row, col, header, self.f["header"])
            for result in group:
                row += 1
                card = result.indicator
                self.remember(card)
                sheet.write_string(row, 0, card.name, self.f["wrap"])
                if result.value is None:
                    sheet.write_string(row, 1, EMPTY_RATE, self.f["dash"])
                else:
                    self.cell(sheet, row, 1, result.value, kind)
                if kind != "int":
                    self.cell(sheet, row, 2, result.numerator, "int")
                if kind != "int":
                    self.cell(sheet, row, 3, result.denominator, "int")
                sheet.write_string(row, 4, card.source, self.f["wrap"])
        sheet.print_area(0, 0, max(row, 0), len(widths) - 1)

    def table(
        self,
        name: str,
        columns: Sequence[Column],
        rows: Iterable[Sequence],
        *,
        title: str | None = None,
        totals: Sequence[int] = (),
        total_label: str = "Total",
        cards: Sequence[Indicator] = (),
        autofilter: bool = True,
    ) -> int:
        """A list or table sheet; ``totals`` are the indexes of columns to add up.

        Rows are written as they come (streamed). Returns the number of data rows.
        ``autofilter``: Excel allows one per sheet — off when :meth:`table_below` puts a
        longer list under this table.
        """
        self.remember(*cards)
        rows = iter(rows)
        sample = list(islice(rows, WIDTH_SAMPLE))
        widths = fitted_widths(columns, sample)
        sheet = self._sheet(name, landscape=sum(widths) > PORTRAIT_MAX_WIDTH)
        for i, width in enumerate(widths):
            sheet.set_column(i, i, width)
        top = 0
        if title:
            sheet.write_string(0, 0, title, self.f["subtitle"])
            top = 1
        sheet.freeze_panes(top + 1, 0)
        sheet.repeat_rows(top)
        n, self._end = self._rows(sheet, top, columns, chain(sample, rows), totals,
                                  total_label, autofilter)
        self._widths = widths
        self._current = sheet
        return n

    def table_below(
        self,
        columns: Sequence[Column],
        rows: Iterable[Sequence],
        *,
        title: str,
        autofilter: bool = True,
    ) -> int:
        """A second table on the sheet :meth:`table` wrote last, two rows under it (e.g.
        the late obligations under the « Respect des délais » table); the columns widen to
        fit both, and the page turns to landscape if they no longer fit a portrait one.
        Streamed like :meth:`table`; returns the number of data rows."""
        sheet = self._current
        rows = iter(rows)
        sample = list(islice(rows, WIDTH_SAMPLE))
        widths = fitted_widths(columns, sample)
        merged = [max(a, b) for a, b in zip(self._widths, widths, strict=False)]
        merged += self._widths[len(widths):] + widths[len(self._widths):]
        for i, width in enumerate(merged):
            sheet.set_column(i, i, width)
        if sum(merged) > PORTRAIT_MAX_WIDTH:
            sheet.set_landscape()
        top = self._end + 2
        sheet.write_string(top, 0, title, self.f["subtitle"])
        n, self._end = self._rows(sheet, top + 1, columns, chain(sample, rows), (), "",
                                  autofilter)
        self._widths = merged
        return n

    def _rows(self, sheet, top: int, columns: Sequence[Column], rows: Iterable[Sequence],
              totals: Sequence[int], total_label: str, autofilter: bool) -> tuple[int, int]:
        """The header at row ``top``, then the rows (streamed) and the total line;
        (data rows, last row written)."""
        for i, column in enumerate(columns):
            sheet.write_string(top, i, column.header, self.f["header"])
        sums = {i: 0 for i in totals}
        writers = [self._column_writer(sheet, column.kind) for column in columns]
        n = 0
        for n, values in enumerate(rows, start=1):
            row = top + n
            for i, (write, value) in enumerate(zip(writers, values, strict=True)):
                write(row, i, value)
            for i in sums:
                if isinstance(values[i], int | float):
                    sums[i] += values[i]
        last = top + n
        if totals:
            last += 1
            sheet.write_string(last, 0, total_label, self.f["total_text"])
            for i, value in sums.items():
                self.cell(sheet, last, i, value, columns[i].kind, total=True)
        if n == 0:
            last = top + 1 + bool(totals)
            sheet.write_string(last, 0, "Aucune ligne sur la période.")
        elif autofilter:  # issue 22 §3: every list can be filtered (the total line stays
            sheet.autofilter(top, 0, top + n, len(columns) - 1)  # outside); one per sheet
        return n, last

    def distributions(
        self,
        name: str,
        sections: Iterable[tuple],
        *,
        cards: Sequence[Indicator] = (),
        chart: bool = True,
        count_header: str = "Effectif",
        extra_headers: Sequence[str] = (),
    ) -> None:
        """Several small tables « Modalité | Effectif | Part » one under the other, each with
        a total line and, when ``chart``, a native bar chart beside it.

        ``sections`` are (title, rows) with rows (label, count, *extra counts), or
        (title, rows, total) when the total of the counts is known beforehand: the rows are
        then written as they come (streamed) instead of being read first.
        """
        self.remember(*cards)
        # the charts sit right of the tables: landscape
        sheet = self._sheet(name, landscape=chart)
        sheet.set_column(0, 0, 44)
        sheet.set_column(1, 2 + len(extra_headers), 13)
        headers = ("Modalité", count_header, "Part", *extra_headers)
        f = self.f
        row = 0
        for title, items, *known_total in sections:
            if known_total:
                (total,) = known_total
            else:
                items = list(items)
                total = sum(item[1] for item in items)
            sheet.write_string(row, 0, title, f["subtitle"])
            header_row = row + 1
            for col, header in enumerate(headers):
                sheet.write_string(header_row, col, header, f["header"])
            r = header_row
            for label, n, *extras in top_categories(items, sort=not known_total):
                r += 1
                sheet.write_string(r, 0, str(label), f["text"])
                sheet.write_number(r, 1, n, f["int"])
                if total:
                    sheet.write_number(r, 2, n / total, f["percent"])
                else:
                    sheet.write_string(r, 2, EMPTY_RATE, f["dash"])
                for k, extra in enumerate(extras):
                    self.cell(sheet, r, 3 + k, extra, "int")
            drawn = chart and r > header_row
            r += 1
            sheet.write_string(r, 0, "Total", f["total_text"])
            self.cell(sheet, r, 1, total, "int", total=True)
            self.cell(sheet, r, 2, 1.0 if total else None, "percent", total=True)
            if drawn:
                self._bar_chart(sheet, title, header_row + 1, r - 1, header_row)
            row = max(r + 2, header_row + (17 if drawn else 0))

    def typology(self, prefix: str, distributions: Iterable[tuple], card: Indicator) -> None:
        """The « Typologie » sheet: one distribution per dimension, streamed, each titled
        « {prefix} {dimension} » (distributions: (dimension, total, rows), typology.py)."""
        self.distributions(
            "Typologie",
            ((f"{prefix} {name.lower()}", rows, total) for name, total, rows in distributions),
            cards=[card],
        )

    def _bar_chart(self, sheet, title: str, first: int, last: int, anchor: int) -> None:
        """A native horizontal bar chart of the counts of rows ``first``..``last``; of the
        first CHART_BARS rows only when there are more (a typology by prescriber has
        thousands of labels, sorted by decreasing count: the chart shows the largest)."""
        if last - first + 1 > CHART_BARS:
            last = first + CHART_BARS - 1
            title = f"{title} ({CHART_BARS} premières modalités)"
        chart = self.book.add_chart({"type": "bar"})
        chart.add_series(
            {
                "name": title,
                "categories": [sheet.name, first, 0, last, 0],
                "values": [sheet.name, first, 1, last, 1],
                "data_labels": {"value": True},
            }
        )
        chart.set_title({"name": title, "name_font": {"size": 11}})
        chart.set_legend({"none": True})
        chart.set_y_axis({"reverse": True})
        # issue 22 §3: a value axis from zero (from 15.4, 17 against 16 looks like 2 to 1)
        chart.set_x_axis({"min": 0})
        chart.set_size({"width": 520, "height": max(220, 24 * (last - first + 1) + 90)})
        sheet.insert_chart(anchor, 4, chart)

    def definitions(self) -> None:
        """The « Définitions » sheet: every indicator shown, with its definition and source."""
        sheet = self._sheet("Définitions", landscape=True)
        sheet.set_column(0, 0, 46)
        sheet.set_column(1, 1, 100)
        sheet.set_column(2, 2, 28)
        for col, header in enumerate(("Indicateur", "Définition", "Source")):
            sheet.write_string(0, col, header, self.f["header"])
        sheet.freeze_panes(1, 0)
        sheet.repeat_rows(0)
        for row, card in enumerate(self._cards.values(), start=1):
            sheet.write_string(row, 0, card.name, self.f["wrap"])
            sheet.write_string(row, 1, card.definition, self.f["wrap"])
            sheet.write_string(row, 2, card.source, self.f["wrap"])

    def close(self) -> None:
        """Write the « Définitions » sheet last and close the file."""
        self.definitions()
        self.book.close()

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self.close()
        else:
            try:
                self.book.close()
            except Exception:  # noqa: BLE001 — the first error is the one to report
                pass
        return False


@contextmanager
def report_workbook(
    session,
    target,
    scope,
    *,
    title: str,
    producer: str,
    produced_on: date,
    pseudonymised: bool,
    after_period: Sequence[tuple[str, object]] = (),
) -> Iterator[ReportWorkbook]:
    """The workbook of a report on ``scope``, its cover sheet written (:func:`cover_lines`).

    Within the block the indicators' shared queries run once (``one_reading``); the
    « Définitions » sheet is written and the file closed when the block ends.
    """
    cover = cover_lines(
        scope,
        report_title=title,
        producer=producer,
        produced_on=produced_on,
        pseudonymised=pseudonymised,
        funder=scope.funder_name,
        after_period=after_period,
    )
    with one_reading(session), ReportWorkbook(
        target, title=title, cover=cover, period=_print_period(scope)
    ) as book:
        yield book


def cover_lines(
    scope,
    *,
    report_title: str,
    producer: str,
    produced_on: date,
    pseudonymised: bool,
    funder: str | None = None,
    after_period: Sequence[tuple[str, object]] = (),
) -> list[tuple[str, object]]:
    """The usual cover lines for a scope; ``after_period``: lines shown after « Période »."""
    lines: list[tuple[str, object]] = [
        ("Rapport", report_title),
        ("Financeur", funder or ""),
        ("Dispositif", f"{scope.programme_code} — {scope.programme_name}"),
        ("Période", scope.period_label),
        *after_period,
    ]
    if scope.session_label:
        lines.append(("Session", scope.session_label))
    if scope.order_number:
        lines.append(("Bon de commande", scope.order_number))
    lines += [
        ("Date de production", produced_on),
    ]
    if not pseudonymised:  # issue 22 §3: the pseudonymised version names no staff member
        lines.append(("Produit par", producer))
    lines += [
        ("Version", "pseudonymisée (sans données nominatives)" if pseudonymised else "nominative"),
    ]
    return lines


#: Columns of the « Objectifs du marché » sheet (issue 19 A.4).
TARGET_COLUMNS = (
    Column("Dispositif", width=10),
    Column("Année", "int", 8),
    Column("Objectif", width=40),
    Column("Cible", width=14),
    Column("Réalisé", "int", 10),
    Column("Projection fin d'année", "int", 12),
    Column("Situation", width=24),
    Column("Source", width=30),
)


def targets_sheet(book: ReportWorkbook, session, scope) -> int:
    """The « Objectifs du marché » sheet of a funder workbook: the contractual volumes of
    the report's programme for each year of its period (annual target, sessions, host
    structures…), the actual to the period's last day and the projection to the end of
    the year (``indicators/targets.py``). Every report calls it; returns the rows."""
    rows = ((line.programme_code, line.year, line.measure, line.target_label, line.actual,
             line.projected, line.situation_label, line.source)
            for line in scope_targets(session, scope))
    return book.table(
        "Objectifs du marché", TARGET_COLUMNS, rows,
        title=f"Objectifs du marché — {scope.programme_code}, réalisé au "
              f"{scope.date_to:%d/%m/%Y} et projection à la fin de l'année")


#: Columns of the « Respect des délais » sheet (issue 22 §4).
LEDGER_COLUMNS = (
    Column("Clause", width=14),
    Column("Règle de délai", "wrap", 44),
    Column("Dues", "int", 8),
    Column("Faites à temps", "int", 10),
    Column("Faites en retard", "int", 10),
    Column("Non faites", "int", 10),
    Column("À temps (parmi les faites)", "percent", 12),
    Column("Délai médian (jours)", "decimal", 10),
    Column("Retard médian (jours)", "decimal", 10),
)


#: Columns of the late obligations under the ledger (issue 22 §4: the drill-down).
LATE_COLUMNS = (
    Column("Clause", width=14),
    Column("Règle de délai", "wrap", 44),
    Column("Concerne", width=24),
    Column("Parcours n°", "int", 10),
    Column("À rendre le", "date", 12),
    Column("Faite le", "date", 12),
    Column("Retard (jours)", "decimal", 10),
    Column("Motif du retard", "wrap", 40),
)
#: The same, pseudonymised: a pseudonym, no path number, the reason masked (free text).
LATE_COLUMNS_PSEUDONYMISED = tuple(
    Column("Pseudonyme", width=12) if c.header == "Concerne" else c
    for c in LATE_COLUMNS if c.header != "Parcours n°")


def late_rows(session, scope, pseudonym_key: str | None = None) -> Iterator[tuple]:
    """The ledger's late obligations (``compliance.late_obligations``), streamed: whom
    each concerns (a pseudonym and the reason masked with ``pseudonym_key``)."""
    for late in late_obligations(session, scope):
        due, done = late.due_at.date(), late.done_at.date()
        if pseudonym_key is None:
            who = late.person if late.beneficiary_id is not None else late.subject
            yield (late.clause or "", late.rule, who, late.enrolment_id, due, done,
                   late.days_late, late.reason)
        else:
            who = (pseudonym(late.beneficiary_id, pseudonym_key)
                   if late.beneficiary_id is not None else late.subject)
            yield (late.clause or "", late.rule, who, due, done, late.days_late,
                   MASKED if late.reason else None)


def compliance_sheet(book: ReportWorkbook, session, scope,
                     pseudonym_key: str | None = None) -> int:
    """The « Respect des délais » sheet of a funder workbook: each deadline rule of the
    programme with its clause, the obligations due in the period, done on time, late, still
    open and the median delays (``indicators/compliance.py``); under it, the obligations
    done late, with their reason when one was given (pseudonymised with
    ``pseudonym_key``: no name, no path number, the reason masked). Every report calls it;
    returns the rules' rows."""
    rows = ((line.clause, line.rule, line.due, line.on_time, line.late, line.still_open,
             line.on_time_rate, line.median_days, line.median_late_days)
            for line in ledger(session, scope))
    n = book.table(
        "Respect des délais", LEDGER_COLUMNS, rows, totals=(2, 3, 4, 5),
        title=f"Respect des délais — {scope.programme_code}, échéances {scope.period_label}",
        cards=[LEDGER], autofilter=False)
    book.table_below(
        LATE_COLUMNS if pseudonym_key is None else LATE_COLUMNS_PSEUDONYMISED,
        late_rows(session, scope, pseudonym_key),
        title="Obligations faites en retard (détail, avec le motif du retard s'il a été "
              "donné)")
    return n
