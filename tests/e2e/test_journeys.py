"""The journeys our users make, in a real browser against a real WSGI server."""
import urllib.request
from datetime import date

import openpyxl
from playwright.sync_api import expect

from tests.e2e.conftest import DEMO_PASSWORD, login


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


def _accept_confirmations(page):
    page.on("dialog", lambda dialog: dialog.accept())


def test_commission_validates_two_pending_referrals_in_bulk(page):
    login(page, "commission@demo.fr")
    _accept_confirmations(page)
    page.goto("/admin/referrals/?flt0_0=PENDING")  # the « Statut égal à En attente » filter
    rows = page.locator("tbody tr")
    expect(rows.first).to_be_visible()
    # Two referrals of one programme: its commission validates them (001 « Organisation »)
    by_programme: dict[str, list] = {}
    for index in range(rows.count()):
        text = rows.nth(index).inner_text()
        code = next((c for c in ("DEL-L1", "DEL-L2", "PLIE-L1", "PLIE-L2", "PLIE-L3",
                                 "PLIE-L4", "CSP", "ARJLJ") if c in text), None)
        by_programme.setdefault(code, []).append(rows.nth(index).locator("input[name=rowid]"))
    boxes = next(found for found in by_programme.values() if len(found) >= 2)
    chosen = [boxes[0].get_attribute("value"), boxes[1].get_attribute("value")]
    boxes[0].check()
    boxes[1].check()
    page.get_by_role("button", name="Avec la sélection").click()
    page.get_by_role("link", name="Valider l'entrée").click()
    expect(page.get_by_role("heading", name="Valider l'entrée")).to_be_visible()
    page.locator("#lifecycle-form").get_by_role("button", name="Valider l'entrée").click()
    expect(page.get_by_role("alert").first).to_contain_text("2 prescriptions validées")
    page.goto("/admin/referrals/?flt0_0=VALIDATED")
    for referral_id in chosen:
        expect(page.locator(f"input[name=rowid][value='{referral_id}']")).to_have_count(1)


def _active_del_paths(page) -> list[str]:
    page.goto("/admin/enrolments/?search=&page_size=100")
    rows = page.locator("tbody tr")
    ids = []
    for index in range(rows.count()):
        row = rows.nth(index)
        text = row.inner_text()
        if "DEL-L1" in text and "En cours" in text:
            ids.append(row.locator("input[name=rowid]").get_attribute("value"))
    return ids


def test_coordinator_declares_an_abandon_then_closes_a_path_with_a_durable_job(page):
    login(page, "coordination@demo.fr")
    first, second = _active_del_paths(page)[:2]

    page.goto(f"/admin/enrolments/details/?id={first}")
    page.get_by_role("button", name="Déclarer un abandon").click()
    page.get_by_label("Date de l'abandon").fill(date.today().isoformat())
    page.get_by_label("Motif de l'abandon").select_option(label="Déménagement", force=True)
    page.get_by_label("Difficultés rencontrées").fill("Départ pour la province Nord.")
    page.locator("#lifecycle-form").get_by_role("button", name="Déclarer un abandon").click()
    expect(page.get_by_role("alert").first).to_contain_text("bandon")

    page.goto(f"/admin/enrolments/details/?id={second}")
    page.get_by_role("button", name="Clôturer avec un type de sortie").click()
    page.get_by_label("Type de sortie").select_option(label="CDD", force=True)
    page.locator("#lifecycle-form").get_by_role("button").first.click()
    page.get_by_label("Date de sortie").fill(date.today().isoformat())
    page.get_by_label("Durée du contrat (mois)").fill("8")
    page.get_by_label("Employeur").fill("Boulangerie de l'Anse Vata")
    page.locator("#lifecycle-form").get_by_role("button").first.click()
    expect(page.get_by_role("alert").first).to_contain_text("emploi durable")


def test_coordinator_fills_a_workshop_s_attendance_sheet_at_once(page):
    login(page, "coordination@demo.fr")
    page.goto("/admin/workshops/")
    page.locator("a[title=\"Feuille d'émargement\"]").first.click()
    expect(page.get_by_role("heading", name="Feuille d'émargement")).to_be_visible()
    marks = page.locator("#lifecycle-form select[name^=path_]")
    expect(marks.first).to_be_attached()
    first, second = marks.nth(0).get_attribute("name"), marks.nth(1).get_attribute("name")
    marks.nth(0).select_option("present", force=True)
    marks.nth(1).select_option("excused", force=True)
    sheet_url = page.url
    page.locator("#lifecycle-form").get_by_role("button", name="Enregistrer la feuille").click()
    expect(page.get_by_role("alert").first).to_contain_text("Feuille d'émargement enregistrée")
    page.goto(sheet_url)
    expect(page.locator(f"select[name={first}]")).to_have_value("present")
    expect(page.locator(f"select[name={second}]")).to_have_value("excused")


def test_a_funder_changes_their_own_password_from_the_menu(page):
    """« Mon compte › Changer mon mot de passe », then a login with the new one (issue 18
    §7), and back to the demo's password for the other journeys."""
    login(page, "financeur@demo.fr")
    menu = page.locator("#admin-navbar-collapse")
    menu.get_by_role("link", name="Mon compte").click()
    menu.get_by_role("link", name="Changer mon mot de passe").click()
    page.get_by_label("Mot de passe actuel", exact=True).fill(DEMO_PASSWORD)
    page.get_by_label("Nouveau mot de passe", exact=True).fill("cheval agrafe pile correcte")
    page.get_by_label("Nouveau mot de passe (confirmation)", exact=True) \
        .fill("cheval agrafe pile correcte")
    page.get_by_role("button", name="Changer mon mot de passe").click()
    expect(page.get_by_role("alert").first).to_contain_text("Votre mot de passe a été changé")
    page.get_by_role("button", name="Se déconnecter").click()
    login(page, "financeur@demo.fr", "cheval agrafe pile correcte")
    expect(page.get_by_role("button", name="Se déconnecter")).to_be_visible()
    # back to the demo's password: the other journeys log in as the funder too
    page.goto("/admin/account/")
    page.get_by_label("Mot de passe actuel", exact=True).fill("cheval agrafe pile correcte")
    page.get_by_label("Nouveau mot de passe", exact=True).fill(DEMO_PASSWORD)
    page.get_by_label("Nouveau mot de passe (confirmation)", exact=True).fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Changer mon mot de passe").click()
    expect(page.get_by_role("alert").first).to_contain_text("Votre mot de passe a été changé")


def test_gunicorn_answers_without_a_server_banner(server):
    """gunicorn.conf.py drops gunicorn's `Server:` line; the app's headers are all there."""
    with urllib.request.urlopen(server + "/login", timeout=10) as response:
        headers = response.headers
    assert "Server" not in headers, headers.get("Server")
    assert headers["X-Frame-Options"] == "DENY"
