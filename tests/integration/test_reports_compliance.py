"""The compliance ledger (issue 22 §4): each deadline rule with its clause, the obligations
due in the period, done on time, late, still open, and the median delays; on the
indicators page and as a sheet of each report. Counted on a hand-built dataset."""

import io
import re
from datetime import date, datetime

import openpyxl
import pytest
from sqlalchemy import select

from backoffice.enums import DelayUnit
from backoffice.extensions import db
from backoffice.indicators.compliance import late_obligations, ledger
from backoffice.indicators.lists import MASKED, pseudonym
from backoffice.indicators.scope import make_scope
from backoffice.models import AuditEntry, DeadlineRule, Funder, Obligation
from backoffice.reports import produce
from tests.integration.test_admin_access import link_viewer_to_funder
from tests.integration.test_reports_common import (
    PRODUCED_ON,
    enrol,
    person,
    programme,
    refer,
    table_rows,
)

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
    cells = [re.sub(r"<[^>]*>", "", c.split("</td>")[0])
             for c in row.split('class="text-right">')[1:]]
    assert cells == ["4", "2", "1", "1", "2,0", "3,0"]
    assert "002 II §4" in table


def test_the_median_of_an_even_count_is_the_mean_of_the_two_middle_delays(ledger_app):
    """The database returns the one or two middle delays (issue 22 speed): with four done
    (1, 2, 4, 5 days) the median is 3; with two late (2 and 3 days past due) it is 2.5."""
    with ledger_app.app_context():
        rule = db.session.scalar(select(DeadlineRule).where(DeadlineRule.name == RULE))
        db.session.add(Obligation(rule_id=rule.id, programme_id=rule.programme_id, name=RULE,
                                  event_at=at(8, 1), due_at=at(8, 3), done_at=at(8, 5)))
        db.session.commit()
        scope = make_scope(db.session, "CSP", date(2025, 1, 1), date(2025, 12, 31))
        line = next(v for v in ledger(db.session, scope) if v.rule == RULE)
    assert (line.on_time, line.late) == (2, 2)
    assert (line.median_days, line.median_late_days) == (3.0, 2.5)


# --- Drill-down to the late ones (issue 22 §4) ---------------------------------------

REASON = "Bénéficiaire hospitalisée, contrat signé à son retour"


@pytest.fixture
def late_app(ledger_app):
    """Besides the programme's own late obligation (3 days, no person, no reason), a CSP
    path of Louise MARTIN whose obligation was done 4 days late with a reason."""
    with ledger_app.app_context():
        prog = programme("CSP")
        rule = db.session.scalar(select(DeadlineRule).where(DeadlineRule.name == RULE))
        who = person("Martin", "Louise")
        # entered in 2024: the engine's own obligations of the path fall before 2025
        path = enrol(who, prog, date(2024, 12, 2), referral=refer(who, prog, date(2024, 11, 20)))
        db.session.commit()
        db.session.add(Obligation(rule_id=rule.id, enrolment_id=path.id, name=RULE,
                                  event_at=at(9, 1), due_at=at(9, 3), done_at=at(9, 7),
                                  late_reason=REASON))
        db.session.commit()
        ledger_app.config["ids"] = {"rule": rule.id, "path": path.id, "person": who.id}
    return ledger_app


def test_late_obligations_list_the_late_ones_with_their_reason(late_app):
    with late_app.app_context():
        scope = make_scope(db.session, "CSP", date(2025, 1, 1), date(2025, 12, 31))
        rows = list(late_obligations(db.session, scope, late_app.config["ids"]["rule"]))
    assert [(r.person, r.subject if r.person is None else None, r.enrolment_id,
             r.due_at.date(), r.done_at.date(), r.days_late, r.reason) for r in rows] == [
        (None, "Dispositif", None, date(2025, 5, 3), date(2025, 5, 6), 3.0, None),
        ("MARTIN Louise", None, late_app.config["ids"]["path"], date(2025, 9, 3),
         date(2025, 9, 7), 4.0, REASON),
    ]


def late_url(rule_id, **extra):
    return "/admin/indicators/retards/", {
        "report": "csp-monthly", "programme": "CSP", "date_from": "2025-01-01",
        "date_to": "2025-12-31", "rule": rule_id, **extra}


@pytest.fixture
def late_client(late_app, users, client):
    """The test client (the one ``auth`` logs in); the viewer represents France Travail,
    the CSP's funder."""
    with late_app.app_context():
        link_viewer_to_funder(users["viewer"],
                              db.session.scalar(select(Funder.id).where(Funder.code == "FT")))
    return client


def test_the_late_figure_of_the_ledger_opens_its_late_obligations(late_app, late_client, auth):
    auth.login("coordinator")
    rule_id = late_app.config["ids"]["rule"]
    page = late_client.get("/admin/indicators/", query_string={
        "report": "csp-monthly", "programme": "CSP", "date_from": "2025-01-01",
        "date_to": "2025-12-31"}).get_data(as_text=True)
    assert f'data-late-rule="{rule_id}">2</a>' in page
    link = page[page.index("/admin/indicators/retards/?"):].split('"')[0]
    response = late_client.get(link.replace("&amp;", "&"))
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    table = body[body.index('id="retards"'):body.index("</table>")]
    assert "MARTIN Louise" in table and REASON in table
    assert f'/admin/enrolments/details/?id={late_app.config["ids"]["path"]}' in table
    assert "03/05/2025" in table and "06/05/2025" in table and "3,0" in table and "4,0" in table
    assert "2 obligations faites en retard sur 5 dues" in body


def test_a_funder_sees_pseudonyms_and_no_reason(late_app, late_client, auth):
    """A funder's representative (viewer): the same rows, each person by the pseudonym of
    the pseudonymised workbook, no link to the path, the typed reason masked."""
    auth.login("viewer")
    ids = late_app.config["ids"]
    path, query = late_url(ids["rule"])
    body = late_client.get(path, query_string=query).get_data(as_text=True)
    table = body[body.index('id="retards"'):body.index("</table>")]
    assert pseudonym(ids["person"], late_app.config["SECRET_KEY"]) in table
    assert "MARTIN" not in body and "Louise" not in body and REASON not in body
    assert MASKED in table and "/admin/enrolments/" not in table


def test_a_commission_member_sees_names_but_neither_paths_nor_reasons(late_app, late_client,
                                                                     auth):
    """The commission gets the nominative reports but reads neither paths nor deadlines
    (auth/permissions.py): the names, no link to the path, the reason masked."""
    auth.login("commission")
    path, query = late_url(late_app.config["ids"]["rule"])
    body = late_client.get(path, query_string=query).get_data(as_text=True)
    table = body[body.index('id="retards"'):body.index("</table>")]
    assert "MARTIN Louise" in table and MASKED in table and REASON not in body
    assert "/admin/enrolments/" not in table


@pytest.mark.parametrize("role", ["counsellor"])
def test_a_role_without_the_indicators_sees_nothing(late_app, late_client, auth, role):
    auth.login(role)
    path, query = late_url(late_app.config["ids"]["rule"])
    response = late_client.get(path, query_string=query)
    assert response.status_code == 403
    assert "MARTIN" not in response.get_data(as_text=True)


def test_a_funder_asking_another_funders_programme_sees_nothing(late_app, late_client, auth,
                                                              users):
    """A DEL representative asks for the CSP's late ones: refused in French, no row."""
    with late_app.app_context():
        link_viewer_to_funder(users["viewer"],
                              db.session.scalar(select(Funder.id).where(Funder.code == "DEL")))
    auth.login("viewer")
    path, query = late_url(late_app.config["ids"]["rule"])
    response = late_client.get(path, query_string=query)
    body = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "hors du périmètre de votre compte" in body and 'id="retards"' not in body


def test_a_rule_of_another_programme_or_not_a_number_is_refused(late_app, late_client, auth):
    auth.login("coordinator")
    with late_app.app_context():
        other = db.session.scalar(select(DeadlineRule.id).where(
            DeadlineRule.programme_id == programme("DEL-L1").id).limit(1))
    for rule in (other, "x", 2**70):
        path, query = late_url(rule)
        response = late_client.get(path, query_string=query)
        assert response.status_code == 400, rule
        assert 'id="retards"' not in response.get_data(as_text=True)


def test_reading_the_late_ones_is_in_the_audit_trail(late_app, late_client, auth):
    auth.login("coordinator")
    path, query = late_url(late_app.config["ids"]["rule"])
    late_client.get(path, query_string=query)
    with late_app.app_context():
        details = db.session.scalars(select(AuditEntry.detail)).all()
    assert any(d and "/admin/indicators/retards/" in d for d in details)


@pytest.mark.parametrize("key", [None, "secret"])
def test_the_ledger_sheet_lists_the_late_ones_under_it(late_app, key):
    buffer = io.BytesIO()
    with late_app.app_context():
        produce(db.session, "csp-monthly", buffer, programme_code="CSP",
                date_from=date(2025, 1, 1), date_to=date(2025, 12, 31), producer="x",
                produced_on=PRODUCED_ON, pseudonym_key=key)
        person_id = late_app.config["ids"]["person"]
        path_id = late_app.config["ids"]["path"]
    book = openpyxl.load_workbook(io.BytesIO(buffer.getvalue()))
    sheet = book["Respect des délais"]
    rows = list(sheet.iter_rows(values_only=True))
    start = next(i for i, r in enumerate(rows) if r[0] == "Obligations faites en retard "
                 "(détail, avec le motif du retard s'il a été donné)")
    headers, lines = rows[start + 1], [r for r in rows[start + 2:] if r[0]]
    if key is None:
        assert headers[:8] == ("Clause", "Règle de délai", "Concerne", "Parcours n°",
                               "À rendre le", "Faite le", "Retard (jours)", "Motif du retard")
        assert [r[2:4] + r[6:8] for r in lines] == [
            ("Dispositif", None, 3.0, None), ("MARTIN Louise", path_id, 4.0, REASON)]
    else:
        assert headers[:7] == ("Clause", "Règle de délai", "Pseudonyme", "À rendre le",
                               "Faite le", "Retard (jours)", "Motif du retard")
        assert [r[2:3] + r[5:7] for r in lines] == [
            ("Dispositif", 3.0, None), (pseudonym(person_id, key), 4.0, MASKED)]
        text = "\n".join(str(v) for r in rows for v in r if v is not None)
        assert "MARTIN" not in text and "Louise" not in text and REASON not in text
    # one autofilter per sheet (Excel's rule): on the list of the late ones
    assert sheet.auto_filter.ref.startswith(f"A{start + 2}:")
