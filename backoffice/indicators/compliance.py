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

from sqlalchemy import and_, case, func, select

from ..models import DeadlineRule, Obligation
from .base import declare
from .scope import Scope, days_elapsed

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
    """The median of delays in days, to a tenth (None when there is none)."""
    return round(median(values), 1) if values else None


def ledger(session, scope: Scope) -> list[LedgerLine]:
    """The ledger of ``scope``'s programme over its period, one line per deadline rule
    (the rules without an obligation due in the period included, with zeros)."""
    start = datetime.combine(scope.date_from, time())
    end = datetime.combine(scope.date_to + timedelta(days=1), time())
    in_period = and_(
        Obligation.rule_id == DeadlineRule.id,
        Obligation.due_at >= start,
        Obligation.due_at < end,
        Obligation.cancelled_at.is_(None),
    )
    done = Obligation.done_at.is_not(None)
    counts = session.execute(
        select(
            DeadlineRule.id,
            DeadlineRule.name,
            DeadlineRule.source,
            func.count(Obligation.id),
            func.coalesce(func.sum(case((and_(done, Obligation.done_at <= Obligation.due_at),
                                         1), else_=0)), 0),
            func.coalesce(func.sum(case((Obligation.done_at > Obligation.due_at, 1),
                                        else_=0)), 0),
            # a rule without obligation joins one empty row: not an open obligation
            func.coalesce(func.sum(case((and_(Obligation.id.is_not(None),
                                              Obligation.done_at.is_(None)), 1), else_=0)), 0),
        )
        .outerjoin(Obligation, in_period)
        .where(DeadlineRule.programme_id == scope.programme_id)
        .group_by(DeadlineRule.id, DeadlineRule.name, DeadlineRule.source)
        .order_by(DeadlineRule.source, DeadlineRule.name, DeadlineRule.id)
    ).all()
    # the delays of the done ones only, each computed by the database as one number (a
    # date-time read by Python costs more than the rest of the ledger), read through Core
    # (no ORM row processing); medians in Python (a window function sorting in SQLite took
    # three times longer)
    delays: dict[int, list[float]] = {}
    lateness: dict[int, list[float]] = {}
    for rule_id, delay, past_due in session.connection().execute(
        select(Obligation.rule_id, days_elapsed(Obligation.event_at, Obligation.done_at),
               days_elapsed(Obligation.due_at, Obligation.done_at))
        .join(DeadlineRule, in_period)
        .where(DeadlineRule.programme_id == scope.programme_id, done)
    ):
        if delay is not None:
            delays.setdefault(rule_id, []).append(delay)
        if past_due > 0:
            lateness.setdefault(rule_id, []).append(past_due)
    return [
        LedgerLine(
            name, source or "", due, on_time, late, still_open,
            _median_days(delays.get(rule_id)),
            _median_days(lateness.get(rule_id)),
        )
        for rule_id, name, source, due, on_time, late, still_open in counts
    ]
