"""The deadline engine: turns the deadline rules (``deadline_rules``, seeded from
``seeds/deadline_rules.yaml``) and the records into obligation rows (échéances).

One idea runs through it: **an obligation is a function of the current facts.** For a
path, a purchase order, a session or a programme year, the engine computes the set of
obligations owed now (rule, event date, due date, and the date of the fact that fulfils
it, if recorded), then reconciles it with the rows already stored:

- an obligation owed and missing is **created**;
- one whose event moved (a corrected pré-bilan, another reception date) has its event
  and due dates **updated**, keeping what was done;
- one whose fulfilling fact is recorded is **marked done** (``done_at``);
- one no longer owed (the path ended before it fell due, the rule was deactivated, the
  event was erased) is **cancelled** (``cancelled_at``), unless it was done: done rows
  are never cancelled nor deleted.

Running it twice on the same records changes nothing, so every lifecycle action can
call it and ``flask obligations rebuild`` can recompute everything.

Due dates come from ``rules.deadlines.due_at`` with the funder's territory (holidays of
New Caledonia for the DEL, of metropolitan France otherwise). A delay counted in hours
from a timestamp (48 h after a pré-bilan at 10:00) is due at that hour; any other delay
is due **at the end of its due day** (``END_OF_DAY``): « 2 jours ouvrés » leaves the
whole second working day.

How an obligation is fulfilled is said by the rule's ``fulfilled_by``; the facts the
engine knows are in ``FULFILMENT_FACTS`` below. Anything else (« document … »,
« export … ») is a deliverable a user records with « Marquer comme fait » in the alerts
view (``done_at``, optionally ``document_ref``).
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, fields
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from ..enums import DelayUnit, ReferralStatus, RollPolicy
from ..models import (
    Contact,
    ContactType,
    DeadlineRule,
    Enrolment,
    EsfExit,
    ExitType,
    Internship,
    Obligation,
    Phase,
    PhaseRecord,
    Programme,
    ProgrammeSession,
    PurchaseOrder,
    Referral,
)
from ..models.bulk import insert_many
from ..rules.calendar import add_months, last_day_of_months
from ..rules.deadlines import due_at as rule_due_at
from ..rules.deadlines import fixed_cutoffs

#: A delay in days, working days or months is due by the end of its due day.
END_OF_DAY = time(23, 59, 59)

#: Periodic reports (monthly table, interim and annual reports) are materialised this
#: many days before their event, so that they show as « à échéance » in time.
PERIODIC_LOOKAHEAD_DAYS = 31

# Which subject each trigger event belongs to (seeds/deadline_rules.yaml lists them).
ENROLMENT_TRIGGERS = frozenset({
    "referral", "commission_decision", "entry", "prebilan", "phase_start", "phase_end",
    "sixth_month", "exit", "abandon", "durable_job", "mission_end",
})
ORDER_TRIGGERS = frozenset({"order_received"})
SESSION_TRIGGERS = frozenset({"session_end"})
PROGRAMME_TRIGGERS = frozenset({
    "month_end", "cutoff_may_31", "cutoff_sep_30", "action_end", "year_end",
})

#: Obligations about the running path: not owed any more when the path ended (exit
#: date) before they fell due and they were not done. 002 II §5: the intermediate
#: deliverable of a CSP abandoned in month 4 is never due.
STOPS_AT_EXIT = frozenset({"entry", "sixth_month", "phase_start"})

#: Fixed cut-offs (004): trigger → code of ``rules.deadlines.fixed_cutoffs``. Their due
#: dates are the last day of the window the text gives and do not move to a working day.
CUTOFF_OF_TRIGGER = {"cutoff_may_31": "june", "cutoff_sep_30": "october"}

#: Rules a referral owes before (or without) a path: 002 II §3, the pré-bilan within 8
#: days of the orientation; 004 Lots 1-4, the fiche de liaison « entrée / non entrée »
#: within 15 days of it (owed also when the person never enters).
REFERRAL_TRIGGERS = frozenset({"referral", "commission_decision"})

# --- Facts --------------------------------------------------------------------------

@dataclass(frozen=True)
class RuleSpec:
    """A deadline rule as plain values (the engine never writes rules)."""

    id: int
    code: str
    name: str
    trigger: str
    offset: int
    unit: str
    fulfilled_by: str | None
    phase_code: str | None = None  # the phase of a phase_start / phase_end rule
    roll: str = RollPolicy.STAY.value  # a due day that is not worked: forward, back, stay


@dataclass(frozen=True)
class ProgrammeInfo:
    """What the engine needs of a programme: its calendar and its active rules."""

    id: int
    code: str
    territory: str
    rules: tuple[RuleSpec, ...]
    adhesion_months: int | None = None  # CSP: how long an adhesion lasts (002 II §3)

    @property
    def triggers(self) -> frozenset[str]:
        return frozenset(r.trigger for r in self.rules)

    def rules_for(self, triggers: frozenset[str]) -> list[RuleSpec]:
        return [r for r in self.rules if r.trigger in triggers]


def load_programme_info(session: Session, programme_ids: Iterable[int] | None = None
                        ) -> dict[int, ProgrammeInfo]:
    """Programme id → its territory and active rules, in two queries."""
    query = select(Programme).options(joinedload(Programme.funder))
    if programme_ids is not None:
        query = query.where(Programme.id.in_(list(programme_ids)))
    programmes = session.scalars(query).all()
    rules: dict[int, list[RuleSpec]] = defaultdict(list)
    rule_query = select(DeadlineRule).where(DeadlineRule.active.is_(True)).order_by(
        DeadlineRule.id)
    if programme_ids is not None:
        rule_query = rule_query.where(DeadlineRule.programme_id.in_([p.id for p in programmes]))
    for rule in session.scalars(rule_query):
        rules[rule.programme_id].append(RuleSpec(
            rule.id, rule.code, rule.name, rule.trigger_event, rule.offset_value,
            DelayUnit(rule.unit).value, rule.fulfilled_by, rule.phase_code,
            RollPolicy(rule.roll or RollPolicy.STAY).value,
        ))
    return {
        p.id: ProgrammeInfo(p.id, p.code, p.funder.territory.value, tuple(rules[p.id]),
                            p.adhesion_months)
        for p in programmes
    }


def _as_datetime(value: date | datetime | None) -> datetime | None:
    """A date becomes the start of that day; a datetime stays as it is."""
    if value is None or isinstance(value, datetime):
        return value
    return datetime.combine(value, time.min)


def compute_due_at(rule: RuleSpec, event: date | datetime, territory: str, *,
                   offset: int | None = None) -> datetime:
    """When ``rule`` falls due after ``event`` (see the module docstring for the day end)."""
    offset = rule.offset if offset is None else offset
    # 004: « 1ère quinzaine de juin »: a cut-off's window never moves
    roll = RollPolicy.STAY.value if rule.trigger in CUTOFF_OF_TRIGGER else rule.roll
    if rule.unit == DelayUnit.HOURS.value and isinstance(event, datetime):
        return rule_due_at(event, offset, rule.unit, territory, roll=roll)
    day = event.date() if isinstance(event, datetime) else event
    due = rule_due_at(day, offset, rule.unit, territory, roll=roll)
    return datetime.combine(due, END_OF_DAY)


@dataclass
class EnrolmentFacts:
    """A path and the facts read from other tables that its obligations need."""

    enrolment: Enrolment
    first_individual_contact_at: datetime | None = None
    last_mission_ends_on: date | None = None  # PLIE-L3: its latest immersion (004 Lot 3)
    esf_exit_recorded_on: date | None = None  # ESF+ exit data recorded (issue 24)
    # The path's phase records in their order, when read apart (a rebuild); else its own
    phase_records: list[PhaseRecord] | None = None

    def phase_record(self, phase_code: str | None) -> PhaseRecord | None:
        """The first record of the phase ``phase_code`` on this path."""
        records = self.phase_records
        for record in (self.enrolment.phase_records if records is None else records):
            if phase_code is not None and record.phase.code == phase_code:
                return record
        return None

    @property
    def is_abandon(self) -> bool:
        """An exit whose type is a rupture (abandon, 001 « Évaluation »; 002 §4)."""
        e = self.enrolment
        return e.exit_date is not None and e.exit_type is not None and e.exit_type.is_rupture

    @property
    def is_durable_job(self) -> bool:
        """An exit into a durable job (it opens the follow-up in employment, 002 §6)."""
        e = self.enrolment
        if e.exit_date is None:
            return False
        return e.follow_up_end_date is not None or (
            e.exit_type is not None and e.exit_type.is_durable_job)


# fulfilled_by → the fact that fulfils it (None: not recorded yet). Documented in the
# module docstring; a new value here is the one place to teach the engine a new fact.
FULFILMENT_FACTS: dict[str, Callable[[EnrolmentFacts, RuleSpec], date | datetime | None]] = {
    # 002 II §3: the pré-bilan interview took place
    "enrolments.prebilan_at": lambda f, r: f.enrolment.prebilan_at,
    # 002 II §4: « Le prestataire transmet à Pôle emploi une copie du Contrat
    # d'accompagnement signé »: the copy sent, not the signature (« Absent » / « refus
    # d'adhésion » of a non-entry are marked done by hand, with « Marquer comme fait »)
    "enrolments.csp_contract_sent_at": lambda f, r: f.enrolment.csp_contract_sent_at,
    # 002 II §4: the phase ended; 004 Lot 4: the bilan phase ended
    "phase_records.ended_on": lambda f, r: getattr(f.phase_record(r.phase_code), "ended_on",
                                                   None),
    "phase_records.ended_on (phase bilan)": lambda f, r: getattr(
        f.phase_record("bilan"), "ended_on", None),
    # 004 Lot 4: the first individual interview took place (a present, face-to-face contact)
    "contacts (premier entretien individuel)": lambda f, r: f.first_individual_contact_at,
    # issue 24: the ESF+ exit data recorded (within 4 weeks of the exit, docs/esf.md)
    "esf_exits.recorded_on": lambda f, r: f.esf_exit_recorded_on,
}

#: Order-level facts: 002 I §4, the support started (the order's start date or the
#: first entry of one of its paths, whichever comes first).
ORDER_FULFILMENT = frozenset({"purchase_orders.support_start_on"})


def _fulfilled_at(value: date | datetime | None, now: datetime) -> datetime | None:
    """The fact as a timestamp, if it is recorded and not in the future."""
    moment = _as_datetime(value)
    return moment if moment is not None and moment <= now else None


# --- What is owed -------------------------------------------------------------------

@dataclass(frozen=True)
class Owed:
    """An obligation the records call for."""

    rule: RuleSpec
    event_at: datetime
    due_at: datetime
    done_at: datetime | None = None


def _enrolment_event(facts: EnrolmentFacts, rule: RuleSpec, programme: ProgrammeInfo
                     ) -> date | datetime | None:
    """The date (or timestamp) of the event that starts ``rule``'s clock on this path."""
    e = facts.enrolment
    trigger = rule.trigger
    if trigger == "referral":
        return e.referral.referred_on if e.referral is not None else None
    if trigger == "commission_decision":
        return e.referral.decided_on if e.referral is not None else None
    if trigger == "entry":
        return e.entry_date
    if trigger == "prebilan":
        return e.prebilan_at
    if trigger in ("phase_start", "phase_end"):
        record = facts.phase_record(rule.phase_code)
        if record is None:
            return None
        return record.started_on if trigger == "phase_start" else record.ended_on
    if trigger == "sixth_month":
        # 002 II §5: « avant la fin du 6ème mois d'adhésion du bénéficiaire au CSP »: the
        # last day of the 6th month from the adhesion (the entry for an experimental
        # public, who has none), counted like rules.calendar.planned_end_date (15/01 →
        # 14/07; a clamped 31/08 → 28/02)
        return last_day_of_months(e.csp_adhesion_on or e.entry_date, 6)
    if trigger == "mission_end":
        # 004 Lot 3: « Dans les 15 jours suivant la fin de la mission »: the end of the
        # path's latest immersion; a path that leaves without one: its exit
        return facts.last_mission_ends_on or e.exit_date
    if trigger == "abandon":
        return e.exit_date if facts.is_abandon else None
    if trigger == "durable_job":
        return e.exit_date if facts.is_durable_job else None
    if trigger == "exit":
        # The most specific rule wins: a CSP abandon owes the abandon's final report,
        # not also the « end of support » one; a PLIE abandon owes the fiche de sortie.
        if e.exit_date is None:
            return None
        if facts.is_abandon and "abandon" in programme.triggers:
            return None
        if facts.is_durable_job and "durable_job" in programme.triggers:
            return None
        return e.exit_date
    return None


def owed_by_enrolment(facts: EnrolmentFacts, programme: ProgrammeInfo, now: datetime
                      ) -> dict[int, Owed]:
    """rule id → what this path owes now, from its current facts."""
    e = facts.enrolment
    owed: dict[int, Owed] = {}
    for rule in programme.rules_for(ENROLMENT_TRIGGERS):
        event = _enrolment_event(facts, rule, programme)
        if event is None:
            continue
        offset = None
        if rule.trigger == "phase_start":
            # 002 II §4: « 4 semaines (ou 8 semaines par dérogation) », the derogation
            # length is the phase's (programmes.yaml, derogation_max_days)
            record = facts.phase_record(rule.phase_code)
            if record.derogation and record.phase.derogation_max_days:
                offset = record.phase.derogation_max_days
        due = compute_due_at(rule, event, programme.territory, offset=offset)
        fact = FULFILMENT_FACTS.get(rule.fulfilled_by or "")
        done = _fulfilled_at(fact(facts, rule), now) if fact else None
        if done is None and rule.trigger in STOPS_AT_EXIT and e.exit_date is not None \
                and e.exit_date < due.date():
            continue
        owed[rule.id] = Owed(rule, _as_datetime(event), due, done)
    return owed


# --- Reconciliation -----------------------------------------------------------------

@dataclass
class SyncResult:
    """What a synchronisation did, one count per obligation row."""

    created: int = 0
    updated: int = 0  # event or due date moved, renamed, or reinstated
    fulfilled: int = 0  # done_at set from the fact that fulfils it
    cancelled: int = 0
    unchanged: int = 0
    obligations: list[Obligation] = field(default_factory=list, repr=False)

    def __iadd__(self, other: SyncResult) -> SyncResult:
        for f in fields(self):
            if f.name != "obligations":
                setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))
        self.obligations.extend(other.obligations)
        return self

    def counts(self) -> dict[str, int]:
        """{"created": …, "updated": …, "fulfilled": …, "cancelled": …, "unchanged": …}"""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "obligations"}

    @property
    def changed(self) -> int:
        """Rows created, updated, fulfilled or cancelled."""
        return self.created + self.updated + self.fulfilled + self.cancelled


def _reconcile(session: Session, owed: dict, existing: list[Obligation], subject: dict,
               now: datetime, result: SyncResult, key: Callable[[Obligation], object],
               new_rows: list[dict] | None = None) -> None:
    """Create, update, fulfil or cancel ``existing`` rows to match ``owed`` (same keys).

    With ``new_rows`` (a full rebuild from the command line), a row to create is added
    there as plain values for one bulk insert, without an object in the session."""
    seen: dict = {}
    for row in existing:
        k = key(row)
        if k in owed and k not in seen:
            seen[k] = row
            continue
        # No longer owed (or a duplicate): cancel unless done.
        if row.done_at is None and row.cancelled_at is None:
            row.cancelled_at = now
            result.cancelled += 1
        else:
            result.unchanged += 1
    for k, item in owed.items():
        row = seen.get(k)
        if row is None and new_rows is not None:
            new_rows.append({"rule_id": item.rule.id, "name": item.rule.name,
                             "event_at": item.event_at, "due_at": item.due_at,
                             "done_at": item.done_at, "version": 1, **subject})
            result.created += 1
            continue
        if row is None:
            row = Obligation(rule_id=item.rule.id, name=item.rule.name, event_at=item.event_at,
                             due_at=item.due_at, done_at=item.done_at, **subject)
            session.add(row)
            result.created += 1
            result.obligations.append(row)
            continue
        result.obligations.append(row)
        moved = False
        if row.cancelled_at is not None and row.cancel_reason is None:
            # Owed again after an engine cancel; a row closed by hand with a reason
            # (close_stale) stays closed.
            row.cancelled_at = None
            moved = True
        if row.event_at != item.event_at or row.due_at != item.due_at:
            row.event_at, row.due_at = item.event_at, item.due_at
            moved = True
        if row.name != item.rule.name:
            row.name = item.rule.name
            moved = True
        for column, value in subject.items():
            if getattr(row, column) != value:
                setattr(row, column, value)
                moved = True
        done = item.done_at is not None and row.done_at != item.done_at
        if done:
            row.done_at = item.done_at
        if moved:
            result.updated += 1
        elif done:
            result.fulfilled += 1
        else:
            result.unchanged += 1


def _first_individual_contacts(session: Session, enrolment_ids: list[int]
                               ) -> dict[int, datetime]:
    """enrolment id → first present, face-to-face individual contact (004 Lot 4)."""
    if not enrolment_ids:
        return {}
    rows = session.execute(
        select(Contact.enrolment_id, func.min(Contact.occurs_at))
        .join(ContactType, Contact.contact_type_id == ContactType.id)
        .where(Contact.enrolment_id.in_(enrolment_ids), Contact.attendance == "present",
               ContactType.is_group.is_(False), ContactType.is_remote.is_(False))
        .group_by(Contact.enrolment_id)
    ).all()
    return {enrolment_id: first for enrolment_id, first in rows}


def _last_mission_ends(session: Session, enrolment_ids: list[int]) -> dict[int, date]:
    """enrolment id → end of its latest immersion or internship (004 Lot 3 « mission »)."""
    if not enrolment_ids:
        return {}
    return dict(session.execute(
        select(Internship.enrolment_id, func.max(Internship.ends_on))
        .where(Internship.enrolment_id.in_(enrolment_ids))
        .group_by(Internship.enrolment_id)
    ).all())


def _esf_exits_recorded(session: Session, enrolment_ids: list[int]) -> dict[int, date]:
    """enrolment id → the day its ESF+ exit data were recorded (issue 24)."""
    if not enrolment_ids:
        return {}
    return dict(session.execute(
        select(EsfExit.enrolment_id, EsfExit.recorded_on)
        .where(EsfExit.enrolment_id.in_(enrolment_ids), EsfExit.recorded_on.is_not(None))
    ).all())


def _engine_rows(session: Session, *where) -> list[Obligation]:
    return list(session.scalars(
        select(Obligation).where(Obligation.rule_id.is_not(None), *where).order_by(Obligation.id)
    ))


def _sync_enrolments(session: Session, enrolments: list[Enrolment],
                     programmes: dict[int, ProgrammeInfo], now: datetime,
                     new_rows: list[dict] | None = None,
                     phase_records: dict[int, list[PhaseRecord]] | None = None) -> SyncResult:
    """Reconcile the obligations of several paths (three queries, whatever their number).

    A path adopts the rows its referral owed before it started (same rule: the pré-bilan
    or fiche de liaison already marked done stays done, and is not owed twice).
    """
    result = SyncResult()
    ids = [e.id for e in enrolments]
    contacts = _first_individual_contacts(session, ids)
    missions = _last_mission_ends(session, ids)
    esf_exits = _esf_exits_recorded(session, ids)
    existing: dict[int, list[Obligation]] = defaultdict(list)
    if ids:
        for row in _engine_rows(session, Obligation.enrolment_id.in_(ids)):
            existing[row.enrolment_id].append(row)
    path_of_referral = {e.referral_id: e.id for e in enrolments if e.referral_id is not None}
    if path_of_referral:
        for row in _engine_rows(session, Obligation.enrolment_id.is_(None),
                                Obligation.referral_id.in_(list(path_of_referral))):
            existing[path_of_referral[row.referral_id]].insert(0, row)
    for enrolment in enrolments:
        programme = programmes.get(enrolment.programme_id)
        if programme is None:
            programme = load_programme_info(session, [enrolment.programme_id])[
                enrolment.programme_id]
            programmes[programme.id] = programme
        facts = EnrolmentFacts(enrolment, contacts.get(enrolment.id), missions.get(enrolment.id),
                               esf_exits.get(enrolment.id),
                               None if phase_records is None
                               else phase_records.get(enrolment.id, []))
        owed = owed_by_enrolment(facts, programme, now)
        subject = {"enrolment_id": enrolment.id, "programme_id": enrolment.programme_id,
                   "referral_id": enrolment.referral_id}
        _reconcile(session, owed, existing[enrolment.id], subject, now, result,
                   key=lambda row: row.rule_id, new_rows=new_rows)
    return result


# --- Referrals without a path (002 II §3, 004 Lots 1-4) --------------------------------

#: An orientation refused or withdrawn asks nothing more of the provider.
REFERRAL_ENDED = frozenset({ReferralStatus.REJECTED, ReferralStatus.WITHDRAWN})


def owed_by_referral(referral: Referral, programme: ProgrammeInfo) -> dict[int, Owed]:
    """rule id → what an orientation without a path owes now.

    Pending, validated or deferred: every rule counted from the orientation or the
    commission's decision. Not entered (« non-entrée »): only the deliverables recorded by
    hand (004: the fiche de liaison says « non entrée »); a fact of the path (pré-bilan
    held, first interview) can no longer happen. Refused or withdrawn: nothing.
    """
    if referral.status in REFERRAL_ENDED:
        return {}
    owed: dict[int, Owed] = {}
    if referral.status is ReferralStatus.NOT_ENTERED and referral.decided_on is not None:
        # 002 II §4: an « Absent » or a « refus d'adhésion » at the pré-bilan (recorded as a
        # non-entry, that day) returns the contract to France Travail within the same
        # 48 heures as a signed copy; marked done by hand
        for rule in programme.rules_for(frozenset({"prebilan"})):
            owed[rule.id] = Owed(rule, _as_datetime(referral.decided_on),
                                 compute_due_at(rule, referral.decided_on, programme.territory))
    for rule in programme.rules_for(REFERRAL_TRIGGERS):
        if referral.status is ReferralStatus.NOT_ENTERED and \
                (rule.fulfilled_by or "") in FULFILMENT_FACTS:
            continue
        event = referral.referred_on if rule.trigger == "referral" else referral.decided_on
        if event is None:
            continue
        owed[rule.id] = Owed(rule, _as_datetime(event),
                             compute_due_at(rule, event, programme.territory))
    return owed


def sync_referral_obligations(session: Session, referrals: list[Referral], now: datetime,
                              programmes: dict[int, ProgrammeInfo] | None = None,
                              new_rows: list[dict] | None = None) -> SyncResult:
    """Reconcile the obligations of orientations that have no path (yet): two queries.
    An orientation with a path is skipped: its path owns those rows. Flushes."""
    programmes = programmes if programmes is not None else {}
    result = SyncResult()
    ids = [r.id for r in referrals]
    if not ids:
        return result
    with_path = set(session.scalars(
        select(Enrolment.referral_id).where(Enrolment.referral_id.in_(ids))))
    existing: dict[int, list[Obligation]] = defaultdict(list)
    for row in _engine_rows(session, Obligation.enrolment_id.is_(None),
                            Obligation.referral_id.in_(ids)):
        existing[row.referral_id].append(row)
    missing = {r.programme_id for r in referrals} - set(programmes)
    if missing:
        programmes.update(load_programme_info(session, missing))
    for referral in referrals:
        if referral.id in with_path:
            continue
        owed = owed_by_referral(referral, programmes[referral.programme_id])
        subject = {"referral_id": referral.id, "programme_id": referral.programme_id}
        _reconcile(session, owed, existing[referral.id], subject, now, result,
                   key=lambda row: row.rule_id, new_rows=new_rows)
    session.flush()
    return result


def sync_enrolment_obligations(session: Session, enrolment: Enrolment, now: datetime
                               ) -> SyncResult:
    """Bring the obligations of one path in line with its current facts (and those of its
    purchase order, whose start the path's entry may fulfil). Flushes; does not commit."""
    session.flush()
    result = _sync_enrolments(session, [enrolment], {}, now)
    if enrolment.purchase_order is not None:
        result += sync_order_obligations(session, enrolment.purchase_order, now)
    session.flush()
    return result


# --- Purchase orders (002 I §4) -------------------------------------------------------

def _orders_started(session: Session, orders: list[PurchaseOrder]) -> dict[int, date]:
    """order id → when its support started: its start date or its first path's entry."""
    first_entries = dict(session.execute(
        select(Enrolment.purchase_order_id, func.min(Enrolment.entry_date))
        .where(Enrolment.purchase_order_id.in_([o.id for o in orders]))
        .group_by(Enrolment.purchase_order_id)).all())
    started = {}
    for order in orders:
        starts = [d for d in (order.support_start_on, first_entries.get(order.id))
                  if d is not None]
        if starts:
            started[order.id] = min(starts)
    return started


def sync_order_obligations(session: Session, order: PurchaseOrder, now: datetime,
                           programmes: dict[int, ProgrammeInfo] | None = None) -> SyncResult:
    """The obligations a purchase order owes once received (ARJLJ: start within 2 working
    days, 002 I §4). Flushes; does not commit."""
    return sync_orders_obligations(session, [order], now, programmes)


def sync_orders_obligations(session: Session, orders: list[PurchaseOrder], now: datetime,
                            programmes: dict[int, ProgrammeInfo] | None = None,
                            new_rows: list[dict] | None = None) -> SyncResult:
    """``sync_order_obligations`` for several orders at once (three queries)."""
    programmes = programmes if programmes is not None else {}
    result = SyncResult()
    if not orders:
        return result
    missing = {o.programme_id for o in orders} - set(programmes)
    if missing:
        programmes.update(load_programme_info(session, missing))
    started = _orders_started(session, orders)
    existing: dict[int, list[Obligation]] = defaultdict(list)
    for row in _engine_rows(session, Obligation.purchase_order_id.in_([o.id for o in orders]),
                            Obligation.enrolment_id.is_(None)):
        existing[row.purchase_order_id].append(row)
    for order in orders:
        programme = programmes[order.programme_id]
        received = order.received_at or order.received_on
        owed: dict[int, Owed] = {}
        if received is not None:
            for rule in programme.rules_for(ORDER_TRIGGERS):
                done = None
                if (rule.fulfilled_by or "") in ORDER_FULFILMENT:
                    done = _fulfilled_at(started.get(order.id), now)
                owed[rule.id] = Owed(rule, _as_datetime(received),
                                     compute_due_at(rule, received, programme.territory), done)
        _reconcile(session, owed, existing[order.id],
                   {"purchase_order_id": order.id, "programme_id": order.programme_id},
                   now, result, key=lambda row: row.rule_id, new_rows=new_rows)
    session.flush()
    return result


# --- Sessions (001 « Évaluation ») ----------------------------------------------------

def sync_session_obligations(session: Session, programme_session: ProgrammeSession,
                             now: datetime,
                             programmes: dict[int, ProgrammeInfo] | None = None) -> SyncResult:
    """The end-of-path report due 1 month after the session ends (001 « Évaluation »)."""
    programmes = programmes if programmes is not None else {}
    pid = programme_session.programme_id
    programme = programmes.get(pid) or load_programme_info(session, [pid])[pid]
    owed: dict[int, Owed] = {}
    if programme_session.ends_on is not None:
        for rule in programme.rules_for(SESSION_TRIGGERS):
            owed[rule.id] = Owed(rule, _as_datetime(programme_session.ends_on),
                                 compute_due_at(rule, programme_session.ends_on,
                                                programme.territory))
    existing = _engine_rows(session, Obligation.session_id == programme_session.id,
                            Obligation.enrolment_id.is_(None))
    result = SyncResult()
    _reconcile(session, owed, existing,
               {"session_id": programme_session.id, "programme_id": pid},
               now, result, key=lambda row: row.rule_id)
    session.flush()
    return result


# --- Programme reports (002 §9, 004, 001) ---------------------------------------------

@dataclass(frozen=True)
class ActivitySpan:
    """From the first entry to the last exit of a programme's paths (or ``now`` plus the
    look-ahead while a path is open): the periods that owe a report."""

    first: date
    last: date


def activity_spans(session: Session, now: datetime) -> dict[int, ActivitySpan]:
    """programme id → its activity span, in one aggregate query."""
    rows = session.execute(
        select(
            Enrolment.programme_id,
            func.min(Enrolment.entry_date),
            func.max(func.coalesce(Enrolment.closed_on, Enrolment.exit_date, Enrolment.entry_date)),
            func.count(Enrolment.id).filter(Enrolment.closed_on.is_(None)),
        ).group_by(Enrolment.programme_id)
    ).all()
    horizon = now.date() + timedelta(days=PERIODIC_LOOKAHEAD_DAYS)
    return {
        pid: ActivitySpan(first, max(last, horizon) if still_open else last)
        for pid, first, last, still_open in rows
    }


def _periodic_events(rule: RuleSpec, year: int) -> list[date]:
    """The events of ``rule`` in ``year``: month ends, cut-offs, the action's or year's end."""
    if rule.trigger == "month_end":
        return [add_months(date(year, month, 1), 1) - timedelta(days=1) for month in range(1, 13)]
    if rule.trigger in CUTOFF_OF_TRIGGER:
        code = CUTOFF_OF_TRIGGER[rule.trigger]
        return [c.figures_at for c in fixed_cutoffs(year) if c.code == code]
    if rule.trigger in ("action_end", "year_end"):
        # 004 §4: the PLIE actions run over the calendar year; 001: annual report
        return [date(year, 12, 31)]
    return []


def sync_programme_obligations(session: Session, programme: Programme, year: int,
                               now: datetime, *, span: ActivitySpan | None = None,
                               programmes: dict[int, ProgrammeInfo] | None = None
                               ) -> SyncResult:
    """The programme's periodic reports of ``year`` whose event falls in its activity span:
    CSP monthly table (5th working day of the next month, 002 §9), PLIE interim reports
    (31 May → June, 30 September → October) and final report (a month after the action's
    end, 004), DEL annual report (001)."""
    programmes = programmes if programmes is not None else {}
    info = programmes.get(programme.id) or load_programme_info(session, [programme.id])[
        programme.id]
    if span is None:
        span = activity_spans(session, now).get(programme.id)
    owed: dict[tuple[int, date], Owed] = {}
    for rule in info.rules_for(PROGRAMME_TRIGGERS):
        for event in _periodic_events(rule, year):
            if span is None or not span.first <= event <= span.last:
                continue
            owed[(rule.id, event)] = Owed(rule, _as_datetime(event),
                                          compute_due_at(rule, event, info.territory))
    start, end = datetime(year, 1, 1), datetime(year, 12, 31, 23, 59, 59)
    existing = _engine_rows(
        session, Obligation.programme_id == programme.id, Obligation.enrolment_id.is_(None),
        Obligation.purchase_order_id.is_(None), Obligation.session_id.is_(None),
        Obligation.referral_id.is_(None),  # an orientation's rows are not reports
        Obligation.event_at >= start, Obligation.event_at <= end,
    )
    result = SyncResult()
    _reconcile(session, owed, existing, {"programme_id": programme.id}, now, result,
               key=lambda row: (row.rule_id, row.event_at.date()))
    session.flush()
    return result


# --- Everything -----------------------------------------------------------------------

@dataclass
class RebuildReport:
    """The differences a rebuild made, per kind of subject and in total."""

    by_subject: dict[str, SyncResult] = field(default_factory=dict)

    @property
    def total(self) -> SyncResult:
        total = SyncResult()
        for part in self.by_subject.values():
            total += part
        return total


#: What a row ``_reconcile`` collects may hold: its subject is one of the last five.
_NEW_ROW_KEYS = ("rule_id", "name", "event_at", "due_at", "done_at", "version",
                 "enrolment_id", "referral_id", "purchase_order_id", "session_id",
                 "programme_id")


def _insert_rows(session: Session, rows: list[dict] | None) -> None:
    """The obligations ``_reconcile`` collected, written at once below the ORM (no ORM
    bookkeeping: the engine's rows are not audited, see obligation_sync.engine_writes):
    one ``COPY`` on PostgreSQL, where an insert per row took 38 s of the server's time
    for the 2 million deadlines of a million people (`models.bulk.insert_many`)."""
    if rows:
        insert_many(session, Obligation.__table__,
                    [{key: row.get(key) for key in _NEW_ROW_KEYS} for row in rows])


def rebuild(session: Session, now: datetime, *, batch_size: int = 2000,
            release_memory: bool = False) -> RebuildReport:
    """Recompute every obligation from the records (idempotent). Flushes; the caller
    commits. ``release_memory`` (command line) empties the session after each batch and
    writes the rows to create by one bulk insert per batch, keeping no object of them: a
    first rebuild of a million people's records (``flask seed demo``) creates them all."""
    report = RebuildReport()
    programmes = load_programme_info(session)

    paths = SyncResult()
    ids = session.scalars(select(Enrolment.id).order_by(Enrolment.id)).all()
    for start in range(0, len(ids), batch_size):
        chunk = ids[start:start + batch_size]
        # The phases and exit types (a few rows) held in the session: each path's link
        # to them is then found there, with no join per row; the phase records read
        # apart, not as each path's collection (half the rebuild's time at 100 000 paths)
        lookups = [*session.scalars(select(Phase)), *session.scalars(select(ExitType))]
        enrolments = session.scalars(
            select(Enrolment).where(Enrolment.id.in_(chunk))
            .options(joinedload(Enrolment.referral))).unique().all()
        records: dict[int, list[PhaseRecord]] = defaultdict(list)
        for record in session.scalars(
                select(PhaseRecord).where(PhaseRecord.enrolment_id.in_(chunk))
                .order_by(PhaseRecord.enrolment_id, PhaseRecord.started_on, PhaseRecord.id)):
            records[record.enrolment_id].append(record)
        # Paths of programmes without rules still get their stale rows cancelled.
        new_rows: list[dict] | None = [] if release_memory else None
        paths += _sync_enrolments(session, list(enrolments), programmes, now, new_rows,
                                  records)
        _insert_rows(session, new_rows)
        session.flush()
        if release_memory:
            paths.obligations.clear()
            lookups.clear()
            session.expunge_all()
    report.by_subject["parcours"] = paths

    referrals = SyncResult()
    without_path = session.scalars(
        select(Referral.id).where(~select(Enrolment.id).where(
            Enrolment.referral_id == Referral.id).exists()).order_by(Referral.id)).all()
    for start in range(0, len(without_path), batch_size):
        chunk = session.scalars(select(Referral).where(
            Referral.id.in_(without_path[start:start + batch_size]))).all()
        new_rows = [] if release_memory else None
        referrals += sync_referral_obligations(session, list(chunk), now, programmes,
                                               new_rows)
        _insert_rows(session, new_rows)
        if release_memory:
            referrals.obligations.clear()
            session.expunge_all()
    report.by_subject["orientations sans parcours"] = referrals

    orders = SyncResult()
    order_ids = session.scalars(select(PurchaseOrder.id).order_by(PurchaseOrder.id)).all()
    for start in range(0, len(order_ids), batch_size):
        chunk = session.scalars(select(PurchaseOrder).where(
            PurchaseOrder.id.in_(order_ids[start:start + batch_size]))
            .order_by(PurchaseOrder.id)).all()
        new_rows = [] if release_memory else None
        orders += sync_orders_obligations(session, list(chunk), now, programmes, new_rows)
        _insert_rows(session, new_rows)
        if release_memory:
            orders.obligations.clear()
            session.expunge_all()
    report.by_subject["bons de commande"] = orders

    sessions = SyncResult()
    for programme_session in session.scalars(
            select(ProgrammeSession).order_by(ProgrammeSession.id)):
        sessions += sync_session_obligations(session, programme_session, now, programmes)
    report.by_subject["sessions"] = sessions

    reports = SyncResult()
    spans = activity_spans(session, now)
    stored_years = dict(session.execute(
        select(Obligation.programme_id, func.min(Obligation.event_at))
        .where(Obligation.rule_id.is_not(None), Obligation.enrolment_id.is_(None),
               Obligation.purchase_order_id.is_(None), Obligation.session_id.is_(None),
               Obligation.referral_id.is_(None))
        .group_by(Obligation.programme_id)
    ).all())
    for programme in session.scalars(select(Programme).order_by(Programme.id)):
        span = spans.get(programme.id)
        years: set[int] = set()
        if span is not None:
            years.update(range(span.first.year, span.last.year + 1))
        if stored_years.get(programme.id) is not None:  # stale rows to cancel
            years.update(range(stored_years[programme.id].year, now.year + 2))
        for year in sorted(years):
            reports += sync_programme_obligations(session, programme, year, now, span=span,
                                                  programmes=programmes)
    report.by_subject["rapports du dispositif"] = reports
    session.flush()
    return report


__all__ = [
    "END_OF_DAY", "FULFILMENT_FACTS", "REFERRAL_TRIGGERS", "EnrolmentFacts", "MarkDoneRefused",
    "Owed", "is_late", "late_reason", "mark_done", "mark_many_done",
    "ProgrammeInfo", "RebuildReport", "RuleSpec", "SyncResult", "activity_spans",
    "compute_due_at", "load_programme_info", "owed_by_enrolment", "rebuild",
    "owed_by_referral", "sync_enrolment_obligations", "sync_order_obligations",
    "sync_orders_obligations",
    "sync_programme_obligations", "sync_referral_obligations", "sync_session_obligations",
]


# --- « Marquer comme fait » -------------------------------------------------------------

class MarkDoneRefused(ValueError):
    """A refused « Marquer comme fait »; the message is French and shown as it is."""


#: The longest reason for lateness kept (the column's size).
LATE_REASON_MAX = 200


def late_reason(reason: str | None) -> str | None:
    """The « Motif du retard » typed, spaces tidied (None when empty); MarkDoneRefused
    naming the field when longer than the column keeps (nothing is cut silently)."""
    reason = " ".join((reason or "").split())
    if len(reason) > LATE_REASON_MAX:
        raise MarkDoneRefused(f"Motif du retard : {LATE_REASON_MAX} caractères au plus "
                              f"({len(reason)} saisis).")
    return reason or None


def mark_done(obligation: Obligation, done_on: date, today: date,
              document_ref: str | None = None, reason: str | None = None) -> Obligation:
    """Record that the deliverable was sent on ``done_on`` (with its reference, if any).

    ``reason``: why it was late (issue 22 §4, « Motif du retard », optional); kept only
    when the obligation is done after its due moment (the ledger's « en retard »): an
    obligation done in time has no lateness to explain. Refused for a cancelled
    obligation, one already done, a date in the future and a reason too long.
    """
    if obligation.cancelled_at is not None:
        raise MarkDoneRefused(
            f"« {obligation.name} » : cette échéance est annulée "
            f"(le {obligation.cancelled_at:%d/%m/%Y}), elle n'est plus due.")
    if obligation.done_at is not None:
        raise MarkDoneRefused(
            f"« {obligation.name} » : déjà faite le {obligation.done_at:%d/%m/%Y}.")
    if done_on > today:
        raise MarkDoneRefused(
            f"Date de réalisation : le {done_on:%d/%m/%Y} est dans le futur "
            f"(aujourd'hui : {today:%d/%m/%Y}).")
    reason = late_reason(reason)
    obligation.done_at = datetime.combine(done_on, time.min)
    reference = (document_ref or "").strip()
    if reference:
        obligation.document_ref = reference[:200]
    if reason and is_late(obligation):
        obligation.late_reason = reason
    return obligation


def is_late(obligation: Obligation) -> bool:
    """Done after its due moment (the compliance ledger's « en retard », issue 22 §4)."""
    return obligation.done_at is not None and obligation.done_at > obligation.due_at


# --- « Clore » a closed path's leftovers ------------------------------------------------

#: The longest reason kept (the column's size).
CLOSE_REASON_MAX = 200


class CloseRefused(ValueError):
    """A refused bulk close; the message is French and shown as it is."""


def close_stale(obligations: list[Obligation], reason: str | None, now: datetime
                ) -> list[Obligation]:
    """Close, with ``reason``, deadlines a closed path left undone (issue 20 §4): they are
    no longer owed to anyone, and say why. ``obligations`` are the closed paths' ones
    (the caller chose them); all are closed or none (a done or cancelled one refuses all).
    """
    reason = " ".join((reason or "").split())
    if not reason:
        raise CloseRefused("Motif : obligatoire pour clore des échéances (par exemple "
                           "« parcours clôturé, livrable plus dû »).")
    if len(reason) > CLOSE_REASON_MAX:
        raise CloseRefused(f"Motif : {CLOSE_REASON_MAX} caractères au plus "
                           f"({len(reason)} saisis).")
    if not obligations:
        raise CloseRefused("Aucune échéance sélectionnée.")
    settled = [row for row in obligations
               if row.done_at is not None or row.cancelled_at is not None]
    if settled:
        names = ", ".join(f"« {row.name} »" for row in settled[:5])
        raise CloseRefused(f"Déjà faites ou annulées entre-temps : {names} ; "
                           "rien n'a été clos, rechargez la page.")
    for row in obligations:
        row.cancelled_at = now
        row.cancel_reason = reason
    return obligations


def mark_many_done(obligations: list[Obligation], done_on: date, today: date,
                   reason: str | None = None) -> list[Obligation]:
    """« Marquer comme fait » on each of ``obligations`` (issue 20 §4, in bulk): all or
    none — the first refusal (cancelled, already done, future date) refuses them all.
    ``reason`` (« Motif du retard ») is kept on those done late only (:func:`mark_done`)."""
    if not obligations:
        raise MarkDoneRefused("Aucune échéance sélectionnée.")
    for row in obligations:
        mark_done(row, done_on, today, reason=reason)
    return obligations
