"""DEL documents (001): the action plan, the internship agreement summary and the
internship report with the company's review, the end-of-path report of a person.
"""
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import Barrier, Enrolment, Internship, PurchaseOrderLine
from . import context as ctx
from .catalogue import DocumentKind, register
from .common import (
    HEADER_FIELDS,
    INTERNSHIP_FIELDS,
    PATH_FIELDS,
    PERSON_FIELDS,
    build_internship_document,
)

DEL = ("DEL",)

BARRIER_FIELDS = (
    "barriers : label, sensitive (vrai pour un frein de santé, de justice… : le modèle "
    "livré n'en imprime pas la nature), identified_on, lifted_on, notes",
)
INTERNSHIPS_FIELDS = (
    "internships : company_name, tutor_name, starts_on, ends_on, hours, planned_activities "
    "(les stages du parcours)",
)


def barriers(session: Session, enrolment_id: int) -> list[ctx.Fields]:
    """The barriers identified on the path, in the order they were found."""
    rows = session.scalars(select(Barrier).where(Barrier.enrolment_id == enrolment_id)
                           .order_by(Barrier.identified_on, Barrier.id)).all()
    return [{"label": row.barrier_type.label, "sensitive": row.barrier_type.is_sensitive,
             "identified_on": row.identified_on, "lifted_on": row.lifted_on,
             "notes": ctx.text(row.notes)} for row in rows]


def internships(session: Session, enrolment_id: int) -> list[ctx.Fields]:
    """The internships of the path, in date order."""
    rows = session.scalars(select(Internship).where(Internship.enrolment_id == enrolment_id)
                           .order_by(Internship.starts_on, Internship.id)).all()
    return [ctx.internship_fields(row) for row in rows]


def planned_months(session: Session, enrolment: Enrolment) -> str:
    """The duration the path was given: the commission's (001 « Organisation », Lot 1),
    else the purchase order's line for the person."""
    if enrolment.referral is not None and enrolment.referral.validated_months:
        return str(enrolment.referral.validated_months)
    if enrolment.purchase_order_id is not None:
        months = session.scalar(select(PurchaseOrderLine.duration_months).where(
            PurchaseOrderLine.order_id == enrolment.purchase_order_id,
            PurchaseOrderLine.beneficiary_id == enrolment.beneficiary_id))
        if months:
            return str(months)
    return ""


def build_path_document(session: Session, enrolment_id: int) -> ctx.Fields:
    """A DEL document about a whole path: its barriers, internships, planned duration."""
    enrolment = ctx.load_enrolment(session, enrolment_id)
    end = enrolment.exit_date
    return {**ctx.enrolment_context(session, enrolment),
            "barriers": barriers(session, enrolment_id),
            "internships": internships(session, enrolment_id),
            "planned_months": planned_months(session, enrolment),
            "days_on_path": str((end - enrolment.entry_date).days + 1) if end else ""}


def sample_path_document() -> ctx.Fields:
    return {**ctx.sample_enrolment_context("DEL-L1"),
            "barriers": [{"label": "Mobilité", "sensitive": False,
                          "identified_on": date(2026, 2, 3), "lifted_on": date(2026, 4, 1),
                          "notes": "Permis en cours"},
                         {"label": "Santé", "sensitive": True,
                          "identified_on": date(2026, 2, 3), "lifted_on": None,
                          "notes": ""}],
            "internships": [ctx.sample_internship()],
            "planned_months": "7", "days_on_path": "149"}


# --- The action plan ------------------------------------------------------------------


# 001 Lot 1 étape 1 (Lot 2 étape 4): « Le projet devra ... être contractualisé par un plan
# d'action. Le plan d'action doit définir clairement les différentes étapes du parcours
# d'insertion. L'approche ... doit être globale et prendre en compte l'environnement du
# demandeur d'emploi et les difficultés auxquelles il fait face. »
register(DocumentKind(
    code="del_action_plan",
    title="Plan d'action du parcours (DEL)",
    subject="enrolment",
    source="001 Lots 1 et 2, étape 1 : projet professionnel contractualisé par un plan "
           "d'action définissant les étapes du parcours",
    build=build_path_document,
    sample=sample_path_document,
    programmes=DEL,
    fields=HEADER_FIELDS + PERSON_FIELDS + PATH_FIELDS + BARRIER_FIELDS + INTERNSHIPS_FIELDS + (
        "planned_months : la durée validée du parcours (commission ou bon de commande)",
        "days_on_path : nombre de jours du parcours (de l'entrée à la sortie)",
    ),
))


# --- The internship: agreement summary, report with the company's review ----------------


def sample_internship_document() -> ctx.Fields:
    return {**ctx.sample_enrolment_context("DEL-L1"), "internship": ctx.sample_internship()}


# 001 « Description »: « une période de stage en entreprise ... rémunération versée par le
# prestataire à hauteur de 50 % du SMG en vigueur, et ... la prise en charge de la
# couverture sociale »; étape 1: « vérifier les conditions d'accueil du stagiaire ... la
# délimitation des activités à réaliser ... des critères qui serviront à évaluer le
# stagiaire en fin de stage ».
register(DocumentKind(
    code="del_internship_agreement",
    title="Convention de stage — fiche récapitulative (DEL)",
    subject="internship",
    source="001 Description (stage obligatoire, rémunération) et étape 1 (conditions "
           "d'accueil, activités, critères d'évaluation vérifiés avant le stage)",
    build=build_internship_document,
    sample=sample_internship_document,
    programmes=DEL,
    fields=HEADER_FIELDS + PERSON_FIELDS + PATH_FIELDS + INTERNSHIP_FIELDS,
))


# 001 étape 2: « Accompagner l'entreprise dans l'élaboration du bilan de stage pour
# valoriser et valider les compétences techniques et comportementales ; effectuer un
# rapport de stage avec le stagiaire et un bilan avec l'entreprise d'accueil. »
register(DocumentKind(
    code="del_internship_report",
    title="Rapport de stage et bilan de l'entreprise d'accueil (DEL)",
    subject="internship",
    source="001 Lot 1, étape 2 : rapport de stage avec le stagiaire et bilan avec "
           "l'entreprise d'accueil (compétences techniques et comportementales)",
    build=build_internship_document,
    sample=sample_internship_document,
    programmes=DEL,
    fields=HEADER_FIELDS + PERSON_FIELDS + PATH_FIELDS + INTERNSHIP_FIELDS,
))


# --- The end-of-path report of a person ---------------------------------------------------


# 001 « Évaluation »: « bilan de fin de parcours ... le niveau d'atteinte des objectifs de
# chaque bénéficiaire »; « En cas de rupture ... le bilan détaillera les difficultés
# rencontrées ayant motivé l'arrêt du parcours et émettra des préconisations »; annex:
# « Récapitulatif individuel et nominatif » and « Taux de progression » (projet + plan
# d'action, freins, engagement, savoir-être). The session's report (the obligation
# del_end_of_path_report, one per session) gathers these; this one is a person's.
register(DocumentKind(
    code="del_path_report",
    title="Bilan de fin de parcours de la personne (DEL)",
    subject="enrolment",
    source="001 Évaluation : bilan de fin de parcours (atteinte des objectifs, difficultés "
           "et préconisations en cas de rupture) ; annexe « Récapitulatif individuel »",
    build=build_path_document,
    sample=sample_path_document,
    programmes=DEL,
    fields=HEADER_FIELDS + PERSON_FIELDS + PATH_FIELDS + BARRIER_FIELDS + INTERNSHIPS_FIELDS + (
        "planned_months : la durée validée du parcours (commission ou bon de commande)",
        "days_on_path : nombre de jours du parcours (de l'entrée à la sortie)",
    ),
))
