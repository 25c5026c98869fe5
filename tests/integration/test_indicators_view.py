"""/admin/indicators/: who may open it, downloads (nominative or pseudonymised), figures."""

import html
import io
import re
from datetime import date

import openpyxl
import pytest
from sqlalchemy import select

from backoffice.enums import Sex
from backoffice.extensions import db
from backoffice.models import Funder, User
from tests.integration.test_admin_access import link_viewer_to_funder
from tests.integration.test_reports_common import enrol, person, programme, refer

PARAMS = {
    "report": "del-annual",
    "programme": "DEL-L1",
    "date_from": "2025-01-01",
    "date_to": "2025-12-31",
}


@pytest.fixture
def view_app(reference_app):
    """The app with one DEL-L1 path exited on a CDI in 2025."""
    with reference_app.app_context():
        p = programme("DEL-L1")
        who = person("Dupont", "Anne", sex=Sex.FEMALE, email="anne@exemple.fr", phone="0600000000")
        enrol(
            who,
            p,
            date(2025, 3, 1),
            referral=refer(who, p, date(2025, 2, 1)),
            planned_end=date(2025, 9, 30),
            exit_on=date(2025, 9, 30),
            exit_code="cdi",
        )
        db.session.commit()
    return reference_app


@pytest.fixture
def client(view_app, users):
    """A client; the viewer account represents the DEL (issue 18 §1)."""
    with view_app.app_context():
        link_viewer_to_funder(users["viewer"],
                              db.session.scalar(select(Funder.id).where(Funder.code == "DEL")))
    return view_app.test_client()


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("admin", 200),
        ("coordinator", 200),
        ("commission", 200),
        ("viewer", 200),
        ("counsellor", 403),
    ],
)
def test_access_by_role(client, auth, role, status):
    auth.login(role)
    assert client.get("/admin/indicators/").status_code == status
    assert client.get("/admin/indicators/telecharger/", query_string=PARAMS).status_code == status


def test_anonymous_is_sent_to_login(client):
    response = client.get("/admin/indicators/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_page_lists_every_report_with_a_form(client, auth):
    auth.login("coordinator")
    page = client.get("/admin/indicators/").get_data(as_text=True)
    for title in (
        "DEL — bilan annuel",
        "CSP — tableau mensuel",
        "ARJLJ",
        "PLIE — bilan intermédiaire",
        "PLIE — bilan final",
        "bilan de fin de parcours",
    ):
        assert title in page
    assert page.count("Télécharger") >= 6
    assert "cdn" not in page.lower()


def _download(client, **extra):
    response = client.get("/admin/indicators/telecharger/", query_string=PARAMS | extra)
    return response, openpyxl.load_workbook(io.BytesIO(response.data))


def test_coordinator_downloads_the_nominative_workbook(client, auth):
    auth.login("coordinator")
    response, book = _download(client)
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert (
        "bilan-annuel_DEL-L1_2025-01-01_2025-12-31.xlsx" in response.headers["Content-Disposition"]
    )
    assert "Définitions" in book.sheetnames
    names = [r[0] for r in book["Liste nominative"].iter_rows(min_row=3, values_only=True)]
    assert names == ["Dupont"]
    cover = {r[0]: r[1] for r in book["Couverture"].iter_rows(values_only=True) if r[0]}
    assert cover["Produit par"] == "Test Coordinateur" and cover["Version"] == "nominative"


def test_viewer_downloads_a_pseudonymised_workbook(client, auth, view_app):
    from backoffice.indicators.lists import pseudonym

    auth.login("viewer")
    response, book = _download(client)
    assert "pseudonymise" in response.headers["Content-Disposition"]
    text = "\n".join(
        str(v)
        for ws in book.worksheets
        for row in ws.iter_rows(values_only=True)
        for v in row
        if v is not None
    )
    assert "Dupont" not in text and "Anne" not in text and "0600000000" not in text
    assert "anne@exemple.fr" not in text
    with view_app.app_context():
        from sqlalchemy import select

        from backoffice.models import Beneficiary

        expected = pseudonym(
            db.session.scalar(select(Beneficiary.id)), view_app.config["SECRET_KEY"]
        )
    assert expected in text


def test_figures_on_screen_with_svg_charts(client, auth):
    auth.login("viewer")
    page = client.get("/admin/indicators/", query_string=PARAMS).get_data(as_text=True)
    assert (
        "Taux d&#39;insertion dans l&#39;emploi durable (ED)" in page
        or "Taux d'insertion dans l'emploi durable (ED)" in page
    )
    assert "100,0 %" in page  # one path, one CDI
    assert "<svg" in page and "Dupont" not in page


def test_bad_request_shows_a_french_message(client, auth):
    auth.login("admin")
    response = client.get(
        "/admin/indicators/telecharger/", query_string=PARAMS | {"programme": "CSP"}
    )
    assert response.status_code == 400
    assert "n&#39;est pas concerné" in response.get_data(as_text=True)
    page = client.get("/admin/indicators/", query_string=PARAMS | {"date_to": "31/12/2025"})
    assert "invalide" in page.get_data(as_text=True)


def test_bare_link_shows_the_reports_first_programme(client, auth):
    auth.login("coordinator")
    page = client.get("/admin/indicators/?report=del-annual").get_data(as_text=True)
    assert "inconnu" not in page
    assert "DEL-L1" in page


# --- « Objectifs du marché » (issue 19 A.4) ------------------------------------------------

@pytest.mark.parametrize(("role", "status"), [
    ("admin", 200), ("coordinator", 200), ("commission", 200), ("viewer", 200),
    ("counsellor", 403),
])
def test_targets_page_by_role(client, auth, role, status):
    auth.login(role)
    assert client.get("/admin/objectifs/?year=2025").status_code == status


def test_targets_page_sets_each_programme_target_against_the_actual(client, auth):
    auth.login("coordinator")
    page = html.unescape(client.get("/admin/objectifs/?year=2025").get_data(as_text=True))
    assert "Objectifs du marché" in page
    # 001 Lot 1 « entre 50 et 80 demandeurs par an »: one entered in 2025 (view_app)
    assert "DEL-L1" in page and "50 à 80" in page
    # 004 Lot 4 « Nombre de bilans d'orientation ou de compétences : 10 »
    assert "PLIE-L4" in page and "Structures d'accueil différentes" in page
    bad = client.get("/admin/objectifs/?year=deux-mille")
    assert bad.status_code == 200
    assert "Année « deux-mille » invalide" in html.unescape(bad.get_data(as_text=True))


# --- issue 18 §1: a funder's account reports on its own funder's programmes only --------

def test_a_del_representative_gets_no_other_funders_report(client, auth):
    auth.login("viewer")
    page = client.get("/admin/indicators/").get_data(as_text=True)
    assert "DEL — bilan annuel" in page
    for other in ("CSP — tableau mensuel", "PLIE — bilan", "ARJLJ"):
        assert other not in page
    asked = {**PARAMS, "report": "csp-monthly", "programme": "CSP"}
    response = client.get("/admin/indicators/telecharger/", query_string=asked)
    assert response.status_code == 400
    assert "hors du périmètre de votre compte" in response.get_data(as_text=True)
    assert response.mimetype == "text/html"  # no workbook
    shown = client.get("/admin/indicators/", query_string=asked).get_data(as_text=True)
    assert "hors du périmètre de votre compte" in shown


def test_a_viewer_linked_to_no_funder_sees_no_programme(view_app, client, auth, users):
    with view_app.app_context():
        db.session.get(User, users["viewer"]).funder_id = None
        db.session.commit()
    auth.login("viewer")
    page = client.get("/admin/indicators/").get_data(as_text=True)
    assert "DEL — bilan annuel" not in page
    response = client.get("/admin/indicators/telecharger/", query_string=PARAMS)
    assert response.status_code == 400
    # other roles are not scoped: the coordinator still gets every report
    auth.logout()
    auth.login("coordinator")
    assert client.get("/admin/indicators/telecharger/", query_string=PARAMS).status_code == 200


# --- the period and the sessions a form opens on (issue 22 §2) -------------------------

def _form(page: str, code: str) -> str:
    start = page.index(f'name="report" value="{code}"')
    return page[start:page.index("</form>", start)]


def test_each_form_opens_on_its_report_period(view_app, client, auth):
    from backoffice.reports.periods import csp_due_on, default_period

    with view_app.app_context():
        territory = programme("CSP").funder.territory.value

    auth.login("coordinator")
    page = client.get("/admin/indicators/").get_data(as_text=True)
    today = date.today()
    for code in ("csp-monthly", "plie-interim", "plie-final", "del-annual"):
        first, last = default_period(code, today)
        form = _form(page, code)
        assert f'name="date_from" value="{first.isoformat()}"' in form, code
        assert f'name="date_to" value="{last.isoformat()}"' in form, code
    for code in ("del-end-of-path", "arjlj"):  # the session's or the order's dates
        form = _form(page, code)
        assert 'name="date_from" value=""' in form and 'name="date_to" value=""' in form
    due = csp_due_on(default_period("csp-monthly", today)[1], territory)
    assert f"au plus tard le {due:%d/%m/%Y}" in page


def test_sessions_offered_are_those_of_the_chosen_programme(view_app, client, auth):
    from backoffice.models import ProgrammeSession

    with view_app.app_context():
        for code in ("DEL-L1", "DEL-L2"):
            db.session.add(ProgrammeSession(programme=programme(code), label=f"Session {code}",
                                            starts_on=date(2025, 3, 1),
                                            ends_on=date(2025, 9, 30)))
        db.session.commit()
    auth.login("coordinator")
    page = client.get("/admin/indicators/", query_string={
        "report": "del-end-of-path", "programme": "DEL-L2"}).get_data(as_text=True)
    form = _form(page, "del-end-of-path")
    assert re.search(r'<option value="\d+" data-programme="DEL-L2" >Session DEL-L2', form)
    assert re.search(r'data-programme="DEL-L1" hidden disabled>Session DEL-L1', form)
    # without a programme chosen, the sessions of the first one only
    form = _form(client.get("/admin/indicators/").get_data(as_text=True), "del-end-of-path")
    assert re.search(r'data-programme="DEL-L2" hidden disabled>Session DEL-L2', form)
    assert "<script nonce=" in page  # the filter follows the programme chosen (CSP nonce)
