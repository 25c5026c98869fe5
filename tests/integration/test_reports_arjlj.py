"""ARJLJ activity table for one purchase order (002 I §7) on hand-made paths.

Order BC-2025-001, support from 04/03/2025 (window: 6 weeks, to 15/04/2025); a1 and a2
follow U1, a3 follows U2; U3 held an interview; a4 is on another order.
"""

from datetime import date, datetime

import pytest
from sqlalchemy import select

from backoffice.enums import Attendance, Role
from backoffice.extensions import db
from backoffice.models import Contact, ContactType, PurchaseOrder, Workshop, WorkshopAttendance
from tests.conftest import make_user
from tests.integration.test_reports_common import (
    enrol,
    key_figures,
    make_report,
    person,
    programme,
    section,
)


@pytest.fixture
def arjlj_app(reference_app):
    with reference_app.app_context():
        p = programme("ARJLJ")
        kinds = {c.code: c for c in db.session.scalars(select(ContactType))}
        u1, u2, u3, u4 = (
            make_user(Role.COUNSELLOR, f"u{i}@exemple.fr", f"Consultant {i}") for i in range(1, 5)
        )
        order = PurchaseOrder(
            funder=p.funder,
            programme=p,
            number="BC-2025-001",
            issued_on=date(2025, 3, 1),
            received_on=date(2025, 3, 2),
            beneficiary_count=3,
            company_name="Usine en liquidation",
            support_start_on=date(2025, 3, 4),
        )
        other = PurchaseOrder(
            funder=p.funder, programme=p, number="BC-2025-002", issued_on=date(2025, 3, 1)
        )
        db.session.add_all([order, other])
        db.session.flush()
        start = date(2025, 3, 4)
        a1 = enrol(
            person("A1"),
            p,
            start,
            purchase_order=order,
            referent=u1,
            exit_on=date(2025, 4, 10),
            exit_code="csp_adhesion",
        )
        a2 = enrol(
            person("A2"),
            p,
            start,
            purchase_order=order,
            referent=u1,
            exit_on=date(2025, 4, 10),
            exit_code="no_csp_adhesion",
        )
        a3 = enrol(
            person("A3"),
            p,
            start,
            purchase_order=order,
            referent=u2,
            exit_on=date(2025, 4, 15),
            exit_code="csp_adhesion",
        )
        a4 = enrol(person("A4"), p, start, purchase_order=other, referent=u4)
        w1 = Workshop(
            programme=p, title="Réunion d'information CSP", held_at=datetime(2025, 3, 5, 9),
            information_meeting=True,
        )
        w2 = Workshop(
            programme=p, title="Réunion d'information CSP (2)", held_at=datetime(2025, 3, 12, 9),
            information_meeting=True,
        )
        # 002 I §5.1 « techniques de recherche d'emploi »: a workshop that is not an
        # information meeting counts in neither information line (issue 19 point 10)
        w3 = Workshop(
            programme=p, title="Techniques de recherche d'emploi",
            held_at=datetime(2025, 3, 13, 9),
        )
        db.session.add_all([w1, w2, w3])
        db.session.flush()
        db.session.add_all(
            [
                WorkshopAttendance(workshop=w1, enrolment=a1),
                WorkshopAttendance(workshop=w1, enrolment=a2),
                WorkshopAttendance(workshop=w1, enrolment=a3, attendance=Attendance.EXCUSED),
                WorkshopAttendance(workshop=w2, enrolment=a3),
                WorkshopAttendance(workshop=w2, enrolment=a4),
                WorkshopAttendance(workshop=w3, enrolment=a1),
                WorkshopAttendance(workshop=w3, enrolment=a2),
            ]
        )

        def contact(e, when, code, staff, attendance=Attendance.PRESENT):
            db.session.add(
                Contact(
                    enrolment=e,
                    contact_type=kinds[code],
                    occurs_at=when,
                    staff=staff,
                    attendance=attendance,
                )
            )

        contact(a1, datetime(2025, 3, 6, 9), "individual", u3)
        contact(a2, datetime(2025, 3, 6, 10), "individual", u1)
        contact(a3, datetime(2025, 3, 7, 10), "phone", u2, Attendance.UNEXCUSED)
        contact(a1, datetime(2025, 3, 10, 10), "group_session", u1)
        contact(a2, datetime(2025, 3, 10, 10), "group_session", u1)
        contact(a3, datetime(2025, 3, 20, 10), "group_session", u2)
        contact(a4, datetime(2025, 3, 20, 11), "individual", u4)
        # neither is an individual interview: each has its own line (002 I §7)
        contact(a1, datetime(2025, 3, 11, 10), "phone", u1)
        contact(a2, datetime(2025, 3, 12, 10), "professional_review", u1)
        contact(a2, datetime(2025, 3, 13, 10), "job_match", u1)
        db.session.commit()
        reference_app.config["ORDER"] = order.id
    return reference_app


def test_arjlj_table_for_an_order(arjlj_app):
    with arjlj_app.app_context():
        book = make_report("arjlj", "ARJLJ", None, None, order_id=arjlj_app.config["ORDER"])
    k = {name: v[0] for name, v in key_figures(book).items()}
    assert k == {
        "Salariés accompagnés": 3,
        "Nombre de consultants mobilisés": 3,  # U1, U2 referents, U3 held an interview
        # annex 11: information meetings only (not the job-search workshop)
        "Bénéficiaires ayant émargé (information CSP)": 3,
        "Réunions d'information collective réalisées": 2,
        "Entretiens collectifs": 2,  # a1 + a2 together count once
        # face-to-face individual interviews only: not the phone call, the bilan
        # professionnel or the mise en relation (issue 19 point 10)
        "Entretiens individuels": 2,
        "Entretiens de bilan professionnel réalisés": 1,
        "Mises en relation effectuées": 1,
        "Adhésions au CSP": 2,  # a3 on the window's last day
    }
    cover = {r[0]: r[1] for r in book["Couverture"].iter_rows(values_only=True) if r[0]}
    assert cover["Période"] == "du 04/03/2025 au 15/04/2025"
    assert cover["Bon de commande"] == "BC-2025-001"
    assert section(book, "Issues", "Issue de l'appui (002 I §5.2)") == {
        "Adhésion au CSP": 2,
        "Pas d'adhésion au CSP": 1,
    }


def test_arjlj_window_ends_with_the_last_employee_s_rupture(arjlj_app):
    """002 I §3: « La prestation prend fin le jour de la rupture du contrat de travail du
    dernier salarié accompagné » (issue 19 point 10): the table's default period too."""
    with arjlj_app.app_context():
        order = db.session.get(PurchaseOrder, arjlj_app.config["ORDER"])
        order.last_contract_rupture_on = date(2025, 4, 4)
        db.session.commit()
        book = make_report("arjlj", "ARJLJ", None, None, order_id=order.id)
        order.last_contract_rupture_on = None
        db.session.commit()
    cover = {r[0]: r[1] for r in book["Couverture"].iter_rows(values_only=True) if r[0]}
    assert cover["Période"] == "du 04/03/2025 au 04/04/2025"


def test_arjlj_needs_an_order(arjlj_app):
    from backoffice.indicators import ScopeError

    with arjlj_app.app_context(), pytest.raises(ScopeError, match="bon de commande"):
        make_report("arjlj", "ARJLJ", date(2025, 3, 1), date(2025, 4, 30))
