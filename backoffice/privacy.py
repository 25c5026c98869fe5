"""Personal data (issue 6 §7, README « Données personnelles »): how long it is kept and
what a person may obtain.

- `purge(session, as_of, …)`: a beneficiary whose last exit or contact is older than the
  retention period (default 24 months, CNIL reference for social support) and who has no
  open path is **anonymised**: identity, contact details and every free text about them
  are erased; what the funders' figures need stays (sex, birth year, commune/EPCI,
  eligibility and FSE flags, dates, programmes, exits). Audit entries and login attempts
  older than the log retention (default 12 months) are deleted.
- `person_data(session, beneficiary_id)`: everything stored about one person (access right,
  RGPD art. 15), as plain JSON-ready dicts.

No Flask here: the CLI (commands/privacy.py) and the tests call these functions.
"""
from dataclasses import dataclass, field
from datetime import date, datetime, time

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from . import audit
from .models import (
    AuditEntry,
    Barrier,
    Beneficiary,
    Contact,
    Enrolment,
    Internship,
    LoginAttempt,
    Obligation,
    PhaseRecord,
    Referral,
    Suspension,
    WorkshopAttendance,
)
from .models._types import utcnow
from .rules.calendar import add_months
from .rules.wording import plural

ANONYMOUS_LAST_NAME = "ANONYME"

# What anonymisation erases, table by table (None = erased). Columns not listed stay: they
# feed the anonymous figures (typology, durations, exits) of reports/ and indicators/.
ERASED_BENEFICIARY_COLUMNS = ("external_id", "email", "phone", "address", "postcode", "notes")
ERASED_TEXT = {
    Enrolment: ("difficulties", "recommendations", "no_internship_reason"),
    Contact: ("objective", "notes"),
    Barrier: ("notes",),
    Suspension: ("notes",),
    Obligation: ("late_reason",),  # why a deliverable was late may name a health reason
    Referral: ("decision_reason", "non_entry_notes"),
    Internship: ("tutor_name", "planned_activities", "evaluation_criteria",
                 "midpoint_technical", "midpoint_behavioural", "final_technical",
                 "final_behavioural", "diagnostic_behaviour", "diagnostic_understanding",
                 "diagnostic_skills", "diagnostic_relations", "diagnostic_recommendations"),
}
# Tables the anonymisation writes to; their row-level audit would copy the erased values
# into the trail, so one « anonymise » entry per person is written instead.
ANONYMISED_TABLES = ("beneficiaries", "enrolments", "contacts", "barriers", "suspensions",
                     "referrals", "internships", "obligations")


@dataclass
class PurgeReport:
    """What `purge` did (printed by the command)."""

    cutoff: date
    log_cutoff: datetime
    anonymised: list[int] = field(default_factory=list)
    audit_entries_deleted: int = 0
    login_attempts_deleted: int = 0


def last_activity(session: Session, beneficiary_id: int) -> date | None:
    """The latest of: exits, closures, follow-up ends, contacts, referral dates, the record
    itself — the day the retention period starts from."""
    enrolment_ids = select(Enrolment.id).where(Enrolment.beneficiary_id == beneficiary_id)
    candidates = [
        session.scalar(select(func.max(Enrolment.exit_date))
                       .where(Enrolment.beneficiary_id == beneficiary_id)),
        session.scalar(select(func.max(Enrolment.closed_on))
                       .where(Enrolment.beneficiary_id == beneficiary_id)),
        session.scalar(select(func.max(Enrolment.follow_up_end_date))
                       .where(Enrolment.beneficiary_id == beneficiary_id)),
        session.scalar(select(func.max(Enrolment.entry_date))
                       .where(Enrolment.beneficiary_id == beneficiary_id)),
        session.scalar(select(func.max(Contact.occurs_at))
                       .where(Contact.enrolment_id.in_(enrolment_ids))),
        session.scalar(select(func.max(Referral.referred_on))
                       .where(Referral.beneficiary_id == beneficiary_id)),
        session.scalar(select(func.max(Referral.decided_on))
                       .where(Referral.beneficiary_id == beneficiary_id)),
        session.scalar(select(Beneficiary.created_at).where(Beneficiary.id == beneficiary_id)),
    ]
    days = [value.date() if isinstance(value, datetime) else value
            for value in candidates if value is not None]
    return max(days) if days else None


def has_open_path(session: Session, beneficiary_id: int) -> bool:
    """A path without an exit date (active, suspended) keeps the record whatever its age."""
    return session.scalar(
        select(func.count(Enrolment.id)).where(
            Enrolment.beneficiary_id == beneficiary_id, Enrolment.exit_date.is_(None))
    ) > 0


def anonymise(session: Session, person: Beneficiary, now: datetime) -> None:
    """Erase who the person is; keep the anonymous facts the reports count."""
    person.last_name = ANONYMOUS_LAST_NAME
    person.first_name = f"n° {person.id}"
    # Birth year kept for age bands; mid-year keeps the age at entry within ±6 months.
    person.birth_date = date(person.birth_date.year, 7, 1)
    for column in ERASED_BENEFICIARY_COLUMNS:
        setattr(person, column, None)
    person.anonymised_at = now
    enrolment_ids = select(Enrolment.id).where(Enrolment.beneficiary_id == person.id)
    for model, columns in ERASED_TEXT.items():
        if model is Referral or model is Enrolment:
            owner = model.beneficiary_id == person.id
        else:
            owner = model.enrolment_id.in_(enrolment_ids)
        session.execute(
            update(model).where(owner).values({column: None for column in columns}),
            execution_options={"synchronize_session": False},
        )
    # Earlier entries about this record may hold its former identity (before/after values).
    with audit.purging(session):
        session.execute(
            update(AuditEntry)
            .where(AuditEntry.table_name == "beneficiaries", AuditEntry.row_id == person.id,
                   AuditEntry.changes.is_not(None))
            .values(changes=None, detail="Contenu effacé lors de l'anonymisation"),
            execution_options={"synchronize_session": False},
        )
    audit.record(session, "anonymise", "beneficiaries", person.id,
                 detail="Anonymisation : durée de conservation dépassée")


def purge(session: Session, as_of: date, retention_months: int = 24,
          log_retention_months: int = 12) -> PurgeReport:
    """Anonymise the people past the retention period and delete old log entries.

    Idempotent: anonymised people are skipped; run it daily or monthly (cron).
    """
    cutoff = add_months(as_of, -retention_months)
    log_cutoff = datetime.combine(add_months(as_of, -log_retention_months), time.min)
    report = PurgeReport(cutoff=cutoff, log_cutoff=log_cutoff)
    now = utcnow()
    candidates = session.scalars(
        select(Beneficiary).where(Beneficiary.anonymised_at.is_(None)).order_by(Beneficiary.id)
    ).all()
    previous = session.info.get("audit_system_tables", ())
    session.info["audit_system_tables"] = (*previous, *ANONYMISED_TABLES)
    try:
        for person in candidates:
            if has_open_path(session, person.id):
                continue
            last = last_activity(session, person.id)
            if last is not None and last < cutoff:
                anonymise(session, person, now)
                report.anonymised.append(person.id)
        session.flush()
    finally:
        session.info["audit_system_tables"] = previous
    with audit.purging(session):
        report.audit_entries_deleted = session.execute(
            delete(AuditEntry).where(AuditEntry.at < log_cutoff),
            execution_options={"synchronize_session": False},
        ).rowcount or 0
    report.login_attempts_deleted = session.execute(
        delete(LoginAttempt).where(LoginAttempt.at < log_cutoff),
        execution_options={"synchronize_session": False},
    ).rowcount or 0
    audit.record(session, "purge", None, None,
                 detail=(f"Purge au {as_of:%d/%m/%Y} : "
                         + plural(len(report.anonymised), "personne anonymisée",
                                  "personnes anonymisées")
                         + ", " + plural(report.audit_entries_deleted, "entrée d'audit",
                                         "entrées d'audit")
                         + " et " + plural(report.login_attempts_deleted,
                                           "tentative de connexion", "tentatives de connexion")
                         + " supprimées"))
    return report


# --- access right --------------------------------------------------------------------
HIDDEN_COLUMNS = frozenset({"name_key", "search_key", "version"})


def _row(obj) -> dict:
    """Every column of a row as JSON-ready values (foreign ids included)."""
    return {column.key: audit._plain(getattr(obj, column.key))
            for column in obj.__table__.columns if column.key not in HIDDEN_COLUMNS}


def person_data(session: Session, beneficiary_id: int) -> dict | None:
    """Everything stored about one person, grouped by record (None if unknown)."""
    person = session.get(Beneficiary, beneficiary_id)
    if person is None:
        return None
    enrolments = session.scalars(
        select(Enrolment).where(Enrolment.beneficiary_id == person.id).order_by(Enrolment.id)
    ).all()
    paths = []

    def rows(model, enrolment, order):
        return [_row(r) for r in session.scalars(
            select(model).where(model.enrolment_id == enrolment.id).order_by(order))]

    for enrolment in enrolments:
        paths.append({
            **_row(enrolment),
            "programme": enrolment.programme.code,
            "referent": enrolment.referent.name if enrolment.referent else None,
            "exit_type": enrolment.exit_type.label if enrolment.exit_type else None,
            "phases": rows(PhaseRecord, enrolment, PhaseRecord.started_on),
            "suspensions": rows(Suspension, enrolment, Suspension.starts_on),
            "contacts": rows(Contact, enrolment, Contact.occurs_at),
            "barriers": rows(Barrier, enrolment, Barrier.identified_on),
            "internships": rows(Internship, enrolment, Internship.starts_on),
            "workshop_attendances": [
                {**_row(a), "workshop": a.workshop.title,
                 "workshop_held_at": audit._plain(a.workshop.held_at)}
                for a in session.scalars(select(WorkshopAttendance).where(
                    WorkshopAttendance.enrolment_id == enrolment.id))
            ],
        })
    referrals = session.scalars(
        select(Referral).where(Referral.beneficiary_id == person.id).order_by(Referral.id)
    ).all()
    return {
        "produced_at": audit._plain(utcnow()),
        "beneficiary": _row(person),
        "referrals": [{**_row(r), "programme": r.programme.code} for r in referrals],
        "enrolments": paths,
    }
