"""Numbers out of their range are refused before the database sees them, with a French
message naming the field (issue 6 §6: « negative or absurd durations and hours »).

The ranges are not written twice: they are read from the tables' own CHECK constraints
(`x IS NULL OR x BETWEEN a AND b`, `x >= 0`), which stay the backstop in the database.
The check runs on the ORM session before each flush, so admin forms, lifecycle actions
and CLI commands get the same message. It raises a WTForms `ValidationError`: Flask-Admin
shows its text as the form's error message and keeps the user's input.
"""
import re

from sqlalchemy import CheckConstraint, event, inspect
from sqlalchemy.orm import Session
from wtforms.validators import ValidationError

from .extensions import db

_BETWEEN = re.compile(r"^\s*(\w+) IS NULL OR \1 BETWEEN (-?\d+) AND (-?\d+)\s*$", re.I)
_AT_LEAST = re.compile(r"^\s*(\w+) >= (-?\d+)\s*$")


class OutOfRange(ValidationError):
    """A number outside the range its table allows."""


def declared_ranges(metadata) -> dict[str, dict[str, tuple[int | None, int | None]]]:
    """{table: {column: (low, high)}} from the CHECK constraints of every table."""
    ranges: dict[str, dict[str, tuple[int | None, int | None]]] = {}
    for table in metadata.tables.values():
        for constraint in table.constraints:
            if not isinstance(constraint, CheckConstraint):
                continue
            text = str(constraint.sqltext)
            if match := _BETWEEN.match(text):
                column, low, high = match.group(1), int(match.group(2)), int(match.group(3))
            elif match := _AT_LEAST.match(text):
                column, low, high = match.group(1), int(match.group(2)), None
            else:
                continue
            if column in table.columns:
                ranges.setdefault(table.name, {})[column] = (low, high)
    return ranges


_RANGES: dict[str, dict[str, tuple[int | None, int | None]]] = {}


def _label(column: str) -> str:
    from .admin.labels import LABELS  # the French names the forms show

    return LABELS.get(column, column)


def problem(table: str, column: str, value) -> str | None:
    """The French refusal for `value` in `table.column`, or None when it is in range."""
    low, high = _RANGES.get(table, {}).get(column, (None, None))
    if value is None or not isinstance(value, int | float) or isinstance(value, bool):
        return None
    if (low is not None and value < low) or (high is not None and value > high):
        bounds = f"entre {low} et {high}" if high is not None else f"au moins {low}"
        return f"{_label(column)} : {value} n'est pas possible ({bounds} attendu)."
    return None


def _check(session: Session, _context, _instances) -> None:
    for obj in (*session.new, *session.dirty):
        table = getattr(obj, "__tablename__", None)
        columns = _RANGES.get(table)
        if not columns:
            continue
        state = inspect(obj)
        for column in columns:
            if column in state.dict:
                message = problem(table, column, state.dict[column])
                if message:
                    raise OutOfRange(message)


def install() -> None:
    """Read the ranges from the models and check every flush (idempotent)."""
    _RANGES.clear()
    _RANGES.update(declared_ranges(db.metadata))
    if not event.contains(Session, "before_flush", _check):
        event.listen(Session, "before_flush", _check)
