"""PLIE documents (004): the fiche de liaison « entrée / non entrée / sortie » with the
FSE questionnaire, Lot 3's co-signed exit diagnostic and Lot 4's interview schedule.
"""
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import Contact, Referral
from . import context as ctx
from .catalogue import DocumentKind, register
from .common import (
    HEADER_FIELDS,
    INTERNSHIP_FIELDS,
    PATH_FIELDS,
    PERSON_FIELDS,
    build_internship_document,
)

PLIE = ("PLIE",)
FSE_FIELDS = (
    "fse.questions : question, answer (le questionnaire FSE+ « recueil des données » du "
    "parcours, figé à l'entrée, une ligne par question)",
    "fse.entered_on, .recorded_on, .age_at_entry, .age_band, .labour_market_status, "
    ".isced_level, .isced_group, .household_jobless, .single_parent_household, .disability, "
    ".third_country_national, .foreign_background, .minority, "
    ".homeless_or_housing_exclusion, .rural_area, .first_participation ; fse.recorded, "
    "fse.reentry (oui / non)",
)


# --- Fiche de liaison d'entrée, with the FSE questionnaire ------------------------------


def build_liaison_entry(session: Session, enrolment_id: int) -> ctx.Fields:
    enrolment = ctx.load_enrolment(session, enrolment_id)
    return {**ctx.enrolment_context(session, enrolment),
            "fse": ctx.esf_fields(session, enrolment)}


def sample_liaison_entry() -> ctx.Fields:
    return {**ctx.sample_enrolment_context("PLIE-L3"), "fse": ctx.sample_esf()}


# 004 Lots 1-4, « Modalité de suivi »: « Dans les 15 jours suivant l'orientation sur
# l'action, le candidat doit transmettre au PLIE la fiche de liaison « entrée / non entrée
# / sortie » dûment complétée et le questionnaire FSE »; Lot 3 « en indiquant la date
# démarrage de l'action et l'atelier sur lequel est positionné le participant ».
register(DocumentKind(
    code="plie_liaison_entry",
    title="Fiche de liaison PLIE — entrée (et questionnaire FSE)",
    subject="enrolment",
    source="004 Lots 1-4, modalités de suivi : fiche de liaison « entrée / non entrée » et "
           "questionnaire FSE sous 15 jours ; 004 §6 (questionnaire « recueil des données »)",
    build=build_liaison_entry,
    sample=sample_liaison_entry,
    programmes=PLIE,
    fulfils=("plie_liaison_entry",),
    fields=HEADER_FIELDS + PERSON_FIELDS + PATH_FIELDS + FSE_FIELDS,
))


# --- Fiche de liaison de non-entrée ------------------------------------------------------


def build_liaison_non_entry(session: Session, referral_id: int) -> ctx.Fields:
    referral = ctx.load_record(session, Referral, referral_id, "La prescription")
    return {**ctx.common_fields(referral.programme),
            "person": ctx.person_fields(referral.beneficiary),
            "referral": ctx.referral_fields(referral)}


def sample_liaison_non_entry() -> ctx.Fields:
    referral = {**ctx.sample_referral(), "status": "Non-entrée",
                "non_entry_barriers": ["Garde d'enfants", "Mobilité"],
                "non_entry_notes": "Pas de solution de garde le matin"}
    return {**ctx.sample_common(), "person": ctx.sample_person(), "referral": referral}


register(DocumentKind(
    code="plie_liaison_non_entry",
    title="Fiche de liaison PLIE — non-entrée",
    subject="referral",
    source="004 Lots 1-4, modalités de suivi : fiche de liaison « entrée / non entrée » "
           "sous 15 jours après l'orientation",
    build=build_liaison_non_entry,
    sample=sample_liaison_non_entry,
    programmes=PLIE,
    fulfils=("plie_liaison_entry",),
    fields=HEADER_FIELDS + PERSON_FIELDS + (
        "referral.referred_on, .prescriber_name, .prescription_place, .reason, .status, "
        ".decided_on, .decision_reason, .non_entry_barriers (liste), .non_entry_notes",
    ),
))


# --- Fiche de liaison de sortie (Lot 4: synthesis and action plan) -----------------------


def build_liaison_exit(session: Session, enrolment_id: int) -> ctx.Fields:
    return ctx.enrolment_context(session, ctx.load_enrolment(session, enrolment_id))


def sample_liaison_exit() -> ctx.Fields:
    return ctx.sample_enrolment_context("PLIE-L4")


# 004 Lots 1, 2 « Sortie de l'action »: fiche de liaison sous 15 jours après la sortie;
# Lot 4 « Modalité de suivi »: « en indiquant la date de sortie, le motif de l'arrêt de
# l'action, ainsi que la synthèse du bilan contenant l'identification d'un projet précis
# avec un phasage et un plan d'actions détaillé ».
register(DocumentKind(
    code="plie_liaison_exit",
    title="Fiche de liaison PLIE — sortie",
    subject="enrolment",
    source="004 Lots 1, 2 et 4, sortie de l'action : fiche de liaison sous 15 jours ; Lot 4 : "
           "synthèse du bilan, projet, phasage et plan d'actions",
    build=build_liaison_exit,
    sample=sample_liaison_exit,
    programmes=("PLIE-L1", "PLIE-L2", "PLIE-L4"),
    fulfils=("plie_liaison_exit",),
    fields=HEADER_FIELDS + PERSON_FIELDS + PATH_FIELDS,
))


# --- Lot 3: the exit diagnostic of an immersion, co-signed -------------------------------


def sample_l3_diagnostic() -> ctx.Fields:
    return {**ctx.sample_enrolment_context("PLIE-L3"), "internship": ctx.sample_internship()}


# 004 Lot 3 « Sortie de l'action »: « la fiche de liaison « entrée / non entrée /
# diagnostic de sortie » dûment complétée sur les points ci-dessous » (comportement,
# compréhension, compétences, rapport aux autres, suites) ; « complétée en présence de
# l'encadrant et du participant qui la cosignent ».
register(DocumentKind(
    code="plie_l3_diagnostic",
    title="Fiche de liaison PLIE Lot 3 — diagnostic de sortie (cosigné)",
    subject="internship",
    source="004 Lot 3, sortie de l'action : diagnostic de sortie sous 15 jours après la fin "
           "de la mission, cosigné par l'encadrant et le participant",
    build=build_internship_document,
    sample=sample_l3_diagnostic,
    programmes=("PLIE-L3",),
    fulfils=("plie_l3_exit_diagnostic",),
    fields=HEADER_FIELDS + PERSON_FIELDS + PATH_FIELDS + INTERNSHIP_FIELDS,
))


# --- Lot 4: the interview schedule given to the participant ------------------------------


def bilan_hours(programme, bilan_kind: str) -> str:
    """The length of the bilan the programme sets (004 Lot 4: 12 to 15 h for a bilan
    d'orientation, 20 h for a bilan de compétences), read from the programme."""
    if bilan_kind == "skills":
        return f"{programme.skills_bilan_hours} h" if programme.skills_bilan_hours else ""
    if programme.hours_min and programme.hours_max:
        return f"{programme.hours_min} à {programme.hours_max} h"
    return ""


def build_interview_schedule(session: Session, enrolment_id: int) -> ctx.Fields:
    enrolment = ctx.load_enrolment(session, enrolment_id)
    contacts = session.scalars(
        select(Contact).where(Contact.enrolment_id == enrolment_id)
        .order_by(Contact.occurs_at, Contact.id)).all()
    kind = enrolment.bilan_kind.value if enrolment.bilan_kind else ""
    return {**ctx.enrolment_context(session, enrolment),
            "bilan_hours": bilan_hours(enrolment.programme, kind),
            "interviews": [{"date": contact.occurs_at.date(),
                            "time": ctx.clock(contact.occurs_at),
                            "duration": ctx.duration(contact.duration_minutes),
                            "kind": contact.contact_type.label,
                            "staff": ctx.user_fields(contact.staff)["name"]}
                           for contact in contacts]}


def sample_interview_schedule() -> ctx.Fields:
    return {**ctx.sample_enrolment_context("PLIE-L4"), "bilan_hours": "12 à 15 h",
            "interviews": [{"date": date(2026, 3, 3), "time": "10h00", "duration": "2 h",
                            "kind": "Entretien individuel en face à face",
                            "staff": "Claire Conseillère"}]}


# 004 Lot 4 « Phase d'accueil »: « Au cours de cette phase d'accueil sera remis au
# participant le planning des entretiens. »
register(DocumentKind(
    code="plie_l4_interview_schedule",
    title="Planning des entretiens du bilan (PLIE Lot 4)",
    subject="enrolment",
    source="004 Lot 4, phase d'accueil : planning des entretiens remis au participant",
    build=build_interview_schedule,
    sample=sample_interview_schedule,
    programmes=("PLIE-L4",),
    fields=HEADER_FIELDS + PERSON_FIELDS + PATH_FIELDS + (
        "bilan_hours : la durée du bilan (12 à 15 h ou 20 h)",
        "interviews : date, time, duration, kind, staff (les rendez-vous du parcours)",
    ),
))
