"""Funder workbooks that print well and read without explanation (issue 22 §1, §3).

The workbooks are read back with openpyxl (print set-up, filters, widths, sheet names) and
the chart XML of the file; a last test converts a workbook to PDF with LibreOffice and
counts the pages of the cover and of the key figures (skipped when soffice is absent).
"""

import io
import re
import shutil
import subprocess
import zipfile
from datetime import date

import openpyxl
import pytest
from openpyxl.utils import get_column_letter

from backoffice.enums import Sex
from backoffice.extensions import db
from backoffice.indicators.lists import Column
from backoffice.reports import produce
from backoffice.reports.workbook import (
    CHART_BARS,
    PAPER_A4,
    PORTRAIT_MAX_WIDTH,
    ReportWorkbook,
    fitted_widths,
    top_categories,
)
from tests.integration.test_reports_common import (
    PRODUCED_ON,
    all_text,
    enrol,
    make_report,
    person,
    programme,
    refer,
)

REPORTS = [("del-annual", "DEL-L1"), ("csp-monthly", "CSP"), ("plie-interim", "PLIE-L2"),
           ("plie-final", "PLIE-L2")]
#: Sheets with a native chart beside their tables, and the definitions: landscape; a list
#: is in landscape when its columns are wider than a portrait page.
CHARTS = {"Typologie", "Sorties", "Freins", "Progression", "Résultats cumulés", "Définitions"}
#: List sheets: a header row repeated on every page and an autofilter.
LISTS = {"Sessions", "Liste nominative", "Ruptures", "Participants", "Tableau mensuel"}


@pytest.fixture
def print_app(reference_app):
    """A DEL-L1 path with a long job title (widths) and a PLIE-L2 one, both in 2025."""
    with reference_app.app_context():
        for code, first_name in (("DEL-L1", "Louise"), ("PLIE-L2", "Jeanne")):
            prog = programme(code)
            who = person("Martin", first_name, sex=Sex.FEMALE)
            enrol(who, prog, date(2025, 3, 1), referral=refer(who, prog, date(2025, 2, 1)),
                  planned_end=date(2025, 9, 30), exit_on=date(2025, 9, 30), exit_code="cdi",
                  target_job="Conductrice d'engins de travaux publics et de carrières")
        db.session.commit()
    return reference_app


@pytest.mark.parametrize(("code", "programme_code"), REPORTS)
def test_every_sheet_has_its_print_set_up(print_app, code, programme_code):
    with print_app.app_context():
        book = make_report(code, programme_code, date(2025, 1, 1), date(2025, 12, 31))
    period = "du 01/01/2025 au 31/12/2025"
    for sheet in book.worksheets:
        name = sheet.title
        assert sheet.page_setup.paperSize == PAPER_A4, name  # A4
        assert sheet.sheet_properties.pageSetUpPr.fitToPage, name
        # absent means 1 (ECMA-376 §18.3.1.64): one page wide; high: 1 page or as needed
        assert int(sheet.page_setup.fitToWidth or 1) == 1, name
        one_page = name in ("Couverture", "Indicateurs clés")
        high = sheet.page_setup.fitToHeight
        assert int(1 if high is None else high) == (1 if one_page else 0), name
        if name in CHARTS:
            wide = True
        elif one_page:
            wide = False
        else:
            wide = sum(sheet.column_dimensions[get_column_letter(i)].width
                       for i in range(1, sheet.max_column + 1)) > PORTRAIT_MAX_WIDTH
        assert sheet.page_setup.orientation == ("landscape" if wide else "portrait"), name
        # the report on the left, its period on the right, « page N sur M » below
        assert sheet.oddHeader.left.text, name
        assert period in sheet.oddHeader.right.text, name
        assert sheet.oddFooter.right.text == "page &P sur &N", name
        if name in LISTS or name == "Définitions":
            assert sheet.print_title_rows, name  # header rows repeated on every page
    assert book["Couverture"].print_area
    if code != "csp-monthly":  # the CSP table has no key-figures sheet (002 II annexe 8)
        assert book["Indicateurs clés"].print_area
    assert code != "del-annual" or book["Liste nominative"].page_setup.orientation == "landscape"
    title = {r[0]: r[1] for r in book["Couverture"].iter_rows(values_only=True) if r[0]}
    assert book["Couverture"].oddHeader.left.text.startswith(title["Rapport"][:40])


def test_lists_can_be_filtered_and_their_columns_fit_their_content(print_app):
    with print_app.app_context():
        book = make_report("del-annual", "DEL-L1", date(2025, 1, 1), date(2025, 12, 31))
    sheet = book["Liste nominative"]
    assert sheet.auto_filter.ref and sheet.auto_filter.ref.startswith("A2:")
    headers = [c.value for c in sheet[2]]
    job = get_column_letter(headers.index("Projet professionnel (métier visé)") + 1)
    long_title = "Conductrice d'engins de travaux publics et de carrières"
    assert sheet.column_dimensions[job].width >= len(long_title)
    # « Sexe » was 8 wide: the content « Femme » and the header fit, no more than needed
    sex = get_column_letter(headers.index("Sexe") + 1)
    assert sheet.column_dimensions[sex].width < 12


def test_fitted_widths_follow_the_content_within_bounds():
    columns = (Column("Nom", width=20), Column("Date d'entrée", "date", 13),
               Column("Commentaire", "wrap", 30))
    sample = [("Li", date(2025, 1, 1), "x" * 200), ("Dupont-Moretti", None, None)]
    assert fitted_widths(columns, sample) == [16, 13, 60]
    assert fitted_widths(columns, []) == [5, 13, 13]


def test_key_figures_put_counts_rates_and_averages_in_separate_labelled_tables(print_app):
    with print_app.app_context():
        book = make_report("plie-final", "PLIE-L2", date(2025, 1, 1), date(2025, 12, 31))
    rows = list(book["Indicateurs clés"].iter_rows(values_only=True))
    titles = [r[0] for r in rows]
    counts, rates, means = (titles.index(t) for t in ("Effectifs", "Taux",
                                                       "Moyennes (notes, durées…)"))
    assert rows[counts + 1][:2] == ("Indicateur", "Effectif")
    assert rows[rates + 1][:4] == ("Indicateur", "Taux", "Numérateur", "Dénominateur")
    assert rows[means + 1][:4] == ("Indicateur", "Moyenne", "Somme", "Nombre")
    where = {name: i for i, name in enumerate(titles)}
    # a mean score never sits in the column of rates, nor a count
    assert means < where["Nombre d'entretiens par participant"]
    assert counts < where["Nombre de participants"] < rates


def _chart_xml(data: bytes) -> list[str]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return [archive.read(n).decode() for n in archive.namelist()
                if n.startswith("xl/charts/chart")]


def test_chart_value_axes_start_at_zero(print_app):
    buffer = io.BytesIO()
    with print_app.app_context():
        produce(db.session, "del-annual", buffer, programme_code="DEL-L1",
                date_from=date(2025, 1, 1), date_to=date(2025, 12, 31), producer="x",
                produced_on=PRODUCED_ON)
    charts = _chart_xml(buffer.getvalue())
    assert charts
    for xml in charts:  # the value axis (c:valAx) has its minimum at 0
        value_axis = re.search(r"<c:valAx>.*?</c:valAx>", xml, re.S).group(0)
        assert '<c:min val="0"/>' in value_axis


def test_categories_beyond_the_top_ten_are_grouped_as_autres():
    rows = [(f"Prescripteur {k}", k, 1) for k in range(1, 15)]  # 14 labels, unsorted
    shown = list(top_categories(rows, sort=True))
    assert len(shown) == 11
    assert [r[1] for r in shown[:10]] == list(range(14, 4, -1))  # the 10 largest first
    assert shown[10] == ("Autres (4 modalités)", 1 + 2 + 3 + 4, 4)
    assert list(top_categories(rows[:10], sort=True)) == rows[:10]  # 10: left as they are
    # streamed rows come sorted: not read in full, the rest added up as they come
    assert list(top_categories(iter(rows[::-1]), sort=False))[10][1] == 10


def test_distribution_sheet_shows_ten_categories_and_autres_with_the_full_total():
    buffer = io.BytesIO()
    with ReportWorkbook(buffer, title="Essai", cover=[], period="du 01/01/2025") as book:
        rows = [(f"Modalité {k}", 30 - k) for k in range(CHART_BARS)]
        book.distributions("Typologie", [("Par prescripteur", rows)])
    sheet = openpyxl.load_workbook(io.BytesIO(buffer.getvalue()))["Typologie"]
    values = [r for r in sheet.iter_rows(values_only=True) if r[0]]
    assert values[12][:2] == ("Autres (10 modalités)", sum(30 - k for k in range(10, 20)))
    assert values[13][:2] == ("Total", sum(30 - k for k in range(20)))


def test_pseudonymised_workbook_names_no_nominative_sheet_and_no_staff(print_app):
    with print_app.app_context():
        book = make_report("del-annual", "DEL-L1", date(2025, 1, 1), date(2025, 12, 31),
                           pseudonym_key="secret")
        nominative = make_report("del-annual", "DEL-L1", date(2025, 1, 1),
                                 date(2025, 12, 31))
    assert not any("nominati" in name.lower() for name in book.sheetnames)
    assert "Liste individuelle" in book.sheetnames
    assert "Test Coordinateur" not in all_text(book)  # the producer is a staff member
    assert "Liste nominative" in nominative.sheetnames  # the nominative version keeps it
    assert "Test Coordinateur" in all_text(nominative)


# --- the printed result, with LibreOffice ----------------------------------------------

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")


def _pdf_pages(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page(?!s)", pdf))


@pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (soffice) absent")
def test_cover_and_key_figures_each_print_on_one_page(print_app, tmp_path):
    with print_app.app_context():
        produce(db.session, "del-annual", str(tmp_path / "full.xlsx"), programme_code="DEL-L1",
                date_from=date(2025, 1, 1), date_to=date(2025, 12, 31), producer="x",
                produced_on=PRODUCED_ON)
    for keep in ("Couverture", "Indicateurs clés"):  # one sheet per file, as openpyxl saves
        book = openpyxl.load_workbook(tmp_path / "full.xlsx")
        for sheet in list(book.worksheets):
            if sheet.title != keep:
                book.remove(sheet)
        book.save(tmp_path / f"{keep.split()[0].lower()}.xlsx")
    files = ["full.xlsx", "couverture.xlsx", "indicateurs.xlsx"]
    subprocess.run(
        [SOFFICE, f"-env:UserInstallation=file://{tmp_path}/profile", "--headless",
         "--convert-to", "pdf", "--outdir", str(tmp_path), *files],
        cwd=tmp_path, check=True, capture_output=True, timeout=240)
    pages = {f: _pdf_pages((tmp_path / f.replace(".xlsx", ".pdf")).read_bytes())
             for f in files}
    assert pages["couverture.xlsx"] == 1
    assert pages["indicateurs.xlsx"] == 1
    # the whole workbook: one page per short sheet, not the 41 pages of issue 22
    print(pages)
    assert pages["full.xlsx"] <= 20, pages
