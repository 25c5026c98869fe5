"""The audit trail records every row change with its actor, hiding secrets."""
from datetime import date

from sqlalchemy import select

from backoffice.enums import Role, Sex
from backoffice.extensions import db
from backoffice.models import AuditEntry, Beneficiary
from tests.conftest import make_user


def _entries(table):
    return db.session.scalars(
        select(AuditEntry).where(AuditEntry.table_name == table).order_by(AuditEntry.id)
    ).all()


def test_create_update_delete_are_recorded_with_before_after(app):
    with app.app_context():
        person = Beneficiary(last_name="Wamytan", first_name="Léa", birth_date=date(1990, 5, 4),
                             sex=Sex.FEMALE, commune="Dumbéa")
        db.session.add(person)
        db.session.commit()
        person.commune = "Païta"
        db.session.commit()
        person_id = person.id
        db.session.delete(person)
        db.session.commit()

        created, updated, deleted = _entries("beneficiaries")
        assert (created.action, created.row_id) == ("create", person_id)
        assert created.changes["last_name"] == [None, "Wamytan"]
        assert created.changes["birth_date"] == [None, "1990-05-04"]
        assert updated.action == "update"
        assert updated.changes == {"commune": ["Dumbéa", "Païta"]}
        assert deleted.action == "delete"
        assert deleted.changes["commune"] == ["Païta", None]
        assert created.user_email == "ligne de commande"


def test_sensitive_text_and_password_are_not_copied(app):
    with app.app_context():
        person = Beneficiary(last_name="Martin", first_name="Paul", birth_date=date(1980, 1, 2),
                             sex=Sex.MALE, notes="Suivi psychiatrique en cours")
        db.session.add(person)
        make_user(Role.ADMIN)
        db.session.commit()
        entry = _entries("beneficiaries")[0]
        assert entry.changes["notes"] == [None, "modifié"]
        assert "psychiatrique" not in str(entry.changes)
        user_entry = _entries("users")[0]
        assert user_entry.changes["password_hash"] == [None, "***"]


def test_unchanged_flush_writes_nothing(app):
    with app.app_context():
        person = Beneficiary(last_name="Durand", first_name="Anne", birth_date=date(1975, 3, 3),
                             sex=Sex.FEMALE)
        db.session.add(person)
        db.session.commit()
        person.commune = None  # was already None
        db.session.commit()
        assert [e.action for e in _entries("beneficiaries")] == ["create"]


def test_actor_is_the_logged_in_user(app, client, auth, users):
    auth.login("coordinator")
    with app.app_context():
        before = db.session.scalar(select(db.func.count(AuditEntry.id)))
    # any write made during a request is attributed to the user: the login itself
    # updates last_login_at before the user is known, so check a later request's write.
    with app.test_request_context():
        from flask_login import login_user

        from backoffice.models import User

        user = db.session.get(User, users["coordinator"])
        login_user(user)
        from flask import g
        assert g._login_user.id == user.id
        user.name = "Coordinatrice renommée"
        db.session.commit()
        entry = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
        assert entry.user_id == users["coordinator"]
        assert entry.user_email == "coordinator@exemple.fr"
        assert db.session.scalar(select(db.func.count(AuditEntry.id))) == before + 1
