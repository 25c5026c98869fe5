"""`workshops.has_attendance_sheet`, kept by the database (issue 25 §4).

The coordinator's home counts the workshops already held whose attendance sheet has no
line, and the workshops' list filters them (« Feuille d'émargement vide »). Asked of each
held workshop (« no line of the sheet is this workshop's »), that read every workshop ever
held: 84 378 at a million people, 231 ms on each visit of the home page. A flag on the
workshop, with a partial index of the workshops without a line, gives the few of them at
once.

The flag is written by triggers on `workshop_attendances`, so that no way of writing a
line can forget it: the sheet's form, the lines' list, imports, the demo's bulk load, the
erasure of a person, and the deletions the database cascades (a path, a workshop). A line
written sets its workshop's flag; a line deleted or moved to another workshop sets its
former workshop's flag to whether a line is left.

The triggers are attached to the table for `create_all` and created by migration 0030;
they are not in the models' metadata (the schema comparison of
tests/integration/test_migrations.py does not compare triggers).
"""
from sqlalchemy import event, text

from .activity import WorkshopAttendance

#: Set the workshop's flag when a line is written, clear it when its last line goes.
_SET = ("UPDATE workshops SET has_attendance_sheet = true "
        "WHERE id = NEW.workshop_id AND has_attendance_sheet = false")
_RECOUNT = ("UPDATE workshops SET has_attendance_sheet = EXISTS (SELECT 1 FROM "
            "workshop_attendances WHERE workshop_id = OLD.workshop_id) "
            "WHERE id = OLD.workshop_id")

SQLITE = [
    f"CREATE TRIGGER workshop_sheet_insert AFTER INSERT ON workshop_attendances "
    f"BEGIN {_SET}; END",
    f"CREATE TRIGGER workshop_sheet_delete AFTER DELETE ON workshop_attendances "
    f"BEGIN {_RECOUNT}; END",
    f"CREATE TRIGGER workshop_sheet_update AFTER UPDATE OF workshop_id ON "
    f"workshop_attendances BEGIN {_RECOUNT}; {_SET}; END",
]
SQLITE_DROP = [f"DROP TRIGGER IF EXISTS workshop_sheet_{verb}"
               for verb in ("insert", "delete", "update")]

POSTGRESQL = [
    f"""CREATE FUNCTION workshop_sheet_flag() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP IN ('DELETE', 'UPDATE') THEN {_RECOUNT}; END IF;
        IF TG_OP IN ('INSERT', 'UPDATE') THEN {_SET}; END IF;
        RETURN NULL;
    END $$""",
    "CREATE TRIGGER workshop_sheet_flag AFTER INSERT OR DELETE OR UPDATE OF workshop_id "
    "ON workshop_attendances FOR EACH ROW EXECUTE FUNCTION workshop_sheet_flag()",
]
POSTGRESQL_DROP = ["DROP TRIGGER IF EXISTS workshop_sheet_flag ON workshop_attendances",
                   "DROP FUNCTION IF EXISTS workshop_sheet_flag()"]

#: The flags of the workshops already there (a migration on a filled database).
FILL = ("UPDATE workshops SET has_attendance_sheet = EXISTS (SELECT 1 FROM "
        "workshop_attendances WHERE workshop_id = workshops.id)")


def create(connection) -> None:
    """Create the triggers on `connection` (SQLite or PostgreSQL)."""
    for sql in {"sqlite": SQLITE, "postgresql": POSTGRESQL}.get(connection.dialect.name, []):
        connection.execute(text(sql))


def drop(connection) -> None:
    """Remove the triggers (migration downgrade, `drop_all`)."""
    for sql in {"sqlite": SQLITE_DROP, "postgresql": POSTGRESQL_DROP}.get(
            connection.dialect.name, []):
        connection.execute(text(sql))


event.listen(WorkshopAttendance.__table__, "after_create",
             lambda _table, connection, **_kw: create(connection))
event.listen(WorkshopAttendance.__table__, "before_drop",
             lambda _table, connection, **_kw: drop(connection))
