"""The journeys our users make, in a real browser against a real WSGI server."""
import openpyxl
from playwright.sync_api import expect

from tests.e2e.conftest import login


def test_wrong_password_shows_a_french_error(page):
    login(page, "coordination@demo.fr", "pas-le-bon-mot-de-passe")
    expect(page.get_by_role("alert")).to_contain_text("Adresse e-mail ou mot de passe incorrect.")
    assert page.url.endswith("/login")


def test_counsellor_sees_only_their_paths(page):
    login(page, "referent@demo.fr")
    page.goto("/admin/enrolments/")
    referent_cells = page.locator("td.col-referent")
    expect(referent_cells.first).to_be_visible()
    names = set(referent_cells.all_inner_texts())
    assert len(names) == 1, names  # every row is theirs
    page.goto("/admin/users/")
    expect(page.get_by_text("Accès refusé")).to_be_visible()


def test_coordinator_downloads_a_report_in_one_click(page, tmp_path):
    login(page, "coordination@demo.fr")
    page.goto("/admin/indicators/")
    card = page.locator(".card", has_text="CSP — tableau mensuel")
    with page.expect_download() as download_info:
        card.get_by_role("button", name="Télécharger").click()
    target = tmp_path / download_info.value.suggested_filename
    download_info.value.save_as(target)
    assert target.suffix == ".xlsx"
    workbook = openpyxl.load_workbook(target, read_only=True)
    assert "Définitions" in workbook.sheetnames
