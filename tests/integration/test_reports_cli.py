"""`flask export REPORT …` writes the same workbook as the web page."""

from datetime import date

import openpyxl
import pytest

from backoffice.commands.reports import export_command, register
from backoffice.extensions import db
from tests.integration.test_reports_common import enrol, key_figures, person, programme, refer


@pytest.fixture
def cli_app(reference_app):
    if "export" not in reference_app.cli.commands:
        register(reference_app)
    with reference_app.app_context():
        p = programme("DEL-L1")
        who = person("=cmd|' /C calc'!A0", "Zoé")
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


def test_export_writes_the_workbook(cli_app, tmp_path):
    out = tmp_path / "bilan.xlsx"
    result = cli_app.test_cli_runner().invoke(
        args=[
            "export",
            "del-annual",
            "--programme",
            "DEL-L1",
            "--from",
            "2025-01-01",
            "--to",
            "2025-12-31",
            "--output",
            str(out),
            "--producer",
            "Coordination",
        ]
    )
    assert result.exit_code == 0, result.output
    assert "Classeur écrit" in result.output
    book = openpyxl.load_workbook(out)
    assert key_figures(book)["Taux d'insertion dans l'emploi durable (ED)"] == (1.0, 1, 1)
    assert book["Liste nominative"]["A3"].value == "=cmd|' /C calc'!A0"
    assert book["Liste nominative"]["A3"].data_type == "s"


def test_export_pseudonymised(cli_app, tmp_path):
    out = tmp_path / "bilan.xlsx"
    result = cli_app.test_cli_runner().invoke(
        args=[
            "export",
            "del-annual",
            "--programme",
            "DEL-L1",
            "--from",
            "2025-01-01",
            "--to",
            "2025-12-31",
            "--output",
            str(out),
            "--pseudonymise",
        ]
    )
    assert result.exit_code == 0, result.output
    assert openpyxl.load_workbook(out)["Liste individuelle"]["A2"].value == "Pseudonyme"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["del-annual", "--programme", "XX", "--from", "2025-01-01", "--to", "2025-12-31"],
            "inconnu",
        ),
        (
            ["del-annual", "--programme", "DEL-L1", "--from", "01/01/2025", "--to", "2025-12-31"],
            "AAAA-MM-JJ",
        ),
        (
            ["arjlj", "--programme", "ARJLJ", "--from", "2025-01-01", "--to", "2025-12-31"],
            "bon de commande",
        ),
        (["nope", "--programme", "DEL-L1"], "nope"),
    ],
)
def test_export_refuses_bad_requests_in_french(cli_app, tmp_path, args, message):
    result = cli_app.test_cli_runner().invoke(
        args=["export", *args, "--output", str(tmp_path / "x.xlsx")]
    )
    assert result.exit_code != 0
    assert message in result.output
    assert export_command.name == "export"


@pytest.mark.parametrize("report", ["csp-monthly", "plie-interim", "del-annual"])
def test_export_without_dates_covers_the_report_period(cli_app, tmp_path, report):
    from backoffice.reports.periods import default_period

    programme_code = {"csp-monthly": "CSP", "plie-interim": "PLIE-L2",
                      "del-annual": "DEL-L1"}[report]
    out = tmp_path / "rapport.xlsx"
    result = cli_app.test_cli_runner().invoke(
        args=["export", report, "--programme", programme_code, "--output", str(out)])
    assert result.exit_code == 0, result.output
    first, last = default_period(report, date.today())  # issue 22 §2
    period = f"du {first:%d/%m/%Y} au {last:%d/%m/%Y}"
    assert period in result.output
    cover = {r[0]: r[1] for r in openpyxl.load_workbook(out)["Couverture"].iter_rows(
        values_only=True) if r[0]}
    assert cover["Période"] == period
