"""Values out of their range are refused before the database sees them, with a French
message naming the field (issue 6 §6: « negative or absurd durations and hours »; issue 18
§4: ids and sizes beyond the column, a contact in the year 1000, whitespace-only names,
NUL characters).

The ranges are not written twice: they are read from the tables' own CHECK constraints
(`x IS NULL OR x BETWEEN a AND b`, `x >= 0`), which stay the backstop in the database.
Beyond those, three rules hold for every table:

- **numbers**: no figure of the back-office is negative (counts, sizes, durations, hours,
  positions), and none exceeds what its column stores (PostgreSQL's ``integer``: 2^31 − 1);
- **dates**: between `PLAUSIBLE_DATES` (a birth date has its own rule, admin/beneficiaries.py
  and the CHECK constraint ``birth_date_plausible``; computed deadlines are not checked);
- **text**: a required text holds at least one visible character (spaces, non-breaking or
  zero-width characters alone are empty), and no text holds a NUL character (PostgreSQL
  refuses it).

The check runs on the ORM session before each flush, so admin forms, lifecycle actions
and CLI commands get the same message. It raises a WTForms `ValidationError`: Flask-Admin
shows its text as the form's error message and keeps the user's input.
"""
import re
import unicodedata
from datetime import date, datetime

from sqlalchemy import BigInteger, CheckConstraint, Date, DateTime, Integer, String, event, inspect
from sqlalchemy.orm import Session
from wtforms.validators import ValidationError

from .extensions import db

_BETWEEN = re.compile(r"^\s*(\w+) IS NULL OR \1 BETWEEN (-?\d+) AND (-?\d+)\s*$", re.I)
_AT_LEAST = re.compile(r"^\s*(\w+) >= (-?\d+)\s*$")

#: What an ``Integer`` and a ``BigInteger`` column hold on PostgreSQL (SQLite holds 64 bits).
INTEGER_MAX = 2**31 - 1
BIG_INTEGER_MAX = 2**63 - 1

#: Dates of events in a path (contacts, entries, orders…): none before the programmes
#: this back-office serves existed, none in a far future (a typing slip such as 1000 or
#: 9999, which later computations of deadlines could not even carry).
PLAUSIBLE_DATES = (date(1980, 1, 1), date(2099, 12, 31))
#: Dates not held to `PLAUSIBLE_DATES`: a birth date has its own rule; an obligation's
#: dates are computed from checked ones (a deadline may fall after 2099).
OWN_DATE_RULE = {("beneficiaries", "birth_date"), ("obligations", "event_at"),
                 ("obligations", "due_at")}


class OutOfRange(ValidationError):
    """A value outside the range its table allows."""


def declared_ranges(metadata) -> dict[str, dict[str, tuple[int | None, int | None]]]:
    """{table: {column: (low, high)}} for every integer column of every table: its CHECK
    constraint, else « not negative », within what the column stores."""
    ranges: dict[str, dict[str, tuple[int | None, int | None]]] = {}
    for table in metadata.tables.values():
        for column in table.columns:
            if isinstance(column.type, Integer) and not column.primary_key:
                high = BIG_INTEGER_MAX if isinstance(column.type, BigInteger) else INTEGER_MAX
                ranges.setdefault(table.name, {})[column.name] = (0, high)
        for constraint in table.constraints:
            if not isinstance(constraint, CheckConstraint):
                continue
            text = str(constraint.sqltext)
            if match := _BETWEEN.match(text):
                column, low, high = match.group(1), int(match.group(2)), int(match.group(3))
            elif match := _AT_LEAST.match(text):
                column, low = match.group(1), int(match.group(2))
                high = ranges.get(table.name, {}).get(column, (None, None))[1]
            else:
                continue
            if column in table.columns:
                ranges.setdefault(table.name, {})[column] = (low, high)
    return ranges


def _columns_of_type(metadata, types) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for table in metadata.tables.values():
        for column in table.columns:
            if isinstance(column.type, types) and (table.name, column.name) not in OWN_DATE_RULE:
                found.setdefault(table.name, []).append(column.name)
    return found


_RANGES: dict[str, dict[str, tuple[int | None, int | None]]] = {}
_DATES: dict[str, list[str]] = {}
_TEXTS: dict[str, list[tuple[str, bool]]] = {}  # table → [(column, required)]


def _label(column: str) -> str:
    from .admin.labels import LABELS  # the French names the forms show

    return LABELS.get(column, column)


def is_blank(text: str) -> bool:
    """True when `text` shows nothing: spaces of any kind, line breaks, zero-width and
    other invisible format characters (U+200B, U+FEFF…)."""
    return all(c.isspace() or unicodedata.category(c) in ("Cf", "Cc", "Zs") for c in text)


def strip_invisible(text: str) -> str:
    """`text` without the spaces and invisible characters at its ends."""
    start, end = 0, len(text)
    while start < end and is_blank(text[start]):
        start += 1
    while end > start and is_blank(text[end - 1]):
        end -= 1
    return text[start:end]


def problem(table: str, column: str, value) -> str | None:
    """The French refusal for `value` in `table.column`, or None when it is in range."""
    low, high = _RANGES.get(table, {}).get(column, (None, None))
    if value is None or not isinstance(value, int | float) or isinstance(value, bool):
        return None
    if (low is not None and value < low) or (high is not None and value > high):
        if high is None:
            bounds = f"au moins {low}"
        elif high >= INTEGER_MAX:
            bounds = f"un nombre entier d'au moins {low}, pas plus grand que {high}"
        else:
            bounds = f"entre {low} et {high}"
        return f"{_label(column)} : {value} n'est pas possible ({bounds} attendu)."
    return None


def _day(value: date) -> str:
    return f"{value.day:02}/{value.month:02}/{value.year:04}"


def date_problem(column: str, value) -> str | None:
    """The French refusal of a date outside `PLAUSIBLE_DATES`, or None."""
    if not isinstance(value, date):
        return None
    day = value.date() if isinstance(value, datetime) else value
    low, high = PLAUSIBLE_DATES
    if low <= day <= high:
        return None
    return (f"{_label(column)} : le {_day(day)} n'est pas une date plausible "
            f"(entre le {_day(low)} et le {_day(high)} attendu).")


def text_problem(column: str, value, required: bool) -> str | None:
    """The French refusal of a text holding a NUL character, or required and blank."""
    if not isinstance(value, str):
        return None
    if "\x00" in value:
        return f"{_label(column)} : le caractère nul (code 0) n'est pas permis."
    if required and is_blank(value):
        return (f"{_label(column)} : champ obligatoire ; des espaces ou des caractères "
                f"invisibles seuls ne suffisent pas.")
    return None


def _check(session: Session, _context, _instances) -> None:
    for obj in (*session.new, *session.dirty):
        table = getattr(obj, "__tablename__", None)
        if table is None:
            continue
        state = inspect(obj)
        values = state.dict
        for column, required in _TEXTS.get(table, ()):
            if column in values and (message := text_problem(column, values[column], required)):
                raise OutOfRange(message)
        for column in _RANGES.get(table, ()):
            if column in values and (message := problem(table, column, values[column])):
                raise OutOfRange(message)
        for column in _DATES.get(table, ()):
            if column in values and (message := date_problem(column, values[column])):
                raise OutOfRange(message)


def install() -> None:
    """Read the ranges from the models and check every flush (idempotent)."""
    _RANGES.clear()
    _RANGES.update(declared_ranges(db.metadata))
    _DATES.clear()
    _DATES.update(_columns_of_type(db.metadata, (Date, DateTime)))
    _TEXTS.clear()
    for table in db.metadata.tables.values():
        _TEXTS[table.name] = [(column.name, not column.nullable) for column in table.columns
                              if isinstance(column.type, String)]
    if not event.contains(Session, "before_flush", _check):
        event.listen(Session, "before_flush", _check)
