"""Rules the database enforces itself, on SQLite and PostgreSQL alike (issue 3 §6,
issue 7 §1): writes that bypass the services are refused too."""
from datetime import date, datetime

import pytest
from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from backoffice.extensions import db
from backoffice.models import Contact, Enrolment, Suspension
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


# A contact holds its path's person (migration 0033: the name search reads the contacts of
# the people found without their paths). The database keeps the two together.

@pytest.fixture
def two_paths(app, users):
    """Two people's paths, and the contact type of a contact: (path ids, person ids, type)."""
    with app.app_context():
        ref = make_reference()
        first = make_path(ref["programme"], users["counsellor"])
        second = make_path(ref["programme"], users["counsellor"],
                           person=make_beneficiary(last_name="Gope", first_name="Paul"))
        db.session.commit()
        return ((first.id, second.id), (first.beneficiary_id, second.beneficiary_id),
                ref["contact_type"].id)


def contact_row(path_id, type_id, **extra) -> dict:
    return {"enrolment_id": path_id, "contact_type_id": type_id,
            "occurs_at": datetime(2025, 2, 3, 9), **extra}


@pytest.mark.parametrize("way", ["given the path", "given the path's number",
                                 "written in bulk with the path's number"])
def test_a_contact_holds_its_paths_person_however_it_is_written(app, two_paths, way):
    (_first, second), (_p1, person), type_id = two_paths
    with app.app_context():
        if way == "given the path":
            db.session.add(Contact(enrolment=db.session.get(Enrolment, second),
                                   contact_type_id=type_id, occurs_at=datetime(2025, 2, 3, 9)))
        elif way == "given the path's number":
            db.session.add(Contact(**contact_row(second, type_id)))
        else:
            db.session.execute(insert(Contact), [contact_row(second, type_id)] * 2)
        db.session.commit()
        assert set(db.session.scalars(select(Contact.beneficiary_id))) == {person}


def test_a_contact_of_another_persons_path_is_refused_by_the_database(app, two_paths):
    (first, _second), (_p1, other), type_id = two_paths
    with app.app_context():
        with pytest.raises(IntegrityError):
            db.session.execute(insert(Contact), [contact_row(first, type_id,
                                                             beneficiary_id=other)])
            db.session.commit()
        db.session.rollback()
        assert db.session.query(Contact).count() == 0


def test_a_contact_moved_to_another_path_takes_its_person(app, two_paths):
    (first, second), (_p1, person), type_id = two_paths
    with app.app_context():
        contact = Contact(**contact_row(first, type_id))
        db.session.add(contact)
        db.session.commit()
        contact.enrolment = db.session.get(Enrolment, second)
        db.session.commit()
        db.session.expire_all()
        assert db.session.get(Contact, contact.id).beneficiary_id == person


def test_a_path_given_to_another_person_takes_its_contacts_along(app, two_paths):
    """ON UPDATE CASCADE: written past the ORM, the contact still follows its path."""
    (first, _second), (_p1, other), type_id = two_paths
    with app.app_context():
        db.session.add(Contact(**contact_row(first, type_id)))
        db.session.commit()
        db.session.execute(update(Enrolment).where(Enrolment.id == first)
                           .values(beneficiary_id=other))
        db.session.commit()
        assert db.session.scalar(select(Contact.beneficiary_id)) == other


def test_deleting_a_path_deletes_its_contacts(app, two_paths):
    (first, second), _people, type_id = two_paths
    with app.app_context():
        db.session.execute(insert(Contact), [contact_row(first, type_id),
                                             contact_row(second, type_id)])
        db.session.commit()
        db.session.execute(delete(Enrolment).where(Enrolment.id == first))
        db.session.commit()
        assert list(db.session.scalars(select(Contact.enrolment_id))) == [second]
