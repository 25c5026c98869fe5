"""Benchmark of the pages and reports at scale (issue 8 §2–3), against the bare SQL.

Every page is requested through the real WSGI app — Flask's test client, logged in as
the demo coordinator through the login form (CSRF on) — ``--repeat`` times after a
warm-up; we keep the median and the 95th percentile. Beside each page:

- **bare SQL**: the statements the page sent to the database, replayed on a raw DBAPI
  cursor (``cursor.execute`` + ``fetchall``: no ORM, no form, no template), median of the
  same number of runs. The statements the empty logged-in page (« Mon compte ») runs too
  for the same user (loading the logged-in user, the navbar's overdue badge) are left out:
  the amended target (issue 25 §4, DEVELOPERS.md) adds that page to the SQL. The pager's
  ``count(*)`` is the list's own statement and is in (before the amendment it was left
  out with them, and the empty page, then 28 ms with the badge, carried the difference);
- **queries**: the number of SQL statements of one request, at 20 and at 100 rows per
  page for the lists (the same number means no N+1).

Each report of the indicators page is downloaded through
``/admin/indicators/telecharger/?report=…&programme=…&date_from=…&date_to=…`` and compared
with XlsxWriter writing the same cells alone (``bench/reports.py``: ``requests``,
``read_cells``, ``write_alone``) and with its own SQL statements replayed on a raw cursor
(« SQL alone »: the report cannot be faster than SQL + write); its peak Python memory is
traced with tracemalloc in a separate request (tracing slows the run, so timed runs are
untraced).

Usage::

    .venv/bin/python bench/run.py --beneficiaries 100000 --repeat 20 --db sqlite \
        --output /tmp/bench-sqlite.md
    bash .ci/postgres.sh .venv/bin/python bench/run.py --beneficiaries 100000 --db env \
        --output /tmp/bench-pg.md

The SQLite database is kept in /tmp/parcours-bench-N.sqlite3 and reused by later runs;
on PostgreSQL the demo is built in the throwaway cluster (same invocation).
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
import tracemalloc
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (  # noqa: E402
    COORDINATOR,
    NOW,
    database_url,
    ensure_demo,
    logged_in_client,
    make_app,
    stats,
)
from sqlalchemy import event, func, select  # noqa: E402

from backoffice.extensions import db  # noqa: E402
from backoffice.models import Beneficiary, Contact, Enrolment, Referral  # noqa: E402

#: Flask-Login's user loader, run by every request.
USER_LOADER = re.compile(r"FROM users\s+WHERE users\.id = ", re.S)
#: Statements that do not read the rows shown (bench/search.py: the search's own SQL).
OVERHEAD = (
    USER_LOADER,
    re.compile(r"^SELECT count\(", re.S),  # pager count and navbar badge
)

#: Targets of issue 8 §3, amended by issue 25 §4: a list or record page within 3 × (its
#: bare SQL + an empty logged-in page) and under 100 ms (300 ms in DEVELOPERS.md at
#: 100 000); the alerts page under 200 ms, a counsellor's and a coordinator's.
PAGE_RATIO, PAGE_MS, REPORT_RATIO = 3.0, 100.0, 2.0
ALERTS_MS = 200.0
#: The empty logged-in page the ratio adds to a page's SQL (« Mon compte »).
EMPTY_PAGE = "/admin/account/"
#: The counsellor whose alerts are measured (the demo's first referent).
COUNSELLOR = "referent@demo.fr"


@dataclass
class Case:
    group: str
    label: str
    url: str
    list_page: bool = False
    page_ms: list[float] = field(default_factory=list)
    bare_ms: list[float] = field(default_factory=list)
    queries: int = 0
    queries_100: int | None = None
    rows: int | None = None
    account: str | None = None  # None: the coordinator


def capture(app, client, url: str) -> tuple[list[tuple[str, object]], int]:
    """The statements (with parameters) of one request, and the status code."""
    seen: list[tuple[str, object]] = []

    def on(_conn, _cursor, statement, parameters, _context, _many):
        seen.append((statement, parameters))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", on)
    try:
        status = client.get(url).status_code
    finally:
        event.remove(engine, "before_cursor_execute", on)
    return seen, status


#: What a run's time is: wall-clock, or with --cpu this process's CPU time (less disturbed
#: by other work on a shared machine; on SQLite the database works in this process).
CLOCK = time.perf_counter
#: Issue 22 « Speed »: each report, ledger included, within 1.5 × its own SQL plus its
#: XlsxWriter write, or under 100 ms in all.
SQL_WRITE_RATIO, REPORT_MS = 1.5, 100


def rows_statements(statements):
    """The statements that read the rows shown (overhead and counts left out)."""
    return [(s, p) for s, p in statements if not any(o.search(s) for o in OVERHEAD)]


def own_statements(statements, empty_page: set[str]):
    """The page's own statements: those the empty logged-in page of the same user does
    not run (``empty_page``: their SQL texts) left out (see the docstring)."""
    return [(s, p) for s, p in statements if s not in empty_page]


def replay(app, statements, repeat: int) -> tuple[list[float], int]:
    """Run the statements on a raw DBAPI cursor ``repeat`` times: (ms per run, rows)."""
    times, rows = [], 0
    with app.app_context():
        raw = db.engine.raw_connection()
        try:
            cursor = raw.cursor()
            for attempt in range(repeat + 1):
                started = CLOCK()
                rows = 0
                for statement, parameters in statements:
                    cursor.execute(statement, parameters)
                    if cursor.description is not None:  # not a SET
                        rows += len(cursor.fetchall())
                if attempt:  # the first run warms the caches, like the page's warm-up
                    times.append((CLOCK() - started) * 1000)
            raw.rollback()
        finally:
            raw.close()
    return times, rows


def filter_arg(app, endpoint: str, label: str, operation_class: str) -> str:
    """The URL argument (``flt0_N``) of a list filter, by its label and class name."""
    with app.app_context():
        view = next(v for v in app.extensions["admin"][0]._views
                    if getattr(v, "endpoint", None) == endpoint)
        for index, flt in enumerate(view._filters):
            if str(flt.name) == label and type(flt).__name__ == operation_class:
                return f"flt0_{view.get_filter_arg(index, flt)}"
    raise LookupError(f"{endpoint}: no filter {label!r} {operation_class}")


def page_cases(app) -> list[Case]:
    """Lists (first page, search and its second page, filter, deep page), records and the
    alerts view."""
    with app.app_context():
        s = db.session
        # The most frequent name and commune; ties broken by name, so that the same term is
        # searched whatever the engine's plan (a search's cost depends on where its matches
        # lie in the list's order).
        common_name = s.scalar(select(Beneficiary.last_name).group_by(Beneficiary.last_name)
                               .order_by(func.count().desc(), Beneficiary.last_name).limit(1))
        commune = s.scalar(select(Beneficiary.commune).group_by(Beneficiary.commune)
                           .order_by(func.count().desc(), Beneficiary.commune).limit(1))
        totals = {model: s.scalar(select(func.count(model.id)))
                  for model in (Beneficiary, Referral, Enrolment, Contact)}
        # The record with the most history: a person with several paths and contacts.
        busiest = s.execute(
            select(Enrolment.beneficiary_id, Enrolment.id)
            .join(Contact, Contact.enrolment_id == Enrolment.id)
            .group_by(Enrolment.beneficiary_id, Enrolment.id)
            .order_by(func.count().desc()).limit(1)).one()
        s.remove()

    def deep(model) -> int:
        return int(totals[model] / 20 * 0.8)  # 80 % into the list, 20 rows a page

    search = urlencode({"search": common_name})
    lists = [
        ("beneficiaries", Beneficiary, (filter_arg(app, "beneficiaries", "Commune",
                                                   "FilterEqual"), commune)),
        ("referrals", Referral, (filter_arg(app, "referrals", "Statut", "EnumIsFilter"),
                                 "PENDING")),
        ("enrolments", Enrolment, (filter_arg(app, "enrolments", "Statut", "EnumIsFilter"),
                                   "ACTIVE")),
        ("contacts", Contact, (filter_arg(app, "contacts", "Présence", "EnumIsFilter"),
                               "UNEXCUSED")),
    ]
    cases = []
    for slug, model, (flt, value) in lists:
        base = f"/admin/{slug}/"
        cases += [
            Case(slug, "first page", base, list_page=True),
            Case(slug, f"search « {common_name} »", f"{base}?{search}", list_page=True),
            Case(slug, f"search « {common_name} », page 2", f"{base}?{search}&page=1",
                 list_page=True),
            Case(slug, f"filter {value}", f"{base}?{urlencode({flt: value})}",
                 list_page=True),
            Case(slug, f"page {deep(model)}", f"{base}?page={deep(model)}", list_page=True),
        ]
    person, path = busiest
    cases += [
        Case("record", "beneficiary details", f"/admin/beneficiaries/details/?id={person}"),
        Case("record", "beneficiary edit", f"/admin/beneficiaries/edit/?id={person}"),
        Case("record", "path details", f"/admin/enrolments/details/?id={path}"),
        Case("record", "path edit", f"/admin/enrolments/edit/?id={path}"),
        # issue 25 §4: the coordinator's page reads each kind up to the cap (« plus de 100 »)
        Case("alerts", "alerts of the coordinator (7 days)", "/admin/alerts/"),
        Case("alerts", "alerts of the coordinator, one kind", "/admin/alerts/?kind=absences"),
        Case("alerts", "alerts of the coordinator, closed paths' deadlines",
             "/admin/alerts/?scope=closed_paths"),
        Case("alerts", "alerts of a counsellor", "/admin/alerts/", account=COUNSELLOR),
        Case("home", "admin home (fixed cost)", "/admin/"),
        Case("home", "empty logged-in page (« Mon compte »)", EMPTY_PAGE),
    ]
    return cases


def check_filters(app, client, cases: list[Case]) -> None:
    """A filter the page did not apply would bench the wrong thing: fail loudly."""
    for case in cases:
        if "flt0_" in case.url:
            html = client.get(case.url).get_data(as_text=True)
            if "alert-danger" in html and "invalide" in html.lower():
                raise SystemExit(f"{case.url}: filtre refusé")


def measure_pages(app, coordinator, cases: list[Case], repeat: int, log) -> None:
    clients = {None: coordinator}
    empty_pages: dict[str | None, set[str]] = {}
    for case in cases:
        if case.account not in clients:
            clients[case.account] = logged_in_client(app, case.account)
        client = clients[case.account]
        if case.account not in empty_pages:  # what every page of this user runs
            client.get(EMPTY_PAGE)
            empty_pages[case.account] = {s for s, _ in capture(app, client, EMPTY_PAGE)[0]}
        statements, status = capture(app, client, case.url)  # also the warm-up
        assert status == 200, f"{case.url}: HTTP {status}"
        case.queries = len(statements)
        if case.list_page:
            sep = "&" if "?" in case.url else "?"
            more, status = capture(app, client, f"{case.url}{sep}page_size=100")
            assert status == 200
            case.queries_100 = len(more)
        started = CLOCK()
        client.get(case.url)
        # A page of seconds is far off target anyway: a few runs tell it (the bench ends).
        runs = repeat if CLOCK() - started < 1 else min(repeat, 3)
        for _ in range(runs):
            started = CLOCK()
            response = client.get(case.url)
            case.page_ms.append((CLOCK() - started) * 1000)
            assert response.status_code == 200
        case.bare_ms, case.rows = replay(app, own_statements(
            statements, empty_pages[case.account]), runs)
        median, _ = stats(case.page_ms)
        log(f"{case.group:14} {case.label:32} {median:8.1f} ms  bare "
            f"{stats(case.bare_ms)[0]:7.1f} ms  {case.queries} q")


@dataclass
class ReportCase:
    code: str
    url: str
    times: list[float] = field(default_factory=list)
    alone: list[float] = field(default_factory=list)
    peak: int = 0
    alone_peak: int = 0
    rows: int = 0
    size: int = 0
    queries: int = 0
    sql: list[float] = field(default_factory=list)


def report_cases(app) -> list[ReportCase]:
    """One download URL per report (same scopes as bench/reports.py)."""
    from reports import requests

    names = {"programme_code": "programme", "date_from": "date_from", "date_to": "date_to",
             "session_id": "session", "order_id": "order"}
    with app.app_context():
        wanted = requests(db.session)
        db.session.remove()
    cases = []
    for code, kwargs in wanted:
        args = {"report": code}
        for key, value in kwargs.items():
            if value is not None:
                args[names[key]] = value.isoformat() if hasattr(value, "isoformat") else value
        cases.append(ReportCase(code, f"/admin/indicators/telecharger/?{urlencode(args)}"))
    return cases


def measure_reports(app, client, cases: list[ReportCase], repeat: int, log) -> None:
    from reports import read_cells, write_alone

    workdir = Path(tempfile.mkdtemp(prefix="bench-run-"))
    for case in cases:
        statements, status = capture(app, client, case.url)  # warm-up
        assert status == 200, f"{case.url}: HTTP {status}"
        case.queries = len(statements)
        # the report's own statements on a raw cursor: the SQL floor under the report
        # (all but the user loader: no template, no badge; its aggregates start « count( »)
        own = [(s, p) for s, p in statements if not USER_LOADER.search(s)]
        case.sql, _rows = replay(app, own, repeat)
        response = client.get(case.url)
        target = workdir / f"{case.code}.xlsx"
        target.write_bytes(response.data)
        case.size = len(response.data)
        for _ in range(repeat):
            started = CLOCK()
            response = client.get(case.url)
            case.times.append((CLOCK() - started) * 1000)
            response.close()
        tracemalloc.start()
        client.get(case.url).close()
        case.peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        sheets = read_cells(target)
        case.rows = max(len(rows) for _t, rows in sheets)
        for _ in range(repeat):
            started = CLOCK()
            write_alone(sheets, workdir / f"{case.code}-alone.xlsx")
            case.alone.append((CLOCK() - started) * 1000)
        tracemalloc.start()
        write_alone(sheets, workdir / f"{case.code}-alone.xlsx")
        case.alone_peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        log(f"report {case.code:16} {stats(case.times)[0]:8.0f} ms  alone "
            f"{stats(case.alone)[0]:7.0f} ms  peak {case.peak / 2**20:.1f} MiB")


def _report_verdict(median: float, sql: float, alone: float) -> str:
    """Issue 22: ≤ 1.5 × (own SQL + XlsxWriter write), or under 100 ms."""
    if median < REPORT_MS:
        return "ok (< 100 ms)"
    if median <= SQL_WRITE_RATIO * (sql + alone):
        return "ok (≤ 1.5 ×)"
    return "**no**"


def markdown(engine: str, beneficiaries: int, repeat: int, report_repeat: int,
             pages: list[Case], reports: list[ReportCase], built: float | None) -> str:
    lines = [
        f"### {engine} — " + f"{beneficiaries:,} beneficiaries".replace(",", " "),
        "",
        f"Test client logged in as `{COORDINATOR}` (CSRF on); median and p95 of {repeat} "
        f"requests after a warm-up (reports: {report_repeat}), in "
        f"{'CPU' if CLOCK is time.process_time else 'wall-clock'} ms; bare SQL replayed on a raw "
        "DBAPI cursor. Queries: statements of one request (lists: at 20 / 100 rows a page)."
        + (f" Demo + obligations built in {built:.0f} s." if built else ""),
        "",
        "| page | URL | median (ms) | p95 (ms) | bare SQL (ms) | ratio to SQL + empty page "
        "| queries | target |",
        "|---|---|---:|---:|---:|---:|---:|---|",
    ]
    empty = next((stats(c.page_ms)[0] for c in pages if c.url == EMPTY_PAGE), 0.0)
    lines[2] += (f" Ratio = median ÷ (bare SQL + the empty logged-in page, {empty:.1f} ms); "
                 f"target ≤ {PAGE_RATIO:g} and under {PAGE_MS:g} ms (issue 25 §4), the "
                 f"alerts pages under {ALERTS_MS:g} ms.")
    for c in pages:
        median, p95 = stats(c.page_ms)
        bare = stats(c.bare_ms)[0]
        ratio = median / (bare + empty) if bare + empty else float("inf")
        queries = f"{c.queries} / {c.queries_100}" if c.queries_100 is not None \
            else str(c.queries)
        constant = c.queries_100 is None or c.queries_100 == c.queries
        if not constant:
            verdict = "**queries grow**"
        elif c.group == "alerts":  # issue 25 §4: a counsellor's and a coordinator's
            verdict = f"ok (< {ALERTS_MS:g} ms)" if median < ALERTS_MS else \
                f"**over {ALERTS_MS:g} ms**"
        elif c.url == EMPTY_PAGE:
            verdict = "(the ratio's fixed part)"
        elif median >= PAGE_MS:
            verdict = f"**over {PAGE_MS:g} ms**"
        elif ratio <= PAGE_RATIO:
            verdict = "ok"
        else:
            verdict = f"< {PAGE_MS:g} ms; **ratio > 3**"
        url = c.url if len(c.url) < 70 else c.url[:67] + "…"
        lines.append(f"| {c.group}: {c.label} | `{url}` | {median:.1f} | {p95:.1f} "
                     f"| {bare:.1f} | {ratio:.1f} | {queries} | {verdict} |")
    if reports:
        lines += [
            "",
            "| report | rows (largest sheet) | median (ms) | p95 (ms) | XlsxWriter alone (ms) "
            "| ratio | SQL alone (ms) | ratio to SQL + write | peak (MiB) "
            "| XlsxWriter alone peak (MiB) | queries | file (KiB) | issue 22 target |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
        ]
        for r in reports:
            median, p95 = stats(r.times)
            alone, sql = stats(r.alone)[0], stats(r.sql)[0]
            lines.append(
                f"| {r.code} | {r.rows:,} | {median:.0f} | {p95:.0f} | {alone:.0f} "
                f"| {median / alone:.1f} | {sql:.0f} | {median / (sql + alone):.1f} "
                f"| {r.peak / 2**20:.1f} | {r.alone_peak / 2**20:.1f} "
                f"| {r.queries} | {r.size / 1024:.0f} | {_report_verdict(median, sql, alone)} |"
                .replace(",", " "))
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--beneficiaries", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--report-repeat", type=int, default=3,
                        help="répétitions par rapport (défaut 3 : un rapport prend des secondes)")
    parser.add_argument("--db", choices=("sqlite", "env"), default="sqlite")
    parser.add_argument("--output", type=Path, help="fichier Markdown (défaut : stdout)")
    parser.add_argument("--only", choices=("pages", "reports"), help="une seule partie")
    parser.add_argument("--now", type=datetime.fromisoformat, default=NOW,
                        help="le « maintenant » des alertes (défaut : celui de la démo du banc ; "
                        "une base faite par « flask seed demo » : le jour où elle l'a été)")
    parser.add_argument("--cpu", action="store_true",
                        help="temps CPU de ce processus plutôt que temps écoulé")
    args = parser.parse_args()
    global CLOCK
    if args.cpu:
        CLOCK = time.process_time

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    url = database_url(args.beneficiaries, args.db)
    app = make_app(url)
    import backoffice.admin.alerts as alerts_view

    alerts_view.current_moment = lambda: args.now  # the demo's « now »
    built = ensure_demo(app, args.beneficiaries, log)
    with app.app_context():
        engine = "PostgreSQL " + db.session.scalar(select(func.current_setting(
            "server_version"))) if db.engine.dialect.name == "postgresql" else \
            "SQLite " + db.session.scalar(select(func.sqlite_version()))
        db.session.remove()
    client = logged_in_client(app)
    pages, reports = [], []
    if args.only != "reports":
        pages = page_cases(app)
        check_filters(app, client, pages)
        measure_pages(app, client, pages, args.repeat, log)
    if args.only != "pages":
        reports = report_cases(app)
        measure_reports(app, client, reports, args.report_repeat, log)
    text = markdown(engine, args.beneficiaries, args.repeat, args.report_repeat, pages,
                    reports, built)
    if args.output:
        args.output.write_text(text)
        log(f"écrit : {args.output}")
    else:
        print(text)


if __name__ == "__main__":
    main()
