"""Database upkeep the commands run after writing many rows at once.

SQLite chooses its query plans from the statistics of ``ANALYZE`` (table ``sqlite_stat1``)
and the application never writes them by itself: without them, at 100 000 people, the
behavioural alerts' queries pick plans 2 to 20 times slower (72 ms instead of 3 ms for
the absences, 222 ms instead of 82 ms for the CSP contacts; docs/benchmarks.md).
PostgreSQL's autovacuum analyses tables in the background; running ``ANALYZE`` after a
bulk load only makes the new figures available at once.
"""
from __future__ import annotations

from sqlalchemy import Engine, text


def refresh_statistics(engine: Engine) -> None:
    """Refresh the query planner's statistics (SQLite and PostgreSQL)."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("ANALYZE"))
