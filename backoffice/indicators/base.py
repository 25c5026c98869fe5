"""What an indicator is: a French name, a definition in words, a source, a value.

Every indicator function of this package is declared with :func:`indicator`, which
records its name and definition in :data:`REGISTRY`. The workbooks' « Définitions » sheet
and the on-screen dashboard read them from there, so the words a funder reads and the
code that computes the figure live side by side.

Plain Python: no Flask import (a test checks it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from functools import wraps


class Kind(StrEnum):
    """How a value is shown: a count, a rate (percent), an average or a distribution."""

    COUNT = "count"
    RATE = "rate"
    AVERAGE = "average"
    DISTRIBUTION = "distribution"


@dataclass(frozen=True)
class Indicator:
    """The identity card of one indicator, as the funder's specification words it."""

    code: str  # stable English identifier, e.g. "del.entry_rate"
    name: str  # French name shown in headers, e.g. « Taux d'entrée »
    definition: str  # French definition in words (« Définitions » sheet, dashboard)
    source: str  # where the specification asks for it, e.g. « 001, tableau des indicateurs »
    kind: Kind = Kind.COUNT


@dataclass(frozen=True)
class Result:
    """The value of an indicator for one scope, with what it is computed from.

    ``value`` is an int (count), a float (rate as a fraction, average) or None when it
    cannot be computed (a rate over an empty population: shown « — »).
    ``rows`` holds the breakdown behind the figure: (label, count[, extra…]) tuples.
    """

    indicator: Indicator
    value: int | float | None
    numerator: int | None = None
    denominator: int | None = None
    rows: tuple[tuple, ...] = field(default_factory=tuple)

    @property
    def name(self) -> str:
        """The French name of the indicator."""
        return self.indicator.name


#: Every declared indicator, by code (filled by the :func:`indicator` decorator).
REGISTRY: dict[str, Indicator] = {}


def declare(
    code: str, name: str, definition: str, source: str, kind: Kind = Kind.COUNT
) -> Indicator:
    """Register an indicator card (for indicators computed together, e.g. a table column)."""
    card = Indicator(code, name, " ".join(definition.split()), source, kind)
    if code in REGISTRY and REGISTRY[code] != card:
        raise ValueError(f"Indicateur « {code} » déclaré deux fois")
    REGISTRY[code] = card
    return card


def indicator(code: str, name: str, definition: str, source: str, kind: Kind = Kind.COUNT):
    """Declare the function below as the computation of indicator ``code``.

    The function gets an ``indicator`` attribute (its :class:`Indicator`), and the
    indicator is added to :data:`REGISTRY`.
    """
    card = declare(code, name, definition, source, kind)

    def decorate(function: Callable) -> Callable:
        function.indicator = card
        return function

    return decorate


#: Key of the memo of :func:`one_reading` in ``session.info``.
_MEMO = "indicators.memo"


@contextmanager
def one_reading(session) -> Iterator[None]:
    """Within this block, each :func:`shared` query runs once per scope.

    A workbook or the dashboard asks many indicators that read the same aggregate (the
    exits grouped and classified, the number of paths followed…): in the block the first
    call queries the database and the next ones reuse its answer. The answers are small
    aggregates and are dropped at the end of the block; outside a block every call
    queries the database.
    """
    if _MEMO in session.info:  # nested: the outer block keeps the memo
        yield
        return
    session.info[_MEMO] = {}
    try:
        yield
    finally:
        session.info.pop(_MEMO, None)


def shared(function: Callable) -> Callable:
    """Decorate ``function(session, scope, *args)`` whose answer :func:`one_reading` keeps."""

    @wraps(function)
    def once(session, scope, *args):
        memo = session.info.get(_MEMO)
        if memo is None:
            return function(session, scope, *args)
        key = (function, scope, args)
        if key not in memo:
            memo[key] = function(session, scope, *args)
        return memo[key]

    return once


def rate(card: Indicator, numerator: int, denominator: int, rows=()) -> Result:
    """A rate result: numerator / denominator, or None (shown « — ») when nobody is counted."""
    value = numerator / denominator if denominator else None
    return Result(card, value, numerator, denominator, tuple(rows))


def count(card: Indicator, value: int, rows=()) -> Result:
    """A count result."""
    return Result(card, int(value or 0), rows=tuple(rows))


def average(card: Indicator, total: float | None, how_many: int, rows=()) -> Result:
    """An average result: total / how_many, or None when nobody answered."""
    value = (total / how_many) if how_many else None
    return Result(card, value, None, how_many, tuple(rows))
