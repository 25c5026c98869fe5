"""The compliance ledger (issue 22 §4): per programme and period, each deadline rule with
the clause it comes from, and how many of its obligations were due, done on time, done
late, still open, with the median delay. Plain Python and SQL, no Flask.

An obligation counts in the period when it is due in it (``due_at`` from the first day
to the last, inclusive); a cancelled one is not owed and is left out. « À temps »: done
on or before its due moment; « en retard »: done after it; « non faite »: not done yet.
The delays are in days (a fraction for hours-based rules, 002 II §4 « 48 h »).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from statistics import median

from sqlalchemy import and_, case, func, literal, select, union_all

from ..models import (
    Beneficiary,
    DeadlineRule,
    Enrolment,
    Obligation,
    ProgrammeSession,
    PurchaseOrder,
    Referral,
    display_name,
)
from .base import declare
from .scope import Scope, days_elapsed, stream

LEDGER = declare(
    "compliance.ledger",
    "Respect des délais du cahier des charges",
    """Pour chaque règle de délai du dispositif (avec la clause du cahier des charges dont
    elle vient) : les obligations dont l'échéance tombe dans la période (annulées exclues),
    celles faites à temps (au plus tard à l'échéance), faites en retard, encore non faites,
    le délai médian de réalisation depuis l'événement déclencheur et le retard médian des
    obligations faites en retard, en jours.""",
    "Règles de délai (seeds/deadline_rules.yaml)",
)


@dataclass(frozen=True)
class LedgerLine:
    """One deadline rule of the ledger."""

    rule_id: int
    rule: str  # the rule's French name
    clause: str  # « 002 II §4 »
    due: int
    on_time: int
    late: int
    still_open: int
    median_days: float | None  # from the event to the completion, done ones
    median_late_days: float | None  # past the due moment, late ones

    @property
    def on_time_rate(self) -> float | None:
        """Done on time among those done (None when none is done)."""
        done = self.on_time + self.late
        return self.on_time / done if done else None


def _median_days(values: list[float] | None) -> float | None:
    """The median of the middle value(s) in days, to a tenth (None when there is none)."""
    return round(median(values), 1) if values else None


def _in_period(scope: Scope):
    """Obligations of a rule due in the scope's period (first day to last, inclusive), not
    cancelled — the ledger's « dues » —, as the join condition on DeadlineRule."""
    start = datetime.combine(scope.date_from, time())
    end = datetime.combine(scope.date_to + timedelta(days=1), time())
    return and_(
        Obligation.rule_id == DeadlineRule.id,
        Obligation.due_at >= start,
        Obligation.due_at < end,
        Obligation.cancelled_at.is_(None),
    )


#: « Délai »: from the event to the completion; « retard »: past the due moment.
DELAY = days_elapsed(Obligation.event_at, Obligation.done_at)
LATENESS = days_elapsed(Obligation.due_at, Obligation.done_at)
#: Done after the due moment, in the words of ix_obligations_late's predicate.
IS_LATE = Obligation.done_at > Obligation.due_at


def _middle(scope: Scope, rule_id: int, kind: str, value, condition, n: int):
    """The middle value(s) of ``value`` over the ``n`` obligations of ``rule_id`` that
    meet ``condition``: the database sorts them and returns one (odd ``n``) or two (even
    ``n``) rows — the median without sending every delay to Python."""
    start = datetime.combine(scope.date_from, time())
    end = datetime.combine(scope.date_to + timedelta(days=1), time())
    middle = (
        select(literal(rule_id).label("rule_id"), literal(kind).label("kind"),
               value.label("days"))
        .where(Obligation.rule_id == rule_id, Obligation.due_at >= start,
               Obligation.due_at < end, Obligation.cancelled_at.is_(None), condition,
               value.is_not(None))
        .order_by(value)
        .offset((n - 1) // 2)
        .limit(2 - n % 2)
        .subquery()
    )
    return select(middle)


def ledger(session, scope: Scope) -> list[LedgerLine]:
    """The ledger of ``scope``'s programme over its period, one line per deadline rule
    (the rules without an obligation due in the period included, with zeros).

    Two statements whatever the number of obligations (issue 22 speed): the counts grouped
    by rule, then the medians — for each rule, the middle of its delays sorted by the
    database (« ORDER BY … LIMIT 1 or 2 OFFSET (n − 1) / 2 », all rules in one UNION
    ALL; same on SQLite, which has no median aggregate, and PostgreSQL). Both read
    ``ix_obligations_rule_due`` alone, the late ones ``ix_obligations_late``.
    """
    done = Obligation.done_at.is_not(None)
    counts = session.execute(
        select(
            DeadlineRule.id,
            DeadlineRule.name,
            DeadlineRule.source,
            func.count(Obligation.id),
            func.coalesce(func.sum(case((and_(done, Obligation.done_at <= Obligation.due_at),
                                         1), else_=0)), 0),
            func.coalesce(func.sum(case((IS_LATE, 1), else_=0)), 0),
            # a rule without obligation joins one empty row: not an open obligation
            func.coalesce(func.sum(case((and_(Obligation.id.is_not(None),
                                              Obligation.done_at.is_(None)), 1), else_=0)), 0),
            # the done ones with an event date: how many delays the median is taken of
            func.coalesce(func.sum(case((and_(done, Obligation.event_at.is_not(None)), 1),
                                        else_=0)), 0),
        )
        .outerjoin(Obligation, _in_period(scope))
        .where(DeadlineRule.programme_id == scope.programme_id)
        .group_by(DeadlineRule.id, DeadlineRule.name, DeadlineRule.source)
        .order_by(DeadlineRule.source, DeadlineRule.name, DeadlineRule.id)
    ).all()
    middles = []
    for rule_id, _name, _source, _due, _on_time, late, _open, with_delay in counts:
        if with_delay:
            middles.append(_middle(scope, rule_id, "delay", DELAY, done, with_delay))
        if late:
            middles.append(_middle(scope, rule_id, "late", LATENESS, IS_LATE, late))
    found: dict[tuple[int, str], list[float]] = {}
    if middles:
        for rule_id, kind, days in session.connection().execute(union_all(*middles)):
            found.setdefault((rule_id, kind), []).append(days)
    return [
        LedgerLine(
            rule_id, name, source or "", due, on_time, late, still_open,
            _median_days(found.get((rule_id, "delay"))),
            _median_days(found.get((rule_id, "late"))),
        )
        for rule_id, name, source, due, on_time, late, still_open, _n in counts
    ]


# --- Drill-down: the late ones ------------------------------------------------------------


@dataclass(frozen=True)
class LateObligation:
    """One obligation of the ledger's « en retard » (done after its due moment), with what
    the drill-down shows: whom it concerns, when it was due and done, and why it was late
    when the user said so (« Motif du retard », ``obligations.late_reason``)."""

    rule_id: int
    rule: str
    clause: str
    obligation_id: int
    name: str
    beneficiary_id: int | None
    last_name: str | None
    first_name: str | None
    enrolment_id: int | None
    referral_id: int | None
    order_number: str | None
    session_label: str | None
    due_at: datetime
    done_at: datetime
    days_late: float
    reason: str | None

    @property
    def person(self) -> str | None:
        """« PRÉVOST Anne », None for an obligation of no person (an order, a report)."""
        if self.beneficiary_id is None:
            return None
        return display_name(self.last_name, self.first_name)

    @property
    def subject(self) -> str:
        """What it concerns when no person does: the order, the session, the programme."""
        if self.order_number is not None:
            return f"Bon de commande {self.order_number}"
        if self.session_label is not None:
            return f"Session « {self.session_label} »"
        return "Dispositif"


def late_query(scope: Scope, rule_id: int | None = None):
    """The late obligations of the ledger (of one rule when ``rule_id``), by rule in the
    ledger's order, then soonest due first."""
    query = (
        select(
            DeadlineRule.id, DeadlineRule.name, DeadlineRule.source, Obligation.id,
            Obligation.name, Beneficiary.id, Beneficiary.last_name, Beneficiary.first_name,
            Obligation.enrolment_id, Obligation.referral_id, PurchaseOrder.number,
            ProgrammeSession.label, Obligation.due_at, Obligation.done_at,
            LATENESS, Obligation.late_reason,
        )
        .select_from(DeadlineRule)
        .join(Obligation, _in_period(scope))
        .outerjoin(Enrolment, Obligation.enrolment_id == Enrolment.id)
        .outerjoin(Referral, Obligation.referral_id == Referral.id)
        .outerjoin(Beneficiary, Beneficiary.id == func.coalesce(Enrolment.beneficiary_id,
                                                                Referral.beneficiary_id))
        .outerjoin(PurchaseOrder, Obligation.purchase_order_id == PurchaseOrder.id)
        .outerjoin(ProgrammeSession, Obligation.session_id == ProgrammeSession.id)
        .where(DeadlineRule.programme_id == scope.programme_id, IS_LATE)
        .order_by(DeadlineRule.source, DeadlineRule.name, DeadlineRule.id, Obligation.due_at,
                  Obligation.id)
    )
    if rule_id is not None:
        query = query.where(DeadlineRule.id == rule_id)
    return query


def late_obligations(session, scope: Scope, rule_id: int | None = None,
                     limit: int | None = None):
    """The ledger's late obligations (:func:`late_query`) as :class:`LateObligation`,
    streamed; ``limit``: the first ones only (a page on screen)."""
    query = late_query(scope, rule_id)
    if limit is not None:
        query = query.limit(limit)
    for row in stream(session, query):
        yield LateObligation(*row[:14], round(row[14], 1), row[15])
