"""PLIE interim and final reports (004 §5) on hand-made paths.

Interim cut-off 31/05/2025, programme PLIE-L1:

| who | path | exit | tests |
|---|---|---|---|
| p1 F, 24, Lunel, RSA | 10/01/25 → | — | interviews (2 present, 1 missed, 1 in June), workshop |
| p2 M, 45, Or, DELD  | 01/10/24 → 01/03/25, 01/04/25 → | loss of contact | straddles, re-entry |
| p3 F, 55, Lunel, RQTH | 01/02/25 → 31/05/25 | job or training on the last day | other exit |
| p5 | 2024 only | | not counted |
"""

from datetime import date, datetime

import pytest
from sqlalchemy import select

from backoffice.enums import Attendance, Sex
from backoffice.extensions import db
from backoffice.models import Contact, ContactType, Workshop, WorkshopAttendance
from tests.integration.test_reports_common import (
    enrol,
    key_figures,
    make_report,
    person,
    programme,
    section,
    table_rows,
)

INTERIM = (date(2025, 1, 1), date(2025, 5, 31))


def contact_type(code):
    return db.session.scalar(select(ContactType).where(ContactType.code == code))


@pytest.fixture
def plie_app(reference_app):
    with reference_app.app_context():
        p, other = programme("PLIE-L1"), programme("PLIE-L2")
        lunel, lor = "CC Pays de Lunel", "CA Pays de l'Or"
        individual, group = contact_type("individual"), contact_type("group_session")
        p1 = person("Un", birth=date(2000, 6, 1), sex=Sex.FEMALE, epci=lunel, rsa_recipient=True)
        e1 = enrol(p1, p, date(2025, 1, 10), planned_end=date(2025, 12, 31))
        p2 = person("Deux", birth=date(1980, 1, 1), epci=lor, long_term_job_seeker=True)
        e2 = enrol(
            p2,
            p,
            date(2024, 10, 1),
            planned_end=date(2025, 9, 30),
            exit_on=date(2025, 3, 1),
            exit_code="loss_of_contact",
        )
        enrol(p2, p, date(2025, 4, 1), planned_end=date(2025, 12, 31))
        p3 = person(
            "Trois", birth=date(1970, 1, 1), sex=Sex.FEMALE, epci=lunel, disability_recognition=True
        )
        e3 = enrol(
            p3,
            p,
            date(2025, 2, 1),
            planned_end=date(2025, 12, 31),
            exit_on=date(2025, 5, 31),
            exit_code="job_or_training",
        )
        p5 = person("Cinq", epci=lor)
        enrol(p5, p, date(2024, 3, 1), exit_on=date(2024, 12, 31), exit_code="end_of_action")

        def contact(enrolment, when, kind=individual, attendance=Attendance.PRESENT):
            db.session.add(
                Contact(
                    enrolment=enrolment, contact_type=kind, occurs_at=when, attendance=attendance
                )
            )

        contact(e1, datetime(2025, 2, 3, 9))
        contact(e1, datetime(2025, 3, 3, 9))
        contact(e1, datetime(2025, 4, 3, 9), attendance=Attendance.UNEXCUSED)
        contact(e1, datetime(2025, 6, 3, 9))
        contact(e1, datetime(2025, 3, 20, 14), kind=group)
        contact(e2, datetime(2025, 1, 15, 9))
        w1 = Workshop(
            programme=p,
            title="Confiance en soi",
            held_at=datetime(2025, 2, 10, 9),
            duration_minutes=180,
        )
        w2 = Workshop(
            programme=p, title="Juin", held_at=datetime(2025, 6, 15, 9), duration_minutes=180
        )
        w3 = Workshop(programme=other, title="Autre lot", held_at=datetime(2025, 2, 11, 9))
        db.session.add_all([w1, w2, w3])
        db.session.flush()
        db.session.add_all(
            [
                WorkshopAttendance(workshop=w1, enrolment=e1),
                WorkshopAttendance(workshop=w1, enrolment=e3),
                WorkshopAttendance(workshop=w1, enrolment=e2, attendance=Attendance.UNEXCUSED),
                WorkshopAttendance(workshop=w2, enrolment=e1),
            ]
        )
        db.session.commit()
    return reference_app


@pytest.fixture
def interim(plie_app):
    with plie_app.app_context():
        return make_report("plie-interim", "PLIE-L1", *INTERIM)


def test_quantitative_criteria(interim):
    k = key_figures(interim)
    assert k["Nombre de participants"][0] == 4  # p1, p2 twice, p3
    assert k["Nombre d'entretiens par participant"] == (0.75, 3, 4)
    assert k["Nombre d'ateliers par participant"] == (0.5, 2, 4)
    assert k["Nombre d'entretiens ou d'ateliers par participant"] == (1.25, 5, 4)
    assert k["Nombre d'ateliers collectifs animés"][0] == 1
    assert k["Nombre de ruptures"][0] == 1
    assert k["Nombre d'autres sorties"][0] == 1  # p3 on the cut-off day
    assert k["Sorties anticipées"] == (0.5, 2, 4)


def test_exits_and_typology(interim):
    assert section(interim, "Sorties", "Ruptures par motif") == {
        "Perte de contact (2 absences injustifiées consécutives ou 2 relances sans réponse)": 1
    }
    assert section(interim, "Sorties", "Autres sorties par motif") == {
        "Reprise d'emploi ou de formation": 1
    }
    assert section(interim, "Typologie", "Participants par epci de résidence") == {
        "CC Pays de Lunel": 2,
        "CA Pays de l'Or": 2,
    }
    assert section(interim, "Typologie", "Participants par tranche d'âge") == {
        "Moins de 26 ans": 1,
        "45 à 54 ans": 2,
        "55 ans et plus": 1,
    }
    assert section(interim, "Typologie", "Participants par sexe") == {"Femme": 2, "Homme": 2}
    assert section(interim, "Typologie", "Participants par statut") == {
        "Demandeur d'emploi de longue durée": 2,
        "Allocataire du RSA": 1,
        "Jeune de moins de 26 ans": 1,
        "Bénéficiaire de minima sociaux": 0,
        "Travailleur handicapé reconnu (RQTH)": 1,
    }


def test_participants_list_and_title(interim):
    headers, rows = table_rows(interim, "Participants", "Nom")
    assert sorted(r[0] for r in rows) == ["Deux", "Deux", "Trois", "Un"]
    cover = {r[0]: r[1] for r in interim["Couverture"].iter_rows(values_only=True) if r[0]}
    assert cover["Rapport"] == "Bilan intermédiaire PLIE — chiffres arrêtés au 31/05/2025"


def test_final_report_over_the_action_year(plie_app):
    with plie_app.app_context():
        book = make_report("plie-final", "PLIE-L1", date(2025, 1, 1), date(2025, 12, 31))
    k = key_figures(book)
    assert k["Nombre d'ateliers collectifs animés"][0] == 2
    assert k["Nombre d'entretiens par participant"] == (1.0, 4, 4)
    assert k["Nombre d'ateliers par participant"] == (0.75, 3, 4)


def test_empty_period(plie_app):
    with plie_app.app_context():
        book = make_report(
            "plie-interim", "PLIE-L1", date(2020, 1, 1), date(2020, 5, 31), pseudonym_key="k"
        )
    k = key_figures(book)
    assert k["Nombre de participants"][0] == 0
    assert k["Nombre d'entretiens ou d'ateliers par participant"][0] == "—"
    assert k["Sorties anticipées"][0] == "—"
