"""Issue 6 §7: `flask privacy purge --as-of DATE` anonymises people past the retention
period (keeping the anonymous figures), purges old audit entries; `flask privacy export
--beneficiary ID` gives everything stored about a person."""
import json
from datetime import date, datetime

from sqlalchemy import select

from backoffice import audit
from backoffice.extensions import db
from backoffice.models import AuditEntry, Beneficiary, Contact, Enrolment, LoginAttempt
from tests.integration.test_admin_access import make_beneficiary, make_path, make_reference


def _people(app, users):
    """Old: exited 2022-06-30; recent: last contact 2025-01-10; running: path still open.
    (The record's creation date counts as activity too: a record typed last month is kept.)"""
    with app.app_context():
        ref = make_reference()
        old = make_beneficiary("Ancien", "Paul", date(1980, 3, 15), external_id="DE-OLD",
                               email="paul@exemple.fr", phone="0612", notes="Santé fragile")
        path = make_path(ref["programme"], users["counsellor"], old, entry_date=date(2021, 9, 1))
        path.exit_date = date(2022, 6, 30)
        path.difficulties = "Problème de santé"
        path.no_internship_reason = "Contre-indication médicale au poste"
        db.session.add(Contact(enrolment=path, contact_type=ref["contact_type"],
                               occurs_at=datetime(2022, 6, 1, 10), notes="Confidentiel"))
        recent = make_beneficiary("Recent", "Anne", date(1985, 1, 1))
        recent_path = make_path(ref["programme"], users["counsellor"], recent,
                                entry_date=date(2021, 1, 4))
        recent_path.exit_date = date(2021, 12, 31)
        db.session.add(Contact(enrolment=recent_path, contact_type=ref["contact_type"],
                               occurs_at=datetime(2025, 1, 10, 9)))
        running = make_beneficiary("Encours", "Zoé", date(1990, 1, 1))
        make_path(ref["programme"], users["counsellor"], running, entry_date=date(2020, 1, 6))
        for person in (old, recent, running):  # records typed in years ago
            person.created_at = datetime(2020, 1, 2)
        db.session.commit()
        return {"old": old.id, "recent": recent.id, "running": running.id, "path": path.id}


def test_purge_anonymises_only_people_past_the_retention(app, runner, users):
    ids = _people(app, users)
    result = runner.invoke(args=["privacy", "purge", "--as-of", "2025-06-01"])
    assert result.exit_code == 0, result.output
    assert "1 bénéficiaire anonymisé" in result.output
    with app.app_context():
        old = db.session.get(Beneficiary, ids["old"])
        assert old.last_name == "ANONYME" and old.first_name == f"n° {ids['old']}"
        assert (old.external_id, old.email, old.phone, old.notes) == (None, None, None, None)
        assert old.anonymised_at is not None
        # Anonymous figures kept: sex, birth year, commune, dates, exit.
        assert old.birth_date.year == 1980 and old.commune == "Nouméa"
        path = db.session.get(Enrolment, ids["path"])
        assert path.exit_date == date(2022, 6, 30) and path.difficulties is None
        assert path.no_internship_reason is None  # a free text, erased like the others
        contact = db.session.scalars(select(Contact).where(Contact.enrolment_id == path.id)).one()
        assert contact.notes is None and contact.occurs_at == datetime(2022, 6, 1, 10)
        for key in ("recent", "running"):
            assert db.session.get(Beneficiary, ids[key]).anonymised_at is None
        # The erased identity does not survive in the audit trail.
        for entry in db.session.scalars(select(AuditEntry)):
            assert "Ancien" not in json.dumps(entry.changes or {}, ensure_ascii=False)
        assert db.session.scalars(select(AuditEntry).where(
            AuditEntry.action == "anonymise")).one().row_id == ids["old"]


def test_purge_is_idempotent(app, runner, users):
    _people(app, users)
    runner.invoke(args=["privacy", "purge", "--as-of", "2025-06-01"])
    again = runner.invoke(args=["privacy", "purge", "--as-of", "2025-06-01"])
    assert "0 bénéficiaire anonymisé" in again.output


def test_retention_period_is_a_setting(app, runner, users):
    ids = _people(app, users)
    app.config["PRIVACY_RETENTION_MONTHS"] = 48
    runner.invoke(args=["privacy", "purge", "--as-of", "2025-06-01"])
    with app.app_context():
        assert db.session.get(Beneficiary, ids["old"]).anonymised_at is None


def test_dry_run_changes_nothing(app, runner, users):
    ids = _people(app, users)
    result = runner.invoke(args=["privacy", "purge", "--as-of", "2025-06-01", "--dry-run"])
    assert "[simulation]" in result.output and "1 bénéficiaire anonymisé" in result.output
    with app.app_context():
        assert db.session.get(Beneficiary, ids["old"]).last_name == "Ancien"


def test_purge_deletes_audit_entries_and_login_attempts_past_the_log_retention(app, runner):
    with app.app_context():
        db.session.execute(AuditEntry.__table__.insert(), [
            {"at": datetime(2024, 1, 1), "action": "login", "user_email": "a@exemple.fr"},
            {"at": datetime(2025, 3, 1), "action": "login", "user_email": "b@exemple.fr"},
        ])
        db.session.add_all([LoginAttempt(at=datetime(2024, 1, 1), email="a@x.fr", address="1"),
                            LoginAttempt(at=datetime(2025, 3, 1), email="b@x.fr", address="1")])
        db.session.commit()
    result = runner.invoke(args=["privacy", "purge", "--as-of", "2025-06-01"])
    assert "1 entrée du journal d'audit supprimée (d'avant le 01/06/2024)" in result.output
    with app.app_context():
        kept = db.session.scalars(select(AuditEntry.user_email).where(
            AuditEntry.action == "login")).all()
        assert kept == ["b@exemple.fr"]
        assert db.session.scalars(select(LoginAttempt.email)).all() == ["b@x.fr"]
        purge_entry = db.session.scalars(select(AuditEntry).where(
            AuditEntry.action == "purge")).one()
        assert "0 personne anonymisée" in purge_entry.detail


def test_audit_deletion_is_allowed_only_inside_the_purge(app):
    with app.app_context():
        audit.record(db.session, "login", detail="x")
        db.session.commit()
        with audit.purging(db.session):
            db.session.execute(AuditEntry.__table__.delete())  # Core: the purge's own way
        db.session.commit()


def test_export_gives_everything_about_the_person(app, runner, users, tmp_path):
    ids = _people(app, users)
    output = tmp_path / "personne.json"
    result = runner.invoke(args=["privacy", "export", "--beneficiary", str(ids["old"]),
                                 "--output", str(output)])
    assert result.exit_code == 0, result.output
    data = json.loads(output.read_text(encoding="utf-8"))
    assert data["beneficiary"]["last_name"] == "Ancien"
    assert data["beneficiary"]["notes"] == "Santé fragile"
    path, = data["enrolments"]
    assert path["programme"] == "DEL-L1" and path["difficulties"] == "Problème de santé"
    assert path["contacts"][0]["notes"] == "Confidentiel"
    with app.app_context():
        entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "export")).one()
        assert entry.row_id == ids["old"] and entry.user_email == "ligne de commande"


def test_export_of_an_unknown_person_is_a_french_error(app, runner):
    result = runner.invoke(args=["privacy", "export", "--beneficiary", "404"])
    assert result.exit_code != 0 and "Aucun bénéficiaire n° 404" in result.output
