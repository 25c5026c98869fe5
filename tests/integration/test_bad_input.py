"""Issue 6 §6: bad input through the HTTP interface — one test each. A refusal saves
nothing and says in French which field is wrong (under the field and in the summary at
the top of the form, templates/admin/master.html)."""
import csv
import io
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from backoffice.enums import CspRule, ReferralStatus, Territory
from backoffice.extensions import db
from backoffice.models import (
    AuditEntry,
    Beneficiary,
    Contact,
    Enrolment,
    ExitType,
    Funder,
    Internship,
    Referral,
    Suspension,
    User,
)
from tests.conftest import PASSWORD
from tests.integration.test_admin_access import make_beneficiary, make_path, make_reference
from tests.integration.test_admin_crud import PERSON, enrolment_form, text_of

SUMMARY = "Rien n'a été enregistré."


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def world(app, users):
    """Reference rows, one path followed by the counsellor; ids by name."""
    with app.app_context():
        ref = make_reference()
        path = make_path(ref["programme"], users["counsellor"])
        db.session.commit()
        return {"programme": ref["programme"].id, "phase": ref["phase"].id,
                "exit_type": ref["exit_type"].id,
                "contact_type": ref["contact_type"].id,
                "suspension_reason": ref["suspension_reason"].id,
                "path": path.id, "person": path.beneficiary_id}


def refused(response, *fragments) -> str:
    """The page re-rendered (200) with every French fragment; returns its text."""
    assert response.status_code == 200, response.status_code
    text = text_of(response)
    for fragment in fragments:
        assert fragment in text, (fragment, text[:3000])
    return text


# --- dates in the wrong order ----------------------------------------------------------
def test_exit_before_entry(app, client, auth, world):
    auth.login("coordinator")
    response = client.post(
        f"/admin/enrolments/transition/?action=close_with_exit&ids={world['path']}",
        data={"exit_type": str(world["exit_type"]), "exit_date": "2024-12-31"})
    refused(response, "Date de sortie : elle ne peut pas être antérieure à la date "
                      "d'entrée (06/01/2025)")
    with app.app_context():
        assert db.session.get(Enrolment, world["path"]).exit_date is None


def test_entry_before_the_referral(app, client, auth, users, world):
    with app.app_context():
        referral = Referral(beneficiary_id=world["person"], programme_id=world["programme"],
                            referred_on=date(2025, 2, 3), status=ReferralStatus.VALIDATED)
        db.session.add(referral)
        db.session.commit()
        referral_id = referral.id
    auth.login("coordinator")
    response = client.post("/admin/enrolments/new/", data=enrolment_form(
        world["person"], world, users, referral=str(referral_id), entry_date="2025-01-31"))
    refused(response, "Date d'entrée : elle ne peut pas précéder la prescription (03/02/2025)")
    assert count(app, Enrolment) == 1


def test_suspension_end_before_start(app, client, auth, world):
    auth.login("coordinator")
    response = client.post("/admin/suspensions/new/", data={
        "enrolment": str(world["path"]), "reason": str(world["suspension_reason"]),
        "starts_on": "2025-03-10", "ends_on": "2025-03-01"})
    refused(response, "Fin : elle ne peut pas être antérieure au début", SUMMARY)
    assert count(app, Suspension) == 0


def test_internship_end_before_start(app, client, auth, world):
    auth.login("counsellor")
    response = client.post("/admin/internships/new/", data={
        "enrolment": str(world["path"]), "company_name": "Boulangerie",
        "starts_on": "2025-04-15", "ends_on": "2025-04-01"})
    refused(response, "Fin : elle ne peut pas être antérieure au début du stage", SUMMARY)
    assert count(app, Internship) == 0


# --- birth dates -----------------------------------------------------------------------
def test_birth_date_in_the_future(app, client, auth, users):
    auth.login("coordinator")
    tomorrow = date.today() + timedelta(days=1)
    response = client.post("/admin/beneficiaries/new/",
                           data={**PERSON, "birth_date": tomorrow.isoformat()})
    refused(response, "Date de naissance : le", "est dans le futur", SUMMARY)
    assert count(app, Beneficiary) == 0


@pytest.mark.parametrize("born", ["1901-01-01", f"{date.today().year - 5}-01-01"])
def test_implausible_age(app, client, auth, users, born):
    auth.login("coordinator")
    response = client.post("/admin/beneficiaries/new/", data={**PERSON, "birth_date": born})
    refused(response, "Date de naissance : un âge de", "n'est pas plausible")
    assert count(app, Beneficiary) == 0


@pytest.mark.parametrize("typed", ["2020-13-45", "pas une date", "31/02/1990"])
def test_invalid_date_string(app, client, auth, users, typed):
    auth.login("coordinator")
    response = client.post("/admin/beneficiaries/new/", data={**PERSON, "birth_date": typed})
    refused(response, "Date de naissance : N'est pas une date valide", SUMMARY)
    assert count(app, Beneficiary) == 0


# --- duplicates, lengths, markup, formulas ----------------------------------------------
def test_duplicate_beneficiary(app, client, auth, users):
    with app.app_context():
        make_beneficiary(last_name="Wamytan", first_name="Léa", birth_date=date(1990, 5, 4))
        db.session.commit()
    auth.login("coordinator")
    response = client.post("/admin/beneficiaries/new/",
                           data={**PERSON, "last_name": "WAMYTAN", "first_name": "lea",
                                 "external_id": ""})
    refused(response, "Doublon : un bénéficiaire", "Nom : Doublon")
    assert count(app, Beneficiary) == 1


def test_overlong_text(app, client, auth, users):
    auth.login("coordinator")
    response = client.post("/admin/beneficiaries/new/", data={**PERSON, "last_name": "x" * 101})
    refused(response, "Nom : ", "100 caractères", SUMMARY)
    assert count(app, Beneficiary) == 0


SCRIPT = '<script>alert("x")</script>'


def test_markup_in_names_and_notes_is_shown_as_text(app, client, auth, users, world):
    auth.login("coordinator")
    created = client.post("/admin/beneficiaries/new/", data={
        **PERSON, "last_name": SCRIPT, "first_name": "<b>Léa</b>", "notes": SCRIPT,
        "external_id": ""})
    assert created.status_code == 302
    with app.app_context():
        person = db.session.scalar(select(Beneficiary).where(Beneficiary.last_name == SCRIPT))
        make_path(db.session.get(Enrolment, world["path"]).programme, None, person)
        db.session.commit()
        person_id = person.id
    pages = [f"/admin/beneficiaries/?search={SCRIPT[:7]}", "/admin/beneficiaries/",
             f"/admin/beneficiaries/details/?id={person_id}",
             f"/admin/beneficiaries/edit/?id={person_id}", "/admin/enrolments/",
             "/admin/audit/"]
    for url in pages:
        page = client.get(url).get_data(as_text=True)
        assert "<script>alert" not in page and "<b>Léa</b>" not in page, url
    duplicate = client.post("/admin/beneficiaries/new/", data={
        **PERSON, "last_name": SCRIPT, "first_name": "<b>Léa</b>", "external_id": ""})
    assert "<script>alert" not in duplicate.get_data(as_text=True)  # the flashed link too


@pytest.mark.parametrize("name", ["=1+1", '=HYPERLINK("http://x","clic")', "+33 612", "@SUM(A1)",
                                  "-2+3"])
def test_formula_in_a_name_is_text_in_the_csv_exports(app, client, auth, users, world, name):
    with app.app_context():
        person = db.session.get(Beneficiary, world["person"])
        person.last_name = name
        db.session.commit()
    auth.login("coordinator")
    for url, column in (("/admin/beneficiaries/export/csv/", "Nom"),
                        ("/admin/enrolments/export/csv/", "Bénéficiaire")):
        response = client.get(url)
        assert response.status_code == 200
        rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
        assert rows, url
        cell = rows[0][column]
        assert cell.startswith("'") and name.upper() in cell.upper(), (url, cell)


# --- numbers ---------------------------------------------------------------------------
def test_negative_contact_duration(app, client, auth, world):
    auth.login("coordinator")
    response = client.post("/admin/contacts/new/", data={
        "enrolment": str(world["path"]), "occurs_at": "2025-02-03 10:00:00",
        "contact_type": str(world["contact_type"]), "duration_minutes": "-5",
        "attendance": "present", "staff": ""})
    refused(response, "Durée (minutes) : -5 n'est pas possible (entre 0 et 720 attendu)")
    assert count(app, Contact) == 0


def test_absurd_internship_hours(app, client, auth, world):
    auth.login("counsellor")
    response = client.post("/admin/internships/new/", data={
        "enrolment": str(world["path"]), "company_name": "Boulangerie",
        "starts_on": "2025-04-01", "ends_on": "2025-04-15", "hours": "5000"})
    refused(response, "Heures : 5000 n'est pas possible (entre 0 et 2000 attendu)")
    assert count(app, Internship) == 0


def test_absurd_hours_per_month_on_an_exit(app, client, auth, world):
    with app.app_context():
        part_time = ExitType(code="part_time", label="Emploi à temps partiel", schemes="DEL",
                             csp_rule=CspRule.NOT_POSITIVE, needs_hours_per_month=True)
        db.session.add(part_time)
        db.session.commit()
        part_time_id = part_time.id
    auth.login("coordinator")
    response = client.post(
        f"/admin/enrolments/transition/?action=close_with_exit&ids={world['path']}",
        data={"exit_type": str(part_time_id), "exit_date": "2025-02-03",
              "hours_per_month": "1000"})
    refused(response, "Impossible de clôturer : Heures par mois : 1000 h dépasse le maximum "
                      "vraisemblable de 300 h par mois, vérifier la saisie")
    with app.app_context():
        assert db.session.get(Enrolment, world["path"]).exit_date is None


# --- hand-made posts -------------------------------------------------------------------
def test_unknown_enum_value_posted_by_hand(app, client, auth, users):
    auth.login("coordinator")
    response = client.post("/admin/beneficiaries/new/", data={**PERSON, "sex": "X"})
    refused(response, "Sexe : « X » n'est pas une valeur possible", SUMMARY)
    assert count(app, Beneficiary) == 0


def test_post_without_csrf_token(app, users):
    app.config["WTF_CSRF_ENABLED"] = True
    client = app.test_client()
    login_page = client.get("/login").get_data(as_text=True)
    token = login_page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    client.post("/login", data={"email": "coordinator@exemple.fr", "password": PASSWORD,
                                "csrf_token": token})
    response = client.post("/admin/beneficiaries/new/", data=PERSON)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Jeton de sécurité (CSRF) absent ou expiré" in page and 'lang="fr"' in page
    assert count(app, Beneficiary) == 0
    with app.app_context():
        entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "refused")).one()
        assert "CSRF" in entry.detail and entry.user_email == "coordinator@exemple.fr"


def test_fields_not_in_the_form_are_ignored(app, client, auth, users):
    auth.login("coordinator")
    response = client.post("/admin/beneficiaries/new/", data={
        **PERSON, "id": "999", "version": "50", "name_key": "pirate|x",
        "created_at": "2000-01-01 00:00:00", "anonymised_at": "2000-01-01 00:00:00"})
    assert response.status_code == 302
    with app.app_context():
        person = db.session.scalars(select(Beneficiary)).one()
        assert (person.id, person.version, person.name_key, person.anonymised_at) == \
            (1, 1, "wamytan lea", None)
        assert person.created_at.year == date.today().year
    auth.logout()
    auth.login("admin")
    viewer_id = users["viewer"]
    with app.app_context():  # a funder's account names its funder (issue 18 §1)
        funder = Funder(code="DEL", name="DEL province Sud", territory=Territory.NC)
        db.session.add(funder)
        db.session.commit()
        funder_id = funder.id
    client.post(f"/admin/users/edit/?id={viewer_id}", data={
        "name": "Lecteur", "email": "viewer@exemple.fr", "role": "viewer", "active": "y",
        "funder": str(funder_id),
        "password_hash": "pbkdf2:sha256:1$x$y", "session_version": "99", "last_login_at": ""})
    with app.app_context():
        viewer = db.session.get(User, viewer_id)
        assert viewer.name == "Lecteur"
        assert viewer.check_password(PASSWORD) and viewer.session_version == 1
