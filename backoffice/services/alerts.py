"""The alerts list: open obligations overdue or due soon, and the behavioural alerts of
``rules/alerts.py``, read with SQL aggregates (never a Python loop over the whole base).

Shared by the alerts view (``/admin/alerts/``), the menu badge (``overdue_count``) and
the daily digest (``flask alerts``), so the three show the same list.

A page (``AlertFilters.limit`` set) reads each behavioural kind in an index's order and
stops one past the home page's cap (``worklist.COUNT_CAP``): it shows a kind's first 100
and « plus de 100 »; its deadline counts stop there too. The digest (no limit) reads,
counts and lists everything (issue 25 §4: the coordinator's page took 15 s at a million
people, every open path read for every kind).

Obligations are read through ``ix_obligations_open_due``, a partial index on (due_at, id)
of the open obligations (« done_at IS NULL AND cancelled_at IS NULL », written so in the
queries that should use it), in the list's order. A counsellor sees the obligations and
alerts of the paths they are referent of (domain.md « Users and roles »); coordinators
and admins see all.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from itertools import islice

from sqlalchemy import (
    Integer,
    Select,
    String,
    TypeDecorator,
    and_,
    bindparam,
    case,
    exists,
    func,
    literal,
    or_,
    select,
    type_coerce,
    union_all,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.selectable import Join

from ..auth.permissions import can, is_restricted_to_own_paths
from ..enums import Attendance, EnrolmentStatus
from ..indicators.scope import days_between
from ..models import (
    Beneficiary,
    Contact,
    ContactType,
    DeadlineRule,
    Enrolment,
    Internship,
    Obligation,
    Phase,
    PhaseRecord,
    Programme,
    ProgrammeSession,
    PurchaseOrder,
    Referral,
    Suspension,
    User,
    Workshop,
    WorkshopAttendance,
    display_name,
)
from ..rules import alerts as rules
from ..rules.alerts import AlertKind
from ..rules.wording import number

AREA = "alerts"
DEFAULT_DAYS = 7
MAX_DAYS = 366
#: Rows shown at most in the view (the digest shows all and counts exactly). A page's
#: counts stop past ``worklist.COUNT_CAP`` and say « plus de 100 » (issue 25 §4).
DEFAULT_LIMIT = 200
#: Paths examined at a time by the kinds whose rule runs in Python: a page stops reading
#: once it has found enough alerts of the kind (see ``kind_cap``).
CHUNK = 1000
#: Workshops examined for group size: held in the last 30 days or within the horizon.
WORKSHOP_LOOKBACK_DAYS = 30
#: 002 §4: the phase where one contact a week on average is owed (programmes.yaml).
CSP_INTENSIVE_PHASE = "phase_2"

OVERDUE, DUE_SOON = "overdue", "due_soon"
OBLIGATION_KINDS = {OVERDUE: "Échéance dépassée", DUE_SOON: "Échéance proche"}
OPEN_STATUSES = (EnrolmentStatus.ACTIVE, EnrolmentStatus.SUSPENDED)
#: Every status but « Clôturé »: the paths whose deadlines are to act on (issue 20 §4).
NOT_CLOSED = tuple(s for s in EnrolmentStatus if s is not EnrolmentStatus.CLOSED)

#: Issue 20 §4: the list opens on what a user can act on — obligations of paths still
#: open (every status but « Clôturé ») and those of no path (orders, sessions, referrals
#: waiting for their path), late or due within the horizon. The deadlines a closed path
#: left undone are collected apart (« Échéances de parcours clôturés »), whatever their
#: due date, for a coordinator to close them in bulk with a reason.
ACTIONABLE, CLOSED_PATHS = "actionable", "closed_paths"
SCOPES = {ACTIONABLE: "À traiter", CLOSED_PATHS: "Échéances de parcours clôturés"}


def kind_choices() -> list[tuple[str, str]]:
    """(value, French label) of every kind the filter offers."""
    return list(OBLIGATION_KINDS.items()) + AlertKind.choices()


class AlertsForbidden(PermissionError):
    """The user's role may not see alerts."""


def own_referent_id(user) -> int | None:
    """None when ``user`` sees every alert, their id when only their own paths'.

    Raises AlertsForbidden when the role may not read alerts (commission, viewer).
    """
    if user is None or not can(getattr(user, "role", None), AREA, "read"):
        raise AlertsForbidden("Alertes : votre rôle ne permet pas de les consulter.")
    return user.id if is_restricted_to_own_paths(user.role, AREA) else None


@dataclass(frozen=True)
class AlertFilters:
    """What the view's form and the command's options choose."""

    days: int = DEFAULT_DAYS
    programme_id: int | None = None
    referent_id: int | None = None
    kind: str | None = None
    limit: int | None = DEFAULT_LIMIT
    scope: str = ACTIONABLE

    def wants(self, kind: str) -> bool:
        return self.kind in (None, "", kind)


@dataclass(frozen=True)
class ObligationRow:
    """One open obligation, with what the list shows about it."""

    id: int
    name: str
    due_at: datetime
    event_at: datetime | None
    overdue: bool
    source: str | None
    programme_id: int | None
    programme_code: str | None
    enrolment_id: int | None
    beneficiary: str | None
    referent_id: int | None
    referent_name: str | None
    purchase_order_id: int | None
    purchase_order_number: str | None
    session_id: int | None
    session_label: str | None
    referral_id: int | None = None
    beneficiary_id: int | None = None
    #: the deadline rule's code: which document fulfils it (issue 21 §3)
    rule_code: str | None = None

    @property
    def kind(self) -> str:
        return OVERDUE if self.overdue else DUE_SOON

    @property
    def kind_label(self) -> str:
        return OBLIGATION_KINDS[self.kind]

    @property
    def subject(self) -> str:
        """What the obligation is about, in French."""
        if self.enrolment_id is not None:
            return f"Parcours n° {self.enrolment_id} — {self.beneficiary or ''}".strip(" —")
        if self.referral_id is not None:
            return f"Orientation n° {self.referral_id} — {self.beneficiary or ''}".strip(" —")
        if self.purchase_order_id is not None:
            return f"Bon de commande {self.purchase_order_number}"
        if self.session_id is not None:
            return f"Session « {self.session_label} »"
        return f"Dispositif {self.programme_code or ''}".strip()

    def days_from(self, now: datetime) -> int:
        """Days late (positive) or days left (negative or zero), by calendar day."""
        return (now.date() - self.due_at.date()).days


@dataclass(frozen=True)
class AlertItem:
    """A behavioural alert with the names the list shows."""

    alert: rules.Alert
    programme_code: str | None = None
    beneficiary: str | None = None
    referent_name: str | None = None

    kind = property(lambda self: self.alert.kind.value)
    kind_label = property(lambda self: self.alert.kind.label)
    message = property(lambda self: self.alert.message)
    source = property(lambda self: self.alert.source)
    enrolment_id = property(lambda self: self.alert.enrolment_id)
    referent_id = property(lambda self: self.alert.referent_id)
    programme_id = property(lambda self: self.alert.programme_id)
    workshop_id = property(lambda self: self.alert.workshop_id)
    internship_id = property(lambda self: self.alert.internship_id)

    @property
    def subject(self) -> str:
        if self.enrolment_id is not None:
            return f"Parcours n° {self.enrolment_id} — {self.beneficiary or ''}".strip(" —")
        if self.workshop_id is not None:
            return f"Atelier n° {self.workshop_id}"
        if self.referent_name:
            return f"Référent {self.referent_name}"
        return f"Dispositif {self.programme_code or ''}".strip()


@dataclass
class AlertList:
    """Everything the view and the digest show."""

    now: datetime
    filters: AlertFilters
    obligations: list[ObligationRow] = field(default_factory=list)
    alerts: list[AlertItem] = field(default_factory=list)
    overdue_total: int = 0
    due_soon_total: int = 0
    #: Open obligations of closed paths (the other tab's count), None when not counted.
    closed_paths_total: int | None = None

    @property
    def obligations_total(self) -> int:
        return self.overdue_total + self.due_soon_total

    @property
    def truncated(self) -> bool:
        return len(self.obligations) < self.obligations_total or (
            self.obligations_capped and len(self.obligations) == self.filters.limit)

    def _text(self, count: int | None) -> str:
        """A deadline count as a page shows it: « plus de 200 » past its cap (the
        digest's are exact)."""
        return count_text(count or 0, capped=self.filters.limit is not None,
                          cap=obligations_cap(self.filters))

    overdue_text = property(lambda self: self._text(self.overdue_total))
    due_soon_text = property(lambda self: self._text(self.due_soon_total))
    obligations_total_text = property(lambda self: self._text(self.obligations_total))
    closed_paths_text = property(lambda self: self._text(self.closed_paths_total))

    @property
    def alerts_shown(self) -> list[AlertItem]:
        """The behavioural alerts a page shows (``filters.limit`` at most; all if none):
        each kind's first ones in its order, up to the cap (the one read past the cap
        only says « plus de »)."""
        if not self.filters.limit:
            return self.alerts
        cap, seen, shown = count_cap(), {}, []
        for item in self.alerts:
            seen[item.kind] = seen.get(item.kind, 0) + 1
            if seen[item.kind] <= cap:
                shown.append(item)
        return shown[:self.filters.limit]

    @property
    def alerts_by_kind(self) -> list[tuple[str, str, int]]:
        """[(kind, French label, count)] of the behavioural alerts found, in kind order (a
        page's counts stop at ``count_cap() + 1``: see ``count_text``)."""
        counts: dict[str, int] = {}
        for item in self.alerts:
            counts[item.kind] = counts.get(item.kind, 0) + 1
        return [(k.value, k.label, counts[k.value]) for k in AlertKind if k.value in counts]

    @property
    def alerts_capped(self) -> bool:
        """A kind has more alerts than the page read (its count says « plus de »)."""
        return bool(self.filters.limit) and any(
            count > count_cap() for _kind, _label, count in self.alerts_by_kind)

    @property
    def alerts_total_text(self) -> str:
        """How many behavioural alerts: exact, or « plus de N » when a kind was capped
        (N: what the page counted, each capped kind for its cap)."""
        if not self.alerts_capped:
            return number(len(self.alerts))
        cap = count_cap()
        return "plus de " + number(sum(min(count, cap) for _k, _l, count in self.alerts_by_kind))

    @property
    def obligations_capped(self) -> bool:
        return self.filters.limit is not None and \
            max(self.overdue_total, self.due_soon_total) > obligations_cap(self.filters)


def count_cap() -> int:
    """Where a page's counts stop: the home page's ``worklist.COUNT_CAP`` (one figure for
    both pages: « plus de 100 »)."""
    from .worklist import COUNT_CAP  # worklist reads this module: imported when used
    return COUNT_CAP


def count_text(count: int, capped: bool = True, cap: int | None = None) -> str:
    """« 42 », « 12 345 », or « plus de 100 » for a count that stopped past the cap
    (``count_cap()`` unless given; the home page's figures and the alerts page say it
    alike)."""
    cap = count_cap() if cap is None else cap
    return f"plus de {number(cap)}" if capped and count > cap else number(count)


def obligations_cap(filters: AlertFilters) -> int:
    """Where a page's deadline counts stop: past the rows the page shows (« Affichage des
    200 premières échéances sur plus de 200 », not « … sur plus de 100 »), at the home
    page's cap at least."""
    return max(filters.limit or 0, count_cap())


def kind_cap(filters: AlertFilters) -> int | None:
    """How many alerts of one kind to find: one past the cap on a page (enough to say
    « plus de 100 » and show the first ones), all of them for the digest (no limit)."""
    return None if filters.limit is None else count_cap() + 1


def _first(items: Iterable[AlertItem | None], stop: int | None) -> list[AlertItem]:
    """The alerts of ``items`` (None: no alert), the first ``stop`` of them if given: the
    rows are read as they come and no further than needed."""
    found = (item for item in items if item is not None)
    return list(found if stop is None else islice(found, stop))


def _chunks(session: Session, query: Select, stop: int | None) -> Iterator[list]:
    """The rows of ``query``: in one list for the digest; for a page, ``CHUNK`` at a
    time, read as they are asked for (a server-side cursor on PostgreSQL), so that a
    caller that has enough stops the reading. Always at least one list (maybe empty): the
    statements a page runs do not depend on the rows."""
    if stop is None:
        yield session.execute(query).all()
        return
    result = session.execute(query.execution_options(yield_per=CHUNK))
    try:
        empty = True
        for chunk in result.partitions():
            empty = False
            yield chunk
        if empty:
            yield []
    finally:
        result.close()


def _stream(session: Session, query: Select, stop: int | None) -> Iterator:
    """The rows of ``query`` one by one (see ``_chunks``)."""
    for chunk in _chunks(session, query, stop):
        yield from chunk


# --- Obligations ----------------------------------------------------------------------

def _open():
    """Open obligations, in the words of the predicate of ix_obligations_open_due (the
    planners use a partial index only when the query says the same)."""
    return [Obligation.done_at.is_(None), Obligation.cancelled_at.is_(None)]


#: Between the last and first names read together (a control character nobody types).
_NAME_SEPARATOR = "\x1f"


class _PersonName(TypeDecorator):
    """The two names read as one column, shown by :func:`display_name` in Python: the
    database never upper-cases (SQLite's upper() turned « Prévost » into « PRéVOST »)."""

    impl = String
    cache_ok = True

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        last, _sep, first = value.partition(_NAME_SEPARATOR)
        return display_name(last, first)


def _beneficiary_name():
    """The person of a row as one column: « PRÉVOST Anne » (see ``display_name``)."""
    return type_coerce(
        Beneficiary.last_name + literal(_NAME_SEPARATOR) + Beneficiary.first_name, _PersonName
    )


# Built once: a new alias per call made SQLAlchemy rebuild its column collection at every
# page (a third of the navbar badge's time on the profile, issue 25 §3).
_CLOSED_PATH = aliased(Enrolment, name="closed_path")
_REFERENT = aliased(User, name="referent")


def _closed_path():
    """The obligation's path is closed (no path: not closed). An alias of its own: the
    list's query joins the path already, and would correlate the subquery to it."""
    path = _CLOSED_PATH
    return exists(select(path.id).where(path.id == Obligation.enrolment_id,
                                        path.status == EnrolmentStatus.CLOSED)
                  ).correlate(Obligation)


def obligation_where(now: datetime, filters: AlertFilters, own: int | None) -> list:
    """Conditions of the obligations list (open, within the horizon, filters, scope)."""
    closed = filters.scope == CLOSED_PATHS
    referents = [r for r in (filters.referent_id, own) if r is not None]
    if referents:
        # One referent's paths are few: go through them (enrolments by referent, then
        # obligations by path) rather than through every open obligation in due order.
        # The coalesce keeps the planner off ix_obligations_open_due (same meaning).
        where = [func.coalesce(Obligation.done_at, Obligation.cancelled_at).is_(None)]
        status = (Enrolment.status == EnrolmentStatus.CLOSED if closed
                  else Enrolment.status != EnrolmentStatus.CLOSED)
        for referent_id in referents:
            where.append(Obligation.enrolment_id.in_(
                select(Enrolment.id).where(Enrolment.referent_id == referent_id, status)))
    else:
        where = [*_open(), _closed_path() if closed else ~_closed_path()]
    if not closed:  # a closed path's leftovers are all shown, whatever their due date
        # The horizon (with 0 days, the moment itself: a bound value, see overdue_count).
        where.append(Obligation.due_at < (now + timedelta(days=filters.days)
                                          if filters.days else now))
    if filters.kind == OVERDUE:
        where.append(Obligation.due_at < now)
    elif filters.kind == DUE_SOON:
        where.append(Obligation.due_at >= now)
    elif filters.kind:
        where.append(literal(False))  # a behavioural kind: no obligation
    if filters.programme_id is not None:
        where.append(or_(Obligation.programme_id == filters.programme_id,
                         and_(Obligation.programme_id.is_(None),
                              Enrolment.programme_id == filters.programme_id)))
    return where


def obligations_query(now: datetime, filters: AlertFilters = AlertFilters(),
                      own: int | None = None) -> Select:
    """The bare SQL behind the list: open obligations due before now + days, soonest
    first, with their path, person, referent, programme, order and session."""
    referent = _REFERENT
    query = select(
        Obligation.id, Obligation.name, Obligation.due_at, Obligation.event_at,
        DeadlineRule.source, Programme.id.label("programme_id"), Programme.code,
        Obligation.enrolment_id, _beneficiary_name().label("beneficiary"),
        Enrolment.referent_id, referent.name.label("referent_name"),
        Obligation.purchase_order_id, PurchaseOrder.number,
        Obligation.session_id, ProgrammeSession.label, Obligation.referral_id,
        Beneficiary.id.label("beneficiary_id"), DeadlineRule.code.label("rule_code"),
    )
    referents = [r for r in (filters.referent_id, own) if r is not None]
    if referents:
        # One referent's paths first, written so: PostgreSQL keeps the written order of
        # these nine joins (more than its join_collapse_limit) and, from the obligations,
        # read every open one of the base (759 ms at a million people, 2 ms this way)
        query = (query.select_from(Enrolment)
                 .join(Obligation, Obligation.enrolment_id == Enrolment.id)
                 .where(*(Enrolment.referent_id == r for r in referents)))
    else:
        query = (query.select_from(Obligation)
                 .outerjoin(Enrolment, Obligation.enrolment_id == Enrolment.id))
    query = (
        query
        .outerjoin(Referral, Obligation.referral_id == Referral.id)
        .outerjoin(Beneficiary, Beneficiary.id == func.coalesce(Enrolment.beneficiary_id,
                                                                Referral.beneficiary_id))
        .outerjoin(referent, Enrolment.referent_id == referent.id)
        .outerjoin(Programme, Programme.id == func.coalesce(Obligation.programme_id,
                                                            Enrolment.programme_id))
        .outerjoin(DeadlineRule, Obligation.rule_id == DeadlineRule.id)
        .outerjoin(PurchaseOrder, Obligation.purchase_order_id == PurchaseOrder.id)
        .outerjoin(ProgrammeSession, Obligation.session_id == ProgrammeSession.id)
        .where(*obligation_where(now, filters, own))
        .order_by(Obligation.due_at, Obligation.id)
    )
    if filters.limit:
        query = query.limit(filters.limit)
    return query


def obligation_totals(session: Session, now: datetime, filters: AlertFilters,
                       own: int | None) -> tuple[int, int]:
    """(overdue, due soon) counts of the whole list, in one aggregate query; on a page
    (``filters.limit``), each counted up to ``obligations_cap() + 1`` by the home page's
    ``worklist._capped`` (at a million people, 190 000 open obligations: 0.4 s)."""
    if filters.limit is not None:
        from .worklist import _capped  # worklist reads this module: imported when used
        where = obligation_where(now, filters, own)
        rows = select(Obligation.id)
        if filters.programme_id is not None:
            rows = rows.outerjoin(Enrolment, Obligation.enrolment_id == Enrolment.id)
        cap = obligations_cap(filters)
        return (_capped(session, rows.where(*where, Obligation.due_at < now), cap),
                _capped(session, rows.where(*where, Obligation.due_at >= now), cap))
    query = select(
        func.count(Obligation.id).filter(Obligation.due_at < now),
        func.count(Obligation.id).filter(Obligation.due_at >= now),
    ).select_from(Obligation)
    if filters.programme_id is not None:
        query = query.outerjoin(Enrolment, Obligation.enrolment_id == Enrolment.id)
    row = session.execute(query.where(*obligation_where(now, filters, own))).one()
    return row[0] or 0, row[1] or 0


def obligation_rows(session: Session, now: datetime, filters: AlertFilters = AlertFilters(),
                    own: int | None = None) -> list[ObligationRow]:
    """The open obligations of the list, as rows."""
    return [
        ObligationRow(
            id=r[0], name=r[1], due_at=r[2], event_at=r[3], overdue=r[2] < now, source=r[4],
            programme_id=r[5], programme_code=r[6], enrolment_id=r[7], beneficiary=r[8],
            referent_id=r[9], referent_name=r[10], purchase_order_id=r[11],
            purchase_order_number=r[12], session_id=r[13], session_label=r[14],
            referral_id=r[15], beneficiary_id=r[16], rule_code=r[17],
        )
        for r in session.execute(obligations_query(now, filters, own))
    ]


#: The menu badge counts up to this many and then shows « 99+ »: a bounded index range
#: on every page, whatever the size of the base (the alerts page shows exact totals).
BADGE_CAP = 99


def overdue_count(session: Session, user, now: datetime, cap: int | None = None) -> int:
    """Overdue open obligations this user sees (the menu badge); 0 for other roles.

    With ``cap``, counting stops at ``cap + 1`` (enough to show « cap+ »).
    """
    try:
        own = own_referent_id(user)
    except AlertsForbidden:
        return 0
    values = {"now": now} if own is None else {"now": now, "own": own}
    if own is None and cap is not None:
        counted, overdue = session.execute(_badge_statement(DUE_ORDER, cap), values).one()
        if counted > cap or overdue <= DUE_ORDER_UP_TO:
            return counted
    found = session.scalar(_badge_statement(PATHS_FIRST, cap, own), values) or 0
    return found if cap is None else min(found, cap + 1)


#: The coordinator's badge first reads the overdue open obligations by their index
#: (ix_obligations_open_due), up to this many, and counts those no closed path left, up to
#: the cap + 1: more than the cap found, or every overdue one read, that is the answer
#: (under a millisecond). Else (more of them, most left by closed paths: 80 000 at 100 000
#: people in issue 20's demo) it goes path by path (`_capped_overdue_count`). Path by path
#: alone, an organisation with few late deadlines had every open path read on every page:
#: 190 000 at a million people, 244 ms on SQLite with none overdue (bench/person_page.py
#: run at another date than the demo's).
DUE_ORDER_UP_TO = 1000
DUE_ORDER, PATHS_FIRST = "due order", "paths first"


def _badge_statement(way: str, cap: int | None, own: int | None = None) -> Select:
    """The badge's statement for this way of counting, built once per shape (every path
    or one counsellor's; the cap) and then run with this moment and this user: building
    it was half of the badge's time on every page (issue 25 §3)."""
    key = (way, own is None, cap)
    statement = _BADGE_STATEMENTS.get(key)
    if statement is None:
        now = bindparam("now", type_=Obligation.due_at.type)
        # In due order: a range of ix_obligations_open_due. PostgreSQL otherwise may read
        # all of ix_obligations_open_path (it holds the path's id) to find none overdue
        # (26 ms at a million people).
        overdue = (select(Obligation.id).where(*_open(), Obligation.due_at < now)
                   .order_by(Obligation.due_at).limit(DUE_ORDER_UP_TO + 1))
        if way == DUE_ORDER:  # (those no closed path left up to the cap + 1, all up to
            # the bound): one statement, the same number on every page
            first = overdue.add_columns(Obligation.enrolment_id).subquery()
            path = aliased(Enrolment)
            counted = select(first.c.id).where(~exists().where(
                path.id == first.c.enrolment_id, path.status == EnrolmentStatus.CLOSED))
            statement = select(
                select(func.count()).select_from(counted.limit(cap + 1).subquery())
                .scalar_subquery(),
                select(func.count()).select_from(overdue.subquery()).scalar_subquery())
        else:
            statement = overdue_count_query(
                now, None if own is None else bindparam("own", type_=Integer), cap)
        _BADGE_STATEMENTS[key] = statement
    return statement


_BADGE_STATEMENTS: dict[tuple[str, bool, int | None], Select] = {}


def overdue_count_query(now: datetime, own: int | None = None, cap: int | None = None
                        ) -> Select:
    """The statement of ``overdue_count`` (``own``: a counsellor's id, None for all):
    the late obligations of the actionable list (issue 20 §4: not a closed path's)."""
    where = obligation_where(now, AlertFilters(days=0), own)
    if cap is None:
        return select(func.count(Obligation.id)).where(*where)
    if own is None:
        return _capped_overdue_count(now, cap)
    first = select(Obligation.id).where(*where).limit(cap + 1).subquery()
    return select(func.count()).select_from(first)


def _capped_overdue_count(now: datetime, cap: int) -> Select:
    """The badge of a coordinator: the overdue open obligations of paths not closed, then
    those of no path, each counted up to ``cap + 1`` (what the badge shows is « cap+ »
    beyond). Read path by path rather than in due order: at 100 000 people the oldest
    overdue rows are 80 000 leftovers of closed paths, which the walk in due order read one
    by one before finding any that counts (55 ms of CPU on every page of the admin, issue
    20 « Speed »).

    Path by path as a join, the open paths outside (`_PathsFirst`), each one's open
    obligations by ``ix_obligations_open_path``: the walk stops at ``cap + 1``. Written
    « obligations IN (open paths) », SQLite first built the list of every open path's id
    (2 444 at 10 000 people) and probed each one's obligations, done ones included: 2.9 of
    the 3 ms the badge took on every page (issue 25 §3; 0.4 ms now, docs/benchmarks.md)."""
    due = [*_open(), Obligation.due_at < now]
    on_open_paths = (
        select(Obligation.id)
        .select_from(_PathsFirst(Enrolment, Obligation, Obligation.enrolment_id == Enrolment.id))
        .where(Enrolment.status.in_(NOT_CLOSED), *due).limit(cap + 1))
    on_no_path = select(Obligation.id).where(
        *due, Obligation.enrolment_id.is_(None)).limit(cap + 1)
    both = union_all(select(on_open_paths.subquery()), select(on_no_path.subquery()))
    return select(func.count()).select_from(both.subquery())


class _PathsFirst(Join):
    """An inner join whose left side is the outer loop: « CROSS JOIN » on SQLite (its
    documented way to fix the order of a join), a plain JOIN elsewhere. SQLite's planner
    otherwise walks the open obligations in due order (ix_obligations_open_due) and meets
    the closed paths' leftovers first (above)."""

    inherit_cache = True


@compiles(_PathsFirst, "sqlite")
def _paths_first_on_sqlite(join, compiler, **kw) -> str:
    # The left side is one table: the first « JOIN » of the text is this join's.
    return compiler.visit_join(join, **kw).replace(" JOIN ", " CROSS JOIN ", 1)


def badge_text(count: int, cap: int = BADGE_CAP) -> str:
    """« 12 » or « 99+ »: what the menu badge shows for a capped count."""
    return f"{cap}+" if count > cap else str(count)


def visible_obligation(session: Session, user, obligation_id: int) -> Obligation | None:
    """The obligation if ``user`` may see it (a counsellor: their own paths'), else None."""
    found = visible_obligations(session, user, [obligation_id])
    return found[0] if found else None


def visible_obligations(session: Session, user, ids, closed_paths: bool = False
                        ) -> list[Obligation]:
    """The obligations of ``ids`` that ``user`` may see (a counsellor: their own paths'),
    in one query, in the list's order; with ``closed_paths``, only closed paths' ones."""
    ids = sorted(set(ids))
    if not ids:
        return []
    own = own_referent_id(user)
    query = select(Obligation).where(Obligation.id.in_(ids))
    if own is not None:
        query = query.join(Enrolment, Obligation.enrolment_id == Enrolment.id).where(
            Enrolment.referent_id == own)
    if closed_paths:
        query = query.where(_closed_path())
    return list(session.scalars(query.order_by(Obligation.due_at, Obligation.id)))


# --- Behavioural alerts ---------------------------------------------------------------

def _path_filters(filters: AlertFilters, own: int | None) -> list:
    where = []
    if filters.programme_id is not None:
        where.append(Enrolment.programme_id == filters.programme_id)
    if filters.referent_id is not None:
        where.append(Enrolment.referent_id == filters.referent_id)
    if own is not None:
        where.append(Enrolment.referent_id == own)
    return where


def _path_columns():
    return (Enrolment.id, Enrolment.referent_id, Enrolment.programme_id, Programme.code,
            _beneficiary_name(), User.name)


def _path_select(*columns) -> Select:
    """Paths with their programme, person and referent (referent may be missing)."""
    return (
        select(*_path_columns(), *columns)
        .select_from(Enrolment)
        .join(Programme, Enrolment.programme_id == Programme.id)
        .join(Beneficiary, Enrolment.beneficiary_id == Beneficiary.id)
        .outerjoin(User, Enrolment.referent_id == User.id)
    )


def _item(alert, row) -> AlertItem | None:
    if alert is None:
        return None
    return AlertItem(alert, programme_code=row[3], beneficiary=row[4], referent_name=row[5])


def absence_alerts(session: Session, now: datetime, filters: AlertFilters, own: int | None,
                   limit: int | None = None) -> list[AlertItem]:
    """004: open PLIE paths that reached their programme's « perte de contact » figure:
    ``absences_limit`` unexcused absences (in a row when ``absences_consecutive``, Lots 1
    and 2; in all, Lot 4) or ``unanswered_reminders_limit`` unanswered reminders since
    the last presence (Lots 2 and 4). ``limit`` replaces the absences figure (tests).

    The run is counted in SQL as in ``rules.alerts.trailing_unexcused_absences``: the
    unexcused absences after the last presence (contacts and workshops together).
    """
    watched = or_(Programme.absences_limit.is_not(None),
                  Programme.unanswered_reminders_limit.is_not(None))
    return _by_paths(session, filters, own, (Programme.exit_scheme == "PLIE", watched),
                     lambda ids: _absences_of(session, now, ids, limit))


def _open_paths(filters: AlertFilters, own: int | None, *programme_where) -> Select:
    """The ids of the open paths of the programmes chosen (one statement: the digest's, and
    the paths of the kinds counted in SQL)."""
    return (select(Enrolment.id)
            .where(Enrolment.programme_id.in_(select(Programme.id).where(*programme_where)),
                   Enrolment.status.in_(OPEN_STATUSES), *_path_filters(filters, own))
            .order_by(*_PROGRAMME_PATHS_ORDER))


def _one_referent(filters: AlertFilters, own: int | None) -> bool:
    """The paths of one referent (a counsellor's page, or the referent filter): few, read
    through ix_enrolments_referent_status in one statement rather than walked."""
    return own is not None or filters.referent_id is not None


def _walks(session: Session, filters: AlertFilters, own: int | None, *programme_where
           ) -> list[list]:
    """The conditions of each walk of a page through ix_enrolments_programme_status_referent:
    one programme chosen and one open status at a time, so that both engines read it in
    its order (PostgreSQL 15 does not keep an index's order over a list of values)."""
    programmes = session.scalars(
        select(Programme.id).where(*programme_where).order_by(Programme.id)).all()
    return [[Enrolment.programme_id == programme_id, Enrolment.status == status,
             *_path_filters(filters, own)]
            for programme_id in programmes for status in OPEN_STATUSES]


def _walk_rows(session: Session, filters: AlertFilters, own: int | None, programme_where,
               build, *then) -> Iterator:
    """The rows of ``build(conditions)`` (a SELECT from the paths) over the open paths of
    the programmes chosen: in one statement for the digest; for a page, walk by walk in
    the index's order (then ``then``), read as they are asked for."""
    stop = kind_cap(filters)
    if stop is None or _one_referent(filters, own):  # one statement: few paths, or all
        yield from _stream(session, build([
            Enrolment.programme_id.in_(select(Programme.id).where(*programme_where)),
            Enrolment.status.in_(OPEN_STATUSES), *_path_filters(filters, own)])
            .order_by(*_PROGRAMME_PATHS_ORDER, *then), stop)
        return
    for where in _walks(session, filters, own, *programme_where):
        yield from _stream(session, build(where).order_by(
            Enrolment.referent_id, Enrolment.id, *then), stop)


def _by_paths(session: Session, filters: AlertFilters, own: int | None, programme_where,
              alerts_of) -> list[AlertItem]:
    """The alerts ``alerts_of(paths)`` finds among the open paths of the programmes chosen
    for a kind counted per path in SQL: all at once for the digest (the paths as a
    subquery); for a page, ``CHUNK`` paths at a time, until it has ``kind_cap`` alerts (at
    a million people, the absences of every open PLIE path took 0.5 s)."""
    stop = kind_cap(filters)
    if stop is None or _one_referent(filters, own):  # one statement: few paths, or all
        return alerts_of(_open_paths(filters, own, *programme_where).order_by(None))[:stop]
    items: list[AlertItem] = []
    ids: list[int] = []
    for row in _walk_rows(session, filters, own, programme_where,
                          lambda where: select(Enrolment.id).where(*where)):
        ids.append(row[0])
        if len(ids) == CHUNK:
            items += alerts_of(ids)
            ids = []
            if len(items) >= stop:
                return items[:stop]
    if ids or not items:
        items += alerts_of(ids or [0])
    return items[:stop]


def _absences_of(session: Session, now: datetime, paths, limit: int | None
                 ) -> list[AlertItem]:
    """The absence alerts of ``paths`` (ids, or a SELECT of them): see absence_alerts."""
    events = union_all(
        select(Contact.enrolment_id.label("eid"), Contact.occurs_at.label("at"),
               Contact.attendance.label("att"))
        .where(Contact.occurs_at <= now, Contact.enrolment_id.in_(paths)),
        select(WorkshopAttendance.enrolment_id, Workshop.held_at, WorkshopAttendance.attendance)
        .join(Workshop, WorkshopAttendance.workshop_id == Workshop.id)
        .where(Workshop.held_at <= now, WorkshopAttendance.enrolment_id.in_(paths)),
    ).cte("events")  # read once for both uses below (a subquery was read twice)
    last_present = (
        select(events.c.eid, func.max(events.c.at).label("at"))
        .where(events.c.att == Attendance.PRESENT.value).group_by(events.c.eid).subquery()
    )
    since_present = or_(last_present.c.at.is_(None), events.c.at > last_present.c.at)
    unexcused = events.c.att == Attendance.UNEXCUSED.value
    counts = (
        select(events.c.eid,
               func.count().filter(unexcused, since_present).label("run"),
               func.count().filter(unexcused).label("total"),
               func.count().filter(events.c.att == Attendance.NO_ANSWER.value,
                                   since_present).label("reminders"))
        .select_from(events.outerjoin(last_present, last_present.c.eid == events.c.eid))
        .where(events.c.att.in_((Attendance.UNEXCUSED.value, Attendance.NO_ANSWER.value)))
        .group_by(events.c.eid).subquery()
    )
    absences_limit = Programme.absences_limit if limit is None else literal(limit)
    absences = case((Programme.absences_consecutive, counts.c.run), else_=counts.c.total)
    query = (
        _path_select(absences, counts.c.reminders, absences_limit,
                     Programme.absences_consecutive, Programme.unanswered_reminders_limit)
        .join(counts, counts.c.eid == Enrolment.id)
        .where(or_(absences >= absences_limit,
                   counts.c.reminders >= Programme.unanswered_reminders_limit))
        .order_by(Enrolment.id)
    )
    return [item for row in session.execute(query) if (item := _item(rules.absences_alert(
        row[6], enrolment_id=row[0], referent_id=row[1], programme_id=row[2], limit=row[8],
        consecutive=row[9], reminders=row[7], reminders_limit=row[10]), row))]


#: The order of ix_enrolments_programme_status_referent (then the path's id): a programme's
#: paths by status, each referent's together.
_PROGRAMME_PATHS_ORDER = (Enrolment.programme_id, Enrolment.status, Enrolment.referent_id,
                          Enrolment.id)

#: The order of ix_phase_records_phase_open (phase, end: none for the open ones), then
#: the record's id (the phases begun first).
_OPEN_PHASE_ORDER = (PhaseRecord.phase_id, PhaseRecord.ended_on, PhaseRecord.id)


def _open_phase_chunks(session: Session, filters: AlertFilters, own: int | None, code: str,
                       query: Select) -> Iterator[list]:
    """The rows of ``query`` (paths joined to their open phase record) of the phases
    ``code``, in chunks (see ``_chunks``): in one statement for the digest and one
    referent's paths; for a page, phase by phase in the order of
    ix_phase_records_phase_open (the phases begun first), so that both engines read it
    as it comes and stop early (PostgreSQL keeps an index's order for one phase, not for
    a list of them)."""
    phases = select(Phase.id).where(Phase.code == code)
    stop = kind_cap(filters)
    if stop is None or _one_referent(filters, own):
        yield from _chunks(session, query.where(PhaseRecord.phase_id.in_(phases))
                           .order_by(*_OPEN_PHASE_ORDER), stop)
        return
    for phase_id in session.scalars(phases.order_by(Phase.id)).all():
        yield from _chunks(session, query.where(PhaseRecord.phase_id == phase_id)
                           .order_by(*_OPEN_PHASE_ORDER), stop)


def csp_contact_alerts(session: Session, now: datetime, filters: AlertFilters,
                       own: int | None) -> list[AlertItem]:
    """002 II §5: active CSP paths in phase 2 with fewer than one contact a week on
    average: contacts held and group sessions (workshops) attended since the phase
    started, over its full weeks not under suspension."""
    today = now.date()
    # One indexed count per candidate path (contacts by enrolment and date), no GROUP BY.
    contacts = (
        select(func.count(Contact.id))
        .where(Contact.enrolment_id == Enrolment.id, Contact.attendance == Attendance.PRESENT,
               Contact.occurs_at >= PhaseRecord.started_on, Contact.occurs_at <= now)
        .correlate(Enrolment, PhaseRecord).scalar_subquery()
    )
    # 002 II §5: « des regroupements » are part of the support: a workshop attended counts
    workshops = (
        select(func.count(WorkshopAttendance.id))
        .join(Workshop, WorkshopAttendance.workshop_id == Workshop.id)
        .where(WorkshopAttendance.enrolment_id == Enrolment.id,
               WorkshopAttendance.attendance == Attendance.PRESENT,
               Workshop.held_at >= PhaseRecord.started_on, Workshop.held_at <= now)
        .correlate(Enrolment, PhaseRecord).scalar_subquery()
    )
    query = (
        _path_select(PhaseRecord.started_on, contacts + workshops)
        .join(PhaseRecord, and_(PhaseRecord.enrolment_id == Enrolment.id,
                                PhaseRecord.ended_on.is_(None)))
        .where(Programme.exit_scheme == "CSP", Enrolment.status == EnrolmentStatus.ACTIVE,
               PhaseRecord.started_on <= today - timedelta(days=7),
               *_path_filters(filters, own))
    )
    stop, items = kind_cap(filters), []
    for chunk in _open_phase_chunks(session, filters, own, CSP_INTENSIVE_PHASE, query):
        rows = [row for row in chunk
                if row[7] < rules.CSP_CONTACTS_PER_WEEK * rules.weeks_owed(row[6], today)]
        # 002 II §3: weeks under suspension owe no contact (read for the candidates only)
        suspended: dict[int, list] = {}
        if rows:
            for eid, starts_on, ends_on in session.execute(
                    select(Suspension.enrolment_id, Suspension.starts_on, Suspension.ends_on)
                    .where(Suspension.enrolment_id.in_([row[0] for row in rows]),
                           Suspension.starts_on <= today)):
                suspended.setdefault(eid, []).append((starts_on, ends_on))
        items += _first((_item(rules.csp_contacts_alert(
            row[7], row[6], today, enrolment_id=row[0], referent_id=row[1],
            programme_id=row[2], suspensions=suspended.get(row[0], ())), row)
            for row in rows), None)
        if stop is not None and len(items) >= stop:
            return items[:stop]
    return items


def _referent_counts(session: Session, filters: AlertFilters, own: int | None, statuses,
                     outside, *programme_where) -> list:
    """(referent id, name, programme id, code, count, programme row) per referent whose
    count is ``outside`` the programme's limits (a condition on the ``n`` column of the
    counts), by name; a page reads the first ``kind_cap``.

    Counted from ix_enrolments_programme_status_referent alone, per programme, before the
    names are read: at a million people, 85 817 active CSP paths of 5 556 referents."""
    counts = (
        select(Enrolment.programme_id.label("pid"), Enrolment.referent_id.label("rid"),
               func.count().label("n"))
        .where(Enrolment.programme_id.in_(select(Programme.id).where(*programme_where)),
               Enrolment.status.in_(statuses), Enrolment.referent_id.is_not(None),
               *_path_filters(filters, own))
        .group_by(Enrolment.programme_id, Enrolment.referent_id)
        .subquery()
    )
    query = (
        select(counts.c.rid, User.name, Programme.id, Programme.code, counts.c.n,
               Programme.portfolio_min, Programme.portfolio_max,
               Programme.people_per_consultant)
        .select_from(counts)
        .join(Programme, counts.c.pid == Programme.id)
        .join(User, counts.c.rid == User.id)
        .where(outside(counts.c.n))
        .order_by(User.name, Programme.code, User.id)
    )
    if (stop := kind_cap(filters)) is not None:
        query = query.limit(stop)
    return session.execute(query).all()


def portfolio_alerts(session: Session, now: datetime, filters: AlertFilters,
                     own: int | None) -> list[AlertItem]:
    """002 §7.4: referents whose active portfolio is outside the programme's limits."""
    # 002 glossary: the active portfolio excludes suspended paths (rules.lifecycle)
    rows = _referent_counts(
        session, filters, own, (EnrolmentStatus.ACTIVE,),
        lambda n: or_(n < Programme.portfolio_min, n > Programme.portfolio_max),
        or_(Programme.portfolio_min.is_not(None), Programme.portfolio_max.is_not(None)))
    items = []
    for referent_id, name, pid, code, count, pmin, pmax, _ in rows:
        alert = rules.portfolio_alert(count, pmin, pmax, referent_id=referent_id,
                                      referent_name=name, programme_id=pid)
        if alert:
            items.append(AlertItem(alert, programme_code=code, referent_name=name))
    return items


def consultant_load_alerts(session: Session, now: datetime, filters: AlertFilters,
                           own: int | None) -> list[AlertItem]:
    """002 I §6.4: consultants following more open paths than the programme allows."""
    rows = _referent_counts(session, filters, own, OPEN_STATUSES,
                            lambda n: n > Programme.people_per_consultant,
                            Programme.people_per_consultant.is_not(None))
    items = []
    for referent_id, name, pid, code, count, _, _, per in rows:
        alert = rules.consultant_load_alert(count, per, referent_id=referent_id,
                                            referent_name=name, programme_id=pid)
        if alert:
            items.append(AlertItem(alert, programme_code=code, referent_name=name))
    return items


def past_planned_end_alerts(session: Session, now: datetime, filters: AlertFilters,
                            own: int | None) -> list[AlertItem]:
    """Open paths (active or suspended) past their planned end (index status, end date)."""
    today = now.date()
    planned_end = Enrolment.planned_end_date
    if own is not None or filters.referent_id is not None:
        # One referent: through (referent_id, status), not every late path of the base.
        planned_end = func.coalesce(Enrolment.planned_end_date, None)
    query = (
        _path_select(Enrolment.planned_end_date)
        .where(Enrolment.status.in_(OPEN_STATUSES), planned_end < today,
               *_path_filters(filters, own))
        .order_by(Enrolment.planned_end_date, Enrolment.id)
    )
    if (stop := kind_cap(filters)) is not None:  # the rule's condition is in the SQL
        query = query.limit(stop)
    return [item for row in session.execute(query) if (item := _item(
        rules.past_planned_end_alert(row[6], today, enrolment_id=row[0], referent_id=row[1],
                                     programme_id=row[2]), row))]


def follow_up_past_end_alerts(session: Session, now: datetime, filters: AlertFilters,
                              own: int | None) -> list[AlertItem]:
    """Paths still in follow-up in employment after its end date (002 II §3, 001)."""
    today = now.date()
    query = (
        _path_select(Enrolment.follow_up_end_date)
        .where(Enrolment.status == EnrolmentStatus.FOLLOW_UP,
               Enrolment.follow_up_end_date < today, *_path_filters(filters, own))
        .order_by(Enrolment.follow_up_end_date, Enrolment.id)
    )
    if (stop := kind_cap(filters)) is not None:  # the rule's condition is in the SQL
        query = query.limit(stop)
    return [item for row in session.execute(query) if (item := _item(
        rules.follow_up_past_end_alert(row[6], today, enrolment_id=row[0],
                                       referent_id=row[1], programme_id=row[2]), row))]


def workshop_size_alerts(session: Session, now: datetime, filters: AlertFilters,
                         own: int | None) -> list[AlertItem]:
    """004 Lot 1: recent and coming workshops outside their programme's group limits."""
    attendees = func.count(WorkshopAttendance.id)
    query = (
        select(Workshop.id, Workshop.title, Workshop.held_at, Programme.id, Programme.code,
               Programme.group_min, Programme.group_max, attendees)
        .select_from(Workshop)
        .join(Programme, Workshop.programme_id == Programme.id)
        .outerjoin(WorkshopAttendance, WorkshopAttendance.workshop_id == Workshop.id)
        .where(or_(Programme.group_min.is_not(None), Programme.group_max.is_not(None)),
               # 004 Lot 2: a minimum « par session » counts the session, not each workshop
               Programme.group_per_session.is_(False),
               Workshop.held_at >= now - timedelta(days=WORKSHOP_LOOKBACK_DAYS),
               Workshop.held_at < now + timedelta(days=filters.days))
        .group_by(Workshop.id, Workshop.title, Workshop.held_at, Programme.id, Programme.code,
                  Programme.group_min, Programme.group_max)
        .having(or_(attendees < func.coalesce(Programme.group_min, 0),
                    attendees > func.coalesce(Programme.group_max, attendees)))
        .order_by(Workshop.held_at, Workshop.id)
    )
    if filters.programme_id is not None:
        query = query.where(Workshop.programme_id == filters.programme_id)
    for referent_id in (filters.referent_id, own):
        if referent_id is not None:  # workshops one of the referent's paths attends
            query = query.where(Workshop.id.in_(
                select(WorkshopAttendance.workshop_id)
                .join(Enrolment, WorkshopAttendance.enrolment_id == Enrolment.id)
                .where(Enrolment.referent_id == referent_id)))
    if (stop := kind_cap(filters)) is not None:  # the rule's condition is the HAVING
        query = query.limit(stop)
    items = []
    for wid, title, held_at, pid, code, gmin, gmax, count in session.execute(query):
        alert = rules.workshop_size_alert(count, gmin, gmax, title=title,
                                          held_on=held_at.date(), workshop_id=wid,
                                          programme_id=pid)
        if alert:
            items.append(AlertItem(alert, programme_code=code))
    return items


def immersion_cap_alerts(session: Session, now: datetime, filters: AlertFilters,
                         own: int | None) -> list[AlertItem]:
    """004 Lot 3: immersions of open paths above the programme's hour or day cap.

    The open paths of the capped programmes by their index, each one's immersions, and
    the names of the paths with an alert only (at a million people, 13 305 people were
    read for 9 058 immersions and no alert: 0.2 s)."""
    capped = or_(Programme.hours_cap.is_not(None), Programme.hours_cap_days.is_not(None))
    # the rule's condition, in SQL (the rule words the alert): the span counts both ends
    over = or_(Internship.hours > Programme.hours_cap,
               days_between(Internship.starts_on, Internship.ends_on) + 1
               > Programme.hours_cap_days)
    rows = _walk_rows(session, filters, own, (capped,), lambda where: (
        select(Enrolment.id, Enrolment.referent_id, Enrolment.programme_id, Internship.id,
               Internship.hours, Internship.starts_on, Internship.ends_on,
               Programme.hours_cap, Programme.hours_cap_days, Internship.company_name)
        .select_from(_PathsFirst(Enrolment, Internship, Internship.enrolment_id == Enrolment.id))
        .join(Programme, Enrolment.programme_id == Programme.id)
        .where(*where, over)), Internship.starts_on, Internship.id)
    alerts = _first((rules.immersion_cap_alert(
        hours, starts, ends, cap, days_cap, company=company, internship_id=iid,
        enrolment_id=eid, referent_id=rid, programme_id=pid)
        for eid, rid, pid, iid, hours, starts, ends, cap, days_cap, company in rows),
        kind_cap(filters))
    names = _path_names(session, [alert.enrolment_id for alert in alerts])
    return [AlertItem(alert, *names[alert.enrolment_id]) for alert in alerts]


def _path_names(session: Session, ids: list[int]) -> dict[int, tuple]:
    """{path id: (programme code, person, referent's name)}, read ``CHUNK`` paths at a
    time (a statement's parameters are limited)."""
    names: dict[int, tuple] = {}
    unique = sorted(set(ids))
    for start in range(0, max(len(unique), 1), CHUNK):  # one statement at least
        names.update((row[0], tuple(row[3:6])) for row in session.execute(
            _path_select().where(Enrolment.id.in_(unique[start:start + CHUNK]))))
    return names


def internship_missing_alerts(session: Session, now: datetime, filters: AlertFilters,
                              own: int | None) -> list[AlertItem]:
    """001 « Description »: open paths of a programme with a mandatory internship, past
    half their planned length, with no internship recorded."""
    today = now.date()
    has_internship = exists().where(Internship.enrolment_id == Enrolment.id)
    rows = _walk_rows(
        session, filters, own, (Programme.requires_internship.is_(True),),
        lambda where: _path_select(Enrolment.entry_date, Enrolment.planned_end_date).where(
            *where, Enrolment.planned_end_date.is_not(None), Enrolment.entry_date < today,
            ~has_internship))
    return _first((_item(rules.internship_missing_alert(
        row[6], row[7], today, 0, enrolment_id=row[0], referent_id=row[1],
        programme_id=row[2]), row) for row in rows), kind_cap(filters))


def _individual():
    """An individual face-to-face interview: a contact type neither collective nor remote
    (contact_types.yaml)."""
    return and_(ContactType.is_group.is_(False), ContactType.is_remote.is_(False))


def _last_phase_positions(session: Session) -> dict[int, int]:
    """{programme id: position of its last phase that is not a follow-up}."""
    return dict(session.execute(
        select(Phase.programme_id, func.max(Phase.position))
        .where(Phase.is_follow_up.is_(False)).group_by(Phase.programme_id)).all())


#: The last phase of a path's programme that is not a follow-up (« exit phase »).
_LAST_PHASE = aliased(Phase, name="last_phase")


def _interview_totals(session: Session, now: datetime, paths, candidate, stop: int | None):
    """The paths of ``paths`` (a SELECT of ids) whose present individual interviews meet
    ``candidate(count, longest, minutes, at exit phase)`` (the rule's condition, or a wider
    one): (path columns…, count, longest, total minutes, current phase position, bilan
    kind, programme figures), the first ``stop`` if given.

    The figures are read first, from ix_contacts_enrolment_occurs_at alone (the interviews
    are counted as rows, `count(*)`: a count of their ids read each contact's row for its
    id, 104 000 of them at a million people, 267 → 169 ms on PostgreSQL), and the names
    of the paths found only (at a million people, every open PLIE-L1 path's person was
    read to find none: 0.6 s)."""
    interviews = (
        select(Contact.enrolment_id.label("eid"), func.count().label("n"),
               func.max(Contact.duration_minutes).label("longest"),
               func.coalesce(func.sum(Contact.duration_minutes), 0).label("minutes"))
        .join(ContactType, Contact.contact_type_id == ContactType.id)
        .where(_individual(), Contact.attendance == Attendance.PRESENT, Contact.occurs_at <= now,
               # the paths of the list only: one counsellor's, not every open path's
               # contacts (a million people: 160 ms for a counsellor's page)
               Contact.enrolment_id.in_(paths.order_by(None)))
        .group_by(Contact.enrolment_id).subquery()
    )
    count, minutes = func.coalesce(interviews.c.n, 0), func.coalesce(interviews.c.minutes, 0)
    last_position = (select(func.max(_LAST_PHASE.position))
                     .where(_LAST_PHASE.programme_id == Enrolment.programme_id,
                            _LAST_PHASE.is_follow_up.is_(False))
                     .correlate(Enrolment).scalar_subquery())
    figures = (
        select(Enrolment.id.label("eid"), count.label("n"), interviews.c.longest,
               minutes.label("minutes"), Phase.position)
        .select_from(Enrolment)
        .join(Programme, Enrolment.programme_id == Programme.id)
        .outerjoin(interviews, interviews.c.eid == Enrolment.id)
        .outerjoin(Phase, Enrolment.current_phase_id == Phase.id)
        .where(Enrolment.id.in_(paths.order_by(None)),
               candidate(count, interviews.c.longest, minutes, Phase.position == last_position))
        .order_by(Enrolment.id)
    )
    if stop is not None:
        figures = figures.limit(stop)
    figures = figures.cte("figures").prefix_with("MATERIALIZED")  # names after, if found
    query = (
        _path_select(figures.c.n, figures.c.longest, figures.c.minutes, figures.c.position,
                     Enrolment.bilan_kind, Programme.interviews_min, Programme.interviews_max,
                     Programme.interview_max_minutes, Programme.hours_min, Programme.hours_max,
                     Programme.skills_bilan_hours)
        .join(figures, figures.c.eid == Enrolment.id)
        .order_by(Enrolment.id)
    )
    return session.execute(query).all()


def interview_alerts(session: Session, now: datetime, filters: AlertFilters,
                     own: int | None) -> list[AlertItem]:
    """004 Lot 1: open paths with more individual interviews than allowed, fewer than the
    minimum once in the exit phase, or one longer than allowed."""
    last = _last_phase_positions(session)
    paths = _open_paths(filters, own, or_(Programme.interviews_max.is_not(None),
                                          Programme.interview_max_minutes.is_not(None)))
    # 004 Lot 1: the rule's own condition, in SQL (the rule words the alert)
    rows = _interview_totals(session, now, paths, lambda count, longest, _minutes, at_exit: or_(
        count > Programme.interviews_max, longest > Programme.interview_max_minutes,
        and_(at_exit, count < Programme.interviews_min)), kind_cap(filters))
    return _interview_alerts_of(rows, last)


def _interview_alerts_of(rows, last: dict[int, int]) -> list[AlertItem]:
    """The interview alerts of these rows (of ``_interview_totals``)."""
    return [item for row in rows if (item := _item(rules.interviews_alert(
        row[6], row[7], row[11], row[12], row[13],
        at_exit_phase=row[9] is not None and row[9] == last.get(row[2]),
        enrolment_id=row[0], referent_id=row[1], programme_id=row[2]), row))]


def bilan_hours_alerts(session: Session, now: datetime, filters: AlertFilters,
                       own: int | None) -> list[AlertItem]:
    """004 Lot 4: open paths whose bilan's individual interview hours pass its maximum, or
    stay below its minimum once the bilan phase is over."""
    last = _last_phase_positions(session)
    paths = _open_paths(filters, own, or_(Programme.hours_max.is_not(None),
                                          Programme.skills_bilan_hours.is_not(None)))
    # 004 Lot 4: wider than the rule (the maximum of either kind of bilan), which decides
    rows = _interview_totals(session, now, paths, lambda _count, _longest, minutes, done: or_(
        done, minutes > Programme.hours_max * 60, minutes > Programme.skills_bilan_hours * 60),
        kind_cap(filters))
    return _bilan_alerts_of(rows, last)


def _bilan_alerts_of(rows, last: dict[int, int]) -> list[AlertItem]:
    """The bilan-hours alerts of these rows (of ``_interview_totals``)."""
    items = []
    for row in rows:
        kind = row[10]
        alert = rules.bilan_hours_alert(
            row[8], kind.value if kind else None, row[14], row[15], row[16],
            bilan_done=row[9] is not None and row[9] == last.get(row[2]),
            kind_label=kind.label if kind else "Bilan (type non renseigné)",
            enrolment_id=row[0], referent_id=row[1], programme_id=row[2])
        if alert:
            items.append(_item(alert, row))
    return items


def _recent_workshops(now: datetime, filters: AlertFilters, own: int | None, query: Select
                      ) -> Select:
    """The workshops of the alerts: held in the last days or within the horizon, of the
    programme chosen, attended by one of the referent's paths."""
    query = query.where(Workshop.held_at >= now - timedelta(days=WORKSHOP_LOOKBACK_DAYS),
                        Workshop.held_at < now + timedelta(days=filters.days))
    if filters.programme_id is not None:
        query = query.where(Workshop.programme_id == filters.programme_id)
    for referent_id in (filters.referent_id, own):
        if referent_id is not None:
            query = query.where(Workshop.id.in_(
                select(WorkshopAttendance.workshop_id)
                .join(Enrolment, WorkshopAttendance.enrolment_id == Enrolment.id)
                .where(Enrolment.referent_id == referent_id)))
    return query


def workshop_length_alerts(session: Session, now: datetime, filters: AlertFilters,
                           own: int | None) -> list[AlertItem]:
    """002 glossary, 004 Lot 1: recent and coming workshops not of their programme's length."""
    query = _recent_workshops(now, filters, own, (
        select(Workshop.id, Workshop.title, Workshop.held_at, Workshop.duration_minutes,
               Programme.id, Programme.code, Programme.workshop_hours)
        .join(Programme, Workshop.programme_id == Programme.id)
        .where(Programme.workshop_hours.is_not(None), Workshop.duration_minutes.is_not(None),
               Workshop.duration_minutes != Programme.workshop_hours * 60)
        .order_by(Workshop.held_at, Workshop.id)))
    items = []
    for wid, title, held_at, minutes, pid, code, hours in session.execute(query):
        alert = rules.workshop_length_alert(minutes, hours, title=title, held_on=held_at.date(),
                                            workshop_id=wid, programme_id=pid)
        if alert:
            items.append(AlertItem(alert, programme_code=code))
    return items


#: 002 II §4: the phase with one interview a week at least, the first individual.
CSP_PHASE_ONE = "phase_1"


def csp_phase_one_alerts(session: Session, now: datetime, filters: AlertFilters,
                         own: int | None) -> list[AlertItem]:
    """002 II §4: active CSP paths in phase 1 with a full week without an interview
    (individual, group session or workshop attended), or a first one not individual.

    Path by path in their order, ``CHUNK`` at a time with their contacts: a page stops
    once it has ``kind_cap`` alerts (at a million people, the contacts of all 7 644 paths
    in phase 1 took 8 s)."""
    today, stop = now.date(), kind_cap(filters)
    query = (
        _path_select(PhaseRecord.started_on)
        .join(PhaseRecord, and_(PhaseRecord.enrolment_id == Enrolment.id,
                                PhaseRecord.ended_on.is_(None)))
        .where(Programme.exit_scheme == "CSP", Enrolment.status == EnrolmentStatus.ACTIVE,
               *_path_filters(filters, own))
    )
    items: list[AlertItem] = []
    for paths in _open_phase_chunks(session, filters, own, CSP_PHASE_ONE, query):
        items += _csp_phase_one_of(session, now, today, paths)
        if stop is not None and len(items) >= stop:
            return items[:stop]
    return items


def _csp_phase_one_of(session: Session, now: datetime, today: date, paths
                      ) -> list[AlertItem]:
    """The phase-one alerts of these paths (rows of ``csp_phase_one_alerts``)."""
    started = {row[0]: row[6] for row in paths}
    events: dict[int, list[tuple[datetime, bool]]] = {eid: [] for eid in started}
    # A phase 1 lasts 8 weeks at most (derogation): its contacts are few. Contacts and
    # workshops attended in one statement, run whatever the paths (a constant count).
    ids = list(started) or [0]
    since = datetime.combine(min(started.values(), default=now.date()), datetime.min.time())
    events_query = union_all(
        select(Contact.enrolment_id.label("eid"), Contact.occurs_at.label("at"),
               ContactType.is_group.label("grp"))
        .join(ContactType, Contact.contact_type_id == ContactType.id)
        .where(Contact.enrolment_id.in_(ids), ContactType.is_remote.is_(False),
               Contact.attendance == Attendance.PRESENT, Contact.occurs_at >= since,
               Contact.occurs_at <= now),
        select(WorkshopAttendance.enrolment_id, Workshop.held_at, literal(True))
        .join(Workshop, WorkshopAttendance.workshop_id == Workshop.id)
        .where(WorkshopAttendance.enrolment_id.in_(ids),
               WorkshopAttendance.attendance == Attendance.PRESENT,
               Workshop.held_at >= since, Workshop.held_at <= now),
    )
    for eid, at, group in session.execute(events_query):
        if eid in started and at.date() >= started[eid]:
            events[eid].append((at, not group))
    items = []
    for row in paths:
        alert = rules.csp_phase_one_alert(
            row[6], today, [(at.date(), individual) for at, individual in sorted(events[row[0]])],
            enrolment_id=row[0], referent_id=row[1],
            programme_id=row[2])
        if alert:
            items.append(_item(alert, row))
    return items


def session_size_alerts(session: Session, now: datetime, filters: AlertFilters,
                        own: int | None) -> list[AlertItem]:
    """004 Lot 2: sessions under way (or ended lately) outside their limits: the session's
    own sizes, else the programme's group limits when they count a session."""
    today = now.date()
    participants = (
        select(func.count(Enrolment.id)).where(Enrolment.session_id == ProgrammeSession.id)
        .correlate(ProgrammeSession).scalar_subquery()
    )
    query = (
        select(ProgrammeSession.id, ProgrammeSession.label, ProgrammeSession.min_size,
               ProgrammeSession.max_size, Programme.id, Programme.code, Programme.group_min,
               Programme.group_max, Programme.group_per_session, participants)
        .join(Programme, ProgrammeSession.programme_id == Programme.id)
        .where(or_(ProgrammeSession.min_size.is_not(None),
                   ProgrammeSession.max_size.is_not(None),
                   Programme.group_per_session.is_(True)),
               ProgrammeSession.starts_on <= today,
               or_(ProgrammeSession.ends_on.is_(None),
                   ProgrammeSession.ends_on >= today - timedelta(days=WORKSHOP_LOOKBACK_DAYS)))
        .order_by(ProgrammeSession.starts_on, ProgrammeSession.id)
    )
    if filters.programme_id is not None:
        query = query.where(ProgrammeSession.programme_id == filters.programme_id)
    for referent_id in (filters.referent_id, own):
        if referent_id is not None:  # sessions one of the referent's paths follows
            query = query.where(ProgrammeSession.id.in_(
                select(Enrolment.session_id).where(Enrolment.referent_id == referent_id)))
    items = []
    for _sid, label, smin, smax, pid, code, gmin, gmax, per_session, count in \
            session.execute(query):
        low = smin if smin is not None else (gmin if per_session else None)
        high = smax if smax is not None else (gmax if per_session else None)
        alert = rules.session_size_alert(count, low, high, label=label, programme_id=pid)
        if alert:
            items.append(AlertItem(alert, programme_code=code))
    return items


#: kind → the query that finds it.
BEHAVIOUR_QUERIES = {
    AlertKind.ABSENCES.value: absence_alerts,
    AlertKind.CSP_CONTACTS.value: csp_contact_alerts,
    AlertKind.PORTFOLIO.value: portfolio_alerts,
    AlertKind.CONSULTANT_LOAD.value: consultant_load_alerts,
    AlertKind.PAST_PLANNED_END.value: past_planned_end_alerts,
    AlertKind.FOLLOW_UP_PAST_END.value: follow_up_past_end_alerts,
    AlertKind.WORKSHOP_SIZE.value: workshop_size_alerts,
    AlertKind.IMMERSION_CAP.value: immersion_cap_alerts,
    AlertKind.INTERNSHIP_MISSING.value: internship_missing_alerts,
    AlertKind.INTERVIEWS.value: interview_alerts,
    AlertKind.BILAN_HOURS.value: bilan_hours_alerts,
    AlertKind.WORKSHOP_LENGTH.value: workshop_length_alerts,
    AlertKind.CSP_PHASE_ONE.value: csp_phase_one_alerts,
    AlertKind.SESSION_SIZE.value: session_size_alerts,
}


def behaviour_alerts(session: Session, now: datetime, filters: AlertFilters = AlertFilters(),
                     own: int | None = None) -> list[AlertItem]:
    """Every behavioural alert the filters ask for."""
    items: list[AlertItem] = []
    for kind, query in BEHAVIOUR_QUERIES.items():
        if filters.wants(kind):
            items.extend(query(session, now, filters, own))
    return items


def alert_list(session: Session, user, now: datetime, filters: AlertFilters = AlertFilters()
               ) -> AlertList:
    """The list the view and the digest show to ``user`` (AlertsForbidden if not allowed).

    ``user=None`` means the command line acting for everyone (coordinator's view).
    """
    own = None if user is None else own_referent_id(user)
    result = AlertList(now=now, filters=filters)
    if filters.kind in (None, "", OVERDUE, DUE_SOON):
        result.obligations = obligation_rows(session, now, filters, own)
        result.overdue_total, result.due_soon_total = obligation_totals(
            session, now, filters, own)
    if filters.scope == ACTIONABLE:
        result.alerts = behaviour_alerts(session, now, filters, own)
    return result


def closed_paths_total(session: Session, user, now: datetime,
                       filters: AlertFilters = AlertFilters()) -> int:
    """How many open obligations of closed paths ``user`` sees (the tab's count)."""
    own = None if user is None else own_referent_id(user)
    late, soon = obligation_totals(
        session, now, AlertFilters(programme_id=filters.programme_id,
                                   referent_id=filters.referent_id, scope=CLOSED_PATHS,
                                   limit=filters.limit), own)
    return late + soon


def group_rows(rows, by: str) -> list[tuple[str, list]]:
    """[(group title, rows)] by « person », « referent » or « programme ».

    By person (issue 20 §4), the groups come most urgent first: rows arrive soonest due
    first, so a person's place is that of their most urgent row; what concerns no person
    (an order, a session) is a group of its own. The others are in alphabetical order.
    """
    if by == "person":
        by_person: dict[object, tuple[str, list]] = {}
        for row in rows:
            key = ("b", row.beneficiary_id) if getattr(row, "beneficiary_id", None) \
                else ("s", row.subject)
            title = row.beneficiary if key[0] == "b" else row.subject
            by_person.setdefault(key, (title, []))[1].append(row)
        return list(by_person.values())
    groups: dict[str, list] = {}
    for row in rows:
        if by == "programme":
            title = row.programme_code or "Sans dispositif"
        else:
            title = row.referent_name or "Sans référent (coordination)"
        groups.setdefault(title, []).append(row)
    return sorted(groups.items(), key=lambda item: item[0].casefold())


def as_of_datetime(day: date) -> datetime:
    """The moment a digest « as of » a day looks from: the start of that day."""
    return datetime.combine(day, datetime.min.time())
