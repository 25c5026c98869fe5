"""Working-day calendar: weekends and public holidays of New Caledonia (NC) and France (FR).

Expected dates are worked out by hand from a 2026 calendar (1 January 2026 is a Thursday).
"""

from datetime import date, datetime

import pytest

from backoffice.rules.calendar import (
    add_calendar_days,
    add_hours,
    add_months,
    add_working_days,
    is_working_day,
    next_working_day,
    nth_working_day_of_month,
    planned_end_date,
    working_days_between,
)

D = date


@pytest.mark.parametrize(
    ("day", "territory", "expected"),
    [
        (D(2026, 7, 14), "FR", False),  # fête nationale, a Tuesday
        (D(2026, 7, 14), "NC", False),
        (D(2026, 9, 24), "NC", False),  # fête de la citoyenneté, New Caledonia only
        (D(2026, 9, 24), "FR", True),
        (D(2026, 4, 6), "FR", False),  # lundi de Pâques
        (D(2026, 4, 6), "NC", False),
        (D(2026, 4, 3), "FR", True),  # Good Friday: not a holiday outside Alsace-Moselle
        (D(2026, 5, 14), "FR", False),  # Ascension
        (D(2027, 11, 1), "FR", False),  # Toussaint, a Monday
        (D(2027, 11, 1), "NC", False),
        (D(2026, 12, 25), "FR", False),
        (D(2027, 1, 1), "NC", False),
        (D(2026, 12, 31), "FR", True),
        (D(2026, 3, 7), "FR", False),  # Saturday
        (D(2026, 3, 8), "NC", False),  # Sunday
        (D(2026, 3, 9), "FR", True),  # ordinary Monday
        (datetime(2026, 7, 14, 9, 0), "FR", False),  # a timestamp is judged by its date
    ],
)
def test_is_working_day(day, territory, expected):
    assert is_working_day(day, territory) is expected


def test_unknown_territory_is_refused_in_french():
    with pytest.raises(ValueError, match="Territoire : « XX »"):
        is_working_day(D(2026, 3, 9), "XX")


@pytest.mark.parametrize(
    ("day", "territory", "expected"),
    [
        (D(2026, 12, 26), "FR", D(2026, 12, 28)),  # Saturday after Christmas
        (D(2026, 12, 31), "FR", D(2026, 12, 31)),  # already a working day
        (D(2027, 1, 1), "NC", D(2027, 1, 4)),  # New Year on a Friday
        (D(2026, 4, 5), "FR", D(2026, 4, 7)),  # Easter Sunday, then Easter Monday
        (D(2026, 9, 24), "NC", D(2026, 9, 25)),
        (D(2026, 9, 24), "FR", D(2026, 9, 24)),
        (D(2026, 8, 15), "NC", D(2026, 8, 17)),  # Assomption on a Saturday
        (datetime(2026, 4, 4, 10, 0), "FR", datetime(2026, 4, 7, 10, 0)),  # keeps the time
    ],
)
def test_next_working_day(day, territory, expected):
    assert next_working_day(day, territory) == expected


@pytest.mark.parametrize(
    ("start", "n", "territory", "expected"),
    [
        (D(2026, 3, 6), 2, "FR", D(2026, 3, 10)),  # 002 I §4: order on Friday → Tuesday
        (D(2026, 5, 7), 2, "FR", D(2026, 5, 12)),  # Friday 8 May is a holiday
        (D(2026, 7, 10), 2, "FR", D(2026, 7, 15)),  # Tuesday 14 July skipped
        (D(2026, 9, 23), 1, "NC", D(2026, 9, 25)),  # citizenship day skipped in NC
        (D(2026, 9, 23), 1, "FR", D(2026, 9, 24)),
        (D(2026, 12, 24), 1, "FR", D(2026, 12, 28)),
        (D(2026, 12, 31), 1, "NC", D(2027, 1, 4)),
        (D(2026, 3, 7), 0, "FR", D(2026, 3, 9)),  # n = 0 rolls a Saturday to Monday
        (D(2026, 3, 9), 0, "FR", D(2026, 3, 9)),
        (datetime(2026, 3, 6, 16, 30), 2, "FR", datetime(2026, 3, 10, 16, 30)),
    ],
)
def test_add_working_days(start, n, territory, expected):
    assert add_working_days(start, n, territory) == expected


def test_add_working_days_refuses_a_negative_count():
    with pytest.raises(ValueError, match="Nombre de jours ouvrés"):
        add_working_days(D(2026, 3, 9), -1, "FR")


@pytest.mark.parametrize(
    ("day", "n", "expected"),
    [
        (D(2026, 12, 28), 8, D(2027, 1, 5)),
        (D(2028, 2, 25), 4, D(2028, 2, 29)),  # leap year
        (D(2026, 3, 1), 0, D(2026, 3, 1)),
    ],
)
def test_add_calendar_days(day, n, expected):
    assert add_calendar_days(day, n) == expected


@pytest.mark.parametrize(
    ("day", "n", "expected"),
    [
        (D(2026, 1, 31), 1, D(2026, 2, 28)),
        (D(2028, 1, 31), 1, D(2028, 2, 29)),  # leap year
        (D(2026, 3, 31), 1, D(2026, 4, 30)),
        (D(2026, 11, 15), 3, D(2027, 2, 15)),  # across the year end
        (D(2026, 12, 31), 2, D(2027, 2, 28)),
        (D(2026, 3, 31), -1, D(2026, 2, 28)),
        (D(2028, 2, 29), 12, D(2029, 2, 28)),
        (D(2026, 1, 15), 7, D(2026, 8, 15)),
        (D(2026, 5, 10), 0, D(2026, 5, 10)),
        (datetime(2026, 1, 31, 8, 30), 1, datetime(2026, 2, 28, 8, 30)),
    ],
)
def test_add_months(day, n, expected):
    assert add_months(day, n) == expected


@pytest.mark.parametrize(
    ("ts", "hours", "expected"),
    [
        (datetime(2026, 3, 6, 10, 0), 48, datetime(2026, 3, 8, 10, 0)),
        (datetime(2026, 3, 31, 23, 30), 1, datetime(2026, 4, 1, 0, 30)),
    ],
)
def test_add_hours(ts, hours, expected):
    assert add_hours(ts, hours) == expected


def test_add_hours_needs_a_timestamp():
    with pytest.raises(TypeError):
        add_hours(D(2026, 3, 6), 48)


@pytest.mark.parametrize(
    ("start", "end", "territory", "expected"),
    [
        (D(2026, 3, 6), D(2026, 3, 10), "FR", 2),
        (D(2026, 12, 24), D(2027, 1, 4), "FR", 5),  # 28, 29, 30, 31 Dec and 4 Jan
        (D(2026, 3, 10), D(2026, 3, 10), "FR", 0),
        (D(2026, 3, 10), D(2026, 3, 6), "FR", -2),
        (D(2026, 9, 23), D(2026, 9, 25), "NC", 1),
        (D(2026, 9, 23), D(2026, 9, 25), "FR", 2),
    ],
)
def test_working_days_between(start, end, territory, expected):
    assert working_days_between(start, end, territory) == expected


@pytest.mark.parametrize(
    ("year", "month", "n", "territory", "expected"),
    [
        (2026, 11, 5, "FR", D(2026, 11, 6)),  # 1 Nov is a Sunday, 11 Nov comes later
        (2027, 11, 5, "FR", D(2027, 11, 8)),  # 1 Nov on a Monday
        (2025, 11, 5, "FR", D(2025, 11, 7)),
        (2026, 5, 5, "FR", D(2026, 5, 11)),  # 1 and 8 May, both Fridays
        (2027, 1, 5, "FR", D(2027, 1, 8)),  # New Year on a Friday
        (2026, 4, 5, "FR", D(2026, 4, 8)),  # Easter Monday
        (2026, 7, 10, "FR", D(2026, 7, 15)),  # 14 July
    ],
)
def test_nth_working_day_of_month(year, month, n, territory, expected):
    assert nth_working_day_of_month(year, month, n, territory) == expected


@pytest.mark.parametrize("n", [0, 25])
def test_nth_working_day_of_month_out_of_range(n):
    with pytest.raises(ValueError, match="Rang du jour ouvré"):
        nth_working_day_of_month(2026, 2, n, "FR")  # February 2026 has 20 working days


@pytest.mark.parametrize(
    ("entry", "months", "weeks", "territory", "extra_days", "expected"),
    [
        (D(2026, 1, 15), 7, None, "FR", 0, D(2026, 8, 14)),  # DEL-L1 average, inclusive end
        (D(2026, 1, 16), 7, None, "NC", 0, D(2026, 8, 17)),  # 15 Aug, a Saturday and a holiday
        (D(2026, 3, 2), 8, None, "NC", 0, D(2026, 11, 2)),  # DEL-L2: 1 Nov, a Sunday
        (D(2026, 12, 26), 12, None, "FR", 0, D(2027, 12, 27)),  # CSP: Christmas on a Saturday
        (D(2026, 1, 2), 12, None, "FR", 0, D(2027, 1, 4)),  # New Year's Day on a Friday
        (D(2026, 2, 23), None, 6, "FR", 0, D(2026, 4, 7)),  # ARJLJ: Easter Sunday and Monday
        (D(2026, 3, 25), 6, None, "NC", 0, D(2026, 9, 25)),  # 24 Sep, NC only
        (D(2026, 3, 25), 6, None, "FR", 0, D(2026, 9, 24)),
        (D(2027, 3, 1), 12, None, "FR", 0, D(2028, 2, 29)),  # leap year
        (D(2028, 2, 29), 12, None, "FR", 0, D(2029, 2, 28)),  # clamped to the month end
        (D(2026, 1, 31), 1, None, "FR", 0, D(2026, 3, 2)),  # 28 Feb, a Saturday
        (D(2026, 1, 28), 1, None, "FR", 0, D(2026, 2, 27)),
        (D(2026, 1, 15), 7, None, "FR", 30, D(2026, 9, 14)),  # pushed 30 days to a Sunday
    ],
)
def test_planned_end_date(entry, months, weeks, territory, extra_days, expected):
    result = planned_end_date(entry, months, weeks, territory=territory, extra_days=extra_days)
    assert result == expected


@pytest.mark.parametrize(("months", "weeks"), [(None, None), (0, None), (None, 0), (-1, None)])
def test_planned_end_date_needs_a_positive_duration(months, weeks):
    with pytest.raises(ValueError, match="Durée du parcours"):
        planned_end_date(D(2026, 1, 15), months, weeks, territory="FR")


# 002 II §5 « avant la fin du 6ème mois d'adhésion »; §3 « au plus tard à la date de fin
# d'adhésion » (12 months): the last day of N months from a first day, never moved.
@pytest.mark.parametrize(("start", "months", "last"), [
    (date(2026, 1, 15), 6, date(2026, 7, 14)),  # a holiday: stays
    (date(2025, 8, 31), 6, date(2026, 2, 28)),  # clamped, a Saturday: stays
    (date(2026, 3, 2), 12, date(2027, 3, 1)),
    (date(2026, 11, 14), 12, date(2027, 11, 13)),  # a Saturday: stays
])
def test_last_day_of_months(start, months, last):
    from backoffice.rules.calendar import last_day_of_months

    assert last_day_of_months(start, months) == last


@pytest.mark.parametrize(("day", "expected"), [
    (date(2026, 7, 15), date(2026, 7, 15)),  # a working day
    (date(2026, 7, 14), date(2026, 7, 13)),  # 14 July → Monday 13
    (date(2026, 6, 14), date(2026, 6, 12)),  # Sunday → Friday
    (datetime(2026, 5, 25, 10), datetime(2026, 5, 22, 10)),  # Whit Monday → Friday, 10:00
])
def test_previous_working_day(day, expected):
    from backoffice.rules.calendar import previous_working_day

    assert previous_working_day(day, "FR") == expected
