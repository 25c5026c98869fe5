"""The fields a document's template reads, made from the records as plain dicts.

No Flask here. Every `build(session, record_id)` of the catalogue assembles its context
from these functions, and every `sample()` from the `sample_…` ones, so that the names a
coordinator types in a template are the same in every document:

- `person`: civility, names, birth date, address, phone, e-mail, identifiers;
- `path`: the enrolment (programme, phases with their dates, référent, entry, planned end,
  exit and its type, professional project, session);
- `referral`: the prescription and the commission's decision;
- `programme`, `funder`, `esf`: the programme, its funder's name and logo, and for the
  programmes cofinanced by the European Social Fund the mention and the EU emblem
  (seeds/documents/letterhead.yaml; 004 §6 « mesures de publicité » of the FSE);
- `organisation`: the provider producing the document (letterhead.yaml, or the
  application's settings `ORGANISATION_NAME`, `ORGANISATION_ADDRESS`, …);
- `user`: who produces it (blank until the caller completes the context with
  `with_producer(context, user, settings)`), `today`.

Dates stay `date` objects: a template prints them with `|date` (21/07/1994) or
`|long_date` (21 juillet 1994). A text the record does not hold is "" (never « None »),
so the template's labelled line stays blank, to be filled by hand.

Images (the funder's logo, the EU emblem) are `ImageFile`s: `bind_images` turns them into
docxtpl `InlineImage`s once the template is open (render.py).
"""
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..enums import Sex
from ..models import Beneficiary, Enrolment, Funder, Internship, Programme, Referral, User
from ..services.esf import ENTRY_FIELD_LABELS, esf_entry_fields
from .builder import TEMPLATES_DIR

IMAGES_DIR = TEMPLATES_DIR / "images"
LETTERHEAD_FILE = TEMPLATES_DIR / "letterhead.yaml"

Fields = dict[str, Any]

CIVILITY = {Sex.FEMALE: "Madame", Sex.MALE: "Monsieur"}
YES_NO = {True: "Oui", False: "Non", None: ""}


@dataclass(frozen=True)
class ImageFile:
    """An image a template prints (`{{ funder.logo }}`), placed by `bind_images`."""

    path: Path
    width_mm: float


def bind_images(context: Any, template) -> Any:
    """The context with each `ImageFile` replaced by a docxtpl `InlineImage` of the open
    template (`DocxTemplate`); other values are returned as they are."""
    from docx.shared import Mm
    from docxtpl import InlineImage

    if isinstance(context, ImageFile):
        return InlineImage(template, str(context.path), width=Mm(context.width_mm))
    if isinstance(context, Mapping):
        return {key: bind_images(value, template) for key, value in context.items()}
    if isinstance(context, list | tuple):
        return [bind_images(value, template) for value in context]
    return context


@lru_cache(maxsize=1)
def letterhead() -> Fields:
    """seeds/documents/letterhead.yaml, read once."""
    return yaml.safe_load(LETTERHEAD_FILE.read_text(encoding="utf-8")) or {}


def text(value: Any) -> str:
    """A text field as printed: "" when the record holds nothing; an enum by its label."""
    if value is None:
        return ""
    return str(getattr(value, "label", value))


# --- The person -------------------------------------------------------------------------


def person_fields(person: Beneficiary) -> Fields:
    """The person as documents print them (« PRÉVOST Anne », « Madame »)."""
    return {
        "id": person.id,
        "civility": CIVILITY.get(person.sex, ""),
        "sex": text(person.sex),
        "last_name": person.last_name,
        "first_name": person.first_name,
        "full_name": person.full_name,
        "birth_date": person.birth_date,
        "external_id": text(person.external_id),
        "email": text(person.email),
        "phone": text(person.phone),
        "address": text(person.address),
        "postcode": text(person.postcode),
        "commune": text(person.commune),
        "education_level": text(person.education_level),
    }


def esf_fields(session: Session, enrolment: Enrolment) -> Fields:
    """The FSE+ questionnaire « recueil des données » (004 §6) of a path, as frozen at its
    entry — the first participation's on a re-entry (services/esf.py, issue 24).
    `questions` lists each question with its answer, for a table; a path outside ESF+
    or not recorded yet gives an empty list."""
    return esf_entry_fields(session, enrolment.id) or {
        "questions": [], "recorded": False, "reentry": False}


# --- Staff ------------------------------------------------------------------------------


def user_fields(user: User | None) -> Fields:
    """A staff member (the référent, or the user producing the document)."""
    if user is None:
        return {"name": "", "email": ""}
    return {"name": user.name, "email": user.email}


# --- Programme, funder, organisation ------------------------------------------------------


def is_esf_programme(code: str) -> bool:
    """Whether the programme is cofinanced by the FSE+ (letterhead.yaml `esf.programmes`,
    a code or a prefix, matched as `DocumentKind.applies_to` does)."""
    return any(code == prefix or code.startswith(prefix + "-")
               for prefix in letterhead().get("esf", {}).get("programmes", ()))


def esf_block() -> Fields:
    """The mention and the EU emblem printed on the documents of ESF programmes."""
    esf = letterhead().get("esf", {})
    return {
        "mention": esf.get("mention", ""),
        "emblem": ImageFile(IMAGES_DIR / esf["emblem"], float(esf.get("emblem_width_mm", 18))),
    }


def programme_fields(programme: Programme) -> Fields:
    """The programme (« PLIE-L1 », its name, its specification) and whether it is ESF."""
    return {
        "code": programme.code,
        "name": programme.name,
        "source": programme.source,
        "esf": is_esf_programme(programme.code),
        # 004 « Sortie de l'action »: « 2 absences injustifiées ... ou 2 relances »
        "absences_limit": text(programme.absences_limit),
        "reminders_limit": text(programme.unanswered_reminders_limit),
    }


def funder_fields(funder: Funder) -> Fields:
    """The funder's name and logo (`None` without one: a template tests `{%p if … %}`)."""
    logo = (letterhead().get("funders") or {}).get(funder.code, {}) or {}
    path = logo.get("logo")
    return {
        "code": funder.code,
        "name": funder.name,
        "logo": ImageFile(IMAGES_DIR / path, float(logo.get("logo_width_mm", 30)))
        if path else None,
    }


ORGANISATION_KEYS = ("name", "address", "phone", "email", "company_number")


def organisation_fields(settings: Mapping[str, Any] | None = None) -> Fields:
    """The provider: letterhead.yaml, each line overridden by the application's setting
    `ORGANISATION_<KEY>` when given (e.g. `ORGANISATION_NAME`)."""
    shipped = letterhead().get("organisation") or {}
    settings = settings or {}
    return {key: text(settings.get(f"ORGANISATION_{key.upper()}") or shipped.get(key))
            for key in ORGANISATION_KEYS}


def common_fields(programme: Programme, *, today: date | None = None,
                  settings: Mapping[str, Any] | None = None) -> Fields:
    """What every document prints around its content: programme, funder, ESF,
    organisation, the user producing it (blank: see `user_fields`), today."""
    return {
        "programme": programme_fields(programme),
        "funder": funder_fields(programme.funder),
        "esf": esf_block(),
        "organisation": organisation_fields(settings),
        "user": user_fields(None),
        "today": today or date.today(),
    }


def with_producer(context: Fields, user: User | None,
                  settings: Mapping[str, Any] | None = None) -> Fields:
    """The context of a built document completed by the caller that produces it: the user
    (`user.name` in « Document établi par … ») and the organisation read from the
    application's settings (`ORGANISATION_NAME`, …) over letterhead.yaml."""
    completed = {**context, "user": user_fields(user)}
    if settings is not None and "organisation" in context:
        completed["organisation"] = organisation_fields(settings)
    return completed


# --- The path ----------------------------------------------------------------------------


def referral_fields(referral: Referral | None) -> Fields:
    """The prescription and the commission's decision on it."""
    if referral is None:
        return {"id": "", "referred_on": None, "prescriber_name": "", "prescription_place": "",
                "reason": "", "status": "", "status_code": "", "decided_on": None,
                "decision_reason": "",
                "validated_months": "", "commission_date": None, "deferred_to_date": None,
                "non_entry_notes": "", "non_entry_barriers": []}
    return {
        "id": referral.id,
        "referred_on": referral.referred_on,
        "prescriber_name": text(referral.prescriber_name),
        "prescription_place": text(referral.prescription_place),
        "reason": text(referral.reason),
        "status": text(referral.status),
        # validated, rejected, deferred, pending, withdrawn, not_entered (enums.py)
        "status_code": referral.status.value,
        "decided_on": referral.decided_on,
        "decision_reason": text(referral.decision_reason),
        "validated_months": text(referral.validated_months),
        "commission_date": referral.commission.held_on if referral.commission else None,
        "deferred_to_date": referral.deferred_to.held_on if referral.deferred_to else None,
        "non_entry_notes": text(referral.non_entry_notes),
        "non_entry_barriers": [barrier.label for barrier in referral.non_entry_barriers],
    }


def path_fields(enrolment: Enrolment) -> Fields:
    """The path: programme, phases with their dates, référent, dates, exit, project."""
    current = enrolment.current_phase
    return {
        "id": enrolment.id,
        "status": text(enrolment.status),
        "entry_date": enrolment.entry_date,
        "planned_end_date": enrolment.planned_end_date,
        "exit_date": enrolment.exit_date,
        "exit_type": enrolment.exit_type.label if enrolment.exit_type else "",
        "exit_reason": text(enrolment.exit_reason),
        "abandon_reason": text(enrolment.abandon_reason),
        "referent": user_fields(enrolment.referent),
        "session": enrolment.session.label if enrolment.session else "",
        "current_phase": current.name if current else "",
        "phases": [
            {"name": record.phase.name, "started_on": record.started_on,
             "ended_on": record.ended_on, "derogation": record.derogation}
            for record in enrolment.phase_records
        ],
        "target_job": text(enrolment.target_job),
        "rome_code": text(enrolment.rome_code),
        "action_plan_on": enrolment.action_plan_on,
        "bilan_kind": text(enrolment.bilan_kind),
        "contract_kind": text(enrolment.contract_kind),
        "contract_months": text(enrolment.contract_months),
        "hours_per_month": text(enrolment.hours_per_month),
        "employer": text(enrolment.employer),
        "training_title": text(enrolment.training_title),
        "no_internship_reason": text(enrolment.no_internship_reason),
        "difficulties": text(enrolment.difficulties),
        "recommendations": text(enrolment.recommendations),
        "follow_up_end_date": enrolment.follow_up_end_date,
        # 001 « Évaluation »: niveau d'atteinte des objectifs (0 à 3), satisfaction (1 à 5),
        # progression: engagement and soft skills (1 à 4)
        "goal_attainment": text(enrolment.goal_attainment),
        "satisfaction": text(enrolment.satisfaction),
        "engagement_level": text(enrolment.engagement_level),
        "soft_skills_level": text(enrolment.soft_skills_level),
    }


def internship_fields(internship: Internship) -> Fields:
    """An immersion or internship: the host, its dates, what is done and evaluated."""
    return {
        "id": internship.id,
        "company_name": internship.company_name,
        "company_number": text(internship.company_number),
        "tutor_name": text(internship.tutor_name),
        "starts_on": internship.starts_on,
        "ends_on": internship.ends_on,
        "hours": text(internship.hours),
        "planned_activities": text(internship.planned_activities),
        "evaluation_criteria": text(internship.evaluation_criteria),
        "conditions_checked_on": internship.conditions_checked_on,
        "midpoint_technical": text(internship.midpoint_technical),
        "midpoint_behavioural": text(internship.midpoint_behavioural),
        "final_technical": text(internship.final_technical),
        "final_behavioural": text(internship.final_behavioural),
        "report_on": internship.report_on,
        "diagnostic_behaviour": text(internship.diagnostic_behaviour),
        "diagnostic_understanding": text(internship.diagnostic_understanding),
        "diagnostic_skills": text(internship.diagnostic_skills),
        "diagnostic_relations": text(internship.diagnostic_relations),
        "diagnostic_recommendations": text(internship.diagnostic_recommendations),
        "diagnostic_cosigned_on": internship.diagnostic_cosigned_on,
    }



def load_record(session: Session, model, record_id: int, what: str):
    """One record by id, or `LookupError` with a French message naming it (« Le parcours
    n° 12 n'existe pas. »)."""
    record = session.scalars(select(model).where(model.id == record_id)).first()
    if record is None:
        raise LookupError(f"{what} n° {record_id} n'existe pas.")
    return record


def load_enrolment(session: Session, enrolment_id: int) -> Enrolment:
    """The path, or `LookupError` with a French message when it does not exist."""
    return load_record(session, Enrolment, enrolment_id, "Le parcours")


# --- Times and durations ----------------------------------------------------------------


def clock(moment: datetime | None) -> str:
    """« 09h30 » (empty without a time)."""
    return f"{moment:%H}h{moment:%M}" if moment else ""


def duration(minutes: int | None) -> str:
    """« 3 h », « 1 h 30 », « 45 min » (empty when the record holds no duration)."""
    if minutes is None:
        return ""
    hours, rest = divmod(minutes, 60)
    if not hours:
        return f"{rest} min"
    return f"{hours} h {rest:02d}" if rest else f"{hours} h"


def enrolment_context(session: Session, enrolment: Enrolment, *,
                      today: date | None = None) -> Fields:
    """Everything a document about one path prints: common fields, person, path,
    referral."""
    return {
        **common_fields(enrolment.programme, today=today),
        "person": person_fields(enrolment.beneficiary),
        "path": path_fields(enrolment),
        "referral": referral_fields(enrolment.referral),
    }


# --- Samples: a context with every field filled, to check an uploaded template ----------

SAMPLE_DAY = date(2026, 3, 2)


def sample_person() -> Fields:
    """A made-up person with every field filled."""
    return {
        "id": 1, "civility": "Madame", "sex": "Femme", "last_name": "Exemple",
        "first_name": "Anne", "full_name": "EXEMPLE Anne", "birth_date": date(1994, 7, 21),
        "external_id": "1234567A", "email": "anne.exemple@example.org",
        "phone": "06 00 00 00 00", "address": "1 rue de l'Exemple", "postcode": "34400",
        "commune": "Lunel", "education_level": "Niveau 4 (Bac)",
    }


def sample_esf() -> Fields:
    """The FSE+ questionnaire of the sample person (every item answered)."""
    answers = {
        "entered_on": "02/02/2026", "recorded_on": "10/02/2026", "age_at_entry": "31 ans",
        "age_band": "25 à 54 ans", "labour_market_status": "Chômeur de longue durée",
        "isced_level": "3", "household_jobless": "Non", "single_parent_household": "Oui",
        "disability": "Non", "third_country_national": "Non", "foreign_background": "Non",
        "minority": "Refuse de répondre", "homeless_or_housing_exclusion": "Non",
        "rural_area": "Non", "isced_group": "CITE 3-4", "first_participation": "parcours n° 1",
    }
    return {**answers, "recorded": True, "reentry": False, "labels": ENTRY_FIELD_LABELS,
            "questions": [{"question": label, "answer": answers.get(key, "")}
                          for key, label in ENTRY_FIELD_LABELS.items()]}


def sample_user() -> Fields:
    return {"name": "Claire Conseillère", "email": "claire@example.org"}


#: A made-up funder for the samples of each programme family (by code prefix).
SAMPLE_FUNDERS = {"PLIE": ("PLIE", "PLIE d'exemple", "004"),
                  "DEL": ("DEL", "Direction d'exemple", "001"),
                  "CSP": ("FT", "Financeur d'exemple", "002"),
                  "ARJLJ": ("FT", "Financeur d'exemple", "002")}


def sample_common(programme_code: str = "PLIE-L1") -> Fields:
    """Programme, funder, ESF, organisation, user and today of a sample document."""
    funder_code, funder_name, source = SAMPLE_FUNDERS[programme_code.split("-")[0]]
    return {
        "programme": {"code": programme_code, "name": f"Action d'exemple {programme_code}",
                      "source": source, "esf": is_esf_programme(programme_code),
                      "absences_limit": "2", "reminders_limit": "2"},
        "funder": {"code": funder_code, "name": funder_name, "logo": None},
        "esf": esf_block(),
        "organisation": {"name": "Association Exemple", "address": "2 place de l'Exemple",
                         "phone": "04 00 00 00 00", "email": "contact@example.org",
                         "company_number": "123 456 789 00012"},
        "user": sample_user(),
        "today": SAMPLE_DAY,
    }


def sample_referral() -> Fields:
    return {
        "id": 1, "referred_on": date(2026, 1, 12), "prescriber_name": "Paul Prescripteur",
        "prescription_place": "France Travail Lunel", "reason": "Reprise de confiance",
        "status": "Validée", "status_code": "validated", "decided_on": date(2026, 1, 20),
        "decision_reason": "Projet cohérent", "validated_months": "6",
        "commission_date": date(2026, 1, 20), "deferred_to_date": None,
        "non_entry_notes": "", "non_entry_barriers": [],
    }


def sample_path() -> Fields:
    return {
        "id": 1, "status": "En cours", "entry_date": date(2026, 2, 2),
        "planned_end_date": date(2026, 12, 31), "exit_date": date(2026, 6, 30),
        "exit_type": "Emploi durable", "exit_reason": "Fin de l'action",
        "abandon_reason": "", "referent": sample_user(), "session": "Session 1",
        "current_phase": "Action",
        "phases": [{"name": "Accueil et diagnostic", "started_on": date(2026, 2, 2),
                    "ended_on": date(2026, 2, 13), "derogation": False},
                   {"name": "Action", "started_on": date(2026, 2, 16), "ended_on": None,
                    "derogation": False}],
        "target_job": "Agent d'entretien", "rome_code": "K2204",
        "action_plan_on": date(2026, 2, 20), "bilan_kind": "Bilan d'orientation",
        "contract_kind": "CDI", "contract_months": "", "hours_per_month": "151",
        "employer": "Entreprise Exemple", "training_title": "",
        "no_internship_reason": "", "difficulties": "Mobilité",
        "recommendations": "Poursuivre la recherche d'emploi",
        "follow_up_end_date": None, "goal_attainment": "2", "satisfaction": "4",
        "engagement_level": "3", "soft_skills_level": "3",
    }


def sample_enrolment_context(programme_code: str = "PLIE-L1") -> Fields:
    """A path's context with every field filled (sample() of a per-path document)."""
    return {
        **sample_common(programme_code),
        "person": sample_person(),
        "path": sample_path(),
        "referral": sample_referral(),
    }


def sample_internship() -> Fields:
    return {
        "id": 1, "company_name": "Association Exemple Solidaire",
        "company_number": "123 456 789 00012", "tutor_name": "Jean Encadrant",
        "starts_on": date(2026, 3, 2), "ends_on": date(2026, 3, 13), "hours": "30",
        "planned_activities": "Accueil du public, tri des dons",
        "evaluation_criteria": "Ponctualité, respect des consignes",
        "conditions_checked_on": date(2026, 2, 25),
        "midpoint_technical": "Tâches comprises", "midpoint_behavioural": "Ponctuelle",
        "final_technical": "Autonome sur le tri", "final_behavioural": "Bon contact",
        "report_on": date(2026, 3, 16),
        "diagnostic_behaviour": "Ponctuelle et assidue",
        "diagnostic_understanding": "Consignes comprises",
        "diagnostic_skills": "Organisation, accueil",
        "diagnostic_relations": "Bonnes relations avec les bénévoles",
        "diagnostic_recommendations": "Orientation vers un chantier d'insertion",
        "diagnostic_cosigned_on": date(2026, 3, 16),
    }
