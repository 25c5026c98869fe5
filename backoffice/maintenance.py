"""Database upkeep the commands run after writing many rows at once.

SQLite chooses its query plans from the statistics of ``ANALYZE`` (table ``sqlite_stat1``)
and the application never writes them by itself: without them, at 100 000 people, the
behavioural alerts' queries pick plans 2 to 20 times slower (72 ms instead of 3 ms for
the absences, 222 ms instead of 82 ms for the CSP contacts; docs/benchmarks.md).
PostgreSQL's autovacuum analyses and vacuums tables in the background; after a bulk load
``VACUUM ANALYZE`` does it at once: besides the figures, it marks the new rows' pages as
visible to every transaction, so a count or a sorted page reads an index alone instead
of checking each row in the table (a list's ``count(*)`` at 100 000 people: 30 → 8 ms,
with 55 000 table reads before; docs/benchmarks.md).
"""
from __future__ import annotations

from sqlalchemy import Engine, text


def refresh_statistics(engine: Engine) -> None:
    """Refresh the query planner's statistics (SQLite and PostgreSQL), and PostgreSQL's
    visibility map (``VACUUM``: it runs outside a transaction, hence the autocommit).
    SQLite's ``VACUUM`` would rewrite the whole file: not run here."""
    statement = "VACUUM ANALYZE" if engine.dialect.name == "postgresql" else "ANALYZE"
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text(statement))
