"""Issue 6 §6: bad input through the HTTP interface — one test each. A refusal saves
nothing and says in French which field is wrong (under the field and in the summary at
the top of the form, templates/admin/master.html)."""
import csv
import io
from datetime import date, datetime, timedelta

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
from tests.conftest import PASSWORD, post_action, post_edit
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
    response = post_action(
        client, f"/admin/enrolments/transition/?action=close_with_exit&ids={world['path']}",
        {"exit_type": str(world["exit_type"]), "exit_date": "2024-12-31"})
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


@pytest.mark.parametrize("typed", ["2020-13-45", "pas une date", "31/02/1990", "21/07/94",
                                   "1994-07-21 extra"])
def test_invalid_date_string(app, client, auth, users, typed):
    auth.login("coordinator")
    response = client.post("/admin/beneficiaries/new/", data={**PERSON, "birth_date": typed})
    refused(response, f"Date de naissance : « {typed} » n'est pas une date valide ; "
                      "tapez-la sous la forme JJ/MM/AAAA", SUMMARY)
    assert count(app, Beneficiary) == 0


@pytest.mark.parametrize("typed", ["21/07/1994", "1994-07-21", " 21/07/1994 "])
def test_a_french_date_is_saved_as_typed(app, client, auth, users, typed):
    """Issue 20 §5: « 21/07/1994 » is 21 July 1994, never another date."""
    auth.login("coordinator")
    response = client.post("/admin/beneficiaries/new/", data={**PERSON, "birth_date": typed})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.scalar(select(Beneficiary.birth_date)) == date(1994, 7, 21)


def test_every_date_input_of_the_forms_is_the_browsers_date_input(app, client, auth, users):
    """One date input everywhere (issue 20 §5): no JavaScript picker that rewrites a date."""
    auth.login("admin")
    for url in ("/admin/beneficiaries/new/", "/admin/enrolments/new/", "/admin/contacts/new/",
                "/admin/referrals/new/", "/admin/workshops/new/", "/admin/internships/new/"):
        page = client.get(url).get_data(as_text=True)
        assert 'data-role="datepicker"' not in page and 'data-role="datetimepicker"' not in page
        assert 'type="date"' in page or 'type="datetime-local"' in page, url


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
        text = response.get_data(as_text=True)
        assert text.startswith("\ufeff")  # Excel reads the accents as UTF-8 (issue 20 §9)
        rows = list(csv.DictReader(io.StringIO(text[1:]), delimiter=";"))
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


def test_contact_before_the_path_entry(app, client, auth, world):
    """Issue 20 §5: the path entered on 06/01/2025 (make_path) has no contact before."""
    auth.login("counsellor")
    response = client.post("/admin/contacts/new/", data={
        "enrolment": str(world["path"]), "occurs_at": "03/01/2025 10:00",
        "contact_type": str(world["contact_type"]), "attendance": "present", "staff": ""})
    refused(response, "le contact du 03/01/2025 précède l'entrée dans le parcours (06/01/2025)")
    assert count(app, Contact) == 0


def test_contact_typed_the_french_way_is_saved_as_typed(app, client, auth, world):
    auth.login("counsellor")
    response = client.post("/admin/contacts/new/", data={
        "enrolment": str(world["path"]), "occurs_at": "21/07/2025 14:30",
        "contact_type": str(world["contact_type"]), "attendance": "present", "staff": ""})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.scalar(select(Contact.occurs_at)) == datetime(2025, 7, 21, 14, 30)


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
    response = post_action(
        client, f"/admin/enrolments/transition/?action=close_with_exit&ids={world['path']}",
        {"exit_type": str(part_time_id), "exit_date": "2025-02-03", "hours_per_month": "1000"})
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
    post_edit(client, f"/admin/users/edit/?id={viewer_id}", {
        "name": "Lecteur", "email": "viewer@exemple.fr", "role": "viewer", "active": "y",
        "funder": str(funder_id),
        "password_hash": "pbkdf2:sha256:1$x$y", "session_version": "99", "last_login_at": ""})
    with app.app_context():
        viewer = db.session.get(User, viewer_id)
        assert viewer.name == "Lecteur"
        assert viewer.check_password(PASSWORD) and viewer.session_version == 1


# --- issue 18 §4: no server error from bad input ----------------------------------------
BEYOND_64_BITS = str(2**70)


def no_raw_error(response) -> str:
    """The page holds no database message, SQL statement or English server page."""
    page = response.get_data(as_text=True)
    for leak in ("[SQL:", "[parameters:", "sqlalchemy", "psycopg", "sqlite3", "OverflowError",
                 "Traceback", "Internal Server Error", "INSERT INTO", "SELECT "):
        assert leak not in page, (leak, page[:2000])
    return page


@pytest.mark.parametrize(("method", "url", "data"), [
    ("GET", "/admin/beneficiaries/details/?id={big}", None),
    ("GET", "/admin/enrolments/edit/?id={big}", None),
    ("POST", "/admin/beneficiaries/delete/", {"id": "{big}"}),
    ("POST", "/admin/contacts/action/", {"action": "delete", "rowid": "{big}"}),
    ("GET", "/admin/enrolments/transition/?action=suspend&ids={big}", None),
    ("GET", "/admin/referrals/decide/?action=validate&ids={path},{big}", None),
    ("POST", "/admin/alerts/done/", {"obligation_id": "{big}"}),
    ("GET", "/admin/beneficiaries/details/?id=-1", None),
])
def test_an_id_beyond_64_bits_is_a_404(app, client, auth, world, method, url, data):
    """2^70 made SQLite fail (« Python int too large to convert to SQLite INTEGER »)."""
    values = {"big": BEYOND_64_BITS, "path": world["path"]}
    auth.login("admin")
    before = count(app, Beneficiary), count(app, Contact), count(app, Enrolment)
    response = client.open(url.format(**values), method=method,
                           data={k: v.format(**values) for k, v in (data or {}).items()})
    assert response.status_code == 404
    assert "Page introuvable" in no_raw_error(response)
    assert (count(app, Beneficiary), count(app, Contact), count(app, Enrolment)) == before


def test_a_foreign_key_beyond_64_bits_is_a_french_form_error(app, client, auth, world):
    auth.login("coordinator")
    response = client.post("/admin/contacts/new/", data={
        "enrolment": BEYOND_64_BITS, "occurs_at": "2025-02-03 10:00:00",
        "contact_type": str(world["contact_type"]), "attendance": "present"})
    refused(response, "Choix impossible : cette fiche n'existe pas ou vous n'y avez pas accès")
    assert count(app, Contact) == 0


@pytest.mark.parametrize("page", ["-1", BEYOND_64_BITS])
def test_a_page_out_of_range_is_refused_in_french(client, auth, world, page):
    """PostgreSQL refused a negative OFFSET, SQLite a huge one: both were a 500."""
    auth.login("coordinator")
    response = client.get(f"/admin/beneficiaries/?page={page}")
    assert response.status_code == 400
    no_raw_error(response)
    assert f"Page : « {page} » n'est pas un numéro de page possible" in text_of(response)


@pytest.mark.parametrize(("method", "url", "data", "field"), [
    ("GET", "/admin/beneficiaries/?search=a%00b", None, "Recherche"),
    ("GET", "/admin/contacts/?flt0_0=a%00b", None, "flt0_0"),
    ("POST", "/admin/beneficiaries/new/", {**PERSON, "last_name": "Wa\x00my"}, "Nom"),
    ("POST", "/admin/beneficiaries/new/", {**PERSON, "notes": "x\x00"}, "Observations"),
    ("POST", "/login", {"email": "a\x00@exemple.fr", "password": "x"}, "Adresse e-mail"),
])
def test_a_nul_character_is_refused_naming_the_field(app, client, auth, world, method, url,
                                                     data, field):
    """PostgreSQL cannot store NUL (code 0) and its driver failed on it, even in a search."""
    auth.login("coordinator")
    response = client.open(url, method=method, data=data)
    assert response.status_code == 400
    page = text_of(response)
    assert f"{field} : le caractère nul (code 0) n'est pas permis ; rien n'a été enregistré" \
        in page, page[:2000]
    no_raw_error(response)
    assert count(app, Beneficiary) == 1


def test_a_nul_character_is_refused_outside_the_forms_too(app, world):
    """The same rule on the ORM session (CLI, services): value_ranges.py."""
    from backoffice.value_ranges import OutOfRange

    with app.app_context():
        db.session.get(Beneficiary, world["person"]).commune = "Nou\x00méa"
        with pytest.raises(OutOfRange, match="Commune : le caractère nul"):
            db.session.flush()
        db.session.rollback()


@pytest.mark.parametrize("blank", ["   ", "\u200b", "\u00a0\u00a0", " \u200d\ufeff "])
@pytest.mark.parametrize("field", ["last_name", "first_name"])
def test_a_whitespace_or_zero_width_name_is_refused(app, client, auth, users, field, blank):
    auth.login("coordinator")
    response = client.post("/admin/beneficiaries/new/", data={**PERSON, field: blank})
    label = {"last_name": "Nom", "first_name": "Prénom"}[field]
    refused(response, f"{label} : Champ obligatoire : des espaces ou des caractères invisibles "
                      f"seuls ne suffisent pas", SUMMARY)
    assert count(app, Beneficiary) == 0


@pytest.mark.parametrize(("url", "data"), [
    ("/admin/funders/new/", {"code": "X", "name": " \u200b ", "territory": "NC"}),
    ("/admin/users/new/", {"name": "\u00a0", "email": "n@exemple.fr", "role": "viewer",
                           "active": "y", "password": "cheval agrafe pile correcte"}),
])
def test_a_blank_name_is_refused_on_every_table(app, client, auth, users, url, data):
    auth.login("admin")
    before = count(app, User)
    response = client.post(url, data=data)
    refused(response, "Nom", "des espaces ou des caractères invisibles seuls ne suffisent pas")
    assert count(app, User) == before


def test_names_are_saved_without_invisible_characters_around(app, client, auth, users):
    auth.login("coordinator")
    response = client.post("/admin/beneficiaries/new/", data={
        **PERSON, "last_name": "\u200b Wamytan\u00a0", "first_name": "Léa\ufeff",
        "notes": " \u200b "})
    assert response.status_code == 302
    with app.app_context():
        person = db.session.scalars(select(Beneficiary)).one()
        assert (person.last_name, person.first_name, person.notes) == ("Wamytan", "Léa", None)


@pytest.mark.parametrize("email", ["pas-un-mail", "a@b", "a b@exemple.fr", "<x>@exemple.fr",
                                   "@exemple.fr", "x@"])
def test_an_invalid_email_is_refused_in_the_users_form(app, client, auth, users, email):
    auth.login("admin")
    before = count(app, User)
    response = client.post("/admin/users/new/", data={
        "name": "Marie", "email": email, "role": "viewer", "active": "y",
        "password": "cheval agrafe pile correcte"})
    refused(response, f"Adresse e-mail : « {email.lower()} » n'est pas une adresse valide")
    assert count(app, User) == before


def test_an_email_is_saved_as_typed_at_login(app, client, auth, users):
    """Lower case, no spaces: the login form compares it so."""
    auth.login("admin")
    client.post("/admin/users/new/", data={
        "name": "Marie", "email": " Marie.Martin@Exemple.FR ", "role": "coordinator",
        "active": "y",
        "password": "cheval agrafe pile correcte"})
    with app.app_context():
        assert db.session.scalar(select(User.email).where(User.name == "Marie")) == \
            "marie.martin@exemple.fr"


def one_french_line(result) -> str:
    """A CLI error: non-zero exit, one line « Erreur : … », no traceback."""
    assert result.exit_code != 0
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Erreur : "), result.output
    assert "Traceback" not in result.output and "Error:" not in result.output
    return lines[0]


@pytest.mark.parametrize(("args", "message"), [
    (["--email", "pas-un-mail", "--name", "X"], "« pas-un-mail » n'est pas une adresse valide"),
    (["--email", "a@b", "--name", "X"], "« a@b » n'est pas une adresse valide"),
    (["--email", "x@exemple.fr", "--name", " \u200b"], "Nom affiché : champ obligatoire"),
    (["--email", "x@exemple.fr"], "l'option --name est obligatoire"),
])
def test_cli_users_create_refuses_bad_input_in_one_french_line(app, runner, users, args,
                                                               message):
    result = runner.invoke(args=["users", "create", *args, "--role", "viewer",
                                 "--password", "cheval agrafe pile correcte"])
    assert message in one_french_line(result)
    assert count(app, User) == len(users)


@pytest.mark.parametrize(("args", "message"), [
    (["users", "create", "--email", "x@exemple.fr", "--name", "X", "--role", "dieu",
      "--password", "cheval agrafe pile correcte"],
     "valeur invalide pour --role : « dieu » n'est pas parmi"),
    (["privacy", "export", "--beneficiary", BEYOND_64_BITS],
     f"valeur invalide pour --beneficiary : {BEYOND_64_BITS} est hors des limites"),
    (["privacy", "export", "--beneficiary", "abc"], "« abc » n'est pas un nombre entier"),
    (["export", "del-annual", "--session", BEYOND_64_BITS], "est hors des limites"),
    # dates of commands within the years the application accepts (1980–2099)
    (["obligations", "rebuild", "--as-of", "0001-01-01"],
     "valeur invalide pour --as-of : le 01/01/0001 est hors des années acceptées (1980–2099)"),
    (["alerts", "--as-of", "9999-12-31"], "le 31/12/9999 est hors des années acceptées"),
    (["privacy", "purge", "--as-of", "1900-01-01"],
     "le 01/01/1900 est hors des années acceptées"),
])
def test_cli_usage_errors_are_one_french_line(app, runner, args, message):
    assert message in one_french_line(runner.invoke(args=args))


def test_cli_unexpected_failure_is_one_french_line(app, runner, world, monkeypatch):
    def broken(*_args, **_kwargs):
        raise RuntimeError("SELECT secret FROM beneficiaries")

    monkeypatch.setattr("backoffice.commands.privacy.person_data", broken)
    line = one_french_line(runner.invoke(args=["privacy", "export", "--beneficiary", "1"]))
    assert "la commande a échoué (RuntimeError) ; rien n'a été enregistré" in line
    assert "SELECT" not in line


@pytest.mark.parametrize("moment", ["1000-01-01 10:00:00", "0001-01-01 00:00:00",
                                    "9999-12-31 10:00:00"])
def test_a_contact_in_an_implausible_year_is_refused(app, client, auth, world, moment):
    auth.login("coordinator")
    response = client.post("/admin/contacts/new/", data={
        "enrolment": str(world["path"]), "occurs_at": moment,
        "contact_type": str(world["contact_type"]), "attendance": "present"})
    day = f"{moment[8:10]}/{moment[5:7]}/{moment[:4]}"
    refused(response, f"Date et heure : le {day} n'est pas une date plausible "
                      f"(entre le 01/01/1980 et le 31/12/2099 attendu)")
    assert count(app, Contact) == 0


@pytest.mark.parametrize(("field", "value", "message"), [
    ("min_size", "-1", "Effectif minimum : -1 n'est pas possible"),
    ("max_size", "-3", "Effectif maximum : -3 n'est pas possible"),
    ("min_size", BEYOND_64_BITS, f"Effectif minimum : {BEYOND_64_BITS} n'est pas possible"),
])
def test_a_negative_or_huge_size_is_refused(app, client, auth, world, field, value, message):
    from backoffice.models import ProgrammeSession

    auth.login("coordinator")
    response = client.post("/admin/sessions/new/", data={
        "programme": str(world["programme"]), "label": "Session 2", "starts_on": "2025-01-06",
        field: value})
    no_raw_error(refused(response, message) and response)
    assert count(app, ProgrammeSession) == 0


def test_an_unknown_choice_is_refused_in_french(app, client, auth, world):
    """« Not a valid choice » of Flask-Admin's selects, in French."""
    from backoffice.models import ProgrammeSession

    auth.login("coordinator")
    response = client.post("/admin/sessions/new/", data={
        "programme": "999", "label": "Session 2", "starts_on": "2025-01-06"})
    text = refused(response, "Choix impossible : cette valeur ne figure pas dans la liste")
    assert "Not a valid" not in text
    assert count(app, ProgrammeSession) == 0


# --- errors the user did not cause: French, no SQL, nothing half-written -----------------
@pytest.fixture
def read_only_app(app, users, tmp_path):
    """The same database file opened read-only (a full disk, a replica, a wrong mount)."""
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        pytest.skip("read-only file: SQLite")
    from backoffice import create_app

    path = app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")
    read_only = create_app({
        "TESTING": True, "SECRET_KEY": "test", "WTF_CSRF_ENABLED": False,
        "PROPAGATE_EXCEPTIONS": False,
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///file:{path}?mode=ro&uri=true"})
    yield read_only
    with read_only.app_context():
        db.engine.dispose()


def test_a_read_only_database_gives_a_french_page_without_sql(app, client, auth,
                                                              read_only_app):
    auth.login("coordinator")  # on the writable database: the login writes
    read_only = read_only_app.test_client()
    read_only.set_cookie("session", client.get_cookie("session").value)
    response = read_only.post("/admin/beneficiaries/new/", data=PERSON, follow_redirects=True)
    page = no_raw_error(response)
    assert "la base de données est momentanément indisponible ou en lecture seule" in page
    assert "readonly" not in page
    assert count(app, Beneficiary) == 0
    anonymous = read_only_app.test_client().post(
        "/login", data={"email": "coordinator@exemple.fr", "password": PASSWORD})
    assert anonymous.status_code == 500
    assert "lecture seule" in no_raw_error(anonymous)


def test_an_unexpected_error_gives_the_french_page_with_the_menus(app, client, auth, world,
                                                                  monkeypatch):
    from sqlalchemy.exc import OperationalError

    from backoffice.admin.beneficiaries import BeneficiaryView

    def broken(self, *args, **kwargs):
        db.session.get(Beneficiary, world["person"]).last_name = "Moitié écrite"
        raise OperationalError("SELECT * FROM beneficiaries", {"id": 1}, Exception("boom"))

    monkeypatch.setattr(BeneficiaryView, "get_list", broken)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    auth.login("coordinator")
    response = client.get("/admin/beneficiaries/")
    assert response.status_code == 500
    page = no_raw_error(response)
    assert "la base de données est momentanément indisponible" in page
    assert 'href="/admin/enrolments/"' in page and "Se déconnecter" in page  # the menus
    with app.app_context():  # the half-made change was rolled back
        assert db.session.get(Beneficiary, world["person"]).last_name == "Wamytan"

    monkeypatch.setattr(BeneficiaryView, "get_list", lambda *a, **k: 1 / 0)
    response = client.get("/admin/beneficiaries/")
    assert response.status_code == 500
    assert "Une erreur inattendue a empêché de traiter la demande" in no_raw_error(response)


def _broken(*_args, **_kwargs):
    raise RuntimeError("disque plein")


# Issue 20 §9: every error page keeps the menu. (status, heading, how to get it)
ERROR_PAGES = [
    (400, "Demande refusée", lambda client, mp: client.get("/admin/beneficiaries/?search=%00")),
    (403, "Accès refusé", lambda client, mp: client.get("/admin/users/")),
    (404, "Page introuvable", lambda client, mp: client.get("/admin/nulle-part/")),
    (429, "Trop de tentatives", lambda client, mp: (
        mp.setattr("backoffice.security.begin_login_attempt", lambda *a, **k: None),
        client.post("/admin/account/", data={"current_password": PASSWORD,
                                             "new_password": "cheval agrafe pile correct",
                                             "confirmation": "cheval agrafe pile correct"}),
    )[1]),
    (503, "Service momentanément indisponible", lambda client, mp: (
        mp.setattr("backoffice.audit.spool.append", _broken),
        client.get("/admin/beneficiaries/details/?id=1"))[1]),
]


@pytest.mark.parametrize(("status", "heading", "request_page"), ERROR_PAGES,
                         ids=[str(page[0]) for page in ERROR_PAGES])
def test_every_error_page_keeps_the_menu(app, client, auth, world, monkeypatch, status,
                                         heading, request_page):
    """Logged in, the error page is drawn in the admin's layout: the navigation bar with the
    user's menus and the logout button, the alerts badge, and the screens they may open."""
    auth.login("counsellor")
    response = request_page(client, monkeypatch)
    assert response.status_code == status
    page = no_raw_error(response)
    assert heading in page
    assert 'class="navbar' in page and "Se déconnecter" in page
    assert 'href="/admin/enrolments/"' in page  # a screen the counsellor may open
    assert 'href="/admin/users/"' not in page  # and not one they may not
    assert "Wamytan" not in page


def test_an_anonymous_error_page_has_the_plain_layout(client):
    response = client.get("/admin/nulle-part/")
    assert response.status_code == 404
    page = no_raw_error(response)
    assert "Page introuvable" in page and "Back-office des parcours d" in page
    assert "Se déconnecter" not in page and 'href="/admin/enrolments/"' not in page


# --- issue 18 §6: no redirect to another site ---------------------------------------------
@pytest.mark.parametrize("target", ["/\t/evil.example", "//evil.example", "/\\evil.example",
                                    "https://evil.example/admin/", "/\n/evil.example",
                                    "javascript:alert(1)", " /admin/"])
def test_safe_target_keeps_only_paths_of_this_site(app, target):
    from backoffice.redirects import back_to, safe_target

    assert safe_target(target) is None
    with app.test_request_context():
        assert back_to(target) == "/admin/"
        assert back_to("/admin/enrolments/?page=2") == "/admin/enrolments/?page=2"


EVIL = "/%09/evil.example"


def test_no_redirect_to_another_site_after_a_lifecycle_action(app, client, auth, world):
    auth.login("coordinator")
    path = world["path"]
    done = post_action(client, f"/admin/enrolments/transition/?action=suspend&ids={path}"
                                f"&url={EVIL}", {"reason": str(world["suspension_reason"]),
                                                 "starts_on": "2025-02-03"})
    assert done.status_code == 302 and done.headers["Location"] == "/admin/enrolments/"
    with app.app_context():
        assert count(app, Suspension) == 1  # the action itself was applied
    one_at_a_time = client.get(
        f"/admin/enrolments/transition/?action=resume&ids={path},{path}&url={EVIL}")
    bulk = client.post(f"/admin/enrolments/action/?url={EVIL}",
                       data={"action": "next_phase", "rowid": str(path), "url": EVIL})
    for response in (one_at_a_time, bulk):
        location = response.headers.get("Location", "")
        assert "evil" not in location and "\t" not in location, location


@pytest.mark.parametrize("target", [EVIL, "//evil.example", "/%5Cevil.example"])
def test_no_redirect_to_another_site_after_the_login(client, users, target):
    response = client.post(f"/login?next={target}",
                           data={"email": "viewer@exemple.fr", "password": PASSWORD})
    assert response.status_code == 302 and response.headers["Location"] == "/admin/"
    again = client.get(f"/login?next={target}")  # already logged in
    assert again.headers["Location"] == "/admin/"


@pytest.mark.parametrize("reason", ["   ", "\u200b\u00a0"])
def test_a_refusal_reason_of_spaces_alone_is_refused(app, client, auth, world, reason):
    """Lifecycle forms: a required text of spaces or invisible characters is empty."""
    with app.app_context():
        referral = Referral(beneficiary_id=world["person"], programme_id=world["programme"],
                            referred_on=date(2025, 2, 3))
        db.session.add(referral)
        db.session.commit()
        referral_id = referral.id
    auth.login("commission")
    response = client.post(f"/admin/referrals/decide/?action=reject&ids={referral_id}",
                           data={"decided_on": "2025-02-10", "reason": reason})
    refused(response, "Motif du refus : obligatoire.")
    with app.app_context():
        assert db.session.get(Referral, referral_id).status == ReferralStatus.PENDING


@pytest.mark.parametrize("url", [
    f"/admin/alerts/?programme={BEYOND_64_BITS}", f"/admin/alerts/?referent={BEYOND_64_BITS}",
    "/admin/alerts/?programme=%C2%B2",  # « ² » is a digit for str.isdigit, not for int()
    f"/admin/indicators/?report=arjlj&programme=DEL-L1&order={BEYOND_64_BITS}",
])
def test_an_id_filter_beyond_64_bits_is_no_server_error(client, auth, world, url):
    auth.login("admin")
    response = client.get(url)
    assert response.status_code == 200
    no_raw_error(response)


def test_a_report_on_an_order_beyond_64_bits_says_so(client, auth, world):
    auth.login("admin")
    response = client.get("/admin/indicators/telecharger/?report=arjlj&programme=DEL-L1"
                          f"&order={BEYOND_64_BITS}")
    assert response.status_code == 400
    assert f"Identifiant « {BEYOND_64_BITS} » invalide" in text_of(response)
