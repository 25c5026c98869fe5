"""France Travail documents (002): each template rendered on a hand-built record and read
back with python-docx.

CSP (002 II): Anne « Dupont <b>& » (born 21/07/1994), adhesion 15/01/2025, pré-bilan and
contract 20/01/2025, phase 1 20/01 → 14/02/2025, phase 2 from 17/02/2025, exit into a CDI
on 15/09/2025; Paul Leroy (a « public expérimental ») abandons in phase 2 on 02/06/2025;
Marc Absent never came to his pré-bilan (a non-entry). ARJLJ (002 I): order BC-2025-001 of
« Usine <b>& fils », support from 04/03/2025; Bernard and Lefèvre convened to the
information meeting of 05/03/2025.
"""
from datetime import date, datetime
from io import BytesIO

import pytest
import yaml
from docx import Document
from sqlalchemy import select

from backoffice.documents.builder import TEMPLATES_DIR, shipped_template
from backoffice.documents.catalogue import KINDS, load_all
from backoffice.documents.render import render
from backoffice.enums import (
    AbandonReason,
    Attendance,
    ContractKind,
    ReferralStatus,
    Role,
    Sex,
)
from backoffice.extensions import db
from backoffice.models import (
    Barrier,
    Contact,
    ContactType,
    Internship,
    Phase,
    PhaseRecord,
    PurchaseOrder,
    Suspension,
    SuspensionReason,
    Workshop,
    WorkshopAttendance,
)
from tests.conftest import make_user
from tests.integration.test_reports_common import (
    barrier_type,
    enrol,
    person,
    programme,
    refer,
)

ROOT = TEMPLATES_DIR.parents[1]
FRANCE_TRAVAIL = ("csp_", "arjlj_")
BLANK_DATE = "……/……/…………"


def document_text(content: bytes) -> str:
    """Every paragraph and every table cell of a .docx, one per line."""
    document = Document(BytesIO(content))
    lines = [paragraph.text for paragraph in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            lines.append(" | ".join(cell.text for cell in row.cells))
    return "\n".join(lines)


def produce(code: str, record_id: int) -> str:
    kind = KINDS[code]
    return document_text(render(shipped_template(code), kind.build(db.session, record_id)))


def _phase(prog, code: str) -> Phase:
    return db.session.scalar(select(Phase).where(Phase.programme_id == prog.id,
                                                 Phase.code == code))


@pytest.fixture
def records(reference_app):
    """The hand-built records; yields their ids by name (inside an app context)."""
    with reference_app.app_context():
        kinds = {c.code: c for c in db.session.scalars(select(ContactType))}
        referent = make_user(Role.COUNSELLOR, "claire@exemple.fr", "Claire Référente")
        csp = programme("CSP")
        anne = person("Dupont <b>&", "Anne", birth=date(1994, 7, 21), sex=Sex.FEMALE,
                      external_id="1234567A",
                      address="3 rue des Lilas", postcode="34000", commune="Montpellier")
        path = enrol(
            anne, csp, date(2025, 1, 20), planned_end=date(2026, 1, 14),
            exit_on=date(2025, 9, 15), exit_code="cdi", referent=referent,
            csp_adhesion_on=date(2025, 1, 15), prebilan_at=datetime(2025, 1, 20, 10, 0),
            csp_contract_signed_on=date(2025, 1, 20),
            csp_contract_sent_at=datetime(2025, 1, 21, 9, 0),
            target_job="Soudeur <i>TIG</i>", rome_code="H2913",
            contract_kind=ContractKind.CDI, employer="Garage Martin",
            follow_up_end_date=date(2026, 3, 15),
        )
        phase_1, phase_2 = _phase(csp, "phase_1"), _phase(csp, "phase_2")
        mobility, health = barrier_type("mobility"), barrier_type("health")
        illness = db.session.scalar(
            select(SuspensionReason).where(SuspensionReason.code == "illness"))
        db.session.add_all([
            PhaseRecord(enrolment=path, phase=phase_1,
                        started_on=date(2025, 1, 20), ended_on=date(2025, 2, 14)),
            PhaseRecord(enrolment=path, phase=phase_2,
                        started_on=date(2025, 2, 17), ended_on=date(2025, 9, 15)),
            Barrier(enrolment=path, barrier_type=mobility,
                    identified_on=date(2025, 1, 20), notes="Pas de permis"),
            Barrier(enrolment=path, barrier_type=health,
                    identified_on=date(2025, 1, 20), notes="Secret médical"),
            Internship(enrolment=path, company_name="Garage Martin",
                       starts_on=date(2025, 3, 3), ends_on=date(2025, 3, 7), hours=35),
            Suspension(enrolment=path, reason=illness, starts_on=date(2025, 4, 1),
                       ends_on=date(2025, 4, 10)),
            Contact(enrolment=path, contact_type=kinds["individual"],
                    occurs_at=datetime(2025, 1, 27, 9, 0), duration_minutes=45,
                    staff=referent),
            Contact(enrolment=path, contact_type=kinds["phone"],
                    occurs_at=datetime(2025, 2, 3, 11, 0), duration_minutes=15,
                    staff=referent, attendance=Attendance.UNEXCUSED),
            # phase 2: neither on the phase-1 sheet nor after the 6th month
            Contact(enrolment=path, contact_type=kinds["individual"],
                    occurs_at=datetime(2025, 3, 10, 14, 0), duration_minutes=45,
                    staff=referent),
        ])
        workshop = Workshop(programme=csp, title="Techniques de recherche d'emploi",
                            held_at=datetime(2025, 2, 5, 9, 0), duration_minutes=180,
                            facilitator="Marie Animatrice")
        db.session.add_all([workshop, WorkshopAttendance(workshop=workshop, enrolment=path)])

        paul = person("Leroy", "Paul", birth=date(1980, 5, 1), experimental_csp_public=True)
        abandon = enrol(paul, csp, date(2025, 2, 3), exit_on=date(2025, 6, 2),
                        exit_code="abandon", abandon_reason=AbandonReason.LOSS_OF_CONTACT,
                        current_phase=phase_2)
        db.session.add(Contact(enrolment=abandon, contact_type=kinds["individual"],
                               occurs_at=datetime(2025, 5, 12, 9, 0)))

        bare = enrol(person("Sansdonnées", "Léa", birth=date(1970, 2, 2)), csp,
                     date(2025, 3, 3))

        marc = person("Absent", "Marc", birth=date(1985, 3, 3))
        non_entry = refer(marc, csp, date(2025, 1, 14), status=ReferralStatus.NOT_ENTERED,
                          decided_on=date(2025, 1, 22), prescriber_name="France Travail Lunel",
                          non_entry_notes="Ne s'est pas présenté <script>")

        arjlj = programme("ARJLJ")
        order = PurchaseOrder(funder=arjlj.funder, programme=arjlj, number="BC-2025-001",
                              issued_on=date(2025, 3, 1), received_on=date(2025, 3, 2),
                              beneficiary_count=2, company_name="Usine <b>& fils",
                              support_start_on=date(2025, 3, 4),
                              last_contract_rupture_on=date(2025, 4, 10))
        db.session.add(order)
        db.session.flush()
        bernard = enrol(person("Bernard", "Luc", birth=date(1975, 6, 6)), arjlj,
                        date(2025, 3, 4), purchase_order=order, referent=referent,
                        exit_on=date(2025, 4, 10), exit_code="csp_adhesion")
        lefevre = enrol(person("Lefèvre", "Zoé", birth=date(1990, 9, 9)), arjlj,
                        date(2025, 3, 4), purchase_order=order, referent=referent)
        meeting = Workshop(programme=arjlj, title="Réunion d'information CSP",
                           held_at=datetime(2025, 3, 5, 9, 30), duration_minutes=120,
                           place="Réfectoire de l'usine", facilitator="Paul Animateur",
                           information_meeting=True)
        db.session.add_all([
            meeting,
            WorkshopAttendance(workshop=meeting, enrolment=bernard),
            WorkshopAttendance(workshop=meeting, enrolment=lefevre,
                               attendance=Attendance.EXCUSED),
            Contact(enrolment=bernard, contact_type=kinds["individual"],
                    occurs_at=datetime(2025, 3, 6, 10, 0), staff=referent),
        ])
        db.session.commit()
        load_all()
        yield {"path": path.id, "abandon": abandon.id, "bare": bare.id,
               "non_entry": non_entry.id, "order": order.id, "meeting": meeting.id}


# (document, record, what the document must print, what it must not print)
CASES = [
    ("csp_contract", "path", [
        "Contrat d'accompagnement", "Civilité : Madame — Nom : Dupont <b>& — Prénom : Anne",
        "21/07/1994", "21 juillet 1994",
        "1234567A", "Date d'adhésion au CSP : 15/01/2025",
        # 002 II §4: « Le nom du référent est indiqué dans le Contrat d'accompagnement »
        "Référent désigné par le prestataire : Claire Référente",
        "Date de l'entretien de pré-bilan : 20/01/2025 10h00",
        "jusqu'à 4 semaines (8 semaines par dérogation)", "un suivi de 6 mois",
        "prend fin au plus tard à la date de fin d'adhésion au CSP",
        "Date de fin de la prestation : 14/01/2026", "le 20/01/2025, en deux exemplaires",
        "Copie transmise à France Travail le 21/01/2025", "DUPONT <B>& Anne | Claire Référente",
    ], []),
    ("csp_contract", "bare", [
        # no referent, adhesion, pré-bilan nor signature recorded: labelled blanks
        "Référent désigné par le prestataire : ……", f"Date d'adhésion au CSP : {BLANK_DATE}",
        f"Date de l'entretien de pré-bilan : {BLANK_DATE}",
        f"Copie transmise à France Travail le {BLANK_DATE}",
    ], []),
    ("csp_contract", "abandon", [
        # 002 II §2-§3: a « public expérimental » has no adhesion; 18 months at most
        "public « expérimental »", "sur une période totale de 18 mois au plus",
    ], ["Date d'adhésion au CSP", "prend fin au plus tard à la date de fin d'adhésion"]),
    ("csp_contract_not_signed", "non_entry", [
        "Contrat d'accompagnement — non signé", "Absent", "Marc",
        "☐ « Absent »", "☐ « Refus d'adhésion »", "Date de l'orientation : 14/01/2025",
        "Date de l'entretien de pré-bilan : 22/01/2025", "Ne s'est pas présenté <script>",
        "France Travail Lunel",
    ], []),
    ("csp_psp", "path", [
        "Plan de sécurisation professionnelle (PSP)", "Dupont <b>&", "21 juillet 1994",
        "Phase 1 (co-construction du projet) : du 20/01/2025 au 14/02/2025",
        "Phase 2 (accompagnement intensif) : à partir du 17/02/2025",
        "Emploi visé : Soudeur <i>TIG</i> — Code ROME : H2913",
        "Mobilité | 20/01/2025 |  | Pas de permis",
        "Autres freins relevant de la vie privée : 1",
        "Garage Martin | 03/03/2025 | 07/03/2025 | 35",
        "☐ hebdomadaire ☐ deux fois par mois", "☐ Mesures d'appui social et psychologique",
    ], ["Secret médical", "Santé"]),
    ("csp_psp_update", "path", [
        "Mise à jour du Plan de sécurisation professionnelle (PSP)", "Dupont <b>&",
        "21/07/1994", "Emploi visé : Soudeur <i>TIG</i>", "Motif de l'ajustement",
    ], ["Secret médical"]),
    ("csp_phase1_report", "path", [
        "Bilan de phase 1", "Dupont <b>&", "21 juillet 1994",
        "Début de la phase 1 : 20/01/2025 — Fin de la phase 1 : 14/02/2025",
        "Durée dérogatoire (8 semaines) : Non",
        "27/01/2025 | 09h00 | Entretien individuel en face à face | 45 min | Présent "
        "| Claire Référente | ",
        "03/02/2025 | 11h00 | Entretien téléphonique | 15 min | Absence injustifiée",
        "05/02/2025 | 09h00 | Regroupement « Techniques de recherche d'emploi » | 3 h "
        "| Présent | Marie Animatrice",
        "Contacts honorés : 2 — Absences : 1",
    ], ["10/03/2025"]),
    ("csp_intermediate_report", "path", [
        "Bilan intermédiaire (6e mois)", "Dupont <b>&", "21/07/1994",
        # 002 II §5: adhesion on 15/01/2025 → before the end of the 6th month, 14/07/2025
        "au plus tard le 14/07/2025 (14 juillet 2025)",
        "Entretien individuel en face à face | 2 | 0", "Entretien téléphonique | 0 | 1",
        "Regroupement | 1 | 0", "Total des contacts honorés : 3 — Absences : 1",
        "Maladie | 01/04/2025 | 10/04/2025", "Mobilité | 20/01/2025",
    ], ["Secret médical"]),
    ("csp_final_report", "path", [
        "Bilan final de l'accompagnement", "Dupont <b>&", "21 juillet 1994",
        "Date de fin de l'accompagnement : 15/09/2025 (15 septembre 2025)",
        "Situation à la sortie : CDI — Issue positive (002 II §6)",
        "Contrat : CDI", "Employeur : Garage Martin",
        "Suivi dans l'emploi (6 mois) jusqu'au : 15/03/2026",
        "Phase 2 : du 17/02/2025 au 15/09/2025",
        "Plan de sécurisation professionnelle (PSP) — version définitive",
        "Une copie est transmise au bénéficiaire",
        "Pièces jointes (reprise d'emploi)",
    ], ["Secret médical", "Motif de l'abandon"]),
    ("csp_final_report", "abandon", [
        "Motif de l'abandon : Perte de contact ou relances sans réponse",
        "Issue non positive (002 II §6)",
    ], ["Pièces jointes (reprise d'emploi)"]),
    ("csp_abandon_declaration", "abandon", [
        "Déclaration d'abandon", "Leroy", "01/05/1980", "1er mai 1980",
        "Date de l'abandon : 02/06/2025 (2 juin 2025)",
        "Motif : Perte de contact ou relances sans réponse",
        "Phase en cours : Phase 2 — Accompagnement intensif",
        "Dernier contact honoré : 12/05/2025",
        # 002 II §4: « en retournant le livrable correspondant à la phase en cours »
        "Bilan final de l'accompagnement et version définitive du PSP, dûment renseigné",
    ], []),
    ("arjlj_information_sheet", "meeting", [
        "Feuille d'émargement — réunion d'information collective",
        "Réunion : Réunion d'information CSP",
        "Date : 05/03/2025 (5 mars 2025) — Heure : 09h30 — Durée : 2 h",
        "Lieu : Réfectoire de l'usine — Animée par : Paul Animateur",
        "Entreprise : Usine <b>& fils — Bon de commande : BC-2025-001",
        "1 | Bernard | Luc | 06/06/1975 | ", "2 | Lefèvre | Zoé | 09/09/1990 | ",
        "Salariés convoqués : 2",
        "attestent avoir reçu l'information relative au Contrat de sécurisation "
        "professionnelle",
    ], []),
    ("arjlj_final_report", "order", [
        "Bilan global des actions réalisées",
        "Bon de commande : BC-2025-001 — Entreprise : Usine <b>& fils",
        "Début de l'accompagnement : 04/03/2025 — Fin au plus tard (6 semaines) : 15/04/2025",
        "Rupture du contrat de travail du dernier salarié accompagné : 10/04/2025",
        "Période couverte par le bilan : du 04/03/2025 au 10/04/2025",
        "Salariés accompagnés | 2", "Adhésions au CSP | 1", "Entretiens individuels | 1",
        "Réunions d'information collective réalisées | 1",
        "05/03/2025 09h30 | Réunion d'information CSP | Réunion d'information collective "
        "| Réfectoire de l'usine | 2 | 1",
        "BERNARD Luc | Claire Référente | 04/03/2025 | 10/04/2025 | 1 | 0 | 0 | 0 |",
        "LEFÈVRE Zoé | Claire Référente | 04/03/2025 |  | 0 | 0 | 0 | 0 | ",
    ], []),
]


@pytest.mark.parametrize(("code", "record", "expected", "absent"), CASES,
                         ids=[f"{case[0]}-{case[1]}" for case in CASES])
def test_document_prints_the_record(records, code, record, expected, absent):
    """Each field of the record is printed, dates in French, user text as typed (never
    interpreted), no placeholder left, no « None »; what must not leave stays out."""
    text = produce(code, records[record])
    for value in expected:
        assert value in text, f"{code}: « {value} » manque"
    for value in absent:
        assert value not in text, f"{code}: « {value} » ne doit pas figurer"
    assert "{{" not in text and "{%" not in text and "None" not in text


def test_every_france_travail_template_renders_with_its_sample():
    """The sample of each kind (used to check an uploaded template) fills its shipped
    template entirely."""
    load_all()
    codes = [code for code in KINDS if code.startswith(FRANCE_TRAVAIL)]
    assert len(codes) == 10
    for code in codes:
        text = document_text(render(shipped_template(code), KINDS[code].sample()))
        assert "{{" not in text and "{%" not in text and "None" not in text, code
        assert "21/07/1994" in text or "BC-2026-001" in text, code


def test_every_document_names_its_obligations_and_its_programme():
    """What each document fulfils is a deadline rule of its programme
    (seeds/deadline_rules.yaml), and the obligations of 002 II each have a document."""
    load_all()
    rules = yaml.safe_load((ROOT / "seeds" / "deadline_rules.yaml").read_text("utf-8"))
    programmes_of = {rule["code"]: set(rule.get("programmes") or [rule.get("programme")])
                     for rule in rules}
    fulfilled = set()
    for code, kind in KINDS.items():
        if not code.startswith(FRANCE_TRAVAIL):
            continue
        assert kind.programmes == (("CSP",) if code.startswith("csp_") else ("ARJLJ",))
        for rule in kind.fulfils:
            assert set(kind.programmes) <= programmes_of[rule], (code, rule)
        fulfilled.update(kind.fulfils)
    assert fulfilled == {"csp_contract_copy", "csp_psp_phase1_report",
                         "csp_intermediate_report", "csp_final_report_job",
                         "csp_final_report_end", "csp_final_report_abandon",
                         "csp_abandon_declaration"}

