"""A person's whole story for their record page (issue 20 §1): referrals and decisions,
paths with their phases, suspensions, internships, workshops, contacts, barriers and
deadlines, exit and follow-up — as sections and as one dated timeline.

Plain queries on a session (no Flask). The number of statements is fixed whatever the
length of the history: one per kind of record, each for all the person's paths at once.
What a role may not read is not loaded (`Visibility`), never loaded and then hidden.
"""
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from ..models import (
    AuditEntry,
    Barrier,
    Beneficiary,
    Contact,
    Enrolment,
    EsfEntry,
    EsfExit,
    Internship,
    Obligation,
    PhaseRecord,
    ProducedDocument,
    Programme,
    Referral,
    Suspension,
    WorkshopAttendance,
)
from .documents import documents_of_paths


@dataclass(frozen=True)
class Visibility:
    """What the reader may see: each flag is a read right of the role table, and
    `paths_where` the row filter of a counsellor (their own paths only)."""

    referrals: bool = True
    paths: bool = True
    paths_where: object = None
    history: bool = False
    esf: bool = False  # the ESF+ entry and exit records (issue 24)


@dataclass(frozen=True)
class Event:
    """One dated line of the timeline; `area` and `record_id` make its link."""

    on: date
    kind: str
    text: str
    area: str | None = None
    record_id: int | None = None
    path_id: int | None = None


@dataclass
class PathStory:
    """One path and everything recorded on it, each list in date order."""

    path: Enrolment
    phases: list[PhaseRecord] = field(default_factory=list)
    suspensions: list[Suspension] = field(default_factory=list)
    internships: list[Internship] = field(default_factory=list)
    attendances: list[WorkshopAttendance] = field(default_factory=list)
    contacts: list[Contact] = field(default_factory=list)
    barriers: list[Barrier] = field(default_factory=list)
    open_obligations: list[Obligation] = field(default_factory=list)
    done_obligations: list[Obligation] = field(default_factory=list)
    #: the documents produced from this path (issue 21 §4), the latest first
    documents: list[ProducedDocument] = field(default_factory=list)
    esf: "EsfData | None" = None  # issue 24: None outside ESF+ or when not to be shown


@dataclass
class EsfData:
    """A path's ESF+ records (issue 24). On a re-entry the entry data shown are the first
    participation's (`entry_path_id` is then another path of the same operation)."""

    path_id: int
    operation: str
    entry: EsfEntry | None = None
    exit: EsfExit | None = None

    @property
    def reentry(self) -> bool:
        """The entry data shown are an earlier path's (the first participation)."""
        return self.entry is not None and self.entry.enrolment_id != self.path_id


@dataclass
class PersonRecord:
    person: Beneficiary
    referrals: list[Referral]
    paths: list[PathStory]
    timeline: list[Event]
    history: list[AuditEntry]


def _day(moment: date | datetime) -> date:
    return moment.date() if isinstance(moment, datetime) else moment


def _by_path(session: Session, model, path_ids: list[int], order, *options) -> dict:
    """{path id: [rows]} of `model` for every path in `path_ids`, in one statement."""
    grouped: dict[int, list] = {path_id: [] for path_id in path_ids}
    if path_ids:
        rows = session.scalars(select(model).where(model.enrolment_id.in_(path_ids))
                               .options(*options).order_by(*order))
        for row in rows:
            grouped[row.enrolment_id].append(row)
    return grouped


def load_esf(session: Session, paths: list[Enrolment]) -> dict[int, EsfData]:
    """path id → its ESF+ data, for the paths of an ESF+ operation (two statements): its
    exit record, and the entry record of the person's first participation in the
    operation up to this path (its own, or an earlier path's on a re-entry)."""
    esf_paths = [p for p in paths if p.programme.esf_operation is not None]
    if not esf_paths:
        return {}
    people = {p.beneficiary_id for p in esf_paths}
    entries = session.execute(
        select(EsfEntry, Enrolment.beneficiary_id, Programme.esf_operation,
               Enrolment.entry_date)
        .join(Enrolment, EsfEntry.enrolment_id == Enrolment.id)
        .join(Programme, Enrolment.programme_id == Programme.id)
        .where(Enrolment.beneficiary_id.in_(people), Programme.esf_operation.is_not(None))
        .order_by(Enrolment.entry_date, Enrolment.id)).all()
    exits = {row.enrolment_id: row for row in session.scalars(
        select(EsfExit).where(EsfExit.enrolment_id.in_([p.id for p in esf_paths])))}
    found = {}
    for path in esf_paths:
        operation = path.programme.esf_operation
        own = next((e for e, _b, _o, _d in entries if e.enrolment_id == path.id), None)
        first = own or next((e for e, person, op, entered in entries
                             if person == path.beneficiary_id and op == operation
                             and entered <= path.entry_date), None)
        found[path.id] = EsfData(path.id, operation, first, exits.get(path.id))
    return found


def load_paths(session: Session, path_ids: list[int], paths: list[Enrolment],
               esf: bool = False) -> list[PathStory]:
    """The stories of `paths` (their ids in `path_ids`): eight statements in all (their
    documents included), two more with the ESF+ records (`esf`)."""
    phases = _by_path(session, PhaseRecord, path_ids, (PhaseRecord.started_on, PhaseRecord.id),
                      joinedload(PhaseRecord.phase))
    suspensions = _by_path(session, Suspension, path_ids, (Suspension.starts_on, Suspension.id),
                           joinedload(Suspension.reason))
    internships = _by_path(session, Internship, path_ids,
                           (Internship.starts_on, Internship.id))
    attendances = _by_path(session, WorkshopAttendance, path_ids, (WorkshopAttendance.id,),
                           joinedload(WorkshopAttendance.workshop))
    contacts = _by_path(session, Contact, path_ids, (Contact.occurs_at, Contact.id),
                        joinedload(Contact.contact_type), joinedload(Contact.staff))
    barriers = _by_path(session, Barrier, path_ids, (Barrier.identified_on, Barrier.id),
                        joinedload(Barrier.barrier_type))
    obligations = _by_path(session, Obligation, path_ids, (Obligation.due_at, Obligation.id))
    documents = documents_of_paths(session, path_ids)
    esf_data = load_esf(session, paths) if esf else {}
    stories = []
    for path in paths:
        story = PathStory(path, phases[path.id], suspensions[path.id], internships[path.id],
                          sorted(attendances[path.id], key=lambda a: a.workshop.held_at),
                          contacts[path.id], barriers[path.id], documents=documents[path.id],
                          esf=esf_data.get(path.id))
        for obligation in obligations[path.id]:
            if obligation.cancelled_at is not None:
                continue
            (story.done_obligations if obligation.done_at else story.open_obligations
             ).append(obligation)
        stories.append(story)
    return stories


def timeline(referrals: list[Referral], stories: list[PathStory]) -> list[Event]:
    """Every dated fact of the record, most recent first."""
    events: list[Event] = []
    for referral in referrals:
        code = referral.programme.code
        who = f" par {referral.prescriber_name}" if referral.prescriber_name else ""
        events.append(Event(referral.referred_on, "Prescription", f"{code}{who}",
                            "referrals", referral.id))
        if referral.decided_on:
            events.append(Event(referral.decided_on, "Décision",
                                f"{code} : {referral.status.label}", "referrals", referral.id))
    for story in stories:
        path = story.path
        code = path.programme.code
        pid = path.id
        events.append(Event(path.entry_date, "Entrée en parcours", code, "enrolments", pid, pid))
        for record in story.phases:
            events.append(Event(record.started_on, "Étape", f"{code} — {record.phase.name}",
                                "phase_records", record.id, pid))
        for suspension in story.suspensions:
            events.append(Event(suspension.starts_on, "Suspension",
                                f"{code} — {suspension.reason.label}", "suspensions",
                                suspension.id, pid))
            if suspension.ends_on:
                events.append(Event(suspension.ends_on, "Reprise", code, "suspensions",
                                    suspension.id, pid))
        for internship in story.internships:
            events.append(Event(internship.starts_on, "Stage",
                                f"{internship.company_name} (jusqu'au "
                                f"{internship.ends_on:%d/%m/%Y})", "internships",
                                internship.id, pid))
        for attendance in story.attendances:
            events.append(Event(_day(attendance.workshop.held_at), "Atelier",
                                f"{attendance.workshop.title} — {attendance.attendance.label}",
                                "workshops", attendance.workshop_id, pid))
        for contact in story.contacts:
            staff = f" avec {contact.staff.name}" if contact.staff else ""
            events.append(Event(_day(contact.occurs_at), "Contact",
                                f"{contact.contact_type.label}{staff} — "
                                f"{contact.attendance.label}", "contacts", contact.id, pid))
        for barrier in story.barriers:
            events.append(Event(barrier.identified_on, "Frein repéré", barrier.barrier_type.label,
                                "barriers", barrier.id, pid))
            if barrier.lifted_on:
                events.append(Event(barrier.lifted_on, "Frein levé", barrier.barrier_type.label,
                                    "barriers", barrier.id, pid))
        for obligation in story.done_obligations:
            events.append(Event(_day(obligation.done_at), "Échéance faite", obligation.name,
                                "obligations", obligation.id, pid))
        if path.exit_date:
            exit_label = path.exit_type.label if path.exit_type else "sortie"
            events.append(Event(path.exit_date, "Sortie", f"{code} — {exit_label}",
                                "enrolments", pid, pid))
        if path.follow_up_end_date and path.closed_on:
            events.append(Event(path.follow_up_end_date, "Fin du suivi", code,
                                "enrolments", pid, pid))
    events.sort(key=lambda event: (event.on, event.kind), reverse=True)
    return events


def load_person_record(session: Session, person: Beneficiary,
                       visibility: Visibility = Visibility()) -> PersonRecord:
    """The record of `person` as `visibility` allows (a fixed number of statements)."""
    referrals = []
    if visibility.referrals:
        referrals = list(session.scalars(
            select(Referral).where(Referral.beneficiary_id == person.id)
            .options(joinedload(Referral.programme), joinedload(Referral.commission),
                     joinedload(Referral.decided_by))
            .order_by(Referral.referred_on.desc(), Referral.id.desc())))
    stories = []
    if visibility.paths:
        query = (select(Enrolment).where(Enrolment.beneficiary_id == person.id)
                 .options(joinedload(Enrolment.programme), joinedload(Enrolment.referent),
                          joinedload(Enrolment.current_phase), joinedload(Enrolment.exit_type))
                 .order_by(Enrolment.entry_date.desc(), Enrolment.id.desc()))
        if visibility.paths_where is not None:
            query = query.where(visibility.paths_where)
        paths = list(session.scalars(query))
        stories = load_paths(session, [path.id for path in paths], paths, esf=visibility.esf)
    history = record_history(session, person) if visibility.history else []
    return PersonRecord(person, referrals, stories, timeline(referrals, stories), history)


#: The « Historique » tab shows this many of the record's latest audit entries.
HISTORY_LIMIT = 200


def record_history(session: Session, record) -> list[AuditEntry]:
    """The audit entries of one record (its table and id), the latest first."""
    return list(session.scalars(
        select(AuditEntry)
        .where(AuditEntry.table_name == record.__tablename__, AuditEntry.row_id == record.id)
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(HISTORY_LIMIT)))
