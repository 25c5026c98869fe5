"""Creating, editing and deleting through the admin forms, posted as a browser would,
with the French messages for duplicates, dates out of order, unknown values, concurrent
edits and CSRF."""
import html
import re
from datetime import date

import pytest
from sqlalchemy import func, select
from werkzeug.security import generate_password_hash

from backoffice import create_app
from backoffice.admin.beneficiaries import BeneficiaryView
from backoffice.admin.paths import InternshipView
from backoffice.enums import EnrolmentStatus, ReferralStatus, Role
from backoffice.extensions import db
from backoffice.models import (
    Beneficiary,
    Enrolment,
    Internship,
    Phase,
    Programme,
    Referral,
    User,
)
from tests.conftest import PASSWORD, make_user, version_seen
from tests.integration.test_admin_access import make_beneficiary, make_path, make_reference
from tests.integration.test_reports_common import ALPHABETICAL


@pytest.fixture(autouse=True)
def fast_passwords(monkeypatch):
    monkeypatch.setattr("backoffice.models.people.generate_password_hash",
                        lambda password: generate_password_hash(password, "pbkdf2:sha256:1"))


@pytest.fixture
def ref(app, users):
    """Reference rows' ids: programme, phase, contact type…"""
    with app.app_context():
        rows = make_reference()
        db.session.commit()
        return {name: row.id for name, row in rows.items()}


def programme_of(ref) -> Programme:
    return db.session.get(Programme, ref["programme"])


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def text_of_html(page: str) -> str:
    """The page as a reader sees it (tags removed, entities decoded)."""
    page = re.sub(r"<script.*?</script>", " ", page, flags=re.S)
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


def text_of(response) -> str:
    return text_of_html(response.get_data(as_text=True))


PERSON = {
    "last_name": "Wamytan", "first_name": "Léa", "birth_date": "1990-05-04", "sex": "F",
    "external_id": "DE-1234", "commune": "Nouméa", "education_level": "__None",
    "rsa_recipient": "y",
}


# --- beneficiaries --------------------------------------------------------------------

def test_beneficiary_create_edit_delete(app, client, auth):
    auth.login("coordinator")
    response = client.post("/admin/beneficiaries/new/", data=PERSON)
    assert response.status_code == 302
    with app.app_context():
        person = db.session.scalars(select(Beneficiary)).one()
        assert (person.last_name, person.birth_date, person.rsa_recipient) == \
            ("Wamytan", date(1990, 5, 4), True)
        assert person.name_key == "wamytan lea"
        person_id = person.id

    url = f"/admin/beneficiaries/edit/?id={person_id}"
    response = client.post(url, data={**PERSON, "commune": "Païta", "education_level": "4",
                                      "version_seen": version_seen(client, url)})
    assert response.status_code == 302
    with app.app_context():
        person = db.session.get(Beneficiary, person_id)
        assert person.commune == "Païta" and person.education_level.label == "Niveau 4 (Bac)"
        assert person.rsa_recipient is True

    assert client.post("/admin/beneficiaries/delete/", data={"id": person_id}).status_code == 302
    assert count(app, Beneficiary) == 0


def test_beneficiary_list_and_forms_are_in_french(client, auth, app):
    with app.app_context():
        make_beneficiary()
        db.session.commit()
    auth.login("coordinator")
    page = text_of(client.get("/admin/beneficiaries/"))
    for words in ("Liste", "Créer", "Nom", "Prénom", "Date de naissance", "Femme", "04/05/1990",
                  "Ajouter un filtre", "Chercher"):
        assert words in page, words
    raw_form = client.get("/admin/beneficiaries/new/").get_data(as_text=True)
    assert 'value="Enregistrer"' in raw_form
    form = text_of_html(raw_form)
    for words in ("Annuler", "Identifiant externe", "Niveau de formation"):
        assert words in form, words
    details = text_of(client.get("/admin/beneficiaries/details/?id=1"))
    assert "Bénéficiaire du RSA" in details and "Non" in details


@pytest.mark.parametrize("url", ["/admin/beneficiaries/", "/admin/beneficiaries/?sort=1"])
def test_beneficiary_list_is_in_alphabetical_order_on_every_engine(client, auth, app, url):
    """The list (and its « Nom » header) in the order of the reports' nominative lists:
    accents, case, spaces and hyphens ignored, « Dupont » before « Dupontel »; before,
    SQLite put « Étienne » after « Zola » (tests/integration/test_reports_common.py)."""
    with app.app_context():
        for last, first in reversed(ALPHABETICAL):
            make_beneficiary(last_name=last, first_name=first)
        db.session.commit()
    auth.login("coordinator")
    page = text_of(client.get(url))
    places = [page.index(last) for last, _first in ALPHABETICAL]
    assert places == sorted(places)
    descending = text_of(client.get(url + ("&" if "?" in url else "?") + "sort=1&desc=1"))
    places = [descending.index(last) for last, _first in ALPHABETICAL]
    assert places == sorted(places, reverse=True)


@pytest.mark.parametrize("twin", [
    {"last_name": "Autre", "first_name": "Nom", "external_id": "DE-1234"},
    {"last_name": "WAMYTAN", "first_name": "lea", "external_id": ""},
    {"last_name": "wamytan ", "first_name": "Léa", "external_id": "DE-9999"},
], ids=["same external id", "same names other case and accents", "same names trailing space"])
def test_duplicate_beneficiary_is_refused_with_a_link(app, client, auth, twin):
    with app.app_context():
        make_beneficiary(external_id="DE-1234")
        db.session.commit()
    auth.login("coordinator")
    response = client.post("/admin/beneficiaries/new/", data={**PERSON, **twin})
    assert response.status_code == 200
    page = text_of(response)
    assert "Doublon : un bénéficiaire « WAMYTAN Léa » né le 04/05/1990 existe déjà" in page
    assert "fiche n° 1" in page and "Fiche non créée" in page
    assert 'href="/admin/beneficiaries/details/?id=1"' in response.get_data(as_text=True)
    assert count(app, Beneficiary) == 1


def test_duplicate_caught_by_the_unique_key_names_the_existing_record(app, client, auth,
                                                                      monkeypatch):
    """Two people saving at once pass the form check; the unique key still refuses."""
    monkeypatch.setattr(BeneficiaryView, "check_form", lambda self, form: True)
    with app.app_context():
        make_beneficiary(external_id="DE-1234")
        db.session.commit()
    auth.login("coordinator")
    response = client.post("/admin/beneficiaries/new/",
                           data={**PERSON, "last_name": "WAMYTAN", "external_id": ""})
    assert response.status_code == 200
    assert "Doublon : un bénéficiaire « WAMYTAN Léa » né le 04/05/1990" in text_of(response)
    assert count(app, Beneficiary) == 1


def test_editing_a_person_into_a_duplicate_is_refused(app, client, auth):
    with app.app_context():
        make_beneficiary(external_id="DE-1234")
        make_beneficiary("Martin", "Paul", date(1980, 1, 2), external_id="DE-5678")
        db.session.commit()
    auth.login("coordinator")
    response = client.post("/admin/beneficiaries/edit/?id=2",
                           data={**PERSON, "external_id": "DE-5678"})
    assert "Doublon : un bénéficiaire « WAMYTAN Léa »" in text_of(response)
    with app.app_context():
        assert db.session.get(Beneficiary, 2).last_name == "Martin"
    # Saving a person unchanged is not a duplicate of itself.
    url = "/admin/beneficiaries/edit/?id=1"
    same = client.post(url, data={**PERSON, "version_seen": version_seen(client, url)})
    assert same.status_code == 302


def test_unknown_enum_value_posted_by_hand_gives_a_french_error(app, client, auth):
    auth.login("coordinator")
    response = client.post("/admin/beneficiaries/new/", data={**PERSON, "sex": "X"})
    assert response.status_code == 200
    assert "« X » n'est pas une valeur possible" in text_of(response)
    assert count(app, Beneficiary) == 0


# --- referrals ------------------------------------------------------------------------

def test_referral_create_edit_delete(app, client, auth, ref, users):
    with app.app_context():
        person_id = make_beneficiary().id
        db.session.commit()
    auth.login("coordinator")
    form = {"beneficiary": str(person_id), "programme": str(ref["programme"]),
            "referred_on": "2025-02-03", "prescriber_name": "Mme Conseillère",
            "status": "pending", "commission": "__None", "decided_by": "",
            "replaces": ""}
    assert client.post("/admin/referrals/new/", data=form).status_code == 302
    with app.app_context():
        referral = db.session.scalars(select(Referral)).one()
        assert (referral.beneficiary_id, referral.status) == (person_id, ReferralStatus.PENDING)
    listing = text_of(client.get("/admin/referrals/"))
    assert "En attente" in listing and "03/02/2025" in listing

    # Decisions go through the commission's actions only: a status, decider or decision
    # date posted by hand in the plain form is ignored; the other fields are saved.
    edited = {**form, "prescriber_name": "M. Prescripteur", "status": "validated",
              "decided_on": "2025-02-10", "decided_by": str(users["commission"])}
    url = f"/admin/referrals/edit/?id={referral.id}"
    edited["version_seen"] = version_seen(client, url)
    assert client.post(url, data=edited).status_code == 302
    with app.app_context():
        referral = db.session.get(Referral, referral.id)
        assert referral.prescriber_name == "M. Prescripteur"
        assert (referral.status, referral.decided_on, referral.decided_by_id) == (
            ReferralStatus.PENDING, None, None)
    page = client.get(f"/admin/referrals/edit/?id={referral.id}").get_data(as_text=True)
    assert 'name="status"' not in page and 'name="decided_by"' not in page

    assert client.post("/admin/referrals/delete/", data={"id": referral.id}).status_code == 302
    assert count(app, Referral) == 0


def test_referral_status_filter_uses_french_labels(app, client, auth, ref):
    with app.app_context():
        person = make_beneficiary()
        db.session.add(Referral(beneficiary=person, programme_id=ref["programme"],
                                referred_on=date(2025, 1, 2), status=ReferralStatus.REJECTED))
        db.session.commit()
    auth.login("commission")
    page = client.get("/admin/referrals/").get_data(as_text=True)
    assert '["REJECTED", "Refus\\u00e9e"]' in page
    rejected = text_of(client.get("/admin/referrals/?flt0_0=REJECTED"))
    assert "WAMYTAN" in rejected and "Refusée" in rejected
    assert "WAMYTAN" not in text_of(client.get("/admin/referrals/?flt0_0=PENDING"))


# --- enrolments -----------------------------------------------------------------------

def enrolment_form(person_id, ref, users, **changes):
    return {"beneficiary": str(person_id), "programme": str(ref["programme"]),
            "referral": "", "session": "__None", "purchase_order": "",
            "referent": str(users["counsellor"]), "entry_date": "2025-01-06",
            "status": "active", "current_phase": str(ref["phase"]),
            "exit_type": "__None", "contract_kind": "__None",
            "followup_contract_kind": "__None", **changes}


def test_enrolment_create_edit_delete(app, client, auth, ref, users):
    with app.app_context():
        person_id = make_beneficiary().id
        db.session.commit()
    auth.login("coordinator")
    form = enrolment_form(person_id, ref, users, target_job="Boulanger")
    assert client.post("/admin/enrolments/new/", data=form).status_code == 302
    with app.app_context():
        path = db.session.scalars(select(Enrolment)).one()
        assert (path.referent_id, path.status, path.target_job, path.version) == \
            (users["counsellor"], EnrolmentStatus.ACTIVE, "Boulanger", 1)

    edit_page = client.get(f"/admin/enrolments/edit/?id={path.id}").get_data(as_text=True)
    assert 'name="version_seen" type="hidden" value="1"' in edit_page
    # Status, phase, planned end and exit are shown disabled: they change through the
    # lifecycle actions only (test_lifecycle_actions.py); posted by hand they are ignored.
    assert re.search(r'<select[^>]*disabled[^>]*name="status"|<select[^>]*name="status"'
                     r'[^>]*disabled', edit_page)
    response = client.post(f"/admin/enrolments/edit/?id={path.id}", data={
        **form, "version_seen": "1", "target_job": "Pâtissier", "exit_date": "2025-06-30",
        "contract_kind": "cdi", "status": "closed"})
    assert response.status_code == 302
    with app.app_context():
        path = db.session.get(Enrolment, path.id)
        assert (path.target_job, path.exit_date, path.contract_kind, path.status,
                path.version) == ("Pâtissier", None, None, EnrolmentStatus.ACTIVE, 2)
    listing = text_of(client.get("/admin/enrolments/"))
    assert "En cours" in listing and "Clôturé" not in listing

    assert client.post("/admin/enrolments/delete/", data={"id": path.id}).status_code == 302
    assert count(app, Enrolment) == 0


def test_a_new_path_opens_active_in_its_first_phase_whatever_is_posted(app, client, auth,
                                                                       ref, users):
    """Status, phase and exit follow from the lifecycle actions: the create form neither
    shows them nor takes them posted by hand (services.lifecycle.open_path)."""
    with app.app_context():
        person_id = make_beneficiary().id
        programme = programme_of(ref)
        later = Phase(programme=programme, position=2, code="etape2", name="Étape 2")
        db.session.add(later)
        db.session.commit()
        later_id = later.id
    auth.login("coordinator")
    page = client.get("/admin/enrolments/new/").get_data(as_text=True)
    for hidden in ("status", "current_phase", "planned_end_date", "exit_date", "exit_type"):
        assert f'name="{hidden}"' not in page, hidden
    assert 'name="entry_date"' in page and 'name="target_job"' in page
    response = client.post("/admin/enrolments/new/", data=enrolment_form(
        person_id, ref, users, status="closed", current_phase=str(later_id),
        exit_date="2025-03-31", exit_type=str(ref["exit_type"]), contract_kind="cdi"))
    assert response.status_code == 302
    with app.app_context():
        path = db.session.scalars(select(Enrolment)).one()
        assert (path.status, path.current_phase_id, path.exit_date, path.exit_type_id,
                path.contract_kind) == (EnrolmentStatus.ACTIVE, ref["phase"], None, None, None)
        assert [(r.phase_id, r.started_on, r.ended_on) for r in path.phase_records] == \
            [(ref["phase"], date(2025, 1, 6), None)]


@pytest.mark.parametrize(("case", "message"), [
    ("pending", "statut « En attente » : seule une prescription validée ouvre un parcours."),
    # the referral's own person is not named (issue 18 §2)
    ("other_person", "Prescription n° 1 — elle concerne une autre personne que "
                     "WAMYTAN Léa."),
    ("before_referral", "Date d'entrée : elle ne peut pas précéder la prescription "
                        "(10/01/2025)."),
    ("already_open", "un parcours est déjà ouvert pour elle."),
])
def test_a_new_path_on_a_referral_is_checked_like_starting_it(app, client, auth, ref, users,
                                                              case, message):
    with app.app_context():
        person = make_beneficiary()
        other = make_beneficiary(last_name="Gope", first_name="Paul")
        referral = Referral(beneficiary=other if case == "other_person" else person,
                            programme_id=ref["programme"], referred_on=date(2025, 1, 10),
                            status=ReferralStatus.PENDING if case == "pending"
                            else ReferralStatus.VALIDATED)
        db.session.add(referral)
        db.session.flush()
        if case == "already_open":
            db.session.add(Enrolment(beneficiary=person, programme_id=ref["programme"],
                                     referral=referral, entry_date=date(2025, 1, 13)))
        db.session.commit()
        person_id, referral_id = person.id, referral.id
        before = count(app, Enrolment)
    auth.login("coordinator")
    entry = "2025-01-06" if case == "before_referral" else "2025-01-20"
    response = client.post("/admin/enrolments/new/", data=enrolment_form(
        person_id, ref, users, referral=str(referral_id), entry_date=entry))
    assert response.status_code == 200
    assert message in text_of(response)
    assert count(app, Enrolment) == before


def test_database_check_is_a_french_backstop(app, client, auth, ref, users, monkeypatch):
    """If the form check is bypassed, the CHECK constraint refuses; still no 500."""
    monkeypatch.setattr(InternshipView, "check_form", lambda self, form: True)
    with app.app_context():
        path_id = make_path(programme_of(ref), users["counsellor"]).id
        db.session.commit()
    auth.login("counsellor")
    response = client.post("/admin/internships/new/", data={
        "enrolment": str(path_id), "company_name": "Boulangerie", "starts_on": "2025-04-15",
        "ends_on": "2025-04-01"})
    assert response.status_code == 200
    assert "Enregistrement refusé. Date de fin : elle ne peut pas être antérieure à la date " \
        "de début." in text_of(response)
    assert count(app, Internship) == 0


def test_stale_enrolment_edit_is_refused(app, client, auth, ref, users):
    with app.app_context():
        path = make_path(programme_of(ref), users["counsellor"])
        db.session.commit()
        path_id, person_id = path.id, path.beneficiary_id
    auth.login("coordinator")
    client.get(f"/admin/enrolments/edit/?id={path_id}")  # the user opens the form (version 1)
    with app.app_context():  # meanwhile a colleague saves the path
        db.session.get(Enrolment, path_id).target_job = "Maçon"
        db.session.commit()
    response = client.post(f"/admin/enrolments/edit/?id={path_id}", data=enrolment_form(
        person_id, ref, users, target_job="Boulanger", version_seen="1"))
    assert response.status_code == 200
    assert re.search(r"Ce dossier a été modifié par .+ à \d\d:\d\d ; rechargez la page",
                     text_of(response))
    with app.app_context():
        assert db.session.get(Enrolment, path_id).target_job == "Maçon"


def test_internship_end_before_start_is_refused(app, client, auth, ref, users):
    with app.app_context():
        path_id = make_path(programme_of(ref), users["counsellor"]).id
        db.session.commit()
    auth.login("counsellor")
    response = client.post("/admin/internships/new/", data={
        "enrolment": str(path_id), "company_name": "Boulangerie", "starts_on": "2025-04-15",
        "ends_on": "2025-04-01"})
    assert "Fin : elle ne peut pas être antérieure au début du stage (15/04/2025)" \
        in text_of(response)
    assert count(app, Internship) == 0


# --- users ----------------------------------------------------------------------------

def test_user_password_is_set_through_the_form_and_never_shown(app, client, auth):
    auth.login("admin")
    form = {"name": "Nouvelle Référente", "email": "Nouvelle@Exemple.fr", "role": "counsellor",
            "active": "y", "password": "court"}
    response = client.post("/admin/users/new/", data=form)
    assert "Mot de passe : 12 caractères au minimum." in text_of(response)
    response = client.post("/admin/users/new/", data={**form, "password": ""})
    assert "Mot de passe : obligatoire pour un nouveau compte" in text_of(response)
    assert count(app, User) == 5

    response = client.post("/admin/users/new/", data={**form, "password": "un-long-mot-de-passe"})
    assert response.status_code == 302
    with app.app_context():
        user = db.session.scalars(select(User).where(User.email == "nouvelle@exemple.fr")).one()
        assert user.role == Role.COUNSELLOR and user.check_password("un-long-mot-de-passe")
        user_id, stored_hash = user.id, user.password_hash

    for url in ("/admin/users/", f"/admin/users/details/?id={user_id}",
                f"/admin/users/edit/?id={user_id}"):
        page = client.get(url).get_data(as_text=True)
        assert "password_hash" not in page and stored_hash not in page
        assert "pbkdf2" not in page and "scrypt" not in page

    # Editing without typing a password keeps the current one.
    url = f"/admin/users/edit/?id={user_id}"
    response = client.post(url, data={**form, "name": "Référente", "password": "",
                                      "version_seen": version_seen(client, url)})
    assert response.status_code == 302
    with app.app_context():
        user = db.session.get(User, user_id)
        assert user.name == "Référente" and user.password_hash == stored_hash


# --- CSRF -----------------------------------------------------------------------------

@pytest.fixture
def csrf_app(tmp_path):
    app = create_app({"TESTING": True, "SECRET_KEY": "test", "WTF_CSRF_ENABLED": True,
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'csrf.sqlite3'}"})
    with app.app_context():
        db.create_all()
        make_user(Role.COORDINATOR)
        make_beneficiary()
        db.session.commit()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def csrf_token_in(page: str) -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)


def test_admin_posts_need_the_csrf_token(csrf_app):
    client = csrf_app.test_client()
    token = csrf_token_in(client.get("/login").get_data(as_text=True))
    client.post("/login", data={"email": "coordinator@exemple.fr", "password": PASSWORD,
                                "csrf_token": token})
    listing = client.get("/admin/beneficiaries/").get_data(as_text=True)
    assert 'name="csrf_token"' in listing  # delete and bulk forms carry the token
    assert 'action="/logout"' in listing

    assert client.post("/admin/beneficiaries/delete/", data={"id": "1"}).status_code == 400
    assert client.post("/admin/beneficiaries/new/",
                       data={**PERSON, "last_name": "Sans"}).status_code == 400
    assert count(csrf_app, Beneficiary) == 1

    form_token = csrf_token_in(client.get("/admin/beneficiaries/new/").get_data(as_text=True))
    created = client.post("/admin/beneficiaries/new/",
                          data={**PERSON, "last_name": "Avec", "external_id": "",
                                "csrf_token": form_token})
    assert created.status_code == 302
    assert count(csrf_app, Beneficiary) == 2

    token = csrf_token_in(client.get("/admin/beneficiaries/").get_data(as_text=True))
    deleted = client.post("/admin/beneficiaries/delete/", data={"id": "1", "csrf_token": token})
    assert deleted.status_code == 302
    assert count(csrf_app, Beneficiary) == 1


# --- French everywhere ----------------------------------------------------------------

def test_every_column_field_and_filter_has_a_french_label(app):
    """A column added without a label would show Flask-Admin's English guess."""
    from tests.integration.test_admin_access import registered_views

    missing = []
    with app.test_request_context():
        for slug, view in registered_views(app).items():
            french = set(view.column_labels.values())
            for name, _label in [*view._list_columns, *view._details_columns]:
                if name not in view.column_labels:
                    missing.append(f"{slug}: column {name}")
            for field in view._create_form_class():
                if field.type != "CSRFTokenField" and field.label.text not in french \
                        and field.type != "HiddenField":
                    missing.append(f"{slug}: field {field.name} ({field.label.text})")
            for flt in view._filters or ():
                # Our own filters (admin/todo_filters.py) are named in French where they
                # are written; Flask-Admin's take the column's label.
                if type(flt).__module__.startswith("backoffice."):
                    continue
                if str(flt.name) not in french:
                    missing.append(f"{slug}: filter {flt.name}")
    assert missing == []


def test_pages_show_no_english_in_menus_and_headers(app, client, auth, users):
    """Rendered as the administrator sees them: no English word of Flask-Admin left."""
    with app.app_context():
        from tests.integration.test_admin_access import make_world

        make_world(users["counsellor"])
    auth.login("admin")
    english = re.compile(r"\b(Home|List|Create|Edit|Save|Delete|Cancel|Details|Search|"
                         r"Add Filter|items|Failed|Record|Please|Yes|No|True|False|None|"
                         r"Created At|Updated At)\b")
    for url in ("/admin/", "/admin/beneficiaries/", "/admin/enrolments/",
                "/admin/enrolments/new/", "/admin/enrolments/edit/?id=1",
                "/admin/enrolments/details/?id=1", "/admin/referrals/", "/admin/contacts/",
                "/admin/users/new/", "/admin/audit/", "/admin/obligations/",
                "/admin/programmes/details/?id=1"):
        page = text_of(client.get(url))
        assert english.findall(page) == [], url


def test_unknown_enum_value_in_a_filter_url_is_ignored_not_a_server_error(client, auth):
    auth.login("coordinator")
    response = client.get("/admin/referrals/?flt0_0=NOT_A_STATUS")
    assert response.status_code == 200


def test_flask_admin_french_leftovers_are_replaced(app, client, auth, users):
    """Issue 20 §6: Flask-Admin's own French that reads wrong is ours instead, and every
    page says it is in French."""
    with app.app_context():
        from tests.integration.test_admin_access import make_world

        make_world(users["counsellor"])
    auth.login("admin")
    for url in ("/admin/enrolments/", "/admin/enrolments/details/?id=1",
                "/admin/beneficiaries/?flt0_0=Nouméa"):
        response = client.get(url)
        page = response.get_data(as_text=True)
        assert '<html lang="fr">' in page, url
        text = text_of(response)
        for leftover in ("Editer", "Filtres réinitialisés", "articles", "Détails",
                         "au moins un modèle"):
            assert leftover not in text and leftover not in page, (url, leftover)
    assert "Modifier" in text_of(client.get("/admin/enrolments/details/?id=1"))
    created = client.post("/admin/funders/new/", data={"code": "PLIE", "name": "PLIE Lunel",
                                                       "territory": "FR"},
                          follow_redirects=True)
    assert "Enregistré." in text_of(created) and "L'objet a bien été créé" not in text_of(created)


# --- bulk delete (issue 18 §5) ------------------------------------------------------------
def test_bulk_delete_works_on_every_table(app, client, auth, users):
    """« Supprimer » of the list's selection, on every table, the dependants first: each
    row is gone. On PostgreSQL the ids were bound as text, « integer = character varying »:
    a 500 on every table (run this test with DATABASE_URL on PostgreSQL)."""
    from tests.integration.test_admin_access import make_world, registered_views

    with app.app_context():
        ids = make_world(users["counsellor"])
    views = registered_views(app)
    order = ["obligations", "attendances", "barriers", "internships", "contacts",
             "suspensions", "phase-records", "purchase-order-lines", "purchase-orders",
             "enrolments", "commissions", "referrals", "workshops", "sessions", "beneficiaries",
             "deadline-rules", "phases", "import-presets", "programmes", "funders", "exit-types",
             "barrier-types", "contact-types", "suspension-reasons"]
    auth.login("admin")
    for slug in order:
        model = views[slug].model
        row_id = ids[model]
        response = client.post(f"/admin/{slug}/action/",
                               data={"action": "delete", "rowid": [str(row_id), str(row_id)]})
        assert response.status_code == 302, (slug, response.status_code)
        with app.app_context():
            assert db.session.get(model, row_id) is None, slug


def test_bulk_delete_of_ids_that_are_not_ids_is_a_404(app, client, auth, users):
    auth.login("admin")
    for rowid in ("abc", "1 OR 1=1", str(2**70), ""):
        response = client.post("/admin/funders/action/", data={"action": "delete",
                                                               "rowid": rowid})
        assert response.status_code == 404, rowid
