"""PLIE — bilans intermédiaires (31 May, 30 September) and bilan final (004 §5).

The figures stop on the period's last day (the cut-off). Sheets: Couverture, Indicateurs
clés, Objectifs du marché, Typologie, Sorties, Participants, Définitions.
"""

from __future__ import annotations

from datetime import date

from ..indicators import lists, plie
from ..indicators.scope import Scope
from ..indicators.typology import followed_typology
from .workbook import compliance_sheet, report_workbook, targets_sheet

INTERIM_TITLE = "Bilan intermédiaire PLIE"
FINAL_TITLE = "Bilan final PLIE"


def build(
    session,
    target,
    scope: Scope,
    *,
    producer: str,
    produced_on: date,
    pseudonym_key: str | None = None,
    title: str = FINAL_TITLE,
) -> None:
    """Write the PLIE workbook for ``scope``."""
    pseudonymised = pseudonym_key is not None
    with report_workbook(
        session,
        target,
        scope,
        title=f"{title} — chiffres arrêtés au {scope.date_to:%d/%m/%Y}",
        producer=producer,
        produced_on=produced_on,
        pseudonymised=pseudonymised,
    ) as book:
        figures = {f: f(session, scope) for f in plie.KEY_FIGURES}
        book.key_figures(
            "Indicateurs clés",
            figures.values(),
            title=f"Critères d'évaluation (004 §5) — {scope.programme_code} {scope.period_label}",
        )
        targets_sheet(book, session, scope)
        compliance_sheet(book, session, scope, pseudonym_key)
        book.typology(
            "Participants par", followed_typology(session, scope), followed_typology.indicator
        )
        book.distributions(
            "Sorties",
            [
                ("Ruptures par motif", figures[plie.ruptures].rows),
                ("Autres sorties par motif", figures[plie.other_exits].rows),
                ("Sorties anticipées et abandons par raison",
                 figures[plie.anticipated_exits].rows),
            ],
            cards=[
                plie.ruptures.indicator,
                plie.other_exits.indicator,
                plie.anticipated_exits.indicator,
            ],
        )
        book.table(
            "Participants",
            lists.plie_columns(pseudonymised),
            lists.plie_rows(session, scope, pseudonym_key),
            title="Participants suivis sur la période",
            cards=[plie.participants.indicator],
        )


def build_interim(session, target, scope: Scope, **kwargs) -> None:
    """Interim report: figures at 31 May or 30 September (004, « bilans intermédiaires »)."""
    build(session, target, scope, title=INTERIM_TITLE, **kwargs)


def build_final(session, target, scope: Scope, **kwargs) -> None:
    """Final report, within a month of the end of the action (004)."""
    build(session, target, scope, title=FINAL_TITLE, **kwargs)
