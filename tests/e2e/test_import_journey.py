"""Browser journey of issue 23: a coordinator uploads a DEL list, sees the preview with a
row in error (line, column, rule in French), corrects the cell in the preview and imports.
"""
from playwright.sync_api import expect

from tests.e2e.conftest import ARTIFACTS, login
from tests.import_files import DEL_HEADERS, csv_bytes


def test_coordinator_corrects_a_row_in_the_preview_then_imports(page, tmp_path):
    rows = [
        ["E2E-1", "F", "Tjibaou-Wéa", "Maëlle", "14/07/1990", "02/03/2026", "M. Prescripteur",
         "Antenne de Dumbéa", "Insertion"],
        ["E2E-2", "M", "Kaloï", "Loïc", "31/02/1991", "02/03/2026", "M. Prescripteur",
         "Antenne de Dumbéa", "Insertion"],
    ]
    path = tmp_path / "prescriptions-del.csv"
    path.write_bytes(csv_bytes(DEL_HEADERS, rows, encoding="cp1252",
                               title="Prescriptions DEL — mars 2026"))
    login(page, "coordination@demo.fr")
    page.goto("/admin/referral-imports/")
    expect(page.get_by_role("heading", name="Importer des prescriptions")).to_be_visible()
    del_l1 = page.locator("#programme option", has_text="DEL-L1 —").get_attribute("value")
    page.get_by_label("Dispositif").select_option(del_l1)
    page.get_by_label("Fichier").set_input_files(str(path))
    page.get_by_role("button", name="Lire le fichier").click()

    expect(page.get_by_role("heading", name="Aperçu de l'import")).to_be_visible()
    expect(page.locator("[data-count=new]")).to_have_text("Nouvelle personne : 1")
    expect(page.locator("[data-count=error]")).to_have_text("Erreur : 1")
    page.locator("[data-tab=error]").click()
    error_row = page.locator("tr[data-line='5']")  # title, blank line, header, row 1
    expect(error_row.locator("[data-problem]")).to_contain_text(
        "Ligne 5, colonne « Né(e) le » (Date de naissance) : « 31/02/1991 » n'est pas une date")
    expect(page.locator("tr[data-line='4']")).to_have_count(0)  # only the rows in error
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "import-preview-errors.png"), full_page=True)

    cell = page.get_by_label("Ligne 5 : Date de naissance")
    cell.fill("28/02/1991")
    page.get_by_role("button", name="Enregistrer les corrections").click()
    expect(page.locator(".alert")).to_contain_text("1 ligne(s) corrigée(s)")
    expect(page.locator("[data-count=new]")).to_have_text("Nouvelle personne : 2")
    expect(page.locator("[data-count=error]")).to_have_count(0)

    page.get_by_role("button", name="Importer 2 ligne(s)").click()
    expect(page.locator(".alert")).to_contain_text(
        "2 personne(s) créée(s), 2 prescription(s) créée(s)")
    history = page.locator("#import-history tbody tr").first
    expect(history).to_contain_text("prescriptions-del.csv")
    expect(history.get_by_role("button", name="Annuler l'import")).to_be_visible()
    # no script error and no failed request of the import's pages (a missing favicon aside)
    assert [error for error in page.console_errors if "favicon" not in error
            and not error.startswith("Failed to load resource")] == []
