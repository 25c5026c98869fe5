"""Rules the database enforces itself, on SQLite and PostgreSQL alike (issue 3 §6,
issue 7 §1): writes that bypass the services are refused too."""
from datetime import date

import pytest
from sqlalchemy.exc import IntegrityError

from backoffice.extensions import db
from backoffice.models import Enrolment, Suspension
from tests.integration.test_admin_access import make_beneficiary, make_path, make_reference


@pytest.fixture
def path(app, users):
    with app.app_context():
        ref = make_reference()
        enrolment = make_path(ref["programme"], users["counsellor"])
        db.session.add(Suspension(enrolment=enrolment, reason=ref["suspension_reason"],
                                  starts_on=date(2025, 3, 1), ends_on=date(2025, 3, 10)))
        db.session.commit()
        return enrolment.id, ref["suspension_reason"].id


def add(enrolment_id, reason_id, starts_on, ends_on):
    db.session.add(Suspension(enrolment_id=enrolment_id, reason_id=reason_id,
                              starts_on=starts_on, ends_on=ends_on))
    db.session.commit()


@pytest.mark.parametrize(("starts_on", "ends_on"), [
    (date(2025, 3, 5), date(2025, 3, 20)),   # starts inside
    (date(2025, 2, 20), date(2025, 3, 1)),   # ends on its first day (inclusive periods)
    (date(2025, 2, 1), None),                # open-ended, covers it
    (date(2025, 3, 2), date(2025, 3, 3)),    # inside
])
def test_overlapping_suspension_is_refused_by_the_database(app, path, starts_on, ends_on):
    with app.app_context():
        with pytest.raises(IntegrityError, match="suspensions_no_overlap"):
            add(*path, starts_on, ends_on)
        db.session.rollback()
        assert db.session.query(Suspension).count() == 1


@pytest.mark.parametrize(("starts_on", "ends_on"), [
    (date(2025, 3, 11), date(2025, 3, 20)),  # the day after
    (date(2025, 2, 1), date(2025, 2, 28)),   # before
])
def test_separate_suspensions_are_accepted(app, path, starts_on, ends_on):
    with app.app_context():
        add(*path, starts_on, ends_on)
        assert db.session.query(Suspension).count() == 2


def test_moving_a_suspension_onto_another_is_refused(app, path):
    with app.app_context():
        add(*path, date(2025, 4, 1), date(2025, 4, 10))
        later = db.session.query(Suspension).filter_by(starts_on=date(2025, 4, 1)).one()
        later.starts_on = date(2025, 3, 9)
        with pytest.raises(IntegrityError, match="suspensions_no_overlap"):
            db.session.commit()
        db.session.rollback()
        later = db.session.query(Suspension).filter_by(ends_on=date(2025, 4, 10)).one()
        later.ends_on = date(2025, 4, 12)  # editing a row that overlaps nothing still works
        db.session.commit()


def test_other_paths_are_independent(app, path, users):
    with app.app_context():
        programme = db.session.get(Enrolment, path[0]).programme
        other = make_path(programme, users["counsellor"],
                          person=make_beneficiary(last_name="Gope", first_name="Paul"))
        db.session.commit()
        add(other.id, path[1], date(2025, 3, 1), date(2025, 3, 10))
        assert db.session.query(Suspension).count() == 2


def test_overlap_typed_in_the_admin_form_gets_a_french_message(app, client, auth, path):
    auth.login("coordinator")
    response = client.post("/admin/suspensions/new/", data={
        "enrolment": str(path[0]), "reason": str(path[1]),
        "starts_on": "2025-03-05", "ends_on": "2025-03-20"})
    page = response.get_data(as_text=True)
    assert "chevauche" in page
    with app.app_context():
        assert db.session.query(Suspension).count() == 1
