"""What each role has to do today: the figures of the home page (issue 20 §3).

Plain queries on a session (no Flask): the home view (admin/home.py) turns each figure
into a link to the list that shows the same rows. Each function counts exactly the rows
its list filter selects, so a figure and the list it opens never disagree.
"""
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from ..enums import EnrolmentStatus, ReferralStatus
from ..models import (
    Commission,
    Contact,
    Enrolment,
    LoginAttempt,
    Obligation,
    Programme,
    PurchaseOrder,
    Referral,
    User,
    Workshop,
)
from ..models.activity import WITHOUT_SHEET
from .alerts import OPEN_STATUSES, AlertFilters, obligation_where

#: « Mes personnes sans contact depuis N semaines » on a counsellor's home page.
NO_CONTACT_WEEKS = 4
#: « Mes échéances de la semaine »: overdue, or due within this many days.
WEEK_DAYS = 7


# --- the conditions shared with the lists' filters (admin/todo_filters.py) -------------
def without_path():
    """A referral no path was opened from."""
    return ~exists().where(Enrolment.referral_id == Referral.id)


def without_attendance_sheet():
    """A workshop with no line on its attendance sheet: its flag, kept by the database
    (models/sheet_flag.py), in the words of its partial index (ix_workshops_without_sheet:
    the planners use it only when the query says the same)."""
    return WITHOUT_SHEET


def without_contact_since(moment: datetime):
    """A path with no contact from `moment` up to now (planned appointments to come do
    not count: they have not happened yet)."""
    return ~exists().where(Contact.enrolment_id == Enrolment.id, Contact.occurs_at >= moment)


# --- the figures ------------------------------------------------------------------------
@dataclass(frozen=True)
class DeferredGroup:
    """Deferred referrals of one programme and the next commission that can take them."""

    programme_code: str
    count: int
    next_commission_id: int | None
    next_commission_on: date | None


def _count(session: Session, query) -> int:
    return session.scalar(query) or 0


#: A figure that reads rows one by one (« without a path », « without a contact ») counts
#: up to this many and then shows « plus de 100 » (`Todo.shown`); the list it opens
#: gives the exact number. Counted exactly, at a million people, « validées sans
#: parcours » checked 673 806 referrals and « sans contact depuis 4 semaines » 193 571
#: paths on every visit of the home page: 2 to 7 s (docs/benchmarks.md, issue 25 §4).
COUNT_CAP = 100


def _capped(session: Session, rows, cap: int | None = None) -> int:
    """How many rows ``rows`` (a SELECT, its likeliest rows first) gives, up to
    ``cap + 1`` (``COUNT_CAP + 1`` by default)."""
    return _count(session, select(func.count()).select_from(
        rows.limit((COUNT_CAP if cap is None else cap) + 1).subquery()))


def to_decide():
    """A referral the commission still has to decide: pending, or deferred to a later
    commission (001 « Organisation »; issue 20 §7)."""
    return Referral.status.in_((ReferralStatus.PENDING, ReferralStatus.DEFERRED))


def referrals_to_decide(session: Session) -> int:
    """Pending and deferred referrals: the commission's working view."""
    return _count(session, select(func.count()).select_from(Referral).where(to_decide()))


def pending_referrals(session: Session) -> int:
    """Referrals waiting for the commission's decision (001 « Organisation »)."""
    return _count(session, select(func.count()).select_from(Referral)
                  .where(Referral.status == ReferralStatus.PENDING))


def deferred_referrals(session: Session, today: date) -> list[DeferredGroup]:
    """Deferred referrals per programme and per commission they were deferred to (issue
    20 §7); those deferred with no commission named (before it was asked) are counted
    under their programme's next commission."""
    counts = session.execute(
        select(Programme.id, Programme.code, Referral.deferred_to_id, func.count(Referral.id))
        .join(Referral, Referral.programme_id == Programme.id)
        .where(Referral.status == ReferralStatus.DEFERRED)
        .group_by(Programme.id, Programme.code, Referral.deferred_to_id)
        .order_by(Programme.code)
    ).all()
    groups = []
    for programme_id, code, deferred_to_id, count in counts:
        if deferred_to_id is not None:
            target = select(Commission.id, Commission.held_on).where(
                Commission.id == deferred_to_id)
        else:
            target = (select(Commission.id, Commission.held_on)
                      .where(Commission.programme_id == programme_id,
                             Commission.held_on >= today)
                      .order_by(Commission.held_on, Commission.id).limit(1))
        commission = session.execute(target).first()
        groups.append(DeferredGroup(code, count, *(commission or (None, None))))
    return sorted(groups, key=lambda group: (group.programme_code,
                                             group.next_commission_on or date.max))


def upcoming_commissions(session: Session, today: date, limit: int = 5) -> list[tuple]:
    """(id, date, programme code) of the next commissions, today's first."""
    return session.execute(
        select(Commission.id, Commission.held_on, Programme.code)
        .join(Programme, Commission.programme_id == Programme.id)
        .where(Commission.held_on >= today)
        .order_by(Commission.held_on, Commission.id).limit(limit)
    ).all()


def validated_without_path(session: Session) -> int:
    """Validated referrals no path was opened from: people waiting to start."""
    # the most recent first: those are the ones not started yet
    return _capped(session, select(Referral.id)
                   .where(Referral.status == ReferralStatus.VALIDATED, without_path())
                   .order_by(Referral.status, Referral.referred_on.desc()))


def paths_past_planned_end(session: Session, today: date, own: int | None = None) -> int:
    """Open paths (active or suspended) past their planned end (the alerts' rule)."""
    query = (select(func.count()).select_from(Enrolment)
             .where(Enrolment.status.in_(OPEN_STATUSES), Enrolment.planned_end_date < today))
    if own is not None:
        query = query.where(Enrolment.referent_id == own)
    return _count(session, query)


def orders_to_receive(session: Session) -> int:
    """Purchase orders not received yet (their reception starts the clock, 002 I §4)."""
    return _count(session, select(func.count()).select_from(PurchaseOrder)
                  .where(PurchaseOrder.received_on.is_(None)))


def workshops_without_sheet(session: Session, now: datetime) -> int:
    """Workshops already held whose attendance sheet has no line."""
    return _capped(session, select(Workshop.id)
                   .where(Workshop.held_at < now, without_attendance_sheet())
                   .order_by(Workshop.held_at.desc()))


def paths_in_progress(session: Session, own: int | None = None) -> int:
    """Paths « En cours » (of one referent when `own` is given)."""
    query = (select(func.count()).select_from(Enrolment)
             .where(Enrolment.status == EnrolmentStatus.ACTIVE))
    if own is not None:
        query = query.where(Enrolment.referent_id == own)
    return _count(session, query)


def deadlines_this_week(session: Session, now: datetime, own: int | None = None
                        ) -> tuple[int, int]:
    """(overdue, due within a week) open obligations, of one referent's paths if `own`;
    each counted up to `COUNT_CAP` + 1 (the alerts page they open gives the totals)."""
    where = obligation_where(now, AlertFilters(days=WEEK_DAYS, limit=None), own)
    return (_capped(session, select(Obligation.id).where(*where, Obligation.due_at < now)),
            _capped(session, select(Obligation.id).where(*where, Obligation.due_at >= now)))


def paths_without_contact(session: Session, now: datetime, own: int | None = None,
                          weeks: int = NO_CONTACT_WEEKS) -> int:
    """Active paths with no contact in the last `weeks` weeks."""
    query = (select(Enrolment.id)
             .where(Enrolment.status == EnrolmentStatus.ACTIVE,
                    without_contact_since(now - timedelta(weeks=weeks))))
    if own is not None:
        query = query.where(Enrolment.referent_id == own)
    return _capped(session, query)


@dataclass(frozen=True)
class SystemState:
    """What an administrator checks at a glance."""

    engine: str
    active_users: int
    failed_logins_24h: int


def system_state(session: Session, now: datetime) -> SystemState:
    """The database engine, active accounts and failed logins of the last 24 hours."""
    engine = session.get_bind().dialect.name
    active = _count(session, select(func.count()).select_from(User).where(User.active))
    failed = _count(session, select(func.count()).select_from(LoginAttempt)
                    .where(LoginAttempt.succeeded.is_(False),
                           LoginAttempt.at >= now - timedelta(hours=24)))
    return SystemState({"sqlite": "SQLite", "postgresql": "PostgreSQL"}.get(engine, engine),
                       active, failed)
