"""Shared set-up of the benchmarks: a demo database at N beneficiaries, built once and
reused, and a client logged in through the real login form.

- `database_url(beneficiaries, db_kind)`: ``sqlite`` → a file under /tmp named after N
  (kept between runs: the 100 000 build takes minutes); ``env`` → ``DATABASE_URL``
  (e.g. the throwaway cluster of ``.ci/postgres.sh``).
- `ensure_demo(app, beneficiaries)`: schema + `build_demo` + the obligations rebuild
  (what `flask seed demo` does) when the database holds no beneficiary yet.
- `logged_in_client(app, email)`: Flask's test client through the WSGI app, after a POST
  of the login form (every layer of the app runs: login, CSRF, Flask-Admin, templates).
- `QueryCounter`: counts the SQL statements sent to the engine.

Usage from the command line (build only)::

    .venv/bin/python bench/common.py --beneficiaries 100000 --db sqlite
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import date, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import event, func, select  # noqa: E402

from backoffice import create_app  # noqa: E402
from backoffice.config import normalise_database_url  # noqa: E402
from backoffice.extensions import db  # noqa: E402

#: The demo is built as of this day (same as bench/alerts.py and bench/reports.py).
TODAY = date(2026, 1, 15)
NOW = datetime(2026, 1, 15, 9, 0)
COORDINATOR = "coordination@demo.fr"


def database_url(beneficiaries: int, db_kind: str) -> str:
    """Where the demo of ``beneficiaries`` people lives for this engine."""
    if db_kind == "env":
        url = os.environ.get("DATABASE_URL")
        if not url:
            raise SystemExit("--db env : DATABASE_URL n'est pas défini "
                             "(lancez via bash .ci/postgres.sh …).")
        return normalise_database_url(url)
    return f"sqlite:////tmp/parcours-bench-{beneficiaries}.sqlite3"


def make_app(url: str, **overrides):
    """The application on ``url`` (CSRF on, as in production, unless overridden)."""
    settings = {"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench",
                "SESSION_COOKIE_SECURE": False}
    settings.update(overrides)
    return create_app(settings)


def ensure_demo(app, beneficiaries: int, log=print) -> float | None:
    """Create the schema and the demo (+ obligations) if absent; seconds taken or None."""
    from backoffice.maintenance import refresh_statistics
    from backoffice.models import Beneficiary
    from backoffice.obligation_sync import engine_writes
    from backoffice.seeding.demo import build_demo
    from backoffice.services.obligations import rebuild

    with app.app_context():
        db.create_all()
        add_missing_columns()
        present = db.session.scalar(select(func.count(Beneficiary.id)))
        if present:
            if present != beneficiaries:
                log(f"attention : la base contient {present} bénéficiaires "
                    f"(demandé {beneficiaries})")
            return None
        started = time.perf_counter()
        build_demo(db.session, beneficiaries=beneficiaries, seed=1, today=TODAY)
        db.session.commit()
        built = time.perf_counter() - started
        log(f"démo de {beneficiaries} construite en {built:.0f} s")
        with engine_writes(db.session):
            rebuild(db.session, NOW, release_memory=True)
            db.session.commit()
        log(f"échéances calculées en {time.perf_counter() - started - built:.0f} s")
        # What `flask seed demo` does after its bulk load: the planner's statistics
        # (backoffice/maintenance.py; on PostgreSQL also what autovacuum would do).
        refresh_statistics(db.engine)
        db.session.remove()
        return time.perf_counter() - started


def add_missing_columns() -> None:
    """A reused bench database follows the models: add the columns and indexes added since
    it was built (nullable or with a server default; e.g. while other work changes the
    models), drop the indexes they no longer declare."""
    from sqlalchemy import inspect
    from sqlalchemy.schema import CreateColumn

    inspector = inspect(db.engine)
    with db.engine.begin() as connection:
        for table in db.metadata.sorted_tables:
            present = {c["name"] for c in inspector.get_columns(table.name)}
            for column in table.columns:
                if column.name not in present:
                    ddl = CreateColumn(column).compile(dialect=db.engine.dialect)
                    if not column.nullable and column.server_default is None:
                        ddl = f"{ddl} DEFAULT 0"  # e.g. a version counter
                    connection.exec_driver_sql(f"ALTER TABLE {table.name} ADD COLUMN {ddl}")
            stored = {i["name"]: i["column_names"] for i in inspector.get_indexes(table.name)}
            declared = {index.name for index in table.indexes}
            for name in [n for n in stored if n.startswith("ix_") and n not in declared]:
                connection.exec_driver_sql(f"DROP INDEX {name}")  # replaced since (0009)
                stored.pop(name)
            for index in table.indexes:  # and the indexes added or changed since (0003, 0006)
                wanted = [c.name for c in index.columns]
                if index.name in stored and stored[index.name] != wanted:
                    connection.exec_driver_sql(f"DROP INDEX {index.name}")
                    stored.pop(index.name)
                if index.name not in stored:
                    index.create(connection)


def logged_in_client(app, email: str = COORDINATOR):
    """A test client logged in through the login form (with its CSRF token)."""
    from backoffice.seeding.demo import DEMO_PASSWORD

    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = csrf_token(page)
    response = client.post("/login", data={"email": email, "password": DEMO_PASSWORD,
                                           "csrf_token": token or ""})
    assert response.status_code in (302, 303), f"connexion refusée ({response.status_code})"
    return client


def csrf_token(html: str) -> str | None:
    """The value of the first csrf_token input of a page."""
    import re

    found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or \
        re.search(r'value="([^"]+)"[^>]*name="csrf_token"', html)
    return found.group(1) if found else None


class QueryCounter:
    """Counts the statements sent to ``engine`` while active (``with`` block)."""

    def __init__(self, engine):
        self.engine = engine
        self.count = 0

    def _on(self, *_args):
        self.count += 1

    def __enter__(self):
        self.count = 0
        event.listen(self.engine, "before_cursor_execute", self._on)
        return self

    def __exit__(self, *_exc):
        event.remove(self.engine, "before_cursor_execute", self._on)


def stats(times_ms: list[float]) -> tuple[float, float]:
    """(median, p95) of a list of milliseconds."""
    ordered = sorted(times_ms)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered), p95


def main() -> None:
    parser = argparse.ArgumentParser(description="Construit la base de démo des bancs d'essai.")
    parser.add_argument("--beneficiaries", type=int, default=100_000)
    parser.add_argument("--db", choices=("sqlite", "env"), default="sqlite")
    args = parser.parse_args()
    app = make_app(database_url(args.beneficiaries, args.db))
    ensure_demo(app, args.beneficiaries)


if __name__ == "__main__":
    main()
