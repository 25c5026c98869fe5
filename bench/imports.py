"""Benchmark of the import of a funder's list (issue 23 « Speed »): 5 000 rows previewed
in under 5 s and imported in under 10 s, memory flat in the number of rows.

For each list size (a France Travail CSP workbook made like theirs: a merged title, blank
rows, Excel serial dates — tests/import_files.py), on the demo database of N people:

- **preview**: `services.imports.start_import` (read the file, keep its rows, check and
  match every row) and its commit, then the first page of the preview screen
  (``GET /admin/referral-imports/preview/``, logged in as the coordinator);
- **import**: `services.imports.confirm` and its commit (people, referrals, audit trail,
  the deadline engine's obligations of each referral);
- **undo**: `services.imports.undo` (which also leaves the database as it was).

Times are wall-clock and CPU seconds of the process (steadier on a shared machine). The
peak memory (tracemalloc) is measured in a second pass, since tracing slows everything.

Usage::

    nice .venv/bin/python bench/imports.py --beneficiaries 2000 --rows 1000 5000

Prints a Markdown section (for docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import tracemalloc
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import func, select  # noqa: E402

from backoffice.extensions import db  # noqa: E402
from backoffice.models import Beneficiary, Programme, ReferralImport, User  # noqa: E402
from backoffice.services import imports as service  # noqa: E402
from bench.common import (  # noqa: E402
    COORDINATOR,
    database_url,
    ensure_demo,
    logged_in_client,
    make_app,
)
from tests.import_files import CSP_HEADERS, csp_rows, xlsx_file  # noqa: E402

TODAY = date(2026, 1, 15)
REFERRED_ON = date(2026, 1, 12)


def _clock():
    return time.perf_counter(), time.process_time()


def _since(start) -> tuple[float, float]:
    wall, cpu = _clock()
    return wall - start[0], cpu - start[1]


def one_run(app, client, path: Path, rows: int, trace: bool) -> dict:
    """Preview, import and undo one list; the figures of each step."""
    result = {}
    with app.app_context():
        programme = db.session.scalar(select(Programme).where(Programme.code == "CSP"))
        if trace:
            tracemalloc.start()
        start = _clock()
        user = db.session.scalar(select(User).where(User.email == COORDINATOR))
        record = service.start_import(db.session, path, path.name, programme, user, TODAY)
        db.session.commit()
        result["preview"] = _since(start)
        if trace:
            result["preview_peak"] = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.reset_peak()
        counts = service.summary(db.session, record)
        assert counts.get("new", 0) == rows, counts
        record_id = record.id
        db.session.remove()
    if not trace:
        start = _clock()
        response = client.get(f"/admin/referral-imports/preview/?id={record_id}")
        assert response.status_code == 200, response.status_code
        result["page"] = _since(start)
    with app.app_context():
        record = db.session.get(ReferralImport, record_id)
        start = _clock()
        service.confirm(db.session, record, None, TODAY)
        db.session.commit()
        result["import"] = _since(start)
        if trace:
            result["import_peak"] = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.reset_peak()
        assert record.referrals_created == rows
        start = _clock()
        service.undo(db.session, record, None)
        db.session.commit()
        result["undo"] = _since(start)
        if trace:
            result["undo_peak"] = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.stop()
        db.session.remove()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--beneficiaries", type=int, default=2000)
    parser.add_argument("--rows", type=int, nargs="+", default=[1000, 5000])
    parser.add_argument("--db", choices=("sqlite", "env"), default="sqlite")
    args = parser.parse_args()
    # a demo of its own (the other benches' files may follow other branches' models)
    url = (f"sqlite:////tmp/parcours-bench-imports-{args.beneficiaries}.sqlite3"
           if args.db == "sqlite" else database_url(args.beneficiaries, args.db))
    app = make_app(url, WTF_CSRF_ENABLED=False)
    ensure_demo(app, args.beneficiaries, log=lambda line: print(f"<!-- {line} -->"))
    with app.app_context():
        people = db.session.scalar(select(func.count(Beneficiary.id)))
        engine = db.engine.dialect.name
    client = logged_in_client(app)
    folder = Path(tempfile.mkdtemp())
    lines = []
    for rows in args.rows:
        path = xlsx_file(folder / f"adhesions-{rows}.xlsx", CSP_HEADERS,
                         csp_rows(rows, start=900_000, referred_on=REFERRED_ON), blank_every=97)
        timed = one_run(app, client, path, rows, trace=False)
        traced = one_run(app, client, path, rows, trace=True)
        lines.append(
            f"| {rows:,} | {timed['preview'][0]:.1f} ({timed['preview'][1]:.1f}) | "
            f"{timed['page'][0]:.2f} | {timed['import'][0]:.1f} ({timed['import'][1]:.1f}) | "
            f"{timed['undo'][0]:.1f} ({timed['undo'][1]:.1f}) | {traced['preview_peak']:.1f} | "
            f"{traced['import_peak']:.1f} | {traced['undo_peak']:.1f} |".replace(",", " "))
    print(f"### {engine}, {people:,} beneficiaries in the database".replace(",", " ")
          .replace(f"{engine} ", f"{engine}, "))
    print()
    print("Seconds wall-clock (CPU seconds of the process in brackets); peaks by tracemalloc "
          "in a second pass.")
    print()
    print("| rows | preview: read, keep, check, match (s) | preview page (s) | import (s) | "
          "undo (s) | preview peak (MiB) | import peak (MiB) | undo peak (MiB) |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for line in lines:
        print(line)


if __name__ == "__main__":
    main()
