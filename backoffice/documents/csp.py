"""France Travail CSP documents (002 II): the contrat d'accompagnement (or its return
« Absent » / « refus d'adhésion »), the PSP and its updates, the phase-1 report with the
person's attendance, the intermediate report of the 6th month, the final report with the
final PSP, and the abandon declaration.

The annexes of 002 (A1 to A7) are « transmises à titre indicatif »: each template follows
what the text of 002 II §4 and §5 says the deliverable holds; what the record does not
hold is a labelled blank the référent fills by hand, never a made-up value.
"""
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..enums import Attendance
from ..models import (
    Contact,
    Enrolment,
    Phase,
    Referral,
    Suspension,
    Workshop,
    WorkshopAttendance,
)
from ..rules.calendar import last_day_of_months
from ..rules.exits import ExitFacts, ExitTypeRule, classify_exit
from . import context as ctx
from .catalogue import DocumentKind, register
from .common import HEADER_FIELDS, PATH_FIELDS, PERSON_FIELDS
from .del_documents import barriers, internships

CSP = ("CSP",)

#: 002 II §4: « Le prestataire a un délai maximum de 48 heures pour déclarer [...]
#: l'abandon du bénéficiaire [...] en retournant le livrable correspondant à la phase en
#: cours dûment renseigné »: the deliverable of each phase (codes of programmes.yaml).
PHASE_DELIVERABLES = {
    "prebilan": "Contrat d'accompagnement",
    "phase_1": "Bilan de phase 1 et Plan de sécurisation professionnelle (PSP)",
    "phase_2": "Bilan final de l'accompagnement et version définitive du PSP",
    "suivi_emploi": "Bilan final de l'accompagnement et version définitive du PSP",
}

CSP_FIELDS = (
    "csp.adhesion_on (date d'adhésion au CSP, vide pour un public expérimental), "
    ".experimental (vrai : public expérimental), .sixth_month_end (fin du 6e mois "
    "d'adhésion), .prebilan_on, .prebilan_time, .contract_signed_on, .contract_sent_on",
    "csp.phase1 / csp.phase2 : started_on, ended_on, derogation ; csp.phase1_weeks, "
    ".phase1_derogation_weeks, .max_months, .experimental_max_months, .follow_up_months "
    "(durées du programme)",
    "csp.barriers : label, identified_on, lifted_on, notes (freins non sensibles) ; "
    "csp.sensitive_barriers (nombre de freins sensibles, non détaillés)",
    "csp.internships : company_name, tutor_name, starts_on, ends_on, hours, "
    "planned_activities ; csp.suspensions : reason, starts_on, ends_on",
    "csp.contacts : date, time, kind, duration, attendance, staff (rendez-vous et "
    "regroupements, dans l'ordre) ; csp.contact_summary : kind, present, absent ; "
    "csp.present_count, .absent_count, .last_present_on",
)
EXIT_FIELDS = (
    "exit.positive (vrai : issue positive, 002 II §6), .classification (en toutes "
    "lettres), .is_abandon, .followup_contract_kind, .followup_contract_months",
)


# --- What every CSP document reads ------------------------------------------------------


def _phase_record(enrolment: Enrolment, code: str) -> ctx.Fields:
    record = next((r for r in enrolment.phase_records if r.phase.code == code), None)
    if record is None:
        return {"started_on": None, "ended_on": None, "derogation": False}
    return {"started_on": record.started_on, "ended_on": record.ended_on,
            "derogation": record.derogation}


def _weeks(days: int | None) -> str:
    return "" if days is None else str(days // 7)


def _programme_figures(session: Session, enrolment: Enrolment) -> ctx.Fields:
    """The lengths the contract and the PSP announce, read from the programme (seeds)."""
    programme = enrolment.programme
    phase_1 = session.scalars(select(Phase).where(Phase.programme_id == programme.id,
                                                  Phase.code == "phase_1")).first()
    return {
        "phase1_weeks": _weeks(phase_1.max_days if phase_1 else None),
        "phase1_derogation_weeks": _weeks(phase_1.derogation_max_days if phase_1 else None),
        "max_months": ctx.text(programme.max_months),
        "experimental_max_months": ctx.text(programme.experimental_max_months),
        "follow_up_months": ctx.text(programme.follow_up_months),
    }


def _activity(session: Session, enrolment: Enrolment, start: date | None = None,
              end: date | None = None) -> ctx.Fields:
    """The person's appointments and regroupements (workshops) between two days, with
    their attendance, and a count by kind (002 glossaire « contact »)."""
    contacts = session.scalars(
        select(Contact).where(Contact.enrolment_id == enrolment.id)
        .order_by(Contact.occurs_at, Contact.id)).all()
    lines = session.scalars(
        select(WorkshopAttendance).join(Workshop)
        .where(WorkshopAttendance.enrolment_id == enrolment.id)
        .order_by(Workshop.held_at, Workshop.id)).all()
    rows = [(c.occurs_at, c.contact_type.label, c.duration_minutes, c.attendance,
             ctx.user_fields(c.staff)["name"]) for c in contacts]
    rows += [(line.workshop.held_at, f"Regroupement « {line.workshop.title} »",
              line.workshop.duration_minutes, line.attendance,
              ctx.text(line.workshop.facilitator)) for line in lines]
    rows = [row for row in rows
            if (start is None or row[0].date() >= start) and (end is None or row[0].date() <= end)]
    rows.sort(key=lambda row: row[0])
    summary: dict[str, list[int]] = {}
    for _at, kind, _minutes, attendance, _staff in rows:
        counts = summary.setdefault(kind.split(" « ")[0], [0, 0])
        counts[0 if attendance is Attendance.PRESENT else 1] += 1
    present = sum(1 for row in rows if row[3] is Attendance.PRESENT)
    return {
        "contacts": [{"date": at.date(), "time": ctx.clock(at), "kind": kind,
                      "duration": ctx.duration(minutes), "attendance": attendance.label,
                      "staff": staff} for at, kind, minutes, attendance, staff in rows],
        "contact_summary": [{"kind": kind, "present": counts[0], "absent": counts[1]}
                            for kind, counts in summary.items()],
        "present_count": present,
        "absent_count": len(rows) - present,
        "last_present_on": max((row[0].date() for row in rows
                                if row[3] is Attendance.PRESENT), default=None),
    }


def csp_fields(session: Session, enrolment: Enrolment, start: date | None = None,
               end: date | None = None) -> ctx.Fields:
    """The CSP facts of a path (002 II §3 to §5); its activity between `start` and `end`."""
    found = barriers(session, enrolment.id)
    suspensions = session.scalars(select(Suspension)
                                  .where(Suspension.enrolment_id == enrolment.id)
                                  .order_by(Suspension.starts_on, Suspension.id)).all()
    prebilan = enrolment.prebilan_at
    sent = enrolment.csp_contract_sent_at
    return {
        "adhesion_on": enrolment.csp_adhesion_on,
        "experimental": enrolment.beneficiary.experimental_csp_public,
        # 002 II §5: « avant la fin du 6ème mois d'adhésion » (services/obligations.py)
        "sixth_month_end": last_day_of_months(enrolment.csp_adhesion_on
                                              or enrolment.entry_date, 6),
        "prebilan_on": prebilan.date() if prebilan else None,
        "prebilan_time": ctx.clock(prebilan),
        "contract_signed_on": enrolment.csp_contract_signed_on,
        "contract_sent_on": sent.date() if sent else None,
        "phase1": _phase_record(enrolment, "phase_1"),
        "phase2": _phase_record(enrolment, "phase_2"),
        **_programme_figures(session, enrolment),
        # Health, justice, addiction… (barrier_types.is_sensitive) are not written into a
        # document sent to France Travail: only their number, for the référent to decide.
        "barriers": [barrier for barrier in found if not barrier["sensitive"]],
        "sensitive_barriers": sum(1 for barrier in found if barrier["sensitive"]),
        "internships": internships(session, enrolment.id),
        "suspensions": [{"reason": s.reason.label, "starts_on": s.starts_on,
                         "ends_on": s.ends_on} for s in suspensions],
        **_activity(session, enrolment, start, end),
    }


def exit_fields(enrolment: Enrolment) -> ctx.Fields:
    """How the exit counts for France Travail (002 II §6, rules/exits.py)."""
    blank = {"positive": False, "classification": "", "is_abandon": False,
             "followup_contract_kind": ctx.text(enrolment.followup_contract_kind),
             "followup_contract_months": ctx.text(enrolment.followup_contract_months)}
    if enrolment.exit_type is None:
        return blank
    facts = ExitFacts(
        contract_kind=enrolment.contract_kind, contract_months=enrolment.contract_months,
        hours_per_month=enrolment.hours_per_month,
        followup_contract_kind=enrolment.followup_contract_kind,
        followup_contract_months=enrolment.followup_contract_months,
        employer=enrolment.employer, training_title=enrolment.training_title)
    classification = classify_exit(ExitTypeRule.from_object(enrolment.exit_type), facts,
                                   enrolment.programme.exit_scheme)
    return {**blank, "positive": classification.csp_positive,
            "classification": "Issue positive (002 II §6)" if classification.csp_positive
            else "Issue non positive (002 II §6)",
            "is_abandon": enrolment.abandon_reason is not None}


def _context(session: Session, enrolment_id: int, start: date | None = None,
             end: date | None = None) -> ctx.Fields:
    enrolment = ctx.load_enrolment(session, enrolment_id)
    return {**ctx.enrolment_context(session, enrolment),
            "csp": csp_fields(session, enrolment, start, end),
            "exit": exit_fields(enrolment)}


# --- Samples ----------------------------------------------------------------------------


def sample_csp() -> ctx.Fields:
    return {
        "adhesion_on": date(2026, 1, 15), "experimental": False,
        "sixth_month_end": date(2026, 7, 14), "prebilan_on": date(2026, 1, 22),
        "prebilan_time": "09h30", "contract_signed_on": date(2026, 1, 22),
        "contract_sent_on": date(2026, 1, 23),
        "phase1": {"started_on": date(2026, 1, 22), "ended_on": date(2026, 2, 18),
                   "derogation": False},
        "phase2": {"started_on": date(2026, 2, 19), "ended_on": None, "derogation": False},
        "phase1_weeks": "4", "phase1_derogation_weeks": "8", "max_months": "12",
        "experimental_max_months": "18", "follow_up_months": "6",
        "barriers": [{"label": "Mobilité", "sensitive": False,
                      "identified_on": date(2026, 1, 22), "lifted_on": None,
                      "notes": "Pas de permis"}],
        "sensitive_barriers": 1,
        "internships": [ctx.sample_internship()],
        "suspensions": [{"reason": "Maladie", "starts_on": date(2026, 4, 1),
                         "ends_on": date(2026, 4, 10)}],
        "contacts": [{"date": date(2026, 1, 22), "time": "09h30",
                      "kind": "Entretien individuel en face à face", "duration": "45 min",
                      "attendance": "Présent", "staff": "Claire Conseillère"},
                     {"date": date(2026, 1, 29), "time": "14h00",
                      "kind": "Regroupement « Techniques de recherche d'emploi »",
                      "duration": "3 h", "attendance": "Absence justifiée",
                      "staff": "Marie Animatrice"}],
        "contact_summary": [{"kind": "Entretien individuel en face à face", "present": 1,
                             "absent": 0},
                            {"kind": "Regroupement", "present": 0, "absent": 1}],
        "present_count": 1, "absent_count": 1, "last_present_on": date(2026, 1, 22),
    }


def sample_exit() -> ctx.Fields:
    return {"positive": True, "classification": "Issue positive (002 II §6)",
            "is_abandon": False, "followup_contract_kind": "", "followup_contract_months": ""}


def sample_context() -> ctx.Fields:
    return {**ctx.sample_enrolment_context("CSP"), "csp": sample_csp(), "exit": sample_exit()}


# --- Contrat d'accompagnement -----------------------------------------------------------


def build_path(session: Session, enrolment_id: int) -> ctx.Fields:
    """A CSP document about one path, with the whole of its activity."""
    return _context(session, enrolment_id)


# 002 II §4: « Le référent signe avec le bénéficiaire le Contrat d'accompagnement
# formalisant l'engagement réciproque [...]. Le nom du référent est indiqué dans le
# Contrat d'accompagnement. Un exemplaire est remis au bénéficiaire. Le prestataire
# transmet à Pôle emploi une copie du Contrat d'accompagnement signé dans un délai maximum
# de 48 heures à compter de l'entretien de pré-bilan. »
register(DocumentKind(
    code="csp_contract",
    title="CSP — Contrat d'accompagnement",
    subject="enrolment",
    source="002 II §4, entretien de pré-bilan : contrat d'accompagnement signé, copie à "
           "France Travail sous 48 heures (annexe A1)",
    build=build_path,
    sample=sample_context,
    programmes=CSP,
    fulfils=("csp_contract_copy",),
    fields=HEADER_FIELDS + PERSON_FIELDS + PATH_FIELDS + CSP_FIELDS,
))


# --- The contract returned « Absent » or « refus d'adhésion » ---------------------------


def build_contract_not_signed(session: Session, referral_id: int) -> ctx.Fields:
    referral = ctx.load_record(session, Referral, referral_id, "La prescription")
    return {**ctx.common_fields(referral.programme),
            "person": ctx.person_fields(referral.beneficiary),
            "referral": ctx.referral_fields(referral)}


def sample_contract_not_signed() -> ctx.Fields:
    referral = {**ctx.sample_referral(), "status": "Non-entrée", "status_code": "not_entered",
                "non_entry_notes": "Ne s'est pas présentée, sans nouvelles"}
    return {**ctx.sample_common("CSP"), "person": ctx.sample_person(), "referral": referral}


# 002 II §4: « Dans le cas où le bénéficiaire ne serait pas présent à l'entretien de
# pré-bilan, le prestataire en informe Pôle emploi dans un délai de 48 heures en retournant
# le contrat d'accompagnement avec la mention « Absent ». En cas de non signature [...] le
# prestataire retourne le contrat d'accompagnement non signé à Pôle emploi avec la mention
# « refus d'adhésion ». » The record does not say which of the two it was (a non-entry):
# both mentions are boxes the référent ticks.
register(DocumentKind(
    code="csp_contract_not_signed",
    title="CSP — Contrat d'accompagnement non signé (« Absent » / « refus d'adhésion »)",
    subject="referral",
    source="002 II §4, entretien de pré-bilan : contrat retourné avec la mention « Absent » "
           "ou « refus d'adhésion » sous 48 heures",
    build=build_contract_not_signed,
    sample=sample_contract_not_signed,
    programmes=CSP,
    fulfils=("csp_contract_copy",),
    fields=HEADER_FIELDS + PERSON_FIELDS + (
        "referral.referred_on, .prescriber_name, .prescription_place, .status, .decided_on "
        "(date de la non-entrée), .non_entry_notes, .non_entry_barriers (liste)",
    ),
))


# --- PSP, its updates ----------------------------------------------------------------------


# 002 II §5, phase 1 « Livrable »: « Le PSP formalise les modalités de l'accompagnement, le
# projet de reclassement professionnel, le positionnement sur le marché de l'emploi, les
# éventuelles prestations d'accompagnement envisagées [...], l'éventuelle solution
# formation, le cas échéant l'évaluation en milieu de travail »; §4 pré-bilan: « le profil
# et le projet [...], ses atouts potentiels, ses difficultés et ses freins éventuels ».
register(DocumentKind(
    code="csp_psp",
    title="CSP — Plan de sécurisation professionnelle (PSP)",
    subject="enrolment",
    source="002 II §4 (pré-bilan) et §5 phase 1 « Livrable » : PSP transmis avec le bilan "
           "de phase 1 sous 48 heures après la fin de la phase (annexes A3, A4)",
    build=build_path,
    sample=sample_context,
    programmes=CSP,
    fulfils=("csp_psp_phase1_report",),
    fields=HEADER_FIELDS + PERSON_FIELDS + PATH_FIELDS + CSP_FIELDS,
))

# 002 II §5: « Le PSP [...] pourra être adapté et actualisé avec la réactivité nécessaire,
# d'un commun accord entre le bénéficiaire et son référent, pendant l'intégralité du
# CSP »; « Le conseiller peut proposer à l'intéressé, autant que de besoin, un ajustement de
# son PSP » (annexe A5 « PSP Mise à jour »).
register(DocumentKind(
    code="csp_psp_update",
    title="CSP — Mise à jour du PSP",
    subject="enrolment",
    source="002 II §5 : PSP adapté et actualisé d'un commun accord pendant tout le CSP "
           "(annexe A5)",
    build=build_path,
    sample=sample_context,
    programmes=CSP,
    fields=HEADER_FIELDS + PERSON_FIELDS + PATH_FIELDS + CSP_FIELDS,
))


# --- Bilan de phase 1, with the attendance -------------------------------------------------


def build_phase1_report(session: Session, enrolment_id: int) -> ctx.Fields:
    """The contacts of phase 1 only: from its start to its end (or to today)."""
    enrolment = ctx.load_enrolment(session, enrolment_id)
    phase = _phase_record(enrolment, "phase_1")
    start = phase["started_on"] or enrolment.entry_date
    return _context(session, enrolment_id, start, phase["ended_on"])


# 002 II §5, phase 1 « Livrable »: « Le PSP est transmis accompagné de la fiche prestation
# relative à la phase 1 contenant la feuille des émargements du bénéficiaire » (annexe A2).
register(DocumentKind(
    code="csp_phase1_report",
    title="CSP — Bilan de phase 1 et feuille d'émargements",
    subject="enrolment",
    source="002 II §5 phase 1 « Livrable » : fiche prestation de la phase 1 avec la feuille "
           "des émargements, sous 48 heures après la fin de la phase (annexe A2)",
    build=build_phase1_report,
    sample=sample_context,
    programmes=CSP,
    fulfils=("csp_psp_phase1_report",),
    fields=HEADER_FIELDS + PERSON_FIELDS + PATH_FIELDS + CSP_FIELDS,
))


# --- Bilan intermédiaire (6th month) ---------------------------------------------------------


def build_intermediate_report(session: Session, enrolment_id: int) -> ctx.Fields:
    """The activity from the entry to the end of the 6th month of adhesion."""
    enrolment = ctx.load_enrolment(session, enrolment_id)
    end = last_day_of_months(enrolment.csp_adhesion_on or enrolment.entry_date, 6)
    return _context(session, enrolment_id, enrolment.entry_date, end)


# 002 II §5, phase 2 « Livrables »: « Le livrable intermédiaire est obligatoirement transmis
# avant la fin du 6ème mois d'adhésion du bénéficiaire au CSP. [...] doit être complété avec
# le bénéficiaire. Ce livrable cosigné par le bénéficiaire et le prestataire » (annexe A6).
register(DocumentKind(
    code="csp_intermediate_report",
    title="CSP — Bilan intermédiaire (6e mois)",
    subject="enrolment",
    source="002 II §5 phase 2 « Livrables » : livrable intermédiaire cosigné, avant la fin "
           "du 6e mois d'adhésion (annexe A6)",
    build=build_intermediate_report,
    sample=sample_context,
    programmes=CSP,
    fulfils=("csp_intermediate_report",),
    fields=HEADER_FIELDS + PERSON_FIELDS + PATH_FIELDS + CSP_FIELDS,
))


# --- Bilan final and final PSP ---------------------------------------------------------------


# 002 II §5, phase 2 « Livrables »: « Le bilan final ainsi que la version définitive du PSP
# sont obligatoirement transmis » at the durable job, at the end of the support, at the
# abandon or the removal of the CSP; « signé par les deux parties [dans la mesure du
# possible]. Une copie est transmise au bénéficiaire » (annexe A7).
register(DocumentKind(
    code="csp_final_report",
    title="CSP — Bilan final de l'accompagnement et PSP définitif",
    subject="enrolment",
    source="002 II §5 phase 2 « Livrables » : bilan final et version définitive du PSP sous "
           "48 heures (reprise d'emploi, fin de l'accompagnement, abandon) ; 002 II §6 "
           "(issue positive) ; annexe A7",
    build=build_path,
    sample=sample_context,
    programmes=CSP,
    fulfils=("csp_final_report_job", "csp_final_report_end", "csp_final_report_abandon"),
    fields=HEADER_FIELDS + PERSON_FIELDS + PATH_FIELDS + CSP_FIELDS + EXIT_FIELDS,
))


# --- Déclaration d'abandon -------------------------------------------------------------------


def build_abandon_declaration(session: Session, enrolment_id: int) -> ctx.Fields:
    enrolment = ctx.load_enrolment(session, enrolment_id)
    fields = _context(session, enrolment_id)
    # the phase in progress when the person left: the current one, or the last started
    phase = enrolment.current_phase
    if phase is None and enrolment.phase_records:
        phase = enrolment.phase_records[-1].phase
    fields["abandon"] = {
        "phase": phase.name if phase else "",
        "deliverable": PHASE_DELIVERABLES.get(phase.code, "") if phase else "",
        "last_contact_on": fields["csp"]["last_present_on"],
    }
    return fields


def sample_abandon_declaration() -> ctx.Fields:
    return {**sample_context(),
            "abandon": {"phase": "Phase 2 — Accompagnement intensif",
                        "deliverable": PHASE_DELIVERABLES["phase_2"],
                        "last_contact_on": date(2026, 3, 2)}}


# 002 II §4: « Le prestataire a un délai maximum de 48 heures pour déclarer, le cas échéant,
# l'abandon du bénéficiaire auprès de Pôle emploi en retournant le livrable correspondant à
# la phase en cours dûment renseigné. »
register(DocumentKind(
    code="csp_abandon_declaration",
    title="CSP — Déclaration d'abandon",
    subject="enrolment",
    source="002 II §4 : abandon déclaré à France Travail sous 48 heures avec le livrable de "
           "la phase en cours",
    build=build_abandon_declaration,
    sample=sample_abandon_declaration,
    programmes=CSP,
    fulfils=("csp_abandon_declaration",),
    fields=HEADER_FIELDS + PERSON_FIELDS + PATH_FIELDS + CSP_FIELDS + (
        "abandon.phase (la phase en cours), .deliverable (le livrable qui l'accompagne), "
        ".last_contact_on",
    ),
))
