"""The population an indicator counts: a programme, a period, optionally a session or order.

A *period* is inclusive at both ends: an exit on the period's last day is in it.
The SQL conditions below are the one place where « followed during the period »,
« referred during the period » and « exited during the period » are defined.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import Float, Integer, String, and_, or_, select, text
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from ..enums import Attendance
from ..models import (
    Contact,
    ContactType,
    Enrolment,
    Programme,
    ProgrammeSession,
    PurchaseOrder,
    Referral,
    Workshop,
    WorkshopAttendance,
)


@dataclass(frozen=True)
class Scope:
    """What a report covers. Build it with :func:`make_scope`."""

    programme_id: int
    programme_code: str
    programme_name: str
    exit_scheme: str
    date_from: date
    date_to: date
    session_id: int | None = None
    session_label: str | None = None
    order_id: int | None = None
    order_number: str | None = None
    funder_name: str = ""

    @property
    def period_label(self) -> str:
        """« du 01/01/2025 au 31/12/2025 »."""
        return f"du {self.date_from:%d/%m/%Y} au {self.date_to:%d/%m/%Y}"


class ScopeError(ValueError):
    """A report was asked for an unknown programme, session or order (French message)."""


def make_scope(
    session,
    programme_code: str,
    date_from: date | None,
    date_to: date | None,
    *,
    session_id: int | None = None,
    order_id: int | None = None,
) -> Scope:
    """Load the programme (and session / order) and check the period.

    For a session or an order, a missing date defaults to the session's dates or to the
    order's support window (002 I §3: 6 weeks from the start date).
    """
    programme = session.scalar(select(Programme).where(Programme.code == programme_code))
    if programme is None:
        raise ScopeError(f"Dispositif « {programme_code} » inconnu.")
    label = number = None
    if session_id is not None:
        cohort = session.get(ProgrammeSession, session_id)
        if cohort is None or cohort.programme_id != programme.id:
            raise ScopeError(
                f"Session n° {session_id} inconnue pour le dispositif {programme.code}."
            )
        label = cohort.label
        date_from = date_from or cohort.starts_on
        date_to = date_to or cohort.ends_on
    if order_id is not None:
        order = session.get(PurchaseOrder, order_id)
        if order is None or order.programme_id != programme.id:
            raise ScopeError(
                f"Bon de commande n° {order_id} inconnu pour le dispositif {programme.code}."
            )
        number = order.number
        start = order.support_start_on or order.received_on or order.issued_on
        date_from = date_from or start
        if date_to is None:
            date_to = start + timedelta(weeks=6)  # 002 I §3: at most 6 weeks
            # 002 I §3: « prend fin le jour de la rupture du contrat de travail du dernier
            # salarié accompagné »
            if order.last_contract_rupture_on is not None:
                date_to = max(date_from, min(date_to, order.last_contract_rupture_on))
    if date_from is None or date_to is None:
        raise ScopeError("Période : indiquer une date de début et une date de fin.")
    if date_to < date_from:
        raise ScopeError(
            f"Période : la date de fin ({date_to:%d/%m/%Y}) précède la date de début "
            f"({date_from:%d/%m/%Y})."
        )
    return Scope(
        programme.id,
        programme.code,
        programme.name,
        programme.exit_scheme,
        date_from,
        date_to,
        session_id,
        label,
        order_id,
        number,
        programme.funder.name,
    )


# --- Populations ----------------------------------------------------------------------


def programme_territory(session, scope: Scope) -> str:
    """The territory of the report's programme (its funder's): whose public holidays its
    working days leave out (« NC », « FR »)."""
    return session.get(Programme, scope.programme_id).funder.territory.value


def followed(scope: Scope):
    """Enrolments followed during the period: entered on or before its end and not exited
    before its start (a path straddling the period counts; a suspended path counts)."""
    conditions = [
        Enrolment.programme_id == scope.programme_id,
        Enrolment.entry_date <= scope.date_to,
        or_(Enrolment.exit_date.is_(None), Enrolment.exit_date >= scope.date_from),
    ]
    if scope.session_id is not None:
        conditions.append(Enrolment.session_id == scope.session_id)
    if scope.order_id is not None:
        conditions.append(Enrolment.purchase_order_id == scope.order_id)
    return and_(*conditions)


def followed_ids(scope: Scope):
    """The ids of the paths :func:`followed`, as a subquery for ``IN``.

    ``contacts.enrolment_id IN (…)`` lets the database start from the scope's paths
    (through the index on the contacts' path) rather than from every contact of the period
    of every programme, which it may prefer for a join.
    """
    return select(Enrolment.id).where(followed(scope))


def attended_contacts(scope: Scope, *conditions):
    """SELECT FROM the contacts attended (« présent ») during the period on the paths
    :func:`followed`, joined to their type, with the extra ``conditions``."""
    start, end = period_moments(scope)
    return (
        select()
        .select_from(Contact)
        .join(ContactType, Contact.contact_type_id == ContactType.id)
        .where(
            Contact.enrolment_id.in_(followed_ids(scope)),
            Contact.attendance == Attendance.PRESENT,
            Contact.occurs_at >= start,
            Contact.occurs_at < end,
            *conditions,
        )
    )


def attended_workshops(scope: Scope):
    """SELECT FROM the presences (émargements « présent ») of the paths :func:`followed` at
    workshops held during the period, joined to their workshop."""
    start, end = period_moments(scope)
    return (
        select()
        .select_from(WorkshopAttendance)
        .join(Workshop, WorkshopAttendance.workshop_id == Workshop.id)
        .where(
            WorkshopAttendance.enrolment_id.in_(followed_ids(scope)),
            WorkshopAttendance.attendance == Attendance.PRESENT,
            Workshop.held_at >= start,
            Workshop.held_at < end,
        )
    )


def exited_in_period(scope: Scope):
    """Enrolments of the scope whose exit date falls within the period (both ends included)."""
    return and_(followed(scope), Enrolment.exit_date.between(scope.date_from, scope.date_to))


def period_moments(scope: Scope) -> tuple[datetime, datetime]:
    """[first day 00:00, day after the last day 00:00): the period for date-time columns."""
    return (
        datetime.combine(scope.date_from, time()),
        datetime.combine(scope.date_to + timedelta(days=1), time()),
    )


def referred_in_period(scope: Scope):
    """Referrals to the programme dated within the period."""
    return and_(
        Referral.programme_id == scope.programme_id,
        Referral.referred_on.between(scope.date_from, scope.date_to),
    )


# --- Portable SQL expressions (SQLite for development, PostgreSQL in production) ------


class year_month(FunctionElement):
    """'YYYY-MM' of a date column (the CSP monthly cohort, 002 §9)."""

    type = String()
    inherit_cache = True


@compiles(year_month)
def _year_month_default(element, compiler, **kw):
    return f"to_char({compiler.process(element.clauses, **kw)}, 'YYYY-MM')"


@compiles(year_month, "sqlite")
def _year_month_sqlite(element, compiler, **kw):
    return f"strftime('%Y-%m', {compiler.process(element.clauses, **kw)})"


class days_between(FunctionElement):
    """Whole days from the first date to the second (second − first)."""

    type = Integer()
    inherit_cache = True


@compiles(days_between)
def _days_between_default(element, compiler, **kw):
    start, end = list(element.clauses)
    return f"({compiler.process(end, **kw)} - {compiler.process(start, **kw)})"


@compiles(days_between, "sqlite")
def _days_between_sqlite(element, compiler, **kw):
    start, end = list(element.clauses)
    return (
        f"CAST(julianday({compiler.process(end, **kw)}) - "
        f"julianday({compiler.process(start, **kw)}) AS INTEGER)"
    )


class days_elapsed(FunctionElement):
    """Days, with their fraction, from the first moment to the second (second − first):
    1.5 for 36 hours. Computed by the database, so that a delay is read as one number."""

    type = Float()
    inherit_cache = True


@compiles(days_elapsed)
def _days_elapsed_default(element, compiler, **kw):
    start, end = list(element.clauses)
    return (f"(EXTRACT(EPOCH FROM ({compiler.process(end, **kw)} - "
            f"{compiler.process(start, **kw)})) / 86400.0)")


@compiles(days_elapsed, "sqlite")
def _days_elapsed_sqlite(element, compiler, **kw):
    start, end = list(element.clauses)
    return (f"(julianday({compiler.process(end, **kw)}) - "
            f"julianday({compiler.process(start, **kw)}))")


class binary_text(FunctionElement):
    """A text column compared code point by code point, as Python sorts strings.

    ORDER BY on text follows the database's collation (on PostgreSQL often a French or
    English locale); this one gives the same order on every engine and locale.
    """

    type = String()
    inherit_cache = True


@compiles(binary_text)
def _binary_text_default(element, compiler, **kw):
    return f'({compiler.process(element.clauses, **kw)} COLLATE "C")'


@compiles(binary_text, "sqlite")
def _binary_text_sqlite(element, compiler, **kw):
    return f"({compiler.process(element.clauses, **kw)} COLLATE BINARY)"


# --- Streaming ----------------------------------------------------------------------------

#: Rows fetched from the database at a time by :func:`stream`.
STREAM_BATCH = 250


def stream(session, stmt):
    """Execute ``stmt`` and yield its rows a batch at a time (memory does not grow with the
    number of rows; on PostgreSQL a server-side cursor).

    PostgreSQL plans a cursor for its first tenth of rows (``cursor_tuple_fraction`` 0.1):
    a fast start, right for a list read in part, wrong here where every row is read. The
    DEL report's exit facts (391 rows of 78 985 paths at a million people) took 842 ms
    through a cursor so planned, against 66–105 ms planned for all its rows. The cursor is
    planned when it is declared, so the setting is back to the session's right after."""
    if session.get_bind().dialect.name != "postgresql":
        yield from session.execute(stmt.execution_options(yield_per=STREAM_BATCH))
        return
    session.execute(text("SET LOCAL cursor_tuple_fraction = 1"))
    result = session.execute(stmt.execution_options(yield_per=STREAM_BATCH))
    session.execute(text("SET LOCAL cursor_tuple_fraction TO DEFAULT"))
    yield from result
