"""The audit trail records every row change with its actor, hiding secrets."""
import json
import sqlite3
import threading
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import event, select

from backoffice import audit
from backoffice.audit import spool
from backoffice.enums import EnrolmentStatus, Role, Sex
from backoffice.extensions import db
from backoffice.models import AuditEntry, Beneficiary, Contact, Enrolment, User
from tests.conftest import make_user
from tests.integration import test_admin_access as access
from tests.integration.test_admin_access import row_count

# Fixtures shared with the access tests: cheap hashes, a small world, two counsellors' paths.
fast_passwords = access.fast_passwords
world = access.world
two_paths = access.two_paths


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


# --- issue 18 §8: audit without gaps -----------------------------------------------------

def _last(app, **where):
    with app.app_context():
        query = select(AuditEntry).order_by(AuditEntry.id.desc())
        for column, value in where.items():
            query = query.where(getattr(AuditEntry, column) == value)
        return db.session.scalars(query).first()


def _count(app, **where) -> int:
    with app.app_context():
        query = select(db.func.count(AuditEntry.id))
        for column, value in where.items():
            query = query.where(getattr(AuditEntry, column) == value)
        return db.session.scalar(query)


def test_a_refused_read_is_recorded(app, client, auth, two_paths):
    auth.login("counsellor")
    other = two_paths["other"]
    assert client.get(f"/admin/enrolments/details/?id={other}").status_code == 404
    entry = _last(app, action="refused")
    assert entry.user_email == "counsellor@exemple.fr" and entry.row_id == other
    assert entry.detail.startswith("Fiche introuvable ou hors de vos droits : GET "
                                   "/admin/enrolments/details/")


def test_a_refused_form_submission_is_recorded(app, client, auth, two_paths):
    auth.login("counsellor")
    before = row_count(app, Contact)
    response = client.post("/admin/contacts/new/", data={
        "enrolment": str(two_paths["other"]), "occurs_at": "2025-03-01 10:00:00",
        "contact_type": str(two_paths["contact_type"]), "attendance": "present"})
    assert response.status_code == 200 and row_count(app, Contact) == before
    entry = _last(app, action="refused")
    assert entry.detail == "Formulaire refusé (Entretiens et contacts) : Parcours"
    assert entry.user_email == "counsellor@exemple.fr"


def test_a_save_refused_by_the_rules_is_recorded(app, client, auth, users, two_paths):
    auth.login("admin")
    assert client.post("/admin/users/delete/", data={"id": str(users["counsellor"])},
                       follow_redirects=True).status_code == 200
    entry = _last(app, action="refused")
    assert entry.detail.startswith("Enregistrement refusé (Utilisateurs) : Suppression refusée")


@pytest.mark.parametrize(("url", "table", "detail"), [
    ("/admin/beneficiaries/?search=Wam", "beneficiaries",
     "Consultation de la liste : /admin/beneficiaries/?search=Wam"),
    ("/admin/contacts/", "contacts", "Consultation de la liste : /admin/contacts/?"),
    ("/admin/purchase-order-lines/", "purchase_order_lines",
     "Consultation de la liste : /admin/purchase-order-lines/?"),
    ("/admin/referrals/ajax/lookup/?name=beneficiary&query=Wam", "beneficiaries",
     "Recherche : /admin/referrals/ajax/lookup/?name=beneficiary&query=Wam"),
    ("/admin/contacts/details/?id=1", "contacts", "Consultation de la fiche"),
])
def test_reads_of_nominative_lists_records_and_lookups_are_recorded(app, client, auth, world,
                                                                    url, table, detail):
    auth.login("coordinator")
    before = _count(app, action="view")
    assert client.get(url).status_code == 200
    entry = _last(app, action="view")
    assert _count(app, action="view") == before + 1
    assert (entry.table_name, entry.detail, entry.user_email) == \
        (table, detail, "coordinator@exemple.fr")


def test_reads_without_personal_data_are_not_recorded(app, client, auth, world):
    auth.login("coordinator")
    for url in ("/admin/programmes/", "/admin/sessions/", "/admin/workshops/?search=CV",
                "/admin/enrolments/ajax/lookup/?name=referent&query="):
        assert client.get(url).status_code == 200
    assert _count(app, action="view") == 0


def test_a_failed_audit_write_fails_the_request(app, client, auth, world, tmp_path):
    auth.login("coordinator")
    before = _count(app)
    configured = app.config["AUDIT_SPOOL_DIR"]
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("")  # the spool cannot be created: as a full or read-only disk
    app.config["AUDIT_SPOOL_DIR"] = str(blocked / "spool")
    response = client.get("/admin/beneficiaries/details/?id=1")
    assert response.status_code == 503
    page = response.get_data(as_text=True)
    assert "Le journal d&#39;audit n&#39;a pas pu être écrit" in page
    assert "Wamytan" not in page  # nothing personal shown unrecorded
    assert "no-store" in response.headers["Cache-Control"]  # the usual security headers
    assert _count(app) == before
    app.config["AUDIT_SPOOL_DIR"] = configured
    assert client.get("/admin/beneficiaries/details/?id=1").status_code == 200
    assert _count(app) == before + 1


# --- issue 25 §3: the entries of a read are spooled before the page, written after it ----

def _spooled(app) -> list[dict]:
    path = spool.folder(app) / spool.SPOOL
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_a_record_view_is_spooled_before_the_response_and_written_after_it(app, client, auth,
                                                                          world):
    auth.login("coordinator")
    before = _count(app, action="view")
    # as a WSGI server: the response is built, then sent, then closed
    response = client.get("/admin/beneficiaries/details/?id=1", buffered=False)
    assert response.status_code == 200 and "Wamytan" in response.get_data(as_text=True)
    assert _count(app, action="view") == before  # not in the table while the page leaves…
    (waiting,) = _spooled(app)  # …but on disk, complete, with its key
    assert (waiting["action"], waiting["table_name"], waiting["row_id"], waiting["detail"],
            waiting["user_email"], waiting["address"]) == \
        ("view", "beneficiaries", 1, "Consultation de la fiche", "coordinator@exemple.fr",
         "127.0.0.1")
    response.close()  # sent: the drain runs
    assert _spooled(app) == []
    entry = _last(app, action="view")
    assert _count(app, action="view") == before + 1
    assert (entry.entry_key, entry.at.isoformat(), entry.user_email, entry.address) == \
        (waiting["entry_key"], waiting["at"], "coordinator@exemple.fr", "127.0.0.1")


def test_entries_left_by_a_crash_are_written_once(app, client, auth, world, runner):
    auth.login("coordinator")
    before = _count(app, action="view")
    # A server stopped before its drain: the entry stays in the spool…
    client.get("/admin/beneficiaries/details/?id=1", buffered=False)  # never closed
    assert len(_spooled(app)) == 1 and _count(app, action="view") == before
    result = runner.invoke(args=["audit", "flush"])  # …and the command writes it
    assert result.exit_code == 0, result.output
    assert result.output.startswith("1 entrée écrite dans le journal d'audit")
    assert _count(app, action="view") == before + 1 and _spooled(app) == []
    # A crash after the commit, before the spool was removed: drained again, written once.
    written = _last(app, action="view")
    batch = spool.folder(app) / "batch-crash.jsonl"
    batch.write_text(json.dumps({
        "entry_key": written.entry_key, "at": written.at.isoformat(),
        "user_id": written.user_id, "user_email": written.user_email, "action": "view",
        "table_name": "beneficiaries", "row_id": 1, "changes": None,
        "detail": "Consultation de la fiche", "address": "127.0.0.1"}) + "\n")
    assert runner.invoke(args=["audit", "flush"]).output.startswith("0 entrée écrite")
    assert _count(app, action="view") == before + 1 and not batch.exists()
    # What one process left, the next request of any process writes with its own.
    client.get("/admin/beneficiaries/details/?id=1", buffered=False)  # never closed
    assert client.get("/admin/contacts/?").status_code == 200
    assert _count(app, action="view") == before + 3 and _spooled(app) == []


def test_a_record_page_does_not_wait_for_the_sqlite_write_lock(app, client, auth, world,
                                                               runner):
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        pytest.skip("SQLite's one write lock; a PostgreSQL insert waits for no one")
    auth.login("coordinator")
    before = _count(app, action="view")
    with app.app_context():
        db.engine.dispose()  # new connections wait 0.3 s for a lock instead of 10
        event.listen(db.engine, "connect", lambda connection, _record: connection.execute(
            "PRAGMA busy_timeout=300"))
        writer = sqlite3.connect(db.engine.url.database, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # another request's save holds the write lock
    writer.execute("UPDATE users SET name = name")
    try:
        response = client.get("/admin/beneficiaries/details/?id=1", buffered=False)
        assert response.status_code == 200  # before: the entry's insert waited, then 503
        assert "Wamytan" in response.get_data(as_text=True)
        response.close()  # the drain finds the lock taken: the entry stays on disk
        assert spool.pending(app)
    finally:
        writer.execute("COMMIT")
        writer.close()
    assert _count(app, action="view") == before
    assert runner.invoke(args=["audit", "flush"]).output.startswith("1 entrée écrite")
    assert _count(app, action="view") == before + 1


def test_each_database_has_its_own_spool(app, tmp_path):
    """A spool is never drained into another database (a bench, a test, a second site on
    the same code): its folder follows the database unless AUDIT_SPOOL_DIR names one."""
    app.config["AUDIT_SPOOL_DIR"] = None
    folders = []
    for url in (f"sqlite:///{tmp_path / 'a.sqlite3'}", f"sqlite:///{tmp_path / 'b.sqlite3'}",
                "postgresql+psycopg://parcours:secret@127.0.0.1/parcours",
                "postgresql+psycopg://parcours:secret@127.0.0.1/autre", "sqlite://"):
        app.config["SQLALCHEMY_DATABASE_URI"] = url
        folders.append(spool.folder(app))
    assert folders[0] == tmp_path / "a.sqlite3.audit-spool"
    assert folders[2].parent == Path(app.instance_path) / "audit-spool"
    assert folders[2].name.startswith("parcours-") and "secret" not in str(folders[2])
    assert len(set(folders)) == 5


def test_threads_spooling_and_draining_together_write_each_entry_once(app):
    def work(thread: int) -> None:
        with app.app_context():
            for number in range(20):
                spool.append(app, [{**audit.entry("view", "beneficiaries", thread,
                                                  detail=f"{thread}-{number}"),
                                    "entry_key": spool.new_key()}])
                with app.app_context():
                    spool.drain(app)

    threads = [threading.Thread(target=work, args=(thread,)) for thread in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with app.app_context():
        spool.drain(app, wait=True)
        details = db.session.scalars(select(AuditEntry.detail)).all()
    assert sorted(details) == sorted(f"{t}-{n}" for t in range(6) for n in range(20))


def test_a_referent_of_open_paths_is_not_deleted(app, client, auth, users, two_paths):
    auth.login("admin")
    page = client.post("/admin/users/delete/", data={"id": str(users["counsellor"])},
                       follow_redirects=True).get_data(as_text=True)
    assert "Suppression refusée : Test Référent est référent de 1 parcours non clôturé." in page
    with app.app_context():
        assert db.session.get(User, users["counsellor"]) is not None
        assert db.session.get(Enrolment, two_paths["mine"]).referent_id == users["counsellor"]
        db.session.get(Enrolment, two_paths["mine"]).status = EnrolmentStatus.CLOSED
        db.session.commit()
    client.post("/admin/users/delete/", data={"id": str(users["counsellor"])})
    with app.app_context():  # once its paths are closed, the account may go
        assert db.session.get(User, users["counsellor"]) is None


def test_anonymous_entries_are_limited_per_address(app):
    app.config["WTF_CSRF_ENABLED"] = True  # forged posts: refused and recorded
    app.config["AUDIT_ANONYMOUS_PER_MINUTE"] = 5
    flood = app.test_client()
    for _ in range(40):
        assert flood.post("/login", data={"email": "x@exemple.fr"}).status_code == 400
    assert _count(app, address="127.0.0.1", action="refused") == 5
    limited = _last(app, action="audit_limited")
    assert limited.detail == ("Plus de 5 entrées anonymes en une minute depuis 127.0.0.1 : "
                              "les suivantes ne sont pas écrites")
    assert _count(app) == 6
    other = app.test_client()  # another address is still recorded
    other.post("/login", data={}, environ_base={"REMOTE_ADDR": "192.0.2.7"})
    assert _count(app, address="192.0.2.7", action="refused") == 1


def test_a_refused_lifecycle_form_is_recorded(app, client, auth, two_paths):
    auth.login("coordinator")
    before = _count(app, action="refused")
    response = client.post(f"/admin/enrolments/transition/?action=suspend&ids={two_paths['mine']}",
                           data={"starts_on": "pas une date"})
    assert response.status_code == 200
    with app.app_context():
        assert db.session.get(Enrolment, two_paths["mine"]).status is EnrolmentStatus.ACTIVE
    assert _count(app, action="refused") == before + 1
    assert _last(app, action="refused").detail.startswith("Formulaire refusé (Suspendre) : ")
