"""The period a report opens on when none is given (issue 22 §2); plain Python, no Flask.

- CSP monthly (002 II §9): the last complete month, its cohorts from January of that
  month's year and their cumul; the table is due « au plus tard le 5ème jour ouvré du mois
  suivant ».
- PLIE interim (004 §5, « bilans intermédiaires »): the cut-off just passed, 31 May or
  30 September, figures from 1 January of that year.
- DEL annual, PLIE final: the last complete calendar year.
- DEL end of path and ARJLJ: the session's dates or the order's window (indicators/scope.py
  ``make_scope``): no default here.
"""

from __future__ import annotations

from datetime import date, timedelta

from ..rules.calendar import add_working_days

#: 004 §5: « chiffres respectivement arrêtés au 31 mai et au 30 septembre » (month, day).
PLIE_CUT_OFFS = ((5, 31), (9, 30))
#: 002 II §9: « au plus tard le 5ème jour ouvré du mois suivant ».
CSP_DUE_WORKING_DAY = 5


def last_complete_month(today: date) -> tuple[date, date]:
    """(first day, last day) of the month before ``today``'s."""
    last = today.replace(day=1) - timedelta(days=1)
    return last.replace(day=1), last


def csp_due_on(month_end: date, territory: str) -> date:
    """The day the CSP table of the month ending on ``month_end`` is due: the 5th working
    day of the next month (002 II §9), public holidays of ``territory`` excluded."""
    return add_working_days(month_end, CSP_DUE_WORKING_DAY, territory)


def plie_interim_cut_off(today: date) -> date:
    """The last PLIE interim cut-off on or before ``today`` (004 §5): 31 May or 30 September
    of this year, else 30 September of last year."""
    passed = [date(today.year, m, d) for m, d in PLIE_CUT_OFFS if date(today.year, m, d) <= today]
    if passed:
        return passed[-1]
    month, day = PLIE_CUT_OFFS[-1]
    return date(today.year - 1, month, day)


def default_period(report_code: str, today: date) -> tuple[date, date] | None:
    """The period report ``report_code`` opens on; None when it comes from the session or
    the order (DEL end of path, ARJLJ)."""
    if report_code == "csp-monthly":
        _first, last = last_complete_month(today)
        return date(last.year, 1, 1), last
    if report_code == "plie-interim":
        cut_off = plie_interim_cut_off(today)
        return date(cut_off.year, 1, 1), cut_off
    if report_code in ("del-annual", "plie-final"):
        return date(today.year - 1, 1, 1), date(today.year - 1, 12, 31)
    return None
