"""Pure parts of the indicators and workbooks: no app, no database."""

import ast
import io
import zipfile
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest

from backoffice.indicators import REGISTRY, arjlj, del_indicators, plie
from backoffice.indicators.base import Indicator, Kind, Result, one_reading, rate, shared
from backoffice.indicators.csp import month_label, months_between
from backoffice.indicators.headline import shown
from backoffice.indicators.lists import Column, age_band_of, pseudonym
from backoffice.indicators.typology import years_before
from backoffice.reports.workbook import CHART_BARS, EMPTY_RATE, ReportWorkbook, excel_day

ROOT = Path(__file__).resolve().parents[2]


def test_indicators_package_does_not_import_flask():
    for path in sorted((ROOT / "backoffice" / "indicators").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            assert not any(n.split(".")[0].startswith("flask") for n in names), path.name


def test_every_indicator_has_a_french_name_definition_and_source():
    assert len(REGISTRY) >= 40
    for card in REGISTRY.values():
        assert card.name and card.definition and card.source, card.code
        assert "  " not in card.definition  # whitespace of the source code folded
    for module in (del_indicators, plie, arjlj):
        for function in module.KEY_FIGURES:
            assert function.indicator.code in REGISTRY


def test_rate_of_nobody_is_none():
    card = Indicator("t.x", "X", "déf", "test", Kind.RATE)
    assert rate(card, 0, 0).value is None
    assert rate(card, 1, 4).value == 0.25


@pytest.mark.parametrize(
    ("value", "kind", "expected"),
    [
        (None, Kind.RATE, "—"),
        (0.375, Kind.RATE, "37,5 %"),
        (1.25, Kind.AVERAGE, "1,25"),
        (12345, Kind.COUNT, "12\u202f345"),
    ],
)
def test_figures_shown_in_french(value, kind, expected):
    assert shown(value, kind) == expected


def test_pseudonym_is_stable_keyed_and_short():
    assert pseudonym(42, "k") == pseudonym(42, b"k")
    assert pseudonym(42, "k") != pseudonym(43, "k") != pseudonym(42, "other")
    assert pseudonym(42, "k").startswith("B-") and len(pseudonym(42, "k")) == 8


@pytest.mark.parametrize(
    ("birth", "on", "band"),
    [
        (date(2000, 6, 1), date(2026, 5, 31), "Moins de 26 ans"),  # 25 the day before the birthday
        (date(2000, 6, 1), date(2026, 6, 1), "26 à 44 ans"),
        (date(1980, 1, 1), date(2025, 5, 31), "45 à 54 ans"),
        (date(1970, 1, 1), date(2025, 5, 31), "55 ans et plus"),
    ],
)
def test_age_bands(birth, on, band):
    assert age_band_of(birth, on) == band


def test_calendar_helpers():
    assert years_before(date(2024, 2, 29), 1) == date(2023, 2, 28)
    assert months_between(date(2024, 11, 15), date(2025, 2, 1)) == [
        "2024-11",
        "2024-12",
        "2025-01",
        "2025-02",
    ]
    assert month_label("2025-08") == "août 2025"


def test_workbook_writes_texts_as_text_dates_percent_and_dash():
    card = Indicator("t.rate", "Taux", "Définition du taux.", "test", Kind.RATE)
    buffer = io.BytesIO()
    with ReportWorkbook(
        buffer, title="Essai", cover=[("Période", "2025"), ("Le", date(2025, 1, 2))]
    ) as book:
        book.key_figures("Indicateurs clés", [Result(card, None, 0, 0), Result(card, 0.5, 1, 2)])
        book.table(
            "Liste: [a]/b?",
            (Column("Nom"), Column("Date", "date"), Column("N", "int")),
            iter([("=1+1", date(2025, 3, 1), 2), ("@SUM(A1)", None, 3)]),
            totals=(2,),
        )
        book.distributions("Répartition", [("Sexe", [("Femme", 3), ("Homme", 1)])])
    book = openpyxl.load_workbook(io.BytesIO(buffer.getvalue()))
    assert book.sheetnames == [
        "Couverture",
        "Indicateurs clés",
        "Liste   a  b",
        "Répartition",
        "Définitions",
    ]
    rows = list(book["Indicateurs clés"].iter_rows(values_only=True))
    # issue 22 §3: the rates in their own labelled table
    assert rows[0][0] == "Taux" and rows[1][:4] == ("Indicateur", "Taux", "Numérateur",
                                                    "Dénominateur")
    assert rows[2][:4] == ("Taux", EMPTY_RATE, 0, 0) and rows[3][1] == 0.5
    assert book["Indicateurs clés"]["B4"].number_format == "0.0%"
    sheet = book["Liste   a  b"]
    assert sheet["A2"].value == "=1+1" and sheet["A2"].data_type == "s"
    assert sheet["A3"].value == "@SUM(A1)" and sheet["A3"].data_type == "s"
    assert sheet["B2"].value == datetime(2025, 3, 1) and sheet["B2"].number_format == "dd/mm/yyyy"
    assert (sheet["A4"].value, sheet["C4"].value) == ("Total", 5)
    assert sheet.freeze_panes == "A2"
    assert [r for r in book["Répartition"].iter_rows(values_only=True)][1:5] == [
        ("Modalité", "Effectif", "Part"),
        ("Femme", 3, 0.75),
        ("Homme", 1, 0.25),
        ("Total", 4, 1),
    ]
    assert list(book["Définitions"].iter_rows(values_only=True))[1] == (
        "Taux",
        "Définition du taux.",
        "test",
    )


def test_shared_readings_run_once_per_scope_within_one_reading():
    calls = []

    @shared
    def reading(session, scope, extra=0):
        calls.append((scope, extra))
        return len(calls)

    class Session:  # what one_reading uses of a SQLAlchemy session
        info: dict = {}

    session = Session()
    assert (reading(session, "a"), reading(session, "a")) == (1, 2)  # outside: every call
    with one_reading(session):
        assert reading(session, "a") == reading(session, "a") == 3
        assert reading(session, "b") == 4 and reading(session, "a", 1) == 5
        with one_reading(session):  # nested: the outer reading's answers are kept
            assert reading(session, "b") == 4
        assert reading(session, "b") == 4
    assert session.info == {}  # answers dropped at the end of the reading
    assert reading(session, "a") == 6


@pytest.mark.parametrize(
    "day, number",
    [(date(1900, 3, 1), 61), (date(2000, 1, 1), 36526), (date(2025, 1, 1), 45658)],
)
def test_excel_day_numbers(day, number):
    assert excel_day(day) == number  # Excel's own numbers for these days


def test_table_cells_of_every_kind_and_a_streamed_distribution():
    buffer = io.BytesIO()
    with ReportWorkbook(buffer, title="Essai", cover=[]) as book:
        book.table(
            "Liste",
            (
                Column("Texte", "wrap"),
                Column("Date", "date"),
                Column("Taux", "percent"),
                Column("Moyenne", "decimal"),
                Column("Oui/non"),
            ),
            [
                ("a", datetime(2025, 3, 1, 12), 0.25, 1.5, True),
                (None, date(1900, 1, 10), None, None, False),
            ],
        )
        book.distributions(
            "Répartition", [("Sexe", iter([("Femme", 3), ("Homme", 1)]), 4), ("Vide", [], 0)]
        )
    book = openpyxl.load_workbook(io.BytesIO(buffer.getvalue()))
    sheet = book["Liste"]
    assert [c.value for c in sheet[2]] == ["a", datetime(2025, 3, 1, 12), 0.25, 1.5, "oui"]
    assert [c.number_format for c in sheet[2][1:4]] == ["dd/mm/yyyy", "0.0%", "0.00"]
    assert [c.value for c in sheet[3]] == [None, datetime(1900, 1, 10), EMPTY_RATE, None, "non"]
    rows = list(book["Répartition"].iter_rows(values_only=True))
    assert rows[2:5] == [("Femme", 3, 0.75), ("Homme", 1, 0.25), ("Total", 4, 1)]
    empty = next(i for i, row in enumerate(rows) if row[0] == "Vide")  # below the chart
    assert rows[empty + 2] == ("Total", 0, EMPTY_RATE)
    assert len(book["Répartition"]._charts) == 1  # no chart of an empty distribution


def test_a_long_distribution_shows_its_top_ten_then_autres():
    buffer = io.BytesIO()
    labels = [(f"Prescripteur {i:02}", 100 - i) for i in range(CHART_BARS + 10)]
    with ReportWorkbook(buffer, title="Essai", cover=[]) as book:
        book.distributions("Répartition", [("Prescripteur", labels)])
    with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as archive:
        chart = archive.read("xl/charts/chart1.xml").decode()
    book = openpyxl.load_workbook(io.BytesIO(buffer.getvalue()))
    rows = list(book["Répartition"].iter_rows(values_only=True))
    # issue 22 §3: the ten largest, then the other twenty added up in « Autres »
    assert rows[2 + 9][0] == "Prescripteur 09"
    assert rows[2 + 10][:2] == ("Autres (20 modalités)", sum(100 - i for i in range(10, 30)))
    assert rows[2 + 11][:2] == ("Total", sum(100 - i for i in range(30)))
    # the chart reads the eleven lines (rows 3 to 13 of the sheet), its axis from zero
    assert "<c:f>Répartition!$A$3:$A$13<" in chart
    assert "<c:f>Répartition!$B$3:$B$13<" in chart
    assert '<c:min val="0"/>' in chart


# --- « Objectifs du marché » (issue 19 A.4) --------------------------------------------

@pytest.mark.parametrize(("actual", "as_of", "expected"), [
    (10, date(2025, 12, 31), 10),     # the year is over: the actual
    (0, date(2025, 6, 30), 0),
    (25, date(2025, 7, 2), 49),       # 25 in 183 days → 49 over 365
    (5, date(2024, 12, 31), 0),       # before the year
    (1, date(2025, 1, 1), 365),
])
def test_projection_to_the_end_of_the_year(actual, as_of, expected):
    from backoffice.indicators.targets import projected
    assert projected(actual, 2025, as_of) == expected


@pytest.mark.parametrize(("low", "high", "actual", "ahead", "label", "situation"), [
    # 001 Lot 1 : « accompagner entre 50 et 80 demandeurs par an »
    (50, 80, 30, 60, "50 à 80", "En bonne voie"),
    (50, 80, 20, 40, "50 à 80", "En retard sur l'objectif"),
    (50, 80, 60, 90, "50 à 80", "Au-delà du maximum"),
    (50, 80, 55, 70, "50 à 80", "Objectif atteint"),
    # 004 Lot 1 : « Nombre de participants : 100 minimum »; Lot 4 : « bilans : 10 »
    (100, None, 101, 150, "100 au moins", "Objectif atteint"),
    (10, 10, 4, 9, "10", "En retard sur l'objectif"),
])
def test_target_line_situation(low, high, actual, ahead, label, situation):
    from backoffice.indicators.targets import TargetLine
    line = TargetLine("X", 2025, "Participants", low, high, actual, ahead, "001",
                      date(2025, 6, 30))
    assert (line.target_label, line.situation_label) == (label, situation)
