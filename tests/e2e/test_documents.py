"""Issue 21 §5: from a PLIE path's page, one click produces the fiche de liaison d'entrée
(004) pre-filled from the record and hands it over; the page then lists it, and it
downloads again as it was kept."""
from io import BytesIO

from docx import Document
from playwright.sync_api import expect

from tests.e2e.conftest import login


def _text(path) -> str:
    document = Document(BytesIO(path.read_bytes()))
    return "\n".join(paragraph.text for paragraph in document.paragraphs)


def test_coordinator_produces_a_document_from_the_path_page_and_downloads_it(page, tmp_path):
    login(page, "coordination@demo.fr")
    page.goto("/admin/enrolments/?page_size=100")
    row = page.locator("tbody tr", has=page.get_by_role("link", name="PLIE-L1")).first
    row.locator("a[href*='/admin/enrolments/details/']").first.click()
    heading = page.locator("h1").first.inner_text()
    last_name = heading.split("—")[0].strip().split()[0]
    documents = page.get_by_role("region", name="Documents")
    expect(documents).to_contain_text("Aucun document produit.")

    with page.expect_download() as produced:
        documents.get_by_role(
            "button", name="Fiche de liaison PLIE — entrée (et questionnaire FSE) (.docx)").click()
    first = tmp_path / produced.value.suggested_filename
    produced.value.save_as(first)
    assert first.suffix == ".docx" and first.name.startswith("fiche-de-liaison-plie")
    text = _text(first)
    assert last_name.lower() in text.lower() and "{{" not in text
    assert "FSE" in text

    page.reload()
    listed = documents.locator("tr[data-document]")
    expect(listed).to_have_count(1)
    expect(listed.first).to_contain_text("Fiche de liaison PLIE")
    expect(listed.first).to_contain_text("d'origine")
    with page.expect_download() as again:
        listed.first.get_by_role("link", name=".docx").click()
    second = tmp_path / ("copie-" + again.value.suggested_filename)
    again.value.save_as(second)
    assert second.read_bytes() == first.read_bytes()
