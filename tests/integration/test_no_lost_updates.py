"""Issue 6 §2 and issue 18 §3: two people editing the same record, on any editable table —
the second save is refused with « Ce dossier a été modifié par X à HH:MM ; rechargez la
page », their input is shown back, nothing of it is saved; a form posted without the
version it loaded, or with a forged one, is refused too; the database's version column
guards the last instant."""
import re
from datetime import date, datetime
from enum import Enum

import pytest
from flask_admin.contrib.sqla import ModelView
from sqlalchemy import select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.datastructures import MultiDict

from backoffice.admin import VIEWS
from backoffice.admin.base import ProtectedModelView
from backoffice.admin.concurrency import NO_VERSION
from backoffice.enums import Attendance
from backoffice.extensions import db
from backoffice.models import AuditEntry, Beneficiary, Enrolment, User, WorkshopAttendance
from bench.lost_updates import FormReader
from tests.conftest import (
    FAST_HASH,
    PASSWORD,
    empty_app,
    version_in_page,
)
from tests.integration.test_activity_forms import marks_of, new_workshop
from tests.integration.test_admin_access import make_beneficiary, make_path, make_reference
from tests.integration.test_admin_crud import PERSON, enrolment_form, text_of
from tests.integration.test_lifecycle_actions import (
    fast_passwords,  # noqa: F401 (autouse)
    new_path,
    path_state,
)


@pytest.fixture
def person_id(app, users):
    with app.app_context():
        person = make_beneficiary(last_name="Wamytan", first_name="Léa")
        db.session.commit()
        return person.id


def test_beneficiary_form_carries_the_version(app, client, auth, person_id):
    auth.login("coordinator")
    page = client.get(f"/admin/beneficiaries/edit/?id={person_id}").get_data(as_text=True)
    assert 'type="hidden"' in page and version_in_page(page) == "1"


def test_second_beneficiary_save_is_refused_and_input_shown_back(app, users, person_id):
    first, second = app.test_client(), app.test_client()
    for client, role in ((first, "coordinator"), (second, "admin")):
        client.post("/login", data={"email": f"{role}@exemple.fr",
                                    "password": "motdepasse-de-test-123"})
        client.get(f"/admin/beneficiaries/edit/?id={person_id}")  # both open version 1
    saved = second.post(f"/admin/beneficiaries/edit/?id={person_id}",
                        data={**PERSON, "external_id": "", "commune": "Païta",
                              "version_seen": "1"})
    assert saved.status_code == 302
    refused = first.post(f"/admin/beneficiaries/edit/?id={person_id}",
                         data={**PERSON, "external_id": "", "commune": "Bourail",
                               "phone": "79 12 34", "version_seen": "1"})
    assert refused.status_code == 200
    text = text_of(refused)
    assert re.search(r"Ce dossier a été modifié par Test Administrateur à \d\d:\d\d ; "
                     r"rechargez la page", text), text[:2000]
    page = refused.get_data(as_text=True)
    assert 'value="Bourail"' in page and 'value="79 12 34"' in page  # input not discarded
    with app.app_context():
        person = db.session.get(Beneficiary, person_id)
        assert (person.commune, person.phone, person.version) == ("Païta", None, 2)


def test_save_with_the_current_version_goes_through(app, client, auth, person_id):
    auth.login("coordinator")
    for commune, version in (("Païta", "1"), ("Bourail", "2")):
        response = client.post(f"/admin/beneficiaries/edit/?id={person_id}",
                               data={**PERSON, "external_id": "", "commune": commune,
                                     "version_seen": version})
        assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Beneficiary, person_id).commune == "Bourail"


def test_second_enrolment_save_is_refused_and_input_shown_back(app, client, auth, users):
    with app.app_context():
        ref = make_reference()
        path = make_path(ref["programme"], users["counsellor"])
        db.session.commit()
        ids = {"programme": ref["programme"].id, "phase": ref["phase"].id}
        path_id, person = path.id, path.beneficiary_id
    auth.login("coordinator")
    client.get(f"/admin/enrolments/edit/?id={path_id}")
    with app.app_context():  # a colleague saves first
        db.session.get(Enrolment, path_id).target_job = "Maçon"
        db.session.commit()
    response = client.post(f"/admin/enrolments/edit/?id={path_id}", data=enrolment_form(
        person, ids, users, target_job="Boulanger", version_seen="1"))
    assert response.status_code == 200
    assert re.search(r"Ce dossier a été modifié par ligne de commande à \d\d:\d\d ; "
                     r"rechargez la page", text_of(response))
    assert 'value="Boulanger"' in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Enrolment, path_id).target_job == "Maçon"


def test_version_column_refuses_a_write_on_a_stale_copy(app, person_id):
    """Between the form check and the commit: the UPDATE names the version it read."""
    with app.app_context():
        first, second = Session(db.engine), Session(db.engine)
        try:
            mine = first.get(Beneficiary, person_id)
            theirs = second.get(Beneficiary, person_id)
            theirs.commune = "Païta"
            second.commit()
            mine.commune = "Bourail"
            with pytest.raises(StaleDataError):
                first.commit()
        finally:
            first.close()
            second.close()


# --- issue 18 §3: a view cannot forget the check ---------------------------------------------
def test_an_editable_view_of_a_table_without_version_refuses_to_start(app):
    class Unversioned(ProtectedModelView):
        model_class, slug, menu_name, area = AuditEntry, "unversioned", "Essai", "audit"

    class InlineEdit(ProtectedModelView):
        model_class, slug, menu_name, area = Beneficiary, "inline", "Essai", "beneficiaries"
        column_editable_list = ("commune",)

    with app.app_context():
        for view in (Unversioned, InlineEdit):
            with pytest.raises(TypeError):
                view()


def test_logging_in_and_out_is_no_edit_of_the_account(app, users):
    """The account's bookkeeping (last login, sessions) leaves its version alone: an
    administrator's form open on it still saves, and the same account logging in twice
    at once does not collide."""
    admin = _logged_in(app, "admin")
    url = f"/admin/users/edit/?id={users['counsellor']}"
    page = _loaded(admin, url)
    for _ in range(2):
        _logged_in(app, "counsellor").post("/logout")
    with app.app_context():
        account = db.session.get(User, users["counsellor"])
        assert (account.version, account.session_version) == (1, 3)
        assert account.last_login_at is not None
    assert admin.post(url, data={**page, "name": "Conseillère renommée"}).status_code == 302


# --- issue 18 §3: lifecycle pages carry the versions of what they show ----------------------
STALE_PAGE = "ces fiches ont été modifiées depuis l'ouverture de cette page ; rechargez-la " \
             "(rien n'a été enregistré)"


def _logged_in(app, role: str):
    client = app.test_client()
    assert client.post("/login", data={"email": f"{role}@exemple.fr", "password": PASSWORD}) \
        .status_code == 302
    return client


def _loaded(client, url: str) -> dict:
    """The page's form as a browser would post it back."""
    reader = FormReader()
    reader.feed(client.get(url).get_data(as_text=True))
    return dict(reader.fields)


def test_next_phase_from_a_page_loaded_before_another_move_is_refused(reference_app, users):
    """Two people open « Passer à la phase suivante » for one path: the first moves it to
    phase 1; the second, from the page they loaded, would move it on to phase 2."""
    app = reference_app
    path = new_path(app, "CSP", users["counsellor"])
    url = f"/admin/enrolments/transition/?action=next_phase&ids={path}"
    first, second = _logged_in(app, "coordinator"), _logged_in(app, "admin")
    first_page, second_page = _loaded(first, url), _loaded(second, url)
    assert first.post(url, data={**first_page, "on_date": "2026-03-05"}).status_code == 302
    refused = second.post(url, data={**second_page, "on_date": "2026-03-05"})
    assert refused.status_code == 200
    assert f"Impossible de passer à la phase suivante : {STALE_PAGE}" in text_of(refused)
    assert path_state(app, path)["phase"] == "phase_1"


@pytest.mark.parametrize("seen", ("", None, "abc", "{path}:99"), ids=repr)
def test_a_lifecycle_page_posted_without_its_versions_is_refused(reference_app, users, seen):
    app = reference_app
    path = new_path(app, "CSP", users["counsellor"])
    url = f"/admin/enrolments/transition/?action=next_phase&ids={path}"
    client = _logged_in(app, "coordinator")
    page = {**_loaded(client, url), "on_date": "2026-03-05"}
    page.pop("versions_seen")
    if seen is not None:
        page["versions_seen"] = seen.format(path=path)
    before = path_state(app, path)
    refused = client.post(url, data=page)
    assert f"Impossible de passer à la phase suivante : {STALE_PAGE}" in text_of(refused)
    assert path_state(app, path) == before


def test_two_attendance_sheets_saved_on_the_same_copy(reference_app, users):
    """Two coordinators fill one workshop's sheet at once: the second is refused and the
    first one's marks stay; a line changed in « Émargements » meanwhile refuses it too."""
    app = reference_app
    ann, bob = (new_path(app, "PLIE-L1", users["counsellor"]) for _ in range(2))
    workshop = new_workshop(app, "PLIE-L1", datetime(2026, 3, 9, 9))
    url = f"/admin/workshops/emargement/?action=attendance_sheet&ids={workshop}"
    first, second = _logged_in(app, "coordinator"), _logged_in(app, "admin")
    first_page, second_page = _loaded(first, url), _loaded(second, url)
    saved = first.post(url, data={**first_page, f"path_{ann}": "present",
                                  f"path_{bob}": "present"})
    assert saved.status_code == 302
    refused = second.post(url, data={**second_page, f"path_{ann}": "excused"})
    assert refused.status_code == 200
    assert f"Impossible d'enregistrer la feuille d'émargement : {STALE_PAGE}" \
        in text_of(refused)
    assert marks_of(app, workshop) == {ann: "present", bob: "present"}

    reopened = _loaded(second, url)
    with app.app_context():  # a line corrected by hand in Activité › Émargements
        line = db.session.scalars(select(WorkshopAttendance).filter_by(enrolment_id=bob)).one()
        line.attendance = Attendance.UNEXCUSED
        db.session.commit()
    refused = second.post(url, data={**reopened, f"path_{ann}": "excused"})
    assert STALE_PAGE in text_of(refused)
    assert marks_of(app, workshop) == {ann: "present", bob: "unexcused"}


# --- issue 18 §3: every editable view, not only beneficiaries and paths ---------------------
# Discovered from what the admin registers (backoffice/admin/__init__.py: VIEWS); a view
# added there without an entry in CHANGES fails test_every_editable_view_is_covered.
EDITABLE = tuple(view for view in VIEWS if not view.read_only)

# What each view's test types: (form field, the first save's value, the second save's).
CHANGES = {
    "beneficiaries": ("notes", "Vu par la première", "Vu par la seconde"),
    "enrolments": ("target_job", "Maçon", "Boulanger"),
    "phase-records": ("derogation", "y", None),
    "suspensions": ("notes", "Hospitalisation", "Déménagement"),
    "contacts": ("notes", "Appel de suivi", "Entretien annulé"),
    "internships": ("planned_activities", "Mise en rayon", "Accueil clients"),
    "barriers": ("notes", "Permis en cours", "Garde d'enfant"),
    "obligations": ("document_ref", "REF-PREMIERE", "REF-SECONDE"),
    "esf-entries": ("isced_level", "0", "1"),
    "esf-exits": ("six_month_in_employment", "yes", "no"),
    "referrals": ("reason", "Projet confirmé", "Projet à revoir"),
    "commissions": ("minutes", "Compte rendu A", "Compte rendu B"),
    "purchase-orders": ("company_name", "Société Première", "Société Seconde"),
    "purchase-order-lines": ("duration_months", "5", "7"),
    "sessions": ("place", "Salle A", "Salle B"),
    "workshops": ("place", "Salle A", "Salle B"),
    "attendances": ("attendance", "excused", "unexcused"),
    "funders": ("name", "Financeur renommé A", "Financeur renommé B"),
    "programmes": ("notes", "Note A", "Note B"),
    "phases": ("name", "Phase renommée A", "Phase renommée B"),
    "deadline-rules": ("name", "Livrable A", "Livrable B"),
    "exit-types": ("label", "Sortie renommée A", "Sortie renommée B"),
    "barrier-types": ("label", "Frein renommé A", "Frein renommé B"),
    "contact-types": ("label", "Contact renommé A", "Contact renommé B"),
    "suspension-reasons": ("label", "Motif renommé A", "Motif renommé B"),
    "import-presets": ("name", "Correspondance A", "Correspondance B"),
    "users": ("name", "Compte renommé A", "Compte renommé B"),
}
# Empty, absent (None), not a number (« ٣ » is a digit for str.isdigit), and a version
# that was never shown: each refused with nothing saved.
TAMPERED = ("", None, "abc", "1 OR 1=1", "٣", "-1", "999999")
STALE = r"Ce dossier a été modifié par [^;]+ à \d\d:\d\d ; rechargez la page"
# A forged version is refused as stale; who changed the record last is named only when the
# trail holds a change of it (the concurrent-save tests make one; under pytest-xdist they
# may run in another worker, on another copy of the demo).
STALE_NAMED_OR_NOT = r"Ce dossier a été modifié (par [^;]+ à \d\d:\d\d|entre-temps) ; rechargez"
DEMO_ADMIN = "admin@demo.fr"


@pytest.fixture(scope="module")
def demo_app(tmp_path_factory):
    """One small demo (every table has rows) for the whole module; tests change
    different records, each its own. Demo accounts get the tests' cheap password."""
    from backoffice.obligation_sync import engine_writes
    from backoffice.seeding.demo import build_demo
    from backoffice.services.obligations import rebuild

    app = empty_app(tmp_path_factory.mktemp("demo"))
    with app.app_context():
        build_demo(db.session, beneficiaries=20, seed=1, today=date(2026, 1, 15))
        with engine_writes(db.session):  # the obligations, as `flask seed demo` does
            rebuild(db.session, datetime(2026, 1, 15, 9, 0))
        db.session.execute(update(User).values(password_hash=FAST_HASH))
        db.session.commit()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _browser(app):
    """A client logged in as the demo's administrator (who may edit every table)."""
    client = app.test_client()
    assert client.post("/login", data={"email": DEMO_ADMIN, "password": PASSWORD}) \
        .status_code == 302
    return client


def _posted_form(client, url: str) -> list[tuple[str, str]]:
    """What a browser posts back from an edit page, as it was loaded."""
    page = client.get(url)
    assert page.status_code == 200, url
    reader = FormReader()
    reader.feed(page.get_data(as_text=True))
    return reader.fields


def _with(fields, name: str, value: str | None) -> MultiDict:
    """`fields` with `name` set to `value` (None: not posted, an unticked box)."""
    return MultiDict([*((k, v) for k, v in fields if k != name),
                      *([(name, value)] if value is not None else [])])


def _stored(app, view, row_id: int, field: str) -> tuple:
    """(what the field holds as a form would post it, the row's version)."""
    with app.app_context():
        row = db.session.get(view.model_class, row_id)
        value = getattr(row, field)
        if isinstance(value, bool):
            value = "y" if value else None
        elif isinstance(value, Enum):
            value = value.value
        elif value is not None:
            value = str(value)
        return value, row.version


def _record(app, view, slug: str) -> int:
    """A record of the view's table for this view's test alone (the lowest id; users: a
    counsellor's account, not the administrator's who is logged in)."""
    model = view.model_class
    query = select(model.id).order_by(model.id)
    if model is User:
        query = query.where(User.email != DEMO_ADMIN)
    with app.app_context():
        return db.session.scalars(query.limit(1)).one()


def test_every_editable_view_is_covered(demo_app):
    """Every model view the app registers is in EDITABLE (or read-only), every editable
    one has its CHANGES, and its model carries a version column."""
    registered = [view for view in demo_app.extensions["admin"][0]._views
                  if isinstance(view, ModelView)]
    assert {type(view) for view in registered if not view.read_only} == set(EDITABLE)
    assert {view.slug for view in EDITABLE} == set(CHANGES)
    for view in registered:
        if not view.read_only:
            assert view.model_class.__mapper__.version_id_col is not None, view.slug


@pytest.mark.parametrize("view", EDITABLE, ids=lambda view: view.slug)
def test_second_save_on_the_same_copy_is_refused_on_every_view(demo_app, view):
    """Two administrators open the same record; the first saves; the second, on the copy
    they loaded, is refused with the French message, and nothing of theirs is saved."""
    slug = view.slug
    field, first_value, second_value = CHANGES[slug]
    row_id = _record(demo_app, view, slug)
    url = f"/admin/{slug}/edit/?id={row_id}"
    first, second = _browser(demo_app), _browser(demo_app)
    first_copy, second_copy = _posted_form(first, url), _posted_form(second, url)
    _before, version = _stored(demo_app, view, row_id, field)
    assert dict(first_copy)["version_seen"] == str(version)

    saved = first.post(url, data=_with(first_copy, field, first_value))
    assert saved.status_code == 302, text_of(saved)[:3000]
    assert _stored(demo_app, view, row_id, field) == (first_value, version + 1)

    refused = second.post(url, data=_with(second_copy, field, second_value))
    assert refused.status_code == 200
    assert re.search(STALE, text_of(refused)), text_of(refused)[:3000]
    assert _stored(demo_app, view, row_id, field) == (first_value, version + 1)


@pytest.mark.parametrize("seen", TAMPERED, ids=repr)
@pytest.mark.parametrize("view", EDITABLE, ids=lambda view: view.slug)
def test_an_empty_or_forged_version_is_refused_on_every_view(demo_app, view, seen):
    """A hand-made save without the version the form carried, or with anything else than
    that number, is refused in French and changes nothing (never taken as « current »)."""
    slug = view.slug
    field, _first, change = CHANGES[slug]
    row_id = _record(demo_app, view, slug)
    url = f"/admin/{slug}/edit/?id={row_id}"
    client = _browser(demo_app)
    copy = _posted_form(client, url)
    stored = _stored(demo_app, view, row_id, field)
    value = change if stored[0] != change else CHANGES[slug][1]

    response = client.post(url, data=_with(_with(copy, field, value).items(multi=True),
                                           "version_seen", seen))
    assert response.status_code == 200
    text = text_of(response)
    if seen == "999999":
        assert re.search(STALE_NAMED_OR_NOT, text), text[:3000]
    else:
        assert NO_VERSION in text, text[:3000]
    assert _stored(demo_app, view, row_id, field) == stored


def test_marking_an_obligation_done_as_someone_else_changes_it_is_refused(demo_app,
                                                                          monkeypatch):
    """« Marquer comme fait » while a colleague saves the same obligation: the second
    write is refused in French (no error page), the colleague's change stays."""
    from backoffice.admin import alerts
    from backoffice.models import Obligation

    with demo_app.app_context():
        obligation_id = db.session.scalars(
            select(Obligation.id).where(Obligation.done_at.is_(None),
                                        Obligation.cancelled_at.is_(None))
            .order_by(Obligation.id.desc()).limit(1)).one()
    real_mark_done = alerts.mark_done

    def colleague_saves_first(obligation, *args):
        with Session(db.engine) as colleague:
            colleague.get(Obligation, obligation.id).document_ref = "REF-COLLEGUE"
            colleague.commit()
        return real_mark_done(obligation, *args)

    monkeypatch.setattr(alerts, "mark_done", colleague_saves_first)
    client = _browser(demo_app)
    response = client.post("/admin/alerts/done/", data={
        "obligation_id": str(obligation_id), "done_on": "2026-01-10",
        "document_ref": "REF-MOI", "next": "/admin/alerts/"}, follow_redirects=True)
    assert response.status_code == 200
    assert "Cette échéance a été modifiée entre-temps ; rechargez la page." in text_of(response)
    with demo_app.app_context():
        obligation = db.session.get(Obligation, obligation_id)
        assert (obligation.document_ref, obligation.done_at) == ("REF-COLLEGUE", None)
