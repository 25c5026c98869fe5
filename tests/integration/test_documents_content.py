"""Issue 21 §1 and §5: each shipped document, filled from a hand-built record and read
back with python-docx, prints the record's values, leaves no placeholder, writes dates in
French (21/07/1994, « 21 juillet 1994 »), prints a name typed with « <b> & » as typed, and
carries the FSE+ mention and the EU emblem only on the documents of ESF programmes (004 §6,
seeds/documents/letterhead.yaml). Every shipped template also fills with its sample()."""
from datetime import date, datetime
from io import BytesIO
from pathlib import Path

import pytest
import yaml
from docx import Document
from sqlalchemy import select

from backoffice.documents import context as ctx
from backoffice.documents.builder import shipped_template
from backoffice.documents.catalogue import KINDS, SUBJECTS, load_all
from backoffice.documents.render import render
from backoffice.enums import (
    Answer,
    Attendance,
    BilanKind,
    ContractKind,
    LabourMarketStatus,
    ReferralStatus,
    Role,
    Sex,
)
from backoffice.extensions import db
from backoffice.models import (
    Barrier,
    BarrierType,
    Beneficiary,
    Commission,
    Contact,
    ContactType,
    Enrolment,
    EsfEntry,
    ExitType,
    Internship,
    Phase,
    PhaseRecord,
    Programme,
    Referral,
    Workshop,
    WorkshopAttendance,
)
from backoffice.seeding.reference import load_reference
from tests.conftest import empty_app, make_user

load_all()

ROOT = Path(__file__).resolve().parents[2]
TYPED_NAME = "Dupont <b>& fils"  # user text: printed as typed, never interpreted
ESF_MENTION = "Ce projet est cofinancé par le Fonds social européen (FSE+)"
DOCUMENT_CODES = ("convocation_contact", "convocation_workshop", "attendance_certificate",
                  "commission_minutes", "decision_letter", "plie_liaison_entry",
                  "plie_liaison_non_entry", "plie_liaison_exit", "plie_l3_diagnostic",
                  "plie_l4_interview_schedule", "del_action_plan", "del_internship_agreement",
                  "del_internship_report", "del_path_report")


def read_back(document: bytes) -> tuple[str, int]:
    """Every paragraph and table cell of a .docx, and how many images it holds."""
    docx = Document(BytesIO(document))
    lines = [paragraph.text for paragraph in docx.paragraphs]
    for table in docx.tables:
        for row in table.rows:
            lines.extend(cell.text for cell in row.cells)
    return "\n".join(lines), len(docx.inline_shapes)


def make_file(app, programme_code: str, first_name: str, bilan_kind=None) -> dict[str, int]:
    """A person on a path of `programme_code` with one record of every kind a document
    reads: a referral decided in commission, phases, an appointment, a workshop attended,
    an internship with its evaluations and diagnostic, barriers (one sensitive), an exit."""
    with app.app_context():
        session = db.session
        programme = session.scalar(select(Programme).where(Programme.code == programme_code))
        counsellor = make_user(Role.COUNSELLOR, email=f"c-{programme_code}@exemple.fr",
                               name="Claire Conseillère")
        person = Beneficiary(
            last_name=TYPED_NAME, first_name=first_name, birth_date=date(1994, 7, 21),
            sex=Sex.FEMALE, external_id=f"ID-{programme_code}", phone="06 11 22 33 44",
            email="anne@exemple.fr", address="12 rue des Lilas", postcode="34400",
            commune="Lunel")
        commission = Commission(programme=programme, held_on=date(2026, 1, 20),
                                members_present="Mme Durand, M. Martin")
        referral = Referral(
            beneficiary=person, programme=programme, referred_on=date(2026, 1, 12),
            prescriber_name="Paul Prescripteur", prescription_place="Agence de Lunel",
            reason="Reprise de confiance", status=ReferralStatus.VALIDATED,
            decided_on=date(2026, 1, 20), commission=commission, decided_by=counsellor,
            decision_reason="Projet cohérent avec l'action")
        later = Commission(programme=programme, held_on=date(2026, 2, 17))
        rejected = Referral(
            beneficiary=person, programme=programme, referred_on=date(2025, 11, 3),
            status=ReferralStatus.REJECTED, decided_on=date(2026, 1, 20),
            commission=commission, decision_reason="Hors critères <i>d'âge</i> & de lieu")
        deferred = Referral(
            beneficiary=person, programme=programme, referred_on=date(2025, 12, 1),
            status=ReferralStatus.DEFERRED, decided_on=date(2026, 1, 20),
            commission=commission, deferred_to=later, decision_reason="Pièces manquantes")
        phases = session.scalars(select(Phase).where(Phase.programme_id == programme.id)
                                 .order_by(Phase.position)).all()
        path = Enrolment(
            beneficiary=person, programme=programme, referral=referral, referent=counsellor,
            entry_date=date(2026, 2, 2), planned_end_date=date(2026, 9, 30),
            exit_date=date(2026, 6, 30), target_job="Agent d'entretien", rome_code="K2204",
            action_plan_on=date(2026, 2, 20), employer="Nettoyage du Sud",
            contract_kind=ContractKind.CDI, goal_attainment=2, satisfaction=4,
            engagement_level=3, soft_skills_level=3, difficulties="Garde d'enfants le matin",
            recommendations="Poursuivre avec le référent", bilan_kind=bilan_kind,
            exit_type=session.scalar(select(ExitType).where(ExitType.code == "cdi")),
            exit_reason="Fin de l'action")
        path.phase_records.append(PhaseRecord(phase=phases[0], started_on=date(2026, 2, 2),
                                              ended_on=date(2026, 2, 27)))
        individual = session.scalar(select(ContactType).where(ContactType.code == "individual"))
        contact = Contact(enrolment=path, contact_type=individual,
                          occurs_at=datetime(2026, 2, 3, 9, 30), duration_minutes=45,
                          staff=counsellor, objective="Définir les objectifs de l'action",
                          attendance=Attendance.PRESENT)
        workshop = Workshop(programme=programme, title="Atelier « confiance »",
                            held_at=datetime(2026, 2, 10, 14), duration_minutes=180,
                            place="Salle des fêtes de Lunel", facilitator="Marie Animatrice")
        attendance = WorkshopAttendance(workshop=workshop, enrolment=path,
                                        attendance=Attendance.PRESENT)
        internship = Internship(
            enrolment=path, company_name="Ressourcerie du Pic", company_number="12345678900012",
            tutor_name="Jean Encadrant", starts_on=date(2026, 3, 2), ends_on=date(2026, 3, 13),
            hours=30, planned_activities="Tri et valorisation des dons",
            evaluation_criteria="Ponctualité, respect des consignes",
            conditions_checked_on=date(2026, 2, 25), midpoint_technical="Gestes acquis",
            midpoint_behavioural="Ponctuelle", final_technical="Autonome sur le tri",
            final_behavioural="Bon esprit d'équipe", report_on=date(2026, 3, 16),
            diagnostic_behaviour="Assidue, toujours à l'heure",
            diagnostic_understanding="Consignes bien comprises",
            diagnostic_skills="Tri, accueil du public",
            diagnostic_relations="Bonne entente avec les bénévoles",
            diagnostic_recommendations="Orientation vers un chantier d'insertion",
            diagnostic_cosigned_on=date(2026, 3, 16))
        mobility = session.scalar(select(BarrierType).where(BarrierType.code == "mobility"))
        health = session.scalar(select(BarrierType).where(BarrierType.code == "health"))
        barriers = [Barrier(enrolment=path, barrier_type=mobility,
                            identified_on=date(2026, 2, 3), lifted_on=date(2026, 4, 1)),
                    Barrier(enrolment=path, barrier_type=health,
                            identified_on=date(2026, 2, 3), notes="Suivi médical")]
        # the FSE+ questionnaire of the path, frozen at its entry (issue 24)
        entry = EsfEntry(enrolment=path, entered_on=path.entry_date,
                         recorded_on=date(2026, 2, 10),
                         labour_market_status=LabourMarketStatus.INACTIVE, isced_level=3,
                         single_parent_household=Answer.YES, rural_area=Answer.NO,
                         minority=Answer.REFUSED)
        session.add_all([person, commission, referral, rejected, deferred, path, contact,
                         workshop, attendance, internship, *barriers])
        if programme.esf_operation is not None:
            session.add(entry)
        session.commit()
        return {"enrolment": path.id, "referral": referral.id, "rejected": rejected.id,
                "deferred": deferred.id, "contact": contact.id,
                "workshop": workshop.id, "commission": commission.id,
                "internship": internship.id}


# --- one app for the module: the documents only read ------------------------------------
@pytest.fixture(scope="module")
def documents_app(tmp_path_factory):
    app = empty_app(tmp_path_factory.mktemp("documents"))
    with app.app_context():
        load_reference(db.session)
        db.session.commit()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(scope="module")
def files(documents_app):
    """One file for a PLIE lot 3 path, one for lot 4, one for DEL lot 1."""
    return {"PLIE-L3": make_file(documents_app, "PLIE-L3", "Anne"),
            "PLIE-L4": make_file(documents_app, "PLIE-L4", "Béa", BilanKind.SKILLS),
            "DEL-L1": make_file(documents_app, "DEL-L1", "Cléo")}


def produce(app, code: str, record_id: int) -> tuple[str, int]:
    """The shipped document `code` made from one record, read back."""
    with app.app_context():
        context = KINDS[code].build(db.session, record_id)
        return read_back(render(shipped_template(code), context))


BIRTH_SHORT, BIRTH_LONG = "21/07/1994", "21 juillet 1994"

# (document, programme of the file, record it is made from, values it must print)
CASES = [
    ("convocation_contact", "PLIE-L3", "contact",
     [TYPED_NAME, "3 février 2026", "03/02/2026", "09h30", "45 min",
      "Entretien individuel en face à face", "Définir les objectifs de l'action",
      "12 rue des Lilas", "34400 Lunel", "Claire Conseillère"]),
    ("convocation_contact", "DEL-L1", "contact", [TYPED_NAME, "09h30"]),
    ("convocation_workshop", "PLIE-L3", "workshop",
     [TYPED_NAME, "Atelier « confiance »", "10 février 2026", "14h00", "3 h",
      "Salle des fêtes de Lunel", "Marie Animatrice"]),
    ("attendance_certificate", "PLIE-L3", "enrolment",
     [TYPED_NAME, BIRTH_LONG, "02/02/2026", "30/06/2026", "03/02/2026", "10/02/2026",
      "Atelier « Atelier « confiance » »", "3 h 45"]),
    ("attendance_certificate", "DEL-L1", "enrolment", [TYPED_NAME, "3 h 45"]),
    ("commission_minutes", "PLIE-L3", "commission",
     ["DUPONT <B>& FILS Anne", BIRTH_SHORT, "20 janvier 2026", "Mme Durand, M. Martin",
      "Validée", "Projet cohérent avec l'action", "12/01/2026", "Refusée",
      "Hors critères <i>d'âge</i> & de lieu", "Ajournée (reportée au 17/02/2026)",
      "Pièces manquantes"]),
    ("decision_letter", "DEL-L1", "referral",
     [TYPED_NAME, "20 janvier 2026", "a validé votre entrée", "12/01/2026"]),
    ("decision_letter", "PLIE-L3", "rejected",
     [TYPED_NAME, "n'a pas validé votre entrée", "Hors critères <i>d'âge</i> & de lieu"]),
    ("decision_letter", "DEL-L1", "deferred",
     [TYPED_NAME, "a ajourné l'examen", "Pièces manquantes",
      "examinée par la commission du 17 février 2026"]),
    ("plie_liaison_entry", "PLIE-L3", "enrolment",
     [TYPED_NAME, BIRTH_SHORT, BIRTH_LONG, "ID-PLIE-L3", "06 11 22 33 44",
      "Paul Prescripteur", "12/01/2026", "20/01/2026", "02/02/2026", "Claire Conseillère",
      "Inactif", "Famille monoparentale", "Refuse de répondre"]),
    ("plie_liaison_non_entry", "PLIE-L3", "referral",
     [TYPED_NAME, BIRTH_SHORT, "Paul Prescripteur", "12/01/2026", "Validée"]),
    ("plie_liaison_exit", "PLIE-L4", "enrolment",
     [TYPED_NAME, BIRTH_SHORT, "30/06/2026", "CDI", "Nettoyage du Sud",
      "Fin de l'action", "Bilan de compétences", "Agent d'entretien", "K2204",
      "20/02/2026", "Synthèse du bilan", "Garde d'enfants le matin"]),
    ("plie_l3_diagnostic", "PLIE-L3", "internship",
     [TYPED_NAME, "Ressourcerie du Pic", "Jean Encadrant", "02/03/2026", "13/03/2026",
      "Assidue, toujours à l'heure", "Consignes bien comprises", "Tri, accueil du public",
      "Bonne entente avec les bénévoles", "Orientation vers un chantier d'insertion",
      "16/03/2026"]),
    ("plie_l4_interview_schedule", "PLIE-L4", "enrolment",
     [TYPED_NAME, BIRTH_SHORT, "Bilan de compétences", "20 h", "03/02/2026", "09h30",
      "45 min", "2 absences injustifiées ou 2 relances"]),
    ("del_action_plan", "DEL-L1", "enrolment",
     [TYPED_NAME, BIRTH_SHORT, "Agent d'entretien", "K2204", "20/02/2026", "Mobilité",
      "Frein d'ordre personnel", "01/04/2026", "Ressourcerie du Pic",
      "Tri et valorisation des dons", "02/02/2026"]),
    ("del_internship_agreement", "DEL-L1", "internship",
     [TYPED_NAME, "Ressourcerie du Pic", "12345678900012", "Jean Encadrant",
      "2 mars 2026", "13 mars 2026", "30 heures", "Tri et valorisation des dons",
      "Ponctualité, respect des consignes", "25/02/2026", "50 % du SMG"]),
    ("del_internship_report", "DEL-L1", "internship",
     [TYPED_NAME, "Gestes acquis", "Ponctuelle", "Autonome sur le tri",
      "Bon esprit d'équipe", "16/03/2026"]),
    ("del_path_report", "DEL-L1", "enrolment",
     [TYPED_NAME, BIRTH_SHORT, "Agence de Lunel", "Reprise de confiance", "02/02/2026",
      "30/06/2026", "149 jours", "Mobilité", "Ressourcerie du Pic", "CDI",
      "Nettoyage du Sud", "objectifs (0 : non atteints, 3 : atteints) : 2",
      "Satisfaction du bénéficiaire (1 à 5) : 4", "Garde d'enfants le matin"]),
]


@pytest.mark.parametrize(("code", "programme", "subject", "expected"), CASES,
                         ids=[f"{case[0]}-{case[1]}" for case in CASES])
def test_document_prints_the_record(documents_app, files, code, programme, subject,
                                    expected):
    text, images = produce(documents_app, code, files[programme][subject])
    missing = [value for value in expected if value not in text]
    assert not missing, f"{code} ne contient pas {missing}"
    assert "{{" not in text and "{%" not in text and "}}" not in text
    assert "None" not in text
    esf = programme.startswith("PLIE")
    assert (ESF_MENTION in text) is esf
    assert images == (1 if esf else 0)  # the EU emblem, and no logo is shipped


def test_sensitive_barrier_is_not_named(documents_app, files):
    """A health barrier prints as « Frein d'ordre personnel », its notes not at all."""
    text, _images = produce(documents_app, "del_action_plan", files["DEL-L1"]["enrolment"])
    assert "Santé" not in text and "Suivi médical" not in text


def test_every_document_has_a_case():
    assert {case[0] for case in CASES} == set(DOCUMENT_CODES)
    assert set(DOCUMENT_CODES) <= set(KINDS)


@pytest.mark.parametrize("code", DOCUMENT_CODES)
def test_every_shipped_template_fills_with_its_sample(code):
    kind = KINDS[code]
    text, _images = read_back(render(shipped_template(code), kind.sample()))
    assert "{{" not in text and "{%" not in text
    assert kind.title and kind.source and kind.fields
    assert kind.subject in SUBJECTS


def test_documents_fulfil_rules_that_exist_for_their_programmes():
    """Each rule a document fulfils is in seeds/deadline_rules.yaml, for a programme the
    document belongs to."""
    rules = yaml.safe_load((ROOT / "seeds" / "deadline_rules.yaml").read_text("utf-8"))
    programmes_of = {rule["code"]: rule.get("programmes") or [rule.get("programme")]
                     for rule in rules}
    for code in DOCUMENT_CODES:
        kind = KINDS[code]
        for rule in kind.fulfils:
            assert rule in programmes_of, f"{code}: règle {rule} inconnue"
            assert any(kind.applies_to(programme) for programme in programmes_of[rule])
    assert KINDS["plie_liaison_entry"].fulfils == ("plie_liaison_entry",)
    assert KINDS["plie_liaison_entry"].subject == "enrolment"


@pytest.mark.parametrize(("code", "esf"), [("PLIE-L1", True), ("PLIE-L4", True),
                                           ("PLIEX", False), ("DEL-L1", False),
                                           ("CSP", False), ("ARJLJ", False)])
def test_esf_programmes_are_read_from_the_letterhead(code, esf):
    assert ctx.is_esf_programme(code) is esf


@pytest.mark.parametrize(("minutes", "printed"), [(None, ""), (45, "45 min"), (60, "1 h"),
                                                  (90, "1 h 30"), (225, "3 h 45")])
def test_durations_print_in_french(minutes, printed):
    assert ctx.duration(minutes) == printed


def test_fse_questionnaire_reads_the_paths_entry_record(documents_app, files):
    """Issue 24 §5: the fiche de liaison prints the path's ESF+ entry data."""
    with documents_app.app_context():
        path = db.session.get(Enrolment, files["PLIE-L3"]["enrolment"])
        fse = ctx.esf_fields(db.session, path)
        outside = ctx.esf_fields(db.session, db.session.get(
            Enrolment, files["DEL-L1"]["enrolment"]))
    assert fse["recorded"] and fse["labour_market_status"] == "Inactif"
    assert fse["single_parent_household"] == "Oui" and fse["rural_area"] == "Non"
    assert fse["minority"] == "Refuse de répondre"
    answers = {row["question"]: row["answer"] for row in fse["questions"]}
    assert answers["Date d'entrée dans l'opération FSE+"] == "02/02/2026"
    assert outside["questions"] == [] and not outside["recorded"]


def test_a_missing_record_is_named_in_french(documents_app):
    with documents_app.app_context(), pytest.raises(LookupError, match="Le parcours n° 999"):
        KINDS["plie_liaison_entry"].build(db.session, 999)


def test_a_funder_logo_set_in_the_letterhead_is_printed(documents_app, files, monkeypatch):
    """letterhead.yaml `funders.<code>.logo` (none shipped): printed at the top, beside the
    EU emblem of an ESF programme; a funder without one prints no image."""
    shipped = ctx.letterhead()
    with_logo = {**shipped, "funders": {"PLIE": {"logo": "emblem_eu.png"}}}
    monkeypatch.setattr(ctx, "letterhead", lambda: with_logo)
    _text, plie_images = produce(documents_app, "plie_liaison_entry",
                                 files["PLIE-L3"]["enrolment"])
    _text, del_images = produce(documents_app, "del_action_plan", files["DEL-L1"]["enrolment"])
    assert (plie_images, del_images) == (2, 0)


def test_the_organisation_comes_from_the_settings_line_by_line():
    fields = ctx.organisation_fields({"ORGANISATION_NAME": "Association <Avenir> & Cie"})
    assert fields["name"] == "Association <Avenir> & Cie"
    assert set(fields) == set(ctx.ORGANISATION_KEYS)


def test_the_producer_completes_a_built_document(documents_app, files):
    """`with_producer`: « établi par » the user producing it, the organisation of the
    settings; without them, the document says neither."""
    with documents_app.app_context():
        built = KINDS["plie_liaison_entry"].build(db.session, files["PLIE-L3"]["enrolment"])
        producer = make_user(Role.COORDINATOR, email="prod@exemple.fr", name="Paule Productrice")
        completed = ctx.with_producer(built, producer, {"ORGANISATION_NAME": "Asso Avenir"})
        before, _images = read_back(render(shipped_template("plie_liaison_entry"), built))
        after, _images = read_back(render(shipped_template("plie_liaison_entry"), completed))
        db.session.rollback()
    assert "Paule Productrice" not in before and "Asso Avenir" not in before
    assert "par Paule Productrice." in after and "Asso Avenir" in after
