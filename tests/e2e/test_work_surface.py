"""Issue 20 §10: the work surface in a real browser — the person's story in two clicks, a
contact added from the path's page and found on its timeline, a date typed the French
way, and each role's home page (screenshots in tests/e2e/artifacts/)."""
import re
from datetime import date

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import ARTIFACTS, login


def test_coordinator_rebuilds_a_persons_story_from_the_search_box(page):
    login(page, "coordination@demo.fr")
    page.goto("/admin/beneficiaries/")
    name = page.locator("td.col-last_name").first.inner_text().strip()
    search = page.locator("input[name=search]")
    search.fill(name)
    search.press("Enter")  # first click (or key)
    page.locator("tbody tr").first.locator("a[title='Voir la fiche'], a.icon").first.click()
    expect(page.locator("h1")).to_contain_text(name.upper())
    expect(page.get_by_role("tab", name=re.compile("Chronologie"))).to_be_visible()
    page.get_by_role("tab", name=re.compile("Chronologie")).click()
    expect(page.locator("#timeline li").first).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "person_page.png"), full_page=True)


def test_counsellor_adds_a_contact_from_the_path_page_and_finds_it_on_the_timeline(page):
    login(page, "referent@demo.fr")
    page.goto("/admin/enrolments/?flt0_0=ACTIVE")
    page.locator("tbody tr").first.locator("a.icon").first.click()
    expect(page.get_by_role("tab", name="Dossier")).to_be_visible()
    path_url = page.url
    section = page.locator("h4", has_text="Entretiens et contacts").locator("xpath=..")
    section.get_by_role("link", name="+ Ajouter").click()
    today = date.today()
    when = page.locator("input[name=occurs_at]")
    when.focus()
    when.press_sequentially(f"{today:%d%m%Y}0930")
    page.locator("select#contact_type").select_option(index=1, force=True)
    page.get_by_role("button", name="Enregistrer", exact=True).click()
    expect(page).to_have_url(path_url)
    page.get_by_role("tab", name=re.compile("Chronologie")).click()
    expect(page.locator("#timeline li", has_text=f"{today:%d/%m/%Y}").filter(
        has_text="Contact").first).to_be_visible()


def test_a_birth_date_typed_the_french_way_is_saved_as_typed(page):
    login(page, "coordination@demo.fr")
    page.goto("/admin/beneficiaries/")
    page.locator("tbody tr").first.locator("a[href*='/edit/']").first.click()
    person_id = re.search(r"id=(\d+)", page.url).group(1)
    born = page.locator("input[name=birth_date]")
    born.focus()
    born.press_sequentially("21071994")
    assert born.input_value() == "1994-07-21"
    page.get_by_role("button", name="Enregistrer", exact=True).click()
    expect(page.get_by_role("alert").first).not_to_contain_text("Rien n'a été enregistré")
    page.goto(f"/admin/beneficiaries/details/?id={person_id}")
    expect(page.locator("section[aria-label='Identité']")).to_contain_text("le 21/07/1994")


@pytest.mark.parametrize("account", ["admin", "coordination", "commission", "referent",
                                     "financeur"])
def test_each_roles_home_page(page, account):
    login(page, f"{account}@demo.fr")
    page.goto("/admin/")
    expect(page.locator("h1")).to_contain_text("Bonjour")
    if account != "financeur":
        first = page.locator("a.todo").first
        expect(first).to_be_visible()
        first.click()
        assert page.url != "/admin/"
        page.goto("/admin/")
    page.screenshot(path=str(ARTIFACTS / f"home_{account}.png"), full_page=True)


def test_a_commission_member_validates_defers_and_refuses_from_the_home_page(page):
    """Issue 20 §7 and §10: from the home page's working view, each row offers its
    decisions; « Ajourner » asks the reason and the next commission, and the deferred
    referral stays in the working view."""
    login(page, "commission@demo.fr")
    page.goto("/admin/")
    page.locator("a.todo", has_text="à décider").first.click()
    working_view = page.url.split("?")[1]  # the filter of the working view
    rows = page.locator("tbody tr")

    def decide(title: str, status: str | None = "En attente"):
        """The first row offering `title` (« En attente » unless `status` is None)."""
        row = rows.filter(has=page.locator(f"a[title=\"{title}\"]"))
        if status is not None:
            row = row.filter(has=page.locator("td.col-status", has_text=status))
        row = row.first
        referral = row.locator("input[name=rowid]").get_attribute("value")
        row.locator(f"a[title=\"{title}\"]").click()
        expect(page.locator("h1")).to_contain_text(title)
        expect(page.locator("#lifecycle-selection")).to_contain_text(referral)
        return referral

    validated = decide("Valider l'entrée")
    page.screenshot(path=str(ARTIFACTS / "commission_validate_form.png"), full_page=True)
    page.locator("#lifecycle-form").get_by_role("button", name="Valider l'entrée").click()
    expect(page.get_by_role("alert").first).to_contain_text("1 prescription validée")
    assert working_view in page.url  # back to the working view

    deferred = decide("Ajourner")
    page.locator("textarea[name=reason]").fill("Pièces manquantes : attestation de domicile")
    page.locator("select[name=deferred_to]").select_option("", force=True)
    next_on = date.fromordinal(date.today().toordinal() + 14)
    when = page.locator("input[name=next_commission_on]")
    when.focus()
    when.press_sequentially(f"{next_on:%d%m%Y}")
    page.screenshot(path=str(ARTIFACTS / "commission_defer_form.png"), full_page=True)
    page.locator("#lifecycle-form").get_by_role("button", name="Ajourner").click()
    expect(page.get_by_role("alert").first).to_contain_text(
        "1 prescription ajournée, reportée à la Commission")
    expect(page.get_by_role("alert").first).to_contain_text(f"{next_on:%d/%m/%Y}")
    deferred_row = page.locator(f"tbody tr:has(input[name=rowid][value='{deferred}'])")
    expect(deferred_row).to_contain_text("Ajournée")  # still in the working view
    expect(deferred_row.locator("a[title='Ajourner']")).to_have_count(0)

    # the demo's pending referrals may all be decided by now (other journeys): a deferred
    # one is refused as well, as a commission does at its next session
    refused = decide("Refuser", status=None)
    assert refused != validated
    page.locator("textarea[name=reason]").fill("Hors critères du dispositif")
    page.locator("#lifecycle-form").get_by_role("button", name="Refuser").click()
    expect(page.get_by_role("alert").first).to_contain_text("1 prescription refusée")
    expect(page.locator(f"tbody tr:has(input[name=rowid][value='{refused}'])")).to_have_count(0)
    page.screenshot(path=str(ARTIFACTS / "commission_working_view.png"), full_page=True)


#: What sticks out past the right edge of a 375 px screen (tag, classes, right edge).
OVERFLOWING = """() => [...document.querySelectorAll('body *')]
    .filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
    .slice(0, 8)
    .map(e => `${e.tagName}.${e.className} ${Math.round(e.getBoundingClientRect().right)}`)"""


#: Table cells past the right edge with no scrolling box around them (clipped, unreadable).
CLIPPED_CELLS = """() => [...document.querySelectorAll('th, td')].filter(cell => {
    const box = cell.getBoundingClientRect();
    if (box.width === 0 || box.right <= document.documentElement.clientWidth + 1) return false;
    for (let e = cell.parentElement; e; e = e.parentElement) {
        if (['auto', 'scroll'].includes(getComputedStyle(e).overflowX)) return false;
    }
    return true;
}).map(cell => cell.textContent.trim().slice(0, 30))"""


def _fits_375_px(page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}_375px.png"), full_page=True)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, (name, width, page.evaluate(OVERFLOWING))
    assert page.evaluate(CLIPPED_CELLS) == [], name  # wide tables scroll in their own box


def test_the_persons_page_and_the_alerts_fit_a_375_px_phone(page):
    """Issue 20 §9: usable at 375 px — no horizontal scroll of the page (wide tables
    scroll inside their own box), the navigation wraps."""
    page.set_viewport_size({"width": 375, "height": 812})
    login(page, "referent@demo.fr")
    page.goto("/admin/enrolments/?flt0_0=ACTIVE")
    page.locator("tbody tr").first.locator("a.icon").first.click()
    person = page.locator("a[href*='/admin/beneficiaries/details/']").first.get_attribute("href")
    page.goto(person)
    expect(page.locator("section[aria-label='Identité']")).to_be_visible()
    _fits_375_px(page, "person_page")
    page.get_by_role("tab", name=re.compile("Chronologie")).click()
    _fits_375_px(page, "person_timeline")
    page.goto("/admin/alerts/")
    expect(page.locator("h1, h2").first).to_be_visible()
    _fits_375_px(page, "alerts")
    page.context.clear_cookies()
    login(page, "coordination@demo.fr")
    page.goto(person)
    _fits_375_px(page, "person_page_coordinator")
    page.goto("/admin/alerts/")
    _fits_375_px(page, "alerts_coordinator")
