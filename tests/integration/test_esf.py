"""Issue 24: ESF+ participant data per path, through the application — the entry and exit
records from the path, a re-entry keeping the first entry, « Refuse de répondre » for the
sensitive items only, the checks before the export with their links, the exports, the
fiche de liaison's fields, the person's page, and who may (funders never: nominative;
counsellors their own paths only), each refusal changing nothing."""
import csv
import io
import re
from datetime import date, timedelta

import openpyxl
import pytest
from sqlalchemy import func, select

from backoffice.enums import Answer, EnrolmentStatus, LabourMarketStatus, Role, Sex
from backoffice.extensions import db
from backoffice.models import (
    AuditEntry,
    Beneficiary,
    Enrolment,
    EsfEntry,
    EsfExit,
    Obligation,
    Programme,
)
from backoffice.services.esf import esf_entry_fields
from tests.conftest import make_user

TODAY = date.today()


def programme(code: str) -> Programme:
    return db.session.scalar(select(Programme).where(Programme.code == code))


def person(last: str, sex=Sex.FEMALE, born=date(1990, 4, 2)) -> Beneficiary:
    row = Beneficiary(last_name=last, first_name="Test", birth_date=born, sex=sex,
                      postcode="34400", commune="Lunel")
    db.session.add(row)
    db.session.flush()
    return row


def path(who, code, entry, referent, exit_=None) -> Enrolment:
    row = Enrolment(beneficiary=who, programme=programme(code), entry_date=entry,
                    exit_date=exit_, referent_id=referent,
                    status=EnrolmentStatus.CLOSED if exit_ else EnrolmentStatus.ACTIVE)
    db.session.add(row)
    db.session.flush()
    return row


ANSWERS = {name: Answer.NO for name in (
    "household_jobless", "single_parent_household", "disability", "third_country_national",
    "foreign_background", "minority", "homeless_or_housing_exclusion", "rural_area")}


def entry_of(row: Enrolment, **changes) -> EsfEntry:
    values = {"labour_market_status": LabourMarketStatus.LONG_TERM_UNEMPLOYED,
              "isced_level": 3, **ANSWERS, **changes}
    record = EsfEntry(enrolment=row, entered_on=row.entry_date, recorded_on=row.entry_date,
                      **values)
    db.session.add(record)
    return record


@pytest.fixture
def plie(reference_app, users):
    """Anne: PLIE-L1 (entry recorded, left 60 days ago), then re-entered PLIE-L2 (no entry
    record of its own), followed by the counsellor. Bruno: PLIE-L4, followed by another
    counsellor, nothing recorded. Chloé: a one-day PLIE-L3 action."""
    with reference_app.app_context():
        other = make_user(Role.COUNSELLOR, email="autre@exemple.fr", name="Autre référent")
        anne = person("Martin")
        first = path(anne, "PLIE-L1", TODAY - timedelta(days=200), users["counsellor"],
                     TODAY - timedelta(days=60))
        again = path(anne, "PLIE-L2", TODAY - timedelta(days=30), users["counsellor"])
        entry_of(first)
        bruno = person("Dubois", Sex.MALE, date(1967, 11, 2))
        alone = path(bruno, "PLIE-L4", TODAY - timedelta(days=90), other.id)
        chloe = person("Petit")
        one_day = path(chloe, "PLIE-L3", TODAY - timedelta(days=10), users["counsellor"],
                       TODAY - timedelta(days=10))
        db.session.commit()
        return {"anne": anne.id, "first": first.id, "again": again.id, "bruno": bruno.id,
                "alone": alone.id, "one_day": one_day.id, "other": other.id}


def login(client, role):
    response = client.post("/login", data={"email": f"{role}@exemple.fr",
                                           "password": "motdepasse-de-test-123"})
    assert response.status_code == 302


def entry_form(path_id, entered_on, **changes) -> dict:
    form = {"enrolment": str(path_id), "entered_on": entered_on.isoformat(),
            "recorded_on": entered_on.isoformat(),
            "labour_market_status": "unemployed", "isced_level": "4",
            **{name: "no" for name in ANSWERS}}
    form.update(changes)
    return form


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


# --- entry record ----------------------------------------------------------------------

def test_add_entry_comes_prefilled_from_the_path_and_is_saved(reference_app, client, plie):
    login(client, "counsellor")
    page = client.get(f"/admin/esf-entries/new/?enrolment={plie['one_day']}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Refuse de répondre" in text and "Situation sur le marché du travail" in text
    with reference_app.app_context():
        entered = db.session.get(Enrolment, plie["one_day"]).entry_date
    assert f'value="{entered.isoformat()}"' in text  # the path's entry date
    response = client.post(f"/admin/esf-entries/new/?enrolment={plie['one_day']}",
                           data=entry_form(plie["one_day"], entered, disability="refused"))
    assert response.status_code == 302
    with reference_app.app_context():
        saved = db.session.scalar(select(EsfEntry).where(
            EsfEntry.enrolment_id == plie["one_day"]))
        assert saved.disability is Answer.REFUSED  # a sensitive item: refusal accepted
        assert saved.labour_market_status is LabourMarketStatus.UNEMPLOYED


def test_refusal_to_answer_a_non_sensitive_item_is_refused_and_nothing_saved(
        reference_app, client, plie):
    login(client, "counsellor")
    before = count(reference_app, EsfEntry)
    with reference_app.app_context():
        entered = db.session.get(Enrolment, plie["one_day"]).entry_date
    response = client.post("/admin/esf-entries/new/",
                           data=entry_form(plie["one_day"], entered, rural_area="refused"))
    assert response.status_code == 200
    assert "Habite en zone rurale : « Refuse de répondre » n&#39;est admis que pour les " \
           "questions sensibles" in response.get_data(as_text=True)
    assert count(reference_app, EsfEntry) == before


def test_a_reentry_keeps_the_first_entry_and_gets_none_of_its_own(reference_app, client, plie):
    login(client, "counsellor")
    before = count(reference_app, EsfEntry)
    with reference_app.app_context():
        again = db.session.get(Enrolment, plie["again"])
        first = db.session.get(Enrolment, plie["first"])
        response = client.post("/admin/esf-entries/new/",
                               data=entry_form(again.id, again.entry_date))
        assert response.status_code == 200
        page = response.get_data(as_text=True)
        assert (f"Réentrée : cette personne est déjà entrée dans l&#39;opération PLIE le "
                f"{first.entry_date:%d/%m/%Y} (parcours n° {first.id})") in page
        assert count(reference_app, EsfEntry) == before
        # the fiche de liaison of the re-entry shows the first participation's data
        fields = esf_entry_fields(db.session, again.id)
        assert fields["reentry"] is True and fields["recorded"] is True
        assert fields["entered_on"] == f"{first.entry_date:%d/%m/%Y}"
        assert fields["labour_market_status"] == "Chômeur de longue durée (12 mois ou plus)"
        assert fields["isced_group"] == "CITE 3 à 4"
        assert fields["disability"] == "Non"
        assert fields["first_participation"].startswith(f"parcours n° {first.id} (PLIE-L1")
        assert {"question": "Personne handicapée", "answer": "Non"} in fields["questions"]
        assert esf_entry_fields(db.session, plie["alone"])["recorded"] is False


def test_an_entry_outside_esf_or_without_a_path_is_refused_in_french(reference_app, client,
                                                                     plie):
    with reference_app.app_context():
        csp = path(db.session.get(Beneficiary, plie["bruno"]), "CSP", TODAY, None)
        db.session.commit()
        csp_id = csp.id
    login(client, "coordinator")
    before = count(reference_app, EsfEntry)
    refused = client.post("/admin/esf-entries/new/", data=entry_form(csp_id, TODAY))
    assert refused.status_code == 200
    assert "le dispositif CSP n&#39;est pas financé par le FSE+" in refused.get_data(
        as_text=True)
    missing = client.post("/admin/esf-entries/new/", data=entry_form("", TODAY))
    assert missing.status_code == 200
    assert "This field is required" not in missing.get_data(as_text=True)
    assert re.search(r"obligatoire|Ce champ est requis", missing.get_data(as_text=True))
    assert count(reference_app, EsfEntry) == before


def test_a_counsellor_cannot_record_nor_open_another_counsellors_path(
        reference_app, client, plie):
    with reference_app.app_context():
        alone = db.session.get(Enrolment, plie["alone"])
        foreign = entry_of(alone)
        db.session.commit()
        foreign_id, entered = foreign.id, alone.entry_date
    login(client, "counsellor")
    before = count(reference_app, EsfEntry)
    assert client.get(f"/admin/esf-entries/edit/?id={foreign_id}").status_code == 404
    assert client.get(f"/admin/esf-entries/details/?id={foreign_id}").status_code == 404
    response = client.post(f"/admin/esf-entries/edit/?id={foreign_id}",
                           data=entry_form(plie["alone"], entered, isced_level="8"))
    assert response.status_code == 404
    client.post("/admin/esf-entries/new/", data=entry_form(plie["alone"], entered))
    assert count(reference_app, EsfEntry) == before  # nothing changed
    with reference_app.app_context():
        assert db.session.get(EsfEntry, foreign_id).isced_level == 3


# --- exit record and its deadline ------------------------------------------------------

def test_exit_record_owes_a_deadline_within_4_weeks_and_its_form_fulfils_it(
        reference_app, client, plie):
    with reference_app.app_context():
        left = db.session.get(Enrolment, plie["first"]).exit_date
        db.session.get(Enrolment, plie["first"]).version  # noqa: B018 — loaded
        due = db.session.scalar(select(Obligation).where(
            Obligation.enrolment_id == plie["first"],
            Obligation.name == "Données de sortie FSE+ (4 semaines après la sortie)"))
        assert due is not None and due.due_at.date() == left + timedelta(days=28)
        assert due.done_at is None  # overdue: an alert
    login(client, "counsellor")
    assert "Données de sortie FSE+" in client.get("/admin/alerts/").get_data(as_text=True)
    form = {"enrolment": str(plie["first"]), "left_on": left.isoformat(),
            "recorded_on": (left + timedelta(days=10)).isoformat(),
            "in_education_or_training": "no", "gained_qualification": "no",
            "in_employment": "yes", "job_searching": "no"}
    assert client.post("/admin/esf-exits/new/", data=form).status_code == 302
    with reference_app.app_context():
        due = db.session.scalar(select(Obligation).where(
            Obligation.enrolment_id == plie["first"],
            Obligation.name == "Données de sortie FSE+ (4 semaines après la sortie)"))
        assert due.done_at.date() == left + timedelta(days=10)


def test_exit_record_of_a_path_still_running_is_refused(reference_app, client, plie):
    login(client, "counsellor")
    before = count(reference_app, EsfExit)
    response = client.post("/admin/esf-exits/new/", data={
        "enrolment": str(plie["again"]), "left_on": TODAY.isoformat(),
        "recorded_on": TODAY.isoformat(), "in_education_or_training": "no",
        "gained_qualification": "no", "in_employment": "no", "job_searching": "yes"})
    assert response.status_code == 200
    assert "le parcours n&#39;a pas de sortie enregistrée" in response.get_data(as_text=True)
    assert count(reference_app, EsfExit) == before


# --- checks, exports and who may ---------------------------------------------------------

def test_checks_list_per_person_what_is_missing_with_a_link_to_fix_it(client, plie):
    login(client, "coordinator")
    page = client.get("/admin/esf/?operation=PLIE").get_data(as_text=True)
    assert "DUBOIS Test" in page
    assert "Données d&#39;entrée FSE+ : non saisies (entrée le" in page
    assert f"/admin/esf-entries/new/?enrolment={plie['alone']}" in page  # « saisir »
    assert f"/admin/esf-exits/new/?enrolment={plie['first']}" in page  # Anne's exit
    assert "1 réentrée" in page
    assert "pas un participant (action d'une journée ou moins)" in page  # Chloé


def test_a_counsellor_checks_only_their_own_paths(client, plie):
    login(client, "counsellor")
    page = client.get("/admin/esf/?operation=PLIE").get_data(as_text=True)
    assert "MARTIN Test" in page and "DUBOIS Test" not in page
    assert "Fichier des participants" not in page  # no export right
    assert client.get("/admin/esf/export/?operation=PLIE&format=csv").status_code == 403


def test_export_writes_one_line_per_participant_and_the_indicators(reference_app, client,
                                                                   plie):
    login(client, "coordinator")
    response = client.get("/admin/esf/export/?operation=PLIE&format=csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff")),
                               delimiter=";"))
    assert [row["NOM"] for row in rows] == ["Dubois", "Martin"]  # Chloé: no participant
    anne = rows[1]
    assert anne["SITUATION_MARCHE_TRAVAIL"] == "LONG_TERM_UNEMPLOYED"
    assert anne["NIVEAU_CITE"] == "3" and anne["HANDICAP"] == "NON"
    assert anne["NOMBRE_REENTREES"] == "1" and anne["DATE_SORTIE"] == ""  # back in
    assert rows[0]["DATE_ENTREE"] and rows[0]["HANDICAP"] == ""  # nothing recorded yet
    book = client.get("/admin/esf/export/?operation=PLIE&format=xlsx")
    assert book.status_code == 200
    sheets = openpyxl.load_workbook(io.BytesIO(book.data), read_only=True)
    outputs = {row[0]: row[1:] for row in sheets["Réalisation"].iter_rows(min_row=3,
                                                                         values_only=True)}
    # Total, Femme, Homme, <18, 18-29, 30-54, 55+: Anne (F, 30s at entry), Bruno (M, 58)
    assert outputs["Participants"][:3] == (2, 1, 1)
    assert outputs["Chômeurs de longue durée"][:3] == (1, 1, 0)
    with reference_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.action == "export")) == 2  # both downloads in the audit trail


def test_a_funder_never_gets_the_nominative_data_and_nothing_changes(reference_app, client,
                                                                       plie):
    login(client, "viewer")
    before = [count(reference_app, m) for m in (EsfEntry, EsfExit, Obligation)]
    for url in ("/admin/esf/?operation=PLIE", "/admin/esf/export/?operation=PLIE&format=csv",
                "/admin/esf/export/?operation=PLIE&format=xlsx", "/admin/esf-entries/",
                "/admin/esf-exits/", f"/admin/esf-entries/new/?enrolment={plie['alone']}"):
        assert client.get(url).status_code == 403, url
    response = client.post("/admin/esf-entries/new/", data=entry_form(plie["alone"], TODAY))
    assert response.status_code == 403
    assert [count(reference_app, m) for m in (EsfEntry, EsfExit, Obligation)] == before
    with reference_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.action == "export")) == 0


# --- the person's page -------------------------------------------------------------------

def test_the_persons_page_shows_each_paths_esf_data(client, plie):
    login(client, "counsellor")
    page = client.get(f"/admin/beneficiaries/details/?id={plie['anne']}").get_data(
        as_text=True)
    assert "Données FSE+" in page
    assert f"données d'entrée de la première participation (parcours n° {plie['first']})" \
        in page
    assert "Chômeur de longue durée (12 mois ou plus)" in page
    assert "+ Saisir la sortie" in page  # the first path left, its exit not recorded
    path_page = client.get(f"/admin/enrolments/details/?id={plie['again']}").get_data(
        as_text=True)
    assert "Réentrée" in path_page


# --- the command line --------------------------------------------------------------------

def test_flask_esf_check_and_export(reference_app, plie, tmp_path):
    runner = reference_app.test_cli_runner()
    checked = runner.invoke(args=["esf", "check", "--operation", "PLIE"])
    assert checked.exit_code == 1  # Bruno's entry and Anne's exit are missing
    assert "DUBOIS Test :" in checked.output and "non saisies" in checked.output
    target = tmp_path / "participants.csv"
    written = runner.invoke(args=["esf", "export", "--operation", "PLIE", "--output",
                                  str(target)])
    assert written.exit_code == 0, written.output
    assert "2 participants" in written.output
    assert target.read_bytes().count(b"\r\n") == 3  # header + 2
    unknown = runner.invoke(args=["esf", "check", "--operation", "XYZ"])
    assert unknown.exit_code != 0 and "Opération : « XYZ » n'existe pas" in unknown.output
