"""Issue 25 §4: « ateliers tenus sans feuille d'émargement » from an index. The flag
`workshops.has_attendance_sheet` is kept by the database (models/sheet_flag.py) whatever
writes the sheet's lines, cascades included; the home's figure and the list's filter read
the workshops without a line from ix_workshops_without_sheet."""
from datetime import datetime, timedelta

import pytest
from sqlalchemy import delete, insert, select, text, update

from backoffice.extensions import db
from backoffice.models import Enrolment, Workshop, WorkshopAttendance
from backoffice.services import worklist
from tests.integration.test_admin_access import make_beneficiary, make_path, make_reference

NOW = datetime(2026, 11, 20, 9)


@pytest.fixture
def sheets(app, users):
    """Two held workshops (« A », « B ») without a line, two paths (« p1 », « p2 »)."""
    with app.app_context():
        ref = make_reference()
        programme = ref["programme"]
        rows = {"A": Workshop(programme=programme, title="Atelier A",
                              held_at=NOW - timedelta(days=2)),
                "B": Workshop(programme=programme, title="Atelier B",
                              held_at=NOW - timedelta(days=1))}
        db.session.add_all(rows.values())
        rows["p1"] = make_path(programme, users["counsellor"], make_beneficiary("Hnaweo"))
        rows["p2"] = make_path(programme, users["counsellor"], make_beneficiary("Kasarhérou"))
        db.session.commit()
        return {key: row.id for key, row in rows.items()}


def flags() -> dict[str, bool]:
    found = dict(db.session.execute(select(Workshop.title, Workshop.has_attendance_sheet)).all())
    return {title[-1]: flag for title, flag in found.items()}


def line(ids, workshop, path):
    return {"workshop_id": ids[workshop], "enrolment_id": ids[path], "attendance": "present"}


TABLE = WorkshopAttendance.__table__
# (what is written to the sheets, below the ORM as an import or a bulk load would,
#  the flags after it)
STEPS = [
    ("nothing", lambda ids: [], {"A": False, "B": False}),
    ("a line on A", lambda ids: [insert(TABLE).values(line(ids, "A", "p1"))],
     {"A": True, "B": False}),
    ("two lines on A, one deleted", lambda ids: [
        insert(TABLE).values([line(ids, "A", "p1"), line(ids, "A", "p2")]),
        delete(TABLE).where(TABLE.c.enrolment_id == ids["p1"])], {"A": True, "B": False}),
    ("A's only line deleted", lambda ids: [
        insert(TABLE).values(line(ids, "A", "p1")),
        delete(TABLE).where(TABLE.c.workshop_id == ids["A"])], {"A": False, "B": False}),
    ("A's only line moved to B", lambda ids: [
        insert(TABLE).values(line(ids, "A", "p1")),
        update(TABLE).values(workshop_id=ids["B"])], {"A": False, "B": True}),
    ("the path of A's only line deleted (the database cascades)", lambda ids: [
        insert(TABLE).values(line(ids, "A", "p1")),
        insert(TABLE).values(line(ids, "B", "p2")),
        delete(Enrolment.__table__).where(Enrolment.__table__.c.id == ids["p1"])],
     {"A": False, "B": True}),
]


@pytest.mark.parametrize(("_what", "statements", "expected"), STEPS,
                         ids=[step[0] for step in STEPS])
def test_the_database_keeps_each_workshop_s_sheet_flag(app, sheets, _what, statements,
                                                      expected):
    with app.app_context():
        for statement in statements(sheets):
            db.session.execute(statement)
        db.session.commit()
        assert flags() == expected


def test_the_sheet_s_form_through_the_orm_sets_and_clears_the_flag(app, sheets):
    with app.app_context():
        workshop = db.session.get(Workshop, sheets["A"])
        workshop.attendances.append(WorkshopAttendance(
            enrolment=db.session.get(Enrolment, sheets["p1"])))
        db.session.commit()
        assert flags() == {"A": True, "B": False}
        workshop.attendances.clear()  # delete-orphan: the ORM deletes the line
        db.session.commit()
        assert flags() == {"A": False, "B": False}
        assert worklist.workshops_without_sheet(db.session, NOW) == 2


def test_the_home_s_figure_reads_the_index_of_workshops_without_a_line(app, sheets):
    from tests.integration.test_alerts_view import plan

    with app.app_context():
        # as in a real base: thousands of workshops held, almost all with their sheet
        # (on a near-empty table PostgreSQL may as well walk the dates and filter)
        programme_id = db.session.scalar(select(Workshop.programme_id).limit(1))
        db.session.execute(insert(Workshop.__table__), [
            {"programme_id": programme_id, "title": f"Atelier {n}",
             "held_at": NOW - timedelta(hours=n), "information_meeting": False,
             "has_attendance_sheet": True, "version": 1} for n in range(3, 5003)])
        db.session.commit()
        db.session.execute(text("ANALYZE workshops"))
        statement = select(Workshop.id).where(Workshop.held_at < NOW,
                                              worklist.without_attendance_sheet()) \
            .order_by(Workshop.held_at.desc()).limit(worklist.COUNT_CAP + 1)
        found = plan(statement)
        db.session.rollback()
    assert "ix_workshops_without_sheet" in found, found
    assert "workshop_attendances" not in found, found
