"""The period a funder report opens on when none is chosen (issue 22 §2).

Table-driven with the specifications' wording: 002 II §9 (CSP table « chaque fin de mois
et au plus tard le 5ème jour ouvré du mois suivant »), 004 §5 (PLIE interim figures
« arrêtés au 31 mai et au 30 septembre »), annual reports over the last complete year.
"""

from datetime import date

import pytest

from backoffice.extensions import db
from backoffice.reports import prepare
from backoffice.reports.periods import csp_due_on, default_period, plie_interim_cut_off
from tests.integration.test_reports_common import make_report


@pytest.mark.parametrize(("code", "today", "expected"), [
    # CSP: the last complete month, cohorts and cumul from January of its year
    ("csp-monthly", date(2026, 1, 15), (date(2025, 1, 1), date(2025, 12, 31))),
    ("csp-monthly", date(2026, 3, 1), (date(2026, 1, 1), date(2026, 2, 28))),
    ("csp-monthly", date(2024, 3, 31), (date(2024, 1, 1), date(2024, 2, 29))),
    # 004 §5: the cut-off just passed, 31 May or 30 September
    ("plie-interim", date(2026, 6, 10), (date(2026, 1, 1), date(2026, 5, 31))),
    ("plie-interim", date(2026, 5, 31), (date(2026, 1, 1), date(2026, 5, 31))),
    ("plie-interim", date(2026, 10, 1), (date(2026, 1, 1), date(2026, 9, 30))),
    ("plie-interim", date(2026, 3, 1), (date(2025, 1, 1), date(2025, 9, 30))),
    # annual reports: the last complete year
    ("del-annual", date(2026, 2, 1), (date(2025, 1, 1), date(2025, 12, 31))),
    ("plie-final", date(2026, 12, 31), (date(2025, 1, 1), date(2025, 12, 31))),
    # the session's dates, the order's window (make_scope)
    ("del-end-of-path", date(2026, 2, 1), None),
    ("arjlj", date(2026, 2, 1), None),
])
def test_default_period_of_each_report(code, today, expected):
    assert default_period(code, today) == expected


def test_plie_interim_cut_off_is_never_in_the_future():
    assert plie_interim_cut_off(date(2026, 5, 30)) == date(2025, 9, 30)


@pytest.mark.parametrize(("month_end", "territory", "due"), [
    # 01/01 is a holiday, then Fri 2, Mon 5, Tue 6, Wed 7, Thu 8 January 2026
    (date(2025, 12, 31), "FR", date(2026, 1, 8)),
    # 1 May (Fri) and 8 May (Fri) are holidays in France: 4, 5, 6, 7, then 11 May 2026
    (date(2026, 4, 30), "FR", date(2026, 5, 11)),
    # no public holiday: the 5th weekday, Fri 6 March 2026
    (date(2026, 2, 28), "FR", date(2026, 3, 6)),
])
def test_csp_table_is_due_on_the_fifth_working_day_of_the_next_month(month_end, territory,
                                                                      due):
    assert csp_due_on(month_end, territory) == due


def test_a_report_asked_without_dates_covers_its_own_period(reference_app):
    with reference_app.app_context():
        _report, csp = prepare(db.session, "csp-monthly", programme_code="CSP",
                               date_from=None, date_to=None, today=date(2026, 1, 15))
        _report, interim = prepare(db.session, "plie-interim", programme_code="PLIE-L2",
                                   date_from=None, date_to=None, today=date(2026, 6, 10))
        _report, annual = prepare(db.session, "del-annual", programme_code="DEL-L1",
                                  date_from=None, date_to=None, today=date(2026, 6, 10))
    assert (csp.date_from, csp.date_to) == (date(2025, 1, 1), date(2025, 12, 31))
    assert (interim.date_from, interim.date_to) == (date(2026, 1, 1), date(2026, 5, 31))
    assert (annual.date_from, annual.date_to) == (date(2025, 1, 1), date(2025, 12, 31))


def test_csp_workbook_names_its_month_and_its_due_date(reference_app):
    with reference_app.app_context():  # produced 15/01/2026: December 2025
        book = make_report("csp-monthly", "CSP", None, None)
    cover = {r[0]: r[1] for r in book["Couverture"].iter_rows(values_only=True) if r[0]}
    assert cover["Rapport"] == "Tableau mensuel CSP — décembre 2025"
    assert cover["Période"] == "du 01/01/2025 au 31/12/2025"
    assert cover["À transmettre au plus tard le"].date() == date(2026, 1, 8)
