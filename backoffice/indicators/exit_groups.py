"""Exits counted by SQL, classified by the one exit rule (backoffice/rules/exits.py).

The database groups the exits by exit type and by the facts the classification reads
(contract kind and length, hours a month, follow-up contract, exit before the planned
end): a few dozen groups, whatever the number of paths. Each group is then classified
once with :func:`backoffice.rules.exits.classify_exit`, so the reports never hold a
second copy of the ED / SD / SP or CSP-positive rules.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace

from sqlalchemy import and_, case, func, select

from ..enums import AbandonReason
from ..models import Enrolment, ExitType
from ..rules.exits import ExitClassification, ExitFacts, ExitTypeRule, classify_exit
from .base import Kind, Result, count, indicator, shared
from .scope import Scope, exited_in_period

#: The enrolment columns the classification reads (002 §6, 001 indicator table).
FACT_COLUMNS = (
    Enrolment.contract_kind,
    Enrolment.contract_months,
    Enrolment.hours_per_month,
    Enrolment.followup_contract_kind,
    Enrolment.followup_contract_months,
)


@dataclass(frozen=True)
class ExitGroup:
    """``count`` exits sharing one exit type and the same facts."""

    exit_type: ExitTypeRule
    classification: ExitClassification
    keys: tuple  # the extra GROUP BY values asked for (e.g. the cohort month)
    count: int

    @property
    def is_anticipated(self) -> bool:
        """001 « sortis avant la fin du parcours »: anticipated type or exit before planned end."""
        return self.classification.is_anticipated


def exit_groups(session, where, scheme: str, extra_keys=(), joins=()) -> list[ExitGroup]:
    """Exits matching ``where`` (SQL condition on Enrolment), grouped and classified.

    ``extra_keys`` are SQL expressions added to the GROUP BY and returned in ``keys``;
    ``joins`` are (entity, on-clause) pairs the condition or the keys need.
    """
    early = case(
        (
            and_(
                Enrolment.planned_end_date.is_not(None),
                Enrolment.exit_date < Enrolment.planned_end_date,
            ),
            1,
        ),
        else_=0,
    ).label("early")
    keys = [k for k in extra_keys]
    stmt = (
        select(ExitType.id, *FACT_COLUMNS, early, *keys, func.count())
        .select_from(Enrolment)
        .join(ExitType, Enrolment.exit_type_id == ExitType.id)
    )
    for entity, onclause in joins:
        stmt = stmt.join(entity, onclause)
    stmt = stmt.where(where, Enrolment.exit_date.is_not(None)).group_by(
        ExitType.id, *FACT_COLUMNS, early, *keys
    )
    rows = session.execute(stmt).all()
    classify = classifier(session, scheme)  # each combination of facts classified once
    groups = []
    for exit_type_id, kind, months, hours, f_kind, f_months, is_early, *rest in rows:
        *key_values, n = rest
        rule, classification = classify(
            exit_type_id, (kind, months, hours, f_kind, f_months), bool(is_early)
        )
        groups.append(ExitGroup(rule, classification, tuple(key_values), n))
    return groups


@shared
def exits_in_period(session, scope: Scope) -> list[ExitGroup]:
    """The exits of the scope's period, grouped and classified (read once per workbook);
    ``keys`` holds the abandon's reason (None for any other exit)."""
    return exit_groups(
        session, exited_in_period(scope), scope.exit_scheme, extra_keys=(Enrolment.abandon_reason,)
    )


def reason_label(exit_label: str, abandon_reason: str | None) -> str:
    """The reason of an exit in French: its type, then the abandon's own reason when it
    says more (« À la demande du participant — Déménagement »). Never an internal code."""
    if abandon_reason is None:
        return exit_label
    said = AbandonReason(abandon_reason).label
    return exit_label if said == exit_label else f"{exit_label} — {said}"


def exits_by_reason(session, scope: Scope, keep: Callable[[ExitGroup], bool]) -> list[tuple]:
    """The exits of the period that ``keep`` keeps, by reason (the exit type, and for an
    abandon its reason, see :func:`reason_label`): [(label, count)] by decreasing count,
    then by label."""
    reasons: Counter = Counter()
    for g in exits_in_period(session, scope):
        if keep(g):
            reasons[reason_label(g.exit_type.label, g.keys[0])] += g.count
    return sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))


@indicator(
    "exits.anticipated_reasons",
    "Sorties anticipées et abandons par raison",
    """Sorties de la période avant la fin prévue du parcours, ou d'un type toujours
           anticipé (abandon, rupture, déménagement, santé, motifs de sortie PLIE autres
           que la fin de l'action), comptées par raison : le type de sortie et, pour un
           abandon, le motif déclaré.""",
    "001, tableau des indicateurs (« raisons de la sortie ») ; 002 II §4 ; 004",
    Kind.DISTRIBUTION,
)
def anticipated_reasons(session, scope: Scope) -> Result:
    """COUNT anticipated exits of the period; rows: by reason."""
    rows = exits_by_reason(session, scope, lambda g: g.is_anticipated)
    return count(anticipated_reasons.indicator, sum(n for _, n in rows), rows)


def _anticipated(classification: ExitClassification) -> ExitClassification:
    """The same classification, marked anticipated (exit before the planned end date)."""
    return replace(classification, is_anticipated=True)


def classifier(session, scheme: str):
    """A function (exit_type_id, facts, early) → (ExitTypeRule, ExitClassification) for
    streamed lists, where ``facts`` are the values of :data:`FACT_COLUMNS` and ``early``
    says whether the exit came before the planned end.

    The exit types (a few dozen) are read at the first exit met, and each combination is
    classified once: a few dozen calls of the exit rule, whatever the number of rows.
    """
    rules: dict[int, ExitTypeRule] = {}
    classified: dict[tuple, tuple[ExitTypeRule, ExitClassification]] = {}

    def classify(exit_type_id: int, facts: tuple, early: bool):
        key = (exit_type_id, facts, early)
        if key not in classified:
            if not rules:
                rules.update(
                    (t.id, ExitTypeRule.from_object(t)) for t in session.scalars(select(ExitType))
                )
            rule = rules[exit_type_id]
            found = classify_exit(rule, ExitFacts(*facts), scheme)
            if early and not found.is_anticipated:
                found = _anticipated(found)
            classified[key] = rule, found
        return classified[key]

    return classify
