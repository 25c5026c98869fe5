"""Working-day calendar by territory: weekends, public holidays, month arithmetic.

A territory chooses the public-holiday calendar (domain.md "Funder"): ``"NC"`` for
New Caledonia (DEL, 001), ``"FR"`` for metropolitan France (France Travail 002, PLIE 004).
Holidays come from the ``holidays`` package; a working day (jour ouvré) is Monday to
Friday and not a public holiday.

Every function takes the dates it works on as arguments: nothing here reads the clock.
"""

from __future__ import annotations

import calendar as _stdlib_calendar
from datetime import date, datetime, timedelta
from functools import cache

import holidays

from backoffice.enums import Territory

#: Territories the ``holidays`` package is asked about (domain.md "Funder").
SUPPORTED_TERRITORIES = frozenset(t.value for t in Territory)


def _as_date(day: date | datetime) -> date:
    """Return the calendar date of ``day`` (a datetime loses its time of day)."""
    return day.date() if isinstance(day, datetime) else day


def _check_territory(territory: str) -> str:
    """Return ``territory`` if it has a holiday calendar, else raise ValueError in French."""
    if territory not in SUPPORTED_TERRITORIES:
        known = ", ".join(sorted(SUPPORTED_TERRITORIES))
        raise ValueError(
            f"Territoire : « {territory} » n'a pas de calendrier des jours fériés "
            f"(territoires connus : {known})"
        )
    return territory


@cache
def holiday_dates(territory: str, year: int) -> frozenset[date]:
    """Public holidays of ``territory`` in ``year`` (cached per territory and year)."""
    _check_territory(territory)
    return frozenset(holidays.country_holidays(territory, years=year).keys())


def is_working_day(day: date | datetime, territory: str) -> bool:
    """True when ``day`` is Monday to Friday and not a public holiday of ``territory``."""
    day = _as_date(day)
    return day.weekday() < 5 and day not in holiday_dates(territory, day.year)


def next_working_day(day: date | datetime, territory: str) -> date | datetime:
    """Return ``day`` itself if it is a working day, else the first working day after it.

    A datetime keeps its time of day (only the date moves).
    """
    # 002 §3: an end date on a weekend or holiday moves to the next working day
    while not is_working_day(day, territory):
        day = day + timedelta(days=1)
    return day


def previous_working_day(day: date | datetime, territory: str) -> date | datetime:
    """Return ``day`` itself if it is a working day, else the last working day before it.

    A datetime keeps its time of day (only the date moves).
    """
    # 002 II §5: a deliverable due « avant » a day that is not worked is due the day before
    while not is_working_day(day, territory):
        day = day - timedelta(days=1)
    return day


def add_working_days(start: date | datetime, n: int, territory: str) -> date | datetime:
    """Return the ``n``-th working day after ``start`` (``start`` itself is not counted).

    ``n = 0`` returns ``start`` rolled to the next working day (``start`` if it already is
    one), so that a zero delay never lands on a weekend. A datetime keeps its time of day.
    ``n`` must not be negative.
    """
    # 002 I §4: "dans un délai maximum de 2 jours ouvrés à compter de la réception"
    if n < 0:
        raise ValueError(f"Nombre de jours ouvrés : {n} est négatif, attendu 0 ou plus")
    if n == 0:
        return next_working_day(start, territory)
    day = start
    remaining = n
    while remaining:
        day = day + timedelta(days=1)
        if is_working_day(day, territory):
            remaining -= 1
    return day


def add_calendar_days(day: date | datetime, n: int) -> date | datetime:
    """Return ``day`` plus ``n`` calendar days (weekends and holidays included)."""
    return day + timedelta(days=n)


def add_months(day: date | datetime, n: int) -> date | datetime:
    """Return ``day`` plus ``n`` months, clamped to the end of a shorter month.

    31 January + 1 month = 28 February (29 in a leap year); ``n`` may be negative.
    A datetime keeps its time of day.
    """
    month_index = day.year * 12 + (day.month - 1) + n
    year, month = divmod(month_index, 12)
    month += 1
    last_day = _stdlib_calendar.monthrange(year, month)[1]
    return day.replace(year=year, month=month, day=min(day.day, last_day))


def last_day_of_months(start: date, months: int) -> date:
    """The last day of ``months`` months counted from ``start`` (``start`` is day one),
    never moved: 15/01 + 6 months → 14/07; a clamped 31/08 + 6 months → 28/02.

    002 II §5 « avant la fin du 6ème mois d'adhésion »; 002 II §3 « au plus tard à la date
    de fin d'adhésion » (adhesion + 12 months).
    """
    end = add_months(start, months)
    return end - timedelta(days=1) if end.day == start.day else end


def add_hours(ts: datetime, hours: int | float) -> datetime:
    """Return the timestamp ``hours`` hours after ``ts`` (counted round the clock)."""
    # 002 II §4: "dans un délai maximum de 48 heures à compter de l'entretien de pré-bilan"
    if not isinstance(ts, datetime):
        raise TypeError("add_hours attend une date et heure (datetime), pas une date seule")
    return ts + timedelta(hours=hours)


def working_days_between(start: date | datetime, end: date | datetime, territory: str) -> int:
    """Count the working days after ``start`` up to and including ``end``.

    It is the inverse of :func:`add_working_days`: ``working_days_between(d,
    add_working_days(d, n)) == n`` for n ≥ 1. When ``end`` is before ``start`` the count
    is negative (the days after ``end`` up to and including ``start``).
    """
    start, end = _as_date(start), _as_date(end)
    if end < start:
        return -working_days_between(end, start, territory)
    count = 0
    day = start
    while day < end:
        day += timedelta(days=1)
        if is_working_day(day, territory):
            count += 1
    return count


def nth_working_day_of_month(year: int, month: int, n: int, territory: str) -> date:
    """Return the ``n``-th working day (n ≥ 1) of ``month`` in ``year``.

    Used for the CSP monthly indicator table, due the 5th working day of the next month.
    """
    # 002 §9: "au plus tard le 5ème jour ouvré du mois suivant"
    if n < 1:
        raise ValueError(f"Rang du jour ouvré : {n}, attendu 1 ou plus")
    day_before_month = date(year, month, 1) - timedelta(days=1)
    day = add_working_days(day_before_month, n, territory)
    if day.month != month:
        raise ValueError(
            f"Rang du jour ouvré : le mois {month:02d}/{year} compte moins de {n} jours ouvrés"
        )
    return day


def planned_end_date(
    entry: date,
    months: int | None = None,
    weeks: int | None = None,
    *,
    territory: str,
    extra_days: int = 0,
) -> date:
    """Return the last day of a path that starts on ``entry`` and lasts months and/or weeks.

    The end is inclusive: entry 15/01/2026 + 7 months ends on 14/08/2026. When the
    month arithmetic has to clamp (entry on the 29th-31st, shorter target month), the
    path ends on the last day of the target month (31/01 + 1 month ends on 28/02).
    ``extra_days`` pushes the end (CSP work suspensions of experimental publics, see
    ``lifecycle.suspension_extension_days``). The result moves to the next working day
    when it falls on a weekend or public holiday.
    """
    if not (months or weeks) or (months or 0) < 0 or (weeks or 0) < 0:
        raise ValueError("Durée du parcours : indiquer une durée positive en mois ou en semaines")
    end = entry
    clamped = False
    if months:
        end = add_months(entry, months)
        clamped = end.day != entry.day
    if weeks:
        end = end + timedelta(weeks=weeks)
    if not clamped:
        end = end - timedelta(days=1)  # inclusive: the day before the same date
    end = end + timedelta(days=extra_days)
    # 002 §3: "décalée au premier jour ouvré suivant si la date de fin tombe pendant un
    # week-end ou un jour férié"
    return next_working_day(end, territory)
