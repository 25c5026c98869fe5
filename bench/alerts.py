"""Benchmark of the deadline engine and the alerts view (issue 4 §7).

For each size of the demo dataset (`backoffice.seeding.demo.build_demo`):
- **rebuild**: `flask obligations rebuild` on a base without obligations, then again
  (idempotent: nothing to change, the time of reading everything back);
- **bare SQL**: the query behind the list (`services.alerts.obligations_query`: open
  obligations due before now + 7 days, 200 rows, through the index
  `ix_obligations_open_due`) and the menu badge's count;
- **service**: the whole list (`services.alerts.alert_list`: obligations, totals and the
  seven behavioural alerts);
- **view**: `GET /admin/alerts/` through the test client, logged in as the coordinator
  (everything) and as a counsellor (own paths).

Usage::

    .venv/bin/python bench/alerts.py --beneficiaries 10000 100000 > /tmp/bench-alerts.md

Prints a Markdown section to stdout (to merge into docs/benchmarks.md). Each size builds
its demo in a temporary SQLite file (or reuses one with --database when it exists).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import date, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import func, select  # noqa: E402

from backoffice import create_app  # noqa: E402
from backoffice.extensions import db  # noqa: E402
from backoffice.models import Beneficiary, Obligation, User  # noqa: E402
from backoffice.services import alerts as service  # noqa: E402
from backoffice.services.obligations import rebuild  # noqa: E402

TODAY = date(2026, 1, 15)
NOW = datetime(2026, 1, 15, 9, 0)
REPEAT = 5


def _median(fn, repeat: int = REPEAT) -> tuple[float, object]:
    """Median wall time of ``fn()`` in milliseconds (after one warm-up call)."""
    result = fn()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), result


def _app(database: str):
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{database}", "SECRET_KEY": "bench",
                      "WTF_CSRF_ENABLED": False})
    from backoffice.admin.alerts import AlertsView

    if "alerts.index_view" not in app.view_functions:
        app.extensions["admin"][0].add_view(AlertsView())
    import backoffice.admin.alerts as view_module

    view_module.current_moment = lambda: NOW
    return app


def measure(beneficiaries: int, database: str | None) -> dict:
    """Build (or reuse) the demo, rebuild the obligations, time the list four ways."""
    from backoffice.seeding.demo import DEMO_PASSWORD, REFERENT_EMAIL, build_demo

    path = database or os.path.join(tempfile.mkdtemp(prefix="bench-alerts-"), "demo.sqlite3")
    app = _app(path)
    row: dict = {"beneficiaries": beneficiaries}
    with app.app_context():
        db.create_all()
        if db.session.scalar(select(func.count(Beneficiary.id))) == 0:
            started = time.perf_counter()
            build_demo(db.session, beneficiaries=beneficiaries, seed=1, today=TODAY)
            db.session.commit()
            row["demo_s"] = time.perf_counter() - started
        db.session.query(Obligation).delete()
        db.session.commit()
        started = time.perf_counter()
        first = rebuild(db.session, NOW, release_memory=True).total
        db.session.commit()
        row["rebuild_s"] = time.perf_counter() - started
        started = time.perf_counter()
        second = rebuild(db.session, NOW, release_memory=True).total
        db.session.commit()
        row["rebuild_again_s"] = time.perf_counter() - started
        assert second.changed == 0, second.counts()
        row["obligations"] = first.created
        filters = service.AlertFilters()
        row["sql_ms"], rows = _median(
            lambda: db.session.execute(service.obligations_query(NOW, filters)).all())
        row["listed"] = len(rows)
        coordinator = db.session.scalar(select(User).where(User.email == "coordination@demo.fr"))
        row["badge_ms"], row["overdue"] = _median(
            lambda: service.overdue_count(db.session, coordinator, NOW))
        row["service_ms"], data = _median(
            lambda: service.alert_list(db.session, coordinator, NOW, filters))
        row["alerts"] = len(data.alerts)
        db.session.remove()
    for label, email in (("view_coordinator_ms", "coordination@demo.fr"),
                         ("view_counsellor_ms", REFERENT_EMAIL)):
        client = app.test_client()
        client.post("/login", data={"email": email, "password": DEMO_PASSWORD})

        def get(client=client):
            response = client.get("/admin/alerts/")
            assert response.status_code == 200, response.status_code
            return response

        row[label], _ = _median(get)
    return row


def markdown(rows: list[dict]) -> str:
    lines = [
        "## Alerts: deadline engine and /admin/alerts/ (bench/alerts.py)",
        "",
        f"SQLite file, demo built with `build_demo(seed=1, today={TODAY:%d/%m/%Y})`, list "
        f"as of {NOW:%d/%m/%Y %H:%M}, horizon 7 days, 200 rows shown; median of {REPEAT} "
        "runs after a warm-up.",
        "",
        "| beneficiaries | obligations | rebuild | rebuild again | bare SQL (200 rows) "
        "| menu badge | service (list + totals + alerts) | view, coordinator "
        "| view, counsellor |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['beneficiaries']:,} | {r['obligations']:,} | {r['rebuild_s']:.1f} s "
            f"| {r['rebuild_again_s']:.1f} s | {r['sql_ms']:.1f} ms | {r['badge_ms']:.1f} ms "
            f"| {r['service_ms']:.1f} ms | {r['view_coordinator_ms']:.1f} ms "
            f"| {r['view_counsellor_ms']:.1f} ms |".replace(",", " ")
        )
    lines += ["", "Rows listed / overdue / behavioural alerts: " + "; ".join(
        f"{r['beneficiaries']:,} → {r['listed']} / {r['overdue']:,} / {r['alerts']:,}"
        .replace(",", " ") for r in rows)]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--beneficiaries", type=int, nargs="+", default=[10_000])
    parser.add_argument("--database", help="SQLite file to reuse (one size only)")
    args = parser.parse_args()
    rows = []
    for size in args.beneficiaries:
        print(f"… {size} bénéficiaires", file=sys.stderr)
        rows.append(measure(size, args.database))
        print(rows[-1], file=sys.stderr)
    print(markdown(rows))


if __name__ == "__main__":
    main()
