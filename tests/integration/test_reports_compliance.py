"""The compliance ledger (issue 22 §4): each deadline rule with its clause, the obligations
due in the period, done on time, late, still open, and the median delays; on the
indicators page and as a sheet of each report. Counted on a hand-built dataset."""

import io
from datetime import date, datetime

import openpyxl
import pytest

from backoffice.enums import DelayUnit
from backoffice.extensions import db
from backoffice.indicators.compliance import ledger
from backoffice.indicators.scope import make_scope
from backoffice.models import DeadlineRule, Obligation
from backoffice.reports import produce
from tests.integration.test_reports_common import PRODUCED_ON, programme, table_rows

RULE = "Copie du contrat de sécurisation (essai)"


def at(month, day, hour=10):
    return datetime(2025, month, day, hour)


@pytest.fixture
def ledger_app(reference_app):
    """A CSP rule « 48 h » with four obligations due in 2025 (two on time, one of them at
    the due moment exactly, one late, one open), one cancelled, one due in 2026."""
    with reference_app.app_context():
        prog = programme("CSP")
        rule = DeadlineRule(programme=prog, code="test.contract_copy", name=RULE,
                            trigger_event="entry", offset_value=48, unit=DelayUnit.HOURS,
                            source="002 II §4")
        db.session.add(rule)
        db.session.flush()

        def owe(event_at, due_at, done_at=None, cancelled_at=None):
            db.session.add(Obligation(rule_id=rule.id, programme_id=prog.id, name=RULE,
                                      event_at=event_at, due_at=due_at, done_at=done_at,
                                      cancelled_at=cancelled_at))

        owe(at(3, 1), at(3, 3), done_at=at(3, 2))  # on time, 1 day
        owe(at(4, 1), at(4, 3), done_at=at(4, 3))  # at the due moment: on time, 2 days
        owe(at(5, 1), at(5, 3), done_at=at(5, 6))  # late by 3 days, 5 days in all
        owe(at(6, 1), at(6, 3))  # still open
        owe(at(7, 1), at(7, 3), cancelled_at=at(7, 2))  # cancelled: not owed
        owe(datetime(2026, 1, 1), datetime(2026, 1, 3), done_at=datetime(2026, 1, 9))
        db.session.commit()
    return reference_app


def test_ledger_counts_each_rule_with_its_clause(ledger_app):
    with ledger_app.app_context():
        scope = make_scope(db.session, "CSP", date(2025, 1, 1), date(2025, 12, 31))
        lines = {line.rule: line for line in ledger(db.session, scope)}
    line = lines[RULE]
    assert line.clause == "002 II §4"
    assert (line.due, line.on_time, line.late, line.still_open) == (4, 2, 1, 1)
    assert line.median_days == 2.0 and line.median_late_days == 3.0
    assert line.on_time_rate == pytest.approx(2 / 3)
    # the other rules of the programme are listed too, with nothing due
    others = [v for k, v in lines.items() if k != RULE]
    assert others and all((v.due, v.on_time, v.late, v.still_open) == (0, 0, 0, 0)
                          and v.median_days is None for v in others)


def test_ledger_counts_only_the_obligations_due_in_the_period(ledger_app):
    with ledger_app.app_context():
        scope = make_scope(db.session, "CSP", date(2025, 5, 3), date(2025, 5, 3))
        line = next(v for v in ledger(db.session, scope) if v.rule == RULE)
    assert (line.due, line.on_time, line.late, line.still_open) == (1, 0, 1, 0)


def test_every_report_has_the_ledger_sheet(ledger_app):
    buffer = io.BytesIO()
    with ledger_app.app_context():
        produce(db.session, "csp-monthly", buffer, programme_code="CSP",
                date_from=date(2025, 1, 1), date_to=date(2025, 12, 31), producer="x",
                produced_on=PRODUCED_ON)
    book = openpyxl.load_workbook(io.BytesIO(buffer.getvalue()))
    headers, rows = table_rows(book, "Respect des délais", "Clause")
    assert headers[:6] == ["Clause", "Règle de délai", "Dues", "Faites à temps",
                           "Faites en retard", "Non faites"]
    mine = next(r for r in rows if r[1] == RULE)
    assert mine[:9] == ("002 II §4", RULE, 4, 2, 1, 1, pytest.approx(2 / 3), 2.0, 3.0)
    total = next(r for r in rows if r[0] == "Total")
    assert total[2:6] == (4, 2, 1, 1)
    assert "Respect des délais du cahier des charges" in {
        r[0] for r in book["Définitions"].iter_rows(values_only=True)}


@pytest.mark.parametrize(("code", "programme_code"), [
    ("del-annual", "DEL-L1"), ("plie-interim", "PLIE-L2"), ("plie-final", "PLIE-L2")])
def test_the_other_reports_have_it_too(reference_app, code, programme_code):
    buffer = io.BytesIO()
    with reference_app.app_context():
        produce(db.session, code, buffer, programme_code=programme_code,
                date_from=date(2025, 1, 1), date_to=date(2025, 12, 31), producer="x",
                produced_on=PRODUCED_ON)
    assert "Respect des délais" in openpyxl.load_workbook(buffer).sheetnames


@pytest.fixture
def client(ledger_app, users):
    return ledger_app.test_client()


def test_ledger_is_on_the_indicators_page(client, auth):
    auth.login("coordinator")
    page = client.get("/admin/indicators/", query_string={
        "report": "csp-monthly", "programme": "CSP", "date_from": "2025-01-01",
        "date_to": "2025-12-31"}).get_data(as_text=True)
    table = page[page.index('id="registre-delais"'):]
    table = table[:table.index("</table>")]
    row = table[table.index(RULE):]
    row = row[:row.index("</tr>")]
    cells = [c.split("<")[0] for c in row.split('class="text-right">')[1:]]
    assert cells == ["4", "2", "1", "1", "2,0", "3,0"]
    assert "002 II §4" in table
