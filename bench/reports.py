"""Benchmark of the funder reports (issue 5 §7): time and peak memory of each workbook.

For each report, at each size of the demo dataset:
- **report**: `backoffice.reports.produce` (SQL aggregates + streamed lists + XlsxWriter);
- **XlsxWriter alone**: the same cells (read back from the report) written by XlsxWriter
  in constant-memory mode, without any database work — the floor the report is compared to;
- **peak memory** of the report (tracemalloc): it should not grow with the number of rows.

Times are the median of ``--repeat`` untraced runs (tracing slows Python down); the peak
is traced in one more run.

Usage::

    .venv/bin/python bench/reports.py --beneficiaries 10000 100000 > /tmp/bench.md
    .venv/bin/python bench/reports.py --beneficiaries 100000 \
        --database /tmp/parcours-bench-100000.sqlite3 --read-only --repeat 5

Prints a Markdown section to stdout (to merge into docs/benchmarks.md). Each size builds
its demo in a temporary SQLite file (or reuse one with --database when it exists;
``--read-only`` opens it read-only: nothing is created, built or written in it).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import tracemalloc
from datetime import date, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import openpyxl  # noqa: E402  (bench-only dependency, dev extra)
import xlsxwriter  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from backoffice import create_app  # noqa: E402
from backoffice.extensions import db  # noqa: E402
from backoffice.models import (  # noqa: E402
    Beneficiary,
    Enrolment,
    Programme,
    ProgrammeSession,
    PurchaseOrder,
)
from backoffice.reports import produce  # noqa: E402
from backoffice.reports.workbook import WORKBOOK_OPTIONS  # noqa: E402

TODAY = date(2026, 1, 15)
YEAR = TODAY.year - 1


def requests(session) -> list[tuple[str, dict]]:
    """One request per report on the demo data: (report, keyword arguments of produce)."""

    def biggest(model, programme_code):
        column = Enrolment.session_id if model is ProgrammeSession else Enrolment.purchase_order_id
        return session.scalar(
            select(column)
            .join(Programme, Enrolment.programme_id == Programme.id)
            .where(Programme.code == programme_code, column.is_not(None))
            .group_by(column)
            .order_by(func.count().desc())
            .limit(1)
        )

    year = (date(YEAR, 1, 1), date(YEAR, 12, 31))
    return [
        ("del-annual", dict(programme_code="DEL-L1", date_from=year[0], date_to=year[1])),
        (
            "del-end-of-path",
            dict(
                programme_code="DEL-L1",
                date_from=None,
                date_to=None,
                session_id=biggest(ProgrammeSession, "DEL-L1"),
            ),
        ),
        (
            "csp-monthly",
            dict(programme_code="CSP", date_from=date(YEAR, 1, 1), date_to=date(YEAR, 12, 31)),
        ),
        (
            "arjlj",
            dict(
                programme_code="ARJLJ",
                date_from=None,
                date_to=None,
                order_id=biggest(PurchaseOrder, "ARJLJ"),
            ),
        ),
        (
            "plie-interim",
            dict(programme_code="PLIE-L1", date_from=year[0], date_to=date(YEAR, 5, 31)),
        ),
        ("plie-final", dict(programme_code="PLIE-L1", date_from=year[0], date_to=year[1])),
    ]


#: What a run's time is: wall-clock seconds, or with --cpu this process's CPU seconds (less
#: disturbed by other work on a shared machine; the database's work is in-process on SQLite).
CLOCK = time.perf_counter


def measure(function, repeat: int = 1) -> tuple[float, int]:
    """(median seconds of ``repeat`` untraced calls, peak bytes traced in one more call)."""
    times = []
    for _ in range(repeat):
        started = CLOCK()
        function()
        times.append(CLOCK() - started)
    tracemalloc.start()
    function()
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return statistics.median(times), peak


def read_cells(path: Path) -> list[tuple[str, list[tuple]]]:
    """Every sheet's cell values (the baseline writes exactly these)."""
    book = openpyxl.load_workbook(path, read_only=True)
    sheets = [
        (ws.title, [tuple(r) for r in ws.iter_rows(values_only=True)]) for ws in book.worksheets
    ]
    book.close()
    return sheets


def write_alone(sheets, target: Path) -> None:
    """XlsxWriter alone, constant memory, writing the same cells with the same kinds."""
    book = xlsxwriter.Workbook(str(target), WORKBOOK_OPTIONS)
    date_format = book.add_format({"num_format": "dd/mm/yyyy"})
    for title, rows in sheets:
        sheet = book.add_worksheet(title)
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if value is None:
                    continue
                if isinstance(value, str):
                    sheet.write_string(r, c, value)
                elif isinstance(value, datetime):
                    sheet.write_datetime(r, c, value, date_format)
                else:
                    sheet.write_number(r, c, value)
    book.close()


def build_database(path: Path, beneficiaries: int, read_only: bool = False):
    """An app on a SQLite file holding the demo at ``beneficiaries`` people.

    ``read_only``: open an existing file read-only (SQLite URI ``mode=ro``), as it is.
    """
    if read_only:
        if not path.exists():
            raise SystemExit(f"--read-only : {path} n'existe pas.")
        url = f"sqlite:///file:{path.resolve()}?mode=ro&uri=true"
        return create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "TESTING": True})
    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}", "SECRET_KEY": "bench", "TESTING": True}
    )
    with app.app_context():
        db.create_all()
        if db.session.scalar(select(func.count(Beneficiary.id))) == 0:
            from backoffice.seeding.demo import build_demo

            started = time.perf_counter()
            build_demo(db.session, beneficiaries=beneficiaries, seed=1, today=TODAY)
            db.session.commit()
            print(
                f"<!-- demo of {beneficiaries} built in {time.perf_counter() - started:.0f} s -->",
                file=sys.stderr,
            )
    return app


def run(
    beneficiaries: int, database: Path | None, repeat: int = 1, read_only: bool = False
) -> list[tuple]:
    """Measure every report at one size; returns table lines."""
    workdir = Path(tempfile.mkdtemp(prefix="bench-reports-"))
    app = build_database(
        database or workdir / f"demo-{beneficiaries}.sqlite3", beneficiaries, read_only
    )
    lines = []
    with app.app_context():
        for code, kwargs in requests(db.session):
            out, alone = workdir / f"{code}.xlsx", workdir / f"{code}-alone.xlsx"

            def report(code=code, out=out, kwargs=kwargs):
                produce(db.session, code, str(out), producer="bench", produced_on=TODAY, **kwargs)

            def report_and_rollback(report=report):
                report()
                db.session.rollback()

            report_and_rollback()  # warm-up: database pages in the OS cache
            seconds, peak = measure(report_and_rollback, repeat)
            sheets = read_cells(out)
            cells = sum(1 for _t, rows in sheets for row in rows for v in row if v is not None)
            rows = max(len(rows) for _t, rows in sheets)
            alone_seconds, alone_peak = measure(
                lambda sheets=sheets, alone=alone: write_alone(sheets, alone), repeat
            )
            lines.append(
                (
                    beneficiaries,
                    code,
                    rows,
                    cells,
                    seconds,
                    alone_seconds,
                    peak,
                    alone_peak,
                    os.path.getsize(out),
                )
            )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--beneficiaries", type=int, nargs="+", default=[10_000])
    parser.add_argument("--database", type=Path, help="SQLite file to reuse (one size only)")
    parser.add_argument(
        "--read-only",
        action="store_true",
        help="open --database read-only (nothing created, built or written)",
    )
    parser.add_argument("--repeat", type=int, default=3, help="timed runs (median kept)")
    parser.add_argument(
        "--cpu", action="store_true", help="time in CPU seconds of this process, not wall-clock"
    )
    args = parser.parse_args()
    global CLOCK
    if args.cpu:
        CLOCK = time.process_time
    if args.read_only and args.database is None:
        parser.error("--read-only va avec --database")
    if args.database is not None and len(args.beneficiaries) > 1:
        parser.error("--database : une seule taille (--beneficiaries N)")
    results = []
    for n in args.beneficiaries:
        results += run(n, args.database, args.repeat, args.read_only)
    print("## Rapports des financeurs (XLSX)\n")
    print(
        f"Demo data (`build_demo`, seed 1, today {TODAY:%d/%m/%Y}), SQLite, Python "
        f"{sys.version.split()[0]}. *Report*: SQL aggregates + streamed lists + XlsxWriter "
        "(constant memory). *XlsxWriter alone*: the same cells, read back from the report, "
        f"written by XlsxWriter without any database work. Times: median of {args.repeat} "
        f"runs after a warm-up, in {'CPU' if args.cpu else 'wall-clock'} seconds; peak memory "
        "by tracemalloc in one more run.\n"
    )
    print(
        "| beneficiaries | report | rows (largest sheet) | cells | report (s) "
        "| XlsxWriter alone (s) | ratio | report peak (MiB) | XlsxWriter alone peak (MiB) "
        "| file (KiB) |"
    )
    print("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for n, code, rows, cells, s, a, peak, apeak, size in results:
        print(
            f"| {n:,} | {code} | {rows:,} | {cells:,} | {s:.2f} | {a:.2f} | {s / a:.1f} | "
            f"{peak / 2**20:.1f} | {apeak / 2**20:.1f} | {size / 1024:.0f} |".replace(",", " ")
        )


if __name__ == "__main__":
    main()
