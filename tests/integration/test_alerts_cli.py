"""`flask obligations rebuild` and `flask alerts` (the daily digest)."""
from datetime import date, datetime

import openpyxl
import pytest
from sqlalchemy import func, select, text

from backoffice.enums import EnrolmentStatus
from backoffice.extensions import db
from backoffice.models import Obligation
from tests.integration.test_alerts_view import ensure_registered, quick_path, user_id


@pytest.fixture
def cli(reference_app, users):
    ensure_registered(reference_app)
    with reference_app.app_context():
        other = user_id("counsellor@exemple.fr")
        # Overdue on 20/11/2026: pré-bilan due 10/11. Due soon: pré-bilan due 24/11.
        mine = quick_path("CSP", other, entry=date(2026, 11, 2))
        mine.beneficiary.last_name = "=SOMME(A1:A3)"  # typed text, never a formula
        quick_path("CSP", None, entry=date(2026, 11, 16))
        db.session.commit()
    return reference_app.test_cli_runner()


def run(cli, *args):
    result = cli.invoke(args=list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_rebuild_reports_differences_and_is_idempotent(cli, reference_app):
    with reference_app.app_context():
        # Saving the paths computed their obligations (obligation_sync); rows loaded outside
        # the ORM have none: simulate that, rebuild must find them.
        db.session.execute(Obligation.__table__.delete())
        db.session.commit()
    first = run(cli, "obligations", "rebuild", "--as-of", "2026-11-20")
    assert "Échéances recalculées au 20/11/2026" in first
    assert "parcours : 4 créées" in first  # 2 paths × (pré-bilan, intermediate)
    with reference_app.app_context():
        stored = db.session.scalar(select(func.count(Obligation.id)))
    second = run(cli, "obligations", "rebuild", "--as-of", "2026-11-20")
    assert f"total : 0 créée, 0 date recalculée, 0 faite d'après le dossier, " \
           f"0 annulée, {stored} inchangées" in second


def test_rebuild_refreshes_the_planner_statistics(cli, reference_app):
    with reference_app.app_context():
        if db.engine.dialect.name != "sqlite":
            statistics = "SELECT count(*) FROM pg_stats WHERE tablename = 'obligations'"
        else:
            statistics = "SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'"
            assert db.session.execute(text(statistics)).scalar() == 0  # never analysed yet
    run(cli, "obligations", "rebuild", "--as-of", "2026-11-20")
    with reference_app.app_context():
        assert db.session.execute(text(statistics)).scalar() > 0


def test_rebuild_vacuums_postgresql(cli, reference_app):
    """PostgreSQL: the tables are vacuumed too (visibility map: index-only counts)."""
    query = text("SELECT last_vacuum FROM pg_stat_user_tables WHERE relname = 'obligations'")
    with reference_app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("VACUUM of PostgreSQL")
        before = db.session.execute(query).scalar()
        db.session.rollback()
    run(cli, "obligations", "rebuild", "--as-of", "2026-11-20")
    with reference_app.app_context():
        after = db.session.execute(query).scalar()
    assert after is not None and after != before


def test_digest_text_grouped_by_referent(cli):
    run(cli, "obligations", "rebuild", "--as-of", "2026-11-20")
    out = run(cli, "alerts", "--as-of", "2026-11-20")
    assert "Alertes au 20/11/2026 — échéances dans les 7 jours" in out
    assert "Échéances dépassées : 1 · à échéance : 1" in out
    assert "== Test Référent ==" in out and "== Sans référent (coordination) ==" in out
    assert "[EN RETARD 10 j] 10/11/2026  Entretien de pré-bilan" in out
    assert "[DANS 4 j] 24/11/2026  Entretien de pré-bilan" in out
    assert "[ALERTE] Portefeuille CSP hors limites" in out
    # --days 2 leaves out the pré-bilan due in 4 days.
    assert "[DANS 4 j]" not in run(cli, "alerts", "--as-of", "2026-11-20", "--days", "2")


def test_digest_for_one_referent(cli):
    run(cli, "obligations", "rebuild", "--as-of", "2026-11-20")
    out = run(cli, "alerts", "--as-of", "2026-11-20", "--referent", "COUNSELLOR@exemple.fr")
    assert "[EN RETARD 10 j]" in out and "[DANS 4 j]" not in out
    result = cli.invoke(args=["alerts", "--referent", "personne@exemple.fr"])
    assert result.exit_code == 2 and "aucun compte avec l'adresse personne@exemple.fr" in \
        result.output


def test_digest_xlsx_writes_text_as_text(cli, tmp_path):
    run(cli, "obligations", "rebuild", "--as-of", "2026-11-20")
    target = tmp_path / "alertes.xlsx"
    out = run(cli, "alerts", "--as-of", "2026-11-20", "--format", "xlsx",
              "--output", str(target))
    assert "Classeur écrit" in out and "2 échéances" in out
    book = openpyxl.load_workbook(target)
    assert book.sheetnames == ["Échéances", "Alertes de suivi"]
    sheet = book["Échéances"]
    assert [c.value for c in sheet[1]][:3] == ["État", "Livrable", "Concerne"]
    assert sheet.freeze_panes == "A2"
    subjects = [sheet.cell(row=r, column=3) for r in range(2, sheet.max_row + 1)]
    formula_like = [c for c in subjects if "SOMME" in str(c.value)]
    assert formula_like and all(c.data_type == "s" for c in formula_like)
    assert formula_like[0].value.startswith("Parcours n° ")
    due = sheet.cell(row=2, column=7)
    assert due.is_date and due.value.date() == date(2026, 11, 10)


def test_digest_refusals(cli):
    result = cli.invoke(args=["alerts", "--format", "xlsx"])
    assert result.exit_code != 0 and "--output est obligatoire" in result.output
    result = cli.invoke(args=["alerts", "--as-of", "20/11/2026"])
    assert result.exit_code == 2 and "n'est pas une date AAAA-MM-JJ" in result.output
    result = cli.invoke(args=["obligations", "rebuild", "--as-of", "demain"])
    assert result.exit_code == 2


def test_digest_is_what_can_be_acted_on_and_closed_paths_apart(cli, reference_app):
    """Issue 20 §4: the digest leaves out a closed path's leftovers, as the page does;
    ``--closed-paths`` lists them (the page's other tab)."""
    with reference_app.app_context():
        closed = quick_path("CSP", user_id("counsellor@exemple.fr"), entry=date(2024, 1, 8),
                            last_name="Ancienne", status=EnrolmentStatus.CLOSED,
                            exit_date=date(2024, 12, 2))
        db.session.flush()
        db.session.add(Obligation(name="Rapport oublié", enrolment_id=closed.id,
                                  programme_id=closed.programme_id,
                                  due_at=datetime(2024, 12, 3)))
        db.session.commit()
    out = run(cli, "alerts", "--as-of", "2026-11-20")
    assert "parcours en cours" in out
    assert "Rapport oublié" not in out and "[EN RETARD 10 j]" in out
    out = run(cli, "alerts", "--as-of", "2026-11-20", "--closed-paths")
    assert "échéances jamais faites des parcours clôturés" in out
    assert "[EN RETARD 717 j] 03/12/2024  Rapport oublié — Parcours n°" in out
    assert "[EN RETARD 10 j]" not in out
