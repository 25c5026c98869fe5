"""DEL province Sud — bilan annuel (001 « Évaluation » and the indicator table).

Sheets: Couverture, Indicateurs clés, Objectifs du marché, Typologie, Sessions, Sorties,
Freins, Progression, Liste nominative (« Liste individuelle » when pseudonymised),
Ruptures, Définitions. The end-of-path report
(del_end_of_path.py) is the same workbook for the paths of one session.
"""

from __future__ import annotations

from datetime import date

from ..indicators import del_indicators as ind
from ..indicators import lists
from ..indicators.lists import Column
from ..indicators.scope import Scope
from ..indicators.typology import referred_typology
from ..rules.exits import DEL_CATEGORY_ORDER
from .workbook import compliance_sheet, report_workbook, targets_sheet

TITLE = "Bilan annuel DEL"

SESSION_COLUMNS = (
    Column("Session", width=30),
    Column("Fin de session", "date", 14),
    Column("Intégrés", "int", 11),
    Column("À la fin de la session", "int", 14),
    Column("Taux d'intégration", "percent", 14),
)

DEL_CATEGORY_LABELS = {
    "ED": "Emploi durable (ED)",
    "SD": "Sortie dynamique hors ED",
    "SP": "Sortie positive hors SD",
}


def build(
    session,
    target,
    scope: Scope,
    *,
    producer: str,
    produced_on: date,
    pseudonym_key: str | None = None,
    title: str = TITLE,
) -> None:
    """Write the DEL workbook for ``scope`` to ``target`` (path or binary file object)."""
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
        figures = {f: f(session, scope) for f in ind.KEY_FIGURES}
        book.key_figures(
            "Indicateurs clés",
            figures.values(),
            title=f"{title} — {scope.programme_code} {scope.period_label}",
        )
        targets_sheet(book, session, scope)
        compliance_sheet(book, session, scope, pseudonym_key)
        book.typology(
            "Orientés par", referred_typology(session, scope), referred_typology.indicator
        )
        integration = figures[ind.integration_rate]
        book.table(
            "Sessions",
            SESSION_COLUMNS,
            integration.rows,
            totals=(2, 3),
            title="Taux d'intégration par session",
            cards=[integration.indicator],
        )
        book.distributions(
            "Sorties",
            _exit_sections(session, scope, figures),
            cards=[
                ind.exits.indicator,
                ind.anticipated_rate.indicator,
                ind.goal_attainment.indicator,
                ind.satisfaction.indicator,
            ],
        )
        barriers = ind.barrier_typology(session, scope)
        non_entries = figures[ind.non_entries]
        book.distributions(
            "Freins",
            [
                ("Freins rencontrés pendant le parcours (identifiés, levés)", barriers.rows),
                ("Freins ayant empêché l'entrée (non-entrées)", non_entries.rows),
            ],
            cards=[barriers.indicator, non_entries.indicator],
            extra_headers=("Levés",),
        )
        book.distributions(
            "Progression",
            [
                ("Engagement du demandeur", figures[ind.engagement].rows),
                ("Savoir-être, comportement", figures[ind.soft_skills].rows),
            ],
            cards=[ind.engagement.indicator, ind.soft_skills.indicator],
        )
        book.table(
            # issue 22 §3: the pseudonymised workbook names no sheet « nominative »
            "Liste individuelle" if pseudonymised else "Liste nominative",
            lists.del_columns(pseudonymised),
            lists.del_rows(session, scope, pseudonym_key),
            title="Récapitulatif individuel et nominatif"
            if not pseudonymised
            else "Récapitulatif individuel (pseudonymisé)",
            cards=[ind.headcount.indicator],
        )
        book.table(
            "Ruptures",
            lists.rupture_columns(pseudonymised),
            lists.rupture_rows(session, scope, pseudonym_key),
            title="Ruptures : difficultés rencontrées et préconisations",
            cards=[ind.ruptures.indicator],
        )


def _exit_sections(session, scope: Scope, figures: dict) -> list[tuple[str, list[tuple]]]:
    """Exits by type, by DEL category (each once), anticipated reasons, goals, satisfaction."""
    by_category = ind.exits_by_category(session, scope)
    categories = [(DEL_CATEGORY_LABELS[c], by_category[c]) for c in DEL_CATEGORY_ORDER]
    categories.append(("Autre sortie (ni ED, ni SD, ni SP)", by_category["other"]))
    return [
        (
            "Sorties par type",
            [(label, n) for label, _category, n in ind.exits(session, scope).rows],
        ),
        ("Sorties par catégorie DEL", categories),
        ("Sorties anticipées par raison", list(figures[ind.anticipated_rate].rows)),
        ("Niveau d'atteinte des objectifs", list(ind.goal_attainment(session, scope).rows)),
        ("Satisfaction (note sur 5)", list(figures[ind.satisfaction].rows)),
    ]


__all__ = ["TITLE", "build"]
