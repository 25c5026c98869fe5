"""France Travail ARJLJ documents (002 I): the attendance sheet of a collective
information meeting, and the final overall report (« bilan global ») of a purchase order.
"""
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..enums import Attendance
from ..indicators import arjlj as figures
from ..indicators.base import one_reading
from ..indicators.scope import make_scope
from ..models import (
    Beneficiary,
    Contact,
    ContactType,
    Enrolment,
    PurchaseOrder,
    Workshop,
    WorkshopAttendance,
)
from . import context as ctx
from .catalogue import DocumentKind, register
from .common import HEADER_FIELDS, convened, sample_workshop, workshop_fields

ARJLJ = ("ARJLJ",)


def order_fields(order: PurchaseOrder | None) -> ctx.Fields:
    """A purchase order (bon de commande): its number, the company, its dates."""
    if order is None:
        return {"id": "", "number": "", "company_name": "", "issued_on": None,
                "received_on": None, "support_start_on": None,
                "last_contract_rupture_on": None, "beneficiary_count": ""}
    return {
        "id": order.id,
        "number": order.number,
        "company_name": ctx.text(order.company_name),
        "issued_on": order.issued_on,
        "received_on": order.received_on,
        "support_start_on": order.support_start_on,
        "last_contract_rupture_on": order.last_contract_rupture_on,
        "beneficiary_count": ctx.text(order.beneficiary_count),
    }


# --- Feuille d'émargement of an information meeting ----------------------------------------


def build_information_sheet(session: Session, workshop_id: int) -> ctx.Fields:
    """The meeting and the employees convened to it, in alphabetical order, with the
    company (or companies) of their purchase orders."""
    workshop = ctx.load_record(session, Workshop, workshop_id, "La réunion")
    lines = convened(session, workshop_id)
    orders = {line.enrolment.purchase_order.id: line.enrolment.purchase_order
              for line in lines if line.enrolment.purchase_order is not None}
    companies = sorted({order.company_name for order in orders.values() if order.company_name})
    return {
        **ctx.common_fields(workshop.programme),
        "workshop": workshop_fields(workshop),
        "company": ", ".join(companies),
        "orders": ", ".join(sorted(order.number for order in orders.values())),
        "convened": [{"number": index, "person": ctx.person_fields(line.enrolment.beneficiary)}
                     for index, line in enumerate(lines, start=1)],
    }


def sample_information_sheet() -> ctx.Fields:
    return {**ctx.sample_common("ARJLJ"),
            "workshop": {**sample_workshop(), "title": "Réunion d'information CSP"},
            "company": "Entreprise en redressement", "orders": "BC-2026-001",
            "convened": [{"number": 1, "person": ctx.sample_person()}]}


# 002 I §5.1: « Un à deux entretiens collectifs sont à prévoir [...] pour informer les
# salariés sur leurs droits suite au licenciement »; §7: « Nombre de bénéficiaires ayant
# émargé pour attester de la réception de l'information relative au CSP »; §5.1: « Le
# prestataire informe les bénéficiaires des coordonnées et des horaires d'ouverture de
# service de la permanence téléphonique et de la permanence physique ».
register(DocumentKind(
    code="arjlj_information_sheet",
    title="ARJLJ — Feuille d'émargement de la réunion d'information collective",
    subject="workshop",
    source="002 I §5.1 (entretiens collectifs d'information) et §7 (bénéficiaires ayant "
           "émargé pour attester de la réception de l'information relative au CSP)",
    build=build_information_sheet,
    sample=sample_information_sheet,
    programmes=ARJLJ,
    fields=HEADER_FIELDS + (
        "workshop.title, .date, .time, .duration, .place, .facilitator, .session",
        "company (l'entreprise des salariés convoqués), orders (les bons de commande)",
        "convened : number, person.… (une ligne par salarié convoqué, par ordre "
        "alphabétique)",
    ),
))


# --- Bilan global of a purchase order --------------------------------------------------------


def _collective_actions(session: Session, order_id: int) -> list[ctx.Fields]:
    """The workshops the order's employees were convened to, with how many came."""
    rows = session.execute(
        select(Workshop, WorkshopAttendance.attendance)
        .join(WorkshopAttendance, WorkshopAttendance.workshop_id == Workshop.id)
        .join(Enrolment, WorkshopAttendance.enrolment_id == Enrolment.id)
        .where(Enrolment.purchase_order_id == order_id)
        .order_by(Workshop.held_at, Workshop.id)).all()
    actions: dict[int, ctx.Fields] = {}
    for workshop, attendance in rows:
        action = actions.setdefault(workshop.id, {
            **workshop_fields(workshop),
            "kind": "Réunion d'information collective" if workshop.information_meeting
            else "Atelier ou entretien collectif",
            "convened": 0, "present": 0})
        action["convened"] += 1
        action["present"] += attendance is Attendance.PRESENT
    return list(actions.values())


def _individual_actions(session: Session, order_id: int) -> list[ctx.Fields]:
    """Each employee of the order: the contacts held with them, by kind, and the issue."""
    paths = session.scalars(
        select(Enrolment).join(Beneficiary, Enrolment.beneficiary_id == Beneficiary.id)
        .where(Enrolment.purchase_order_id == order_id)
        .order_by(Beneficiary.name_key, Enrolment.id)).all()
    counts: dict[int, dict[str, int]] = {}
    for enrolment_id, code in session.execute(
            select(Contact.enrolment_id, ContactType.code)
            .join(ContactType, Contact.contact_type_id == ContactType.id)
            .join(Enrolment, Contact.enrolment_id == Enrolment.id)
            .where(Enrolment.purchase_order_id == order_id,
                   Contact.attendance == Attendance.PRESENT)):
        kinds = counts.setdefault(enrolment_id, {"individual": 0, "review": 0, "match": 0,
                                                 "other": 0})
        if code in figures.INDIVIDUAL_INTERVIEW_CODES:
            kinds["individual"] += 1
        elif code in figures.PROFESSIONAL_REVIEW_CODES:
            kinds["review"] += 1
        elif code in figures.JOB_MATCH_CODES:
            kinds["match"] += 1
        else:
            kinds["other"] += 1
    blank = {"individual": 0, "review": 0, "match": 0, "other": 0}
    return [{"person": ctx.person_fields(path.beneficiary),
             "referent": ctx.user_fields(path.referent)["name"],
             "entry_date": path.entry_date, "exit_date": path.exit_date,
             "issue": path.exit_type.label if path.exit_type else "",
             **counts.get(path.id, blank)} for path in paths]


def build_final_report(session: Session, order_id: int) -> ctx.Fields:
    """The order, the figures of 002 I §7 over its support window, the collective and the
    individual actions."""
    order = ctx.load_record(session, PurchaseOrder, order_id, "Le bon de commande")
    scope = make_scope(session, order.programme.code, None, None, order_id=order.id)
    with one_reading(session):
        results = [figure(session, scope) for figure in figures.KEY_FIGURES]
    adhesions = next(r for r in results if r.indicator is figures.csp_adhesions.indicator)
    max_weeks = order.programme.max_weeks
    start = order.support_start_on
    return {
        **ctx.common_fields(order.programme),
        "order": order_fields(order),
        "period": {"start": scope.date_from, "end": scope.date_to,
                   # 002 I §3: « une durée maximum de 6 semaines à compter de la date de
                   # début de l'accompagnement mentionnée dans le bon de commande »
                   "latest_end": start + timedelta(weeks=max_weeks)
                   if start and max_weeks else None,
                   "max_weeks": ctx.text(max_weeks)},
        "figures": [{"name": r.name, "value": r.value} for r in results],
        "issues": [{"label": label, "count": n} for label, n in adhesions.rows],
        "collective": _collective_actions(session, order.id),
        "individual": _individual_actions(session, order.id),
    }


def sample_final_report() -> ctx.Fields:
    return {
        **ctx.sample_common("ARJLJ"),
        "order": {"id": 1, "number": "BC-2026-001", "company_name": "Entreprise en redressement",
                  "issued_on": date(2026, 3, 1), "received_on": date(2026, 3, 2),
                  "support_start_on": date(2026, 3, 4),
                  "last_contract_rupture_on": date(2026, 4, 10), "beneficiary_count": "25"},
        "period": {"start": date(2026, 3, 4), "end": date(2026, 4, 10),
                   "latest_end": date(2026, 4, 15), "max_weeks": "6"},
        "figures": [{"name": "Salariés accompagnés", "value": 25},
                    {"name": "Adhésions au CSP", "value": 18}],
        "issues": [{"label": "Adhésion au CSP", "count": 18},
                   {"label": "Non-adhésion au CSP", "count": 7}],
        "collective": [{**sample_workshop(), "title": "Réunion d'information CSP",
                        "kind": "Réunion d'information collective", "convened": 25,
                        "present": 22}],
        "individual": [{"person": ctx.sample_person(), "referent": "Claire Conseillère",
                        "entry_date": date(2026, 3, 4), "exit_date": date(2026, 4, 10),
                        "issue": "Adhésion au CSP", "individual": 2, "review": 1,
                        "match": 3, "other": 1}],
    }


# 002 I §5.3 « Livrables »: « A l'issue de la prestation le Titulaire s'engage à
# transmettre à Pôle emploi : un bilan global des actions réalisées retraçant les actions
# menées collectivement ou individuellement » (annexe A10 « Bilan final – ARJLJ »); the
# figures are those of §7, the issues those of §5.2. No deadline rule names it (002 fixes
# no delay): it fulfils no obligation.
register(DocumentKind(
    code="arjlj_final_report",
    title="ARJLJ — Bilan global des actions réalisées (bon de commande)",
    subject="purchase_order",
    source="002 I §5.3 « Livrables » : bilan global des actions menées collectivement ou "
           "individuellement (annexe A10) ; chiffres de 002 I §7, issues de 002 I §5.2",
    build=build_final_report,
    sample=sample_final_report,
    programmes=ARJLJ,
    fields=HEADER_FIELDS + (
        "order.number, .company_name, .issued_on, .received_on, .support_start_on, "
        ".last_contract_rupture_on, .beneficiary_count",
        "period.start, .end (la période couverte), .latest_end, .max_weeks (002 I §3)",
        "figures : name, value (les indicateurs de 002 I §7) ; issues : label, count",
        "collective : title, kind, date, time, duration, place, facilitator, convened, "
        "present",
        "individual : person.…, referent, entry_date, exit_date, issue, individual, review, "
        "match, other (contacts honorés par nature)",
    ),
))
