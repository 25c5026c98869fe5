"""Documents of every programme: convocations (an appointment, a workshop), the
attestation of participation, the commission's minutes and the decision letters.

Issue 21 §1 « Every programme »; the commission is 001 « Organisation » (« La validation
des entrées en parcours se fera en commission ») and the PLIE commission of 004 (« validée
en commission PLIE »).
"""
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..enums import Attendance
from ..models import (
    Beneficiary,
    Commission,
    Contact,
    Enrolment,
    Internship,
    Referral,
    Workshop,
    WorkshopAttendance,
)
from . import context as ctx
from .catalogue import DocumentKind, register

HEADER_FIELDS = (
    "organisation.name, .address, .phone, .email, .company_number : le prestataire",
    "programme.code, .name, .source, .absences_limit, .reminders_limit ; programme.esf : "
    "vrai pour un programme cofinancé par le FSE+",
    "funder.name, funder.logo (image, vide sans logo) ; esf.mention, esf.emblem (image)",
    "user.name, user.email : qui produit le document ; today : la date du jour",
)
PERSON_FIELDS = (
    "person.civility, .last_name, .first_name, .full_name, .birth_date, .external_id, "
    ".email, .phone, .address, .postcode, .commune, .education_level",
)
PATH_FIELDS = (
    "path.entry_date, .planned_end_date, .exit_date, .exit_type, .exit_reason, "
    ".abandon_reason, .status, .session, .current_phase, .target_job, .rome_code, "
    ".action_plan_on, .bilan_kind, .employer, .contract_kind, .contract_months, "
    ".hours_per_month, .training_title, .difficulties, .recommendations, .goal_attainment, "
    ".satisfaction, .engagement_level, .soft_skills_level, .no_internship_reason",
    "path.referent.name, .email ; path.phases : name, started_on, ended_on",
    "referral.referred_on, .prescriber_name, .prescription_place, .reason, .status, .status_code, "
    ".decided_on, .decision_reason, .validated_months, .commission_date",
)

INTERNSHIP_FIELDS = (
    "internship.company_name, .company_number, .tutor_name, .starts_on, .ends_on, .hours, "
    ".planned_activities, .evaluation_criteria, .conditions_checked_on",
    "internship.midpoint_technical, .midpoint_behavioural, .final_technical, "
    ".final_behavioural, .report_on",
    "internship.diagnostic_behaviour, .diagnostic_understanding, .diagnostic_skills, "
    ".diagnostic_relations, .diagnostic_recommendations, .diagnostic_cosigned_on",
)


def build_internship_document(session: Session, internship_id: int) -> ctx.Fields:
    """A document about one internship or immersion, with its path."""
    internship = ctx.load_record(session, Internship, internship_id, "Le stage")
    return {**ctx.enrolment_context(session, internship.enrolment),
            "internship": ctx.internship_fields(internship)}


# --- Convocation to an appointment ------------------------------------------------------


def appointment_fields(contact: Contact) -> ctx.Fields:
    """An appointment: its day, time, length, kind, who receives and why."""
    return {
        "date": contact.occurs_at.date(),
        "time": ctx.clock(contact.occurs_at),
        "duration": ctx.duration(contact.duration_minutes),
        "kind": contact.contact_type.label,
        "remote": contact.contact_type.is_remote,
        "staff": ctx.user_fields(contact.staff),
        "objective": ctx.text(contact.objective),
    }


def build_appointment_convocation(session: Session, contact_id: int) -> ctx.Fields:
    contact = ctx.load_record(session, Contact, contact_id, "Le rendez-vous")
    return {**ctx.enrolment_context(session, contact.enrolment),
            "appointment": appointment_fields(contact)}


def sample_appointment_convocation() -> ctx.Fields:
    return {**ctx.sample_enrolment_context(),
            "appointment": {"date": date(2026, 3, 9), "time": "09h30", "duration": "45 min",
                            "kind": "Entretien individuel en face à face", "remote": False,
                            "staff": ctx.sample_user(),
                            "objective": "Faire le point sur les démarches"}}


register(DocumentKind(
    code="convocation_contact",
    title="Convocation à un rendez-vous",
    subject="contact",
    source="Issue 21 §1 (tous dispositifs) ; 002 glossaire « contact »",
    build=build_appointment_convocation,
    sample=sample_appointment_convocation,
    fields=HEADER_FIELDS + PERSON_FIELDS + PATH_FIELDS + (
        "appointment.date, .time, .duration, .kind, .remote, .objective, "
        ".staff.name, .staff.email",
    ),
))


# --- Convocation to a workshop (one page per person convened) ---------------------------


def workshop_fields(workshop: Workshop) -> ctx.Fields:
    return {
        "id": workshop.id,
        "title": workshop.title,
        "date": workshop.held_at.date(),
        "time": ctx.clock(workshop.held_at),
        "duration": ctx.duration(workshop.duration_minutes),
        "place": ctx.text(workshop.place),
        "facilitator": ctx.text(workshop.facilitator),
        "session": workshop.session.label if workshop.session else "",
    }


def convened(session: Session, workshop_id: int) -> list[WorkshopAttendance]:
    """The people convened to a workshop (its attendance sheet), in alphabetical order."""
    return list(session.scalars(
        select(WorkshopAttendance)
        .join(Enrolment, WorkshopAttendance.enrolment_id == Enrolment.id)
        .join(Beneficiary, Enrolment.beneficiary_id == Beneficiary.id)
        .where(WorkshopAttendance.workshop_id == workshop_id)
        .order_by(Beneficiary.name_key, Beneficiary.id)))


def build_workshop_convocations(session: Session, workshop_id: int) -> ctx.Fields:
    workshop = ctx.load_record(session, Workshop, workshop_id, "L'atelier")
    return {
        **ctx.common_fields(workshop.programme),
        "workshop": workshop_fields(workshop),
        "convened": [{"person": ctx.person_fields(line.enrolment.beneficiary),
                      "path": ctx.path_fields(line.enrolment)}
                     for line in convened(session, workshop_id)],
    }


def sample_workshop() -> ctx.Fields:
    return {"id": 1, "title": "Atelier confiance en soi", "date": date(2026, 3, 12),
            "time": "14h00", "duration": "3 h", "place": "Salle 2, Lunel",
            "facilitator": "Marie Animatrice", "session": "Session 1"}


def sample_workshop_convocations() -> ctx.Fields:
    return {**ctx.sample_common(), "workshop": sample_workshop(),
            "convened": [{"person": ctx.sample_person(), "path": ctx.sample_path()}]}


register(DocumentKind(
    code="convocation_workshop",
    title="Convocations à un atelier (une par personne convoquée)",
    subject="workshop",
    source="Issue 21 §1 (tous dispositifs) ; 004 Lot 1 « ateliers thématiques »",
    build=build_workshop_convocations,
    sample=sample_workshop_convocations,
    fields=HEADER_FIELDS + (
        "workshop.title, .date, .time, .duration, .place, .facilitator, .session",
        "convened : une ligne par personne convoquée, avec person.… et path.… (voir la "
        "convocation à un rendez-vous)",
    ),
))


# --- Attestation of participation --------------------------------------------------------


def participation(session: Session, enrolment: Enrolment) -> tuple[list[ctx.Fields], int]:
    """The appointments and workshops the person attended (present), in date order, and
    their total length in minutes."""
    contacts = session.scalars(
        select(Contact).where(Contact.enrolment_id == enrolment.id,
                              Contact.attendance == Attendance.PRESENT)).all()
    workshops = session.scalars(
        select(Workshop).join(WorkshopAttendance)
        .where(WorkshopAttendance.enrolment_id == enrolment.id,
               WorkshopAttendance.attendance == Attendance.PRESENT)).all()
    rows = [(contact.occurs_at, contact.contact_type.label, contact.duration_minutes)
            for contact in contacts]
    rows += [(workshop.held_at, f"Atelier « {workshop.title} »", workshop.duration_minutes)
             for workshop in workshops]
    rows.sort(key=lambda row: row[0])
    total = sum(minutes or 0 for _at, _label, minutes in rows)
    return ([{"date": at.date(), "time": ctx.clock(at), "label": label,
              "duration": ctx.duration(minutes)} for at, label, minutes in rows], total)


def build_attendance_certificate(session: Session, enrolment_id: int) -> ctx.Fields:
    enrolment = ctx.load_enrolment(session, enrolment_id)
    activities, minutes = participation(session, enrolment)
    return {**ctx.enrolment_context(session, enrolment),
            "activities": activities, "total_hours": ctx.duration(minutes),
            "first_day": activities[0]["date"] if activities else None,
            "last_day": activities[-1]["date"] if activities else None}


def sample_attendance_certificate() -> ctx.Fields:
    return {**ctx.sample_enrolment_context(),
            "activities": [
                {"date": date(2026, 2, 2), "time": "09h00",
                 "label": "Entretien individuel en face à face", "duration": "45 min"},
                {"date": date(2026, 2, 5), "time": "14h00",
                 "label": "Atelier « Confiance en soi »", "duration": "3 h"}],
            "total_hours": "3 h 45", "first_day": date(2026, 2, 2),
            "last_day": date(2026, 2, 5)}


register(DocumentKind(
    code="attendance_certificate",
    title="Attestation de participation",
    subject="enrolment",
    source="Issue 21 §1 (tous dispositifs) : attestation de participation (dates, heures)",
    build=build_attendance_certificate,
    sample=sample_attendance_certificate,
    fields=HEADER_FIELDS + PERSON_FIELDS + PATH_FIELDS + (
        "activities : date, time, label, duration (rendez-vous et ateliers où la personne "
        "était présente)",
        "total_hours, first_day, last_day",
    ),
))


# --- Commission: minutes and decision letters --------------------------------------------


def decision_fields(referral: Referral) -> ctx.Fields:
    """One decision of a commission: whom, what, why."""
    return {"person": ctx.person_fields(referral.beneficiary),
            "referral": ctx.referral_fields(referral)}


def commission_fields(commission: Commission) -> ctx.Fields:
    return {"id": commission.id, "held_on": commission.held_on,
            "members_present": ctx.text(commission.members_present),
            "minutes": ctx.text(commission.minutes)}


def build_commission_minutes(session: Session, commission_id: int) -> ctx.Fields:
    commission = ctx.load_record(session, Commission, commission_id, "La commission")
    referrals = session.scalars(
        select(Referral).join(Beneficiary, Referral.beneficiary_id == Beneficiary.id)
        .where(Referral.commission_id == commission_id)
        .order_by(Beneficiary.name_key, Referral.id)).all()
    return {**ctx.common_fields(commission.programme),
            "commission": commission_fields(commission),
            "decisions": [decision_fields(referral) for referral in referrals]}


def sample_commission() -> ctx.Fields:
    return {"id": 1, "held_on": date(2026, 1, 20),
            "members_present": "Mme Durand (PLIE), M. Martin (prestataire)",
            "minutes": "Examen de trois prescriptions."}


def sample_commission_minutes() -> ctx.Fields:
    return {**ctx.sample_common(), "commission": sample_commission(),
            "decisions": [{"person": ctx.sample_person(),
                           "referral": ctx.sample_referral()}]}


register(DocumentKind(
    code="commission_minutes",
    title="Procès-verbal de la commission",
    subject="commission",
    source="001 « Modalités d'organisation » (commission de validation des entrées) ; "
           "004 Lot 2 « Sortie de l'action » (commission PLIE)",
    build=build_commission_minutes,
    sample=sample_commission_minutes,
    nominative=True,
    fields=HEADER_FIELDS + (
        "commission.held_on, .members_present, .minutes",
        "decisions : une ligne par prescription décidée, avec person.… et referral.status, "
        ".decision_reason, .validated_months, .deferred_to_date, .referred_on, "
        ".prescriber_name",
    ),
))


def build_decision_letter(session: Session, referral_id: int) -> ctx.Fields:
    referral = ctx.load_record(session, Referral, referral_id, "La prescription")
    return {**ctx.common_fields(referral.programme),
            **decision_fields(referral),
            "commission": commission_fields(referral.commission) if referral.commission
            else {"id": "", "held_on": None, "members_present": "", "minutes": ""}}


def sample_decision_letter() -> ctx.Fields:
    return {**ctx.sample_common(), "person": ctx.sample_person(),
            "referral": ctx.sample_referral(), "commission": sample_commission()}


register(DocumentKind(
    code="decision_letter",
    title="Courrier de décision de la commission",
    subject="referral",
    source="001 « Modalités d'organisation » (validation des entrées en commission) ; "
           "issue 20 §7 (valider, refuser, ajourner avec un motif)",
    build=build_decision_letter,
    sample=sample_decision_letter,
    fields=HEADER_FIELDS + PERSON_FIELDS + (
        "referral.status, .decision_reason, .decided_on, .validated_months, "
        ".deferred_to_date, .referred_on, .prescriber_name",
        "commission.held_on, .members_present",
    ),
))
