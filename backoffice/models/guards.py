"""Rules the database itself enforces beyond CHECK and UNIQUE constraints.

Suspensions of one path never overlap (002 §3; issue « Path lifecycle » §6). The services
refuse an overlap with a French message first (`rules/lifecycle.check_suspension`); these
triggers are the backstop for any other writer (a script, a bulk load, a second worker).
Both engines get the same rule; periods are inclusive and an open end (NULL) runs forever.
The statements are attached to the table for `create_all` and replayed by migration 0004.
"""
from sqlalchemy import DDL, event

from .paths import Suspension

NAME = "suspensions_no_overlap"  # admin/base.py maps it to a French message

_OVERLAP_SQLITE = f"""
    WHEN EXISTS (
        SELECT 1 FROM suspensions AS other
        WHERE other.enrolment_id = NEW.enrolment_id {{same_row}}
          AND other.starts_on <= COALESCE(NEW.ends_on, '9999-12-31')
          AND NEW.starts_on <= COALESCE(other.ends_on, '9999-12-31'))
    BEGIN SELECT RAISE(ABORT, '{NAME}'); END"""

SQLITE = [
    f"CREATE TRIGGER {NAME}_insert BEFORE INSERT ON suspensions"
    + _OVERLAP_SQLITE.format(same_row=""),
    f"CREATE TRIGGER {NAME}_update BEFORE UPDATE ON suspensions"
    + _OVERLAP_SQLITE.format(same_row="AND other.id <> NEW.id"),
]
SQLITE_DROP = [f"DROP TRIGGER IF EXISTS {NAME}_insert", f"DROP TRIGGER IF EXISTS {NAME}_update"]

POSTGRESQL = [
    f"""CREATE OR REPLACE FUNCTION {NAME}() RETURNS trigger AS $$
    BEGIN
        IF EXISTS (
            SELECT 1 FROM suspensions AS other
            WHERE other.enrolment_id = NEW.enrolment_id AND other.id <> NEW.id
              AND daterange(other.starts_on, other.ends_on, '[]')
                  && daterange(NEW.starts_on, NEW.ends_on, '[]')) THEN
            RAISE EXCEPTION '{NAME}' USING ERRCODE = 'exclusion_violation';
        END IF;
        RETURN NEW;
    END $$ LANGUAGE plpgsql""",
    f"""CREATE TRIGGER {NAME} BEFORE INSERT OR UPDATE ON suspensions
        FOR EACH ROW EXECUTE FUNCTION {NAME}()""",
]
POSTGRESQL_DROP = [f"DROP TRIGGER IF EXISTS {NAME} ON suspensions",
                   f"DROP FUNCTION IF EXISTS {NAME}()"]


def statements(dialect: str, drop: bool = False) -> list[str]:
    """The guard's SQL for `dialect` ("sqlite" or "postgresql"); nothing for others."""
    if dialect == "sqlite":
        return SQLITE_DROP if drop else SQLITE
    if dialect == "postgresql":
        return POSTGRESQL_DROP if drop else POSTGRESQL
    return []


for _dialect in ("sqlite", "postgresql"):
    for _sql in statements(_dialect):
        event.listen(Suspension.__table__, "after_create",
                     DDL(_sql).execute_if(dialect=_dialect))
