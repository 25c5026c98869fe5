"""ARJLJ — tableau de suivi d'activité et de résultats for a purchase order (002 I §7).

Sheets: Couverture, Indicateurs clés, Objectifs du marché, Issues, Salariés, Définitions.
"""

from __future__ import annotations

from datetime import date

from ..indicators import arjlj, lists
from ..indicators.exit_groups import anticipated_reasons
from ..indicators.scope import Scope, ScopeError
from .workbook import compliance_sheet, report_workbook, targets_sheet

TITLE = "Tableau de suivi ARJLJ"


def build(
    session,
    target,
    scope: Scope,
    *,
    producer: str,
    produced_on: date,
    pseudonym_key: str | None = None,
) -> None:
    """Write the ARJLJ workbook of ``scope.order_id``."""
    if scope.order_id is None:
        raise ScopeError("Tableau de suivi ARJLJ : choisir un bon de commande.")
    title = f"{TITLE} — bon de commande {scope.order_number}"
    pseudonymised = pseudonym_key is not None
    with report_workbook(
        session,
        target,
        scope,
        title=title,
        producer=producer,
        produced_on=produced_on,
        pseudonymised=pseudonymised,
    ) as book:
        results = [f(session, scope) for f in arjlj.KEY_FIGURES]
        book.key_figures("Indicateurs clés", results, title=f"{title} {scope.period_label}")
        targets_sheet(book, session, scope)
        compliance_sheet(book, session, scope, pseudonym_key)
        adhesions = next(r for r in results if r.indicator.code == "arjlj.csp_adhesions")
        anticipated = anticipated_reasons(session, scope)
        book.distributions(
            "Issues",
            [
                ("Issue de l'appui (002 I §5.2)", adhesions.rows),
                ("Sorties anticipées et abandons par raison", anticipated.rows),
            ],
            cards=[adhesions.indicator, anticipated.indicator],
        )
        book.table(
            "Salariés",
            lists.arjlj_columns(pseudonymised),
            lists.arjlj_rows(session, scope, pseudonym_key),
            title="Salariés du bon de commande",
            cards=[arjlj.beneficiaries.indicator],
        )
