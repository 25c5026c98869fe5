"""DEL province Sud — bilan annuel (001 « Évaluation » and the indicator table).

Sheets: Couverture, Indicateurs clés, Typologie, Sessions, Sorties, Freins, Progression,
Liste nominative, Ruptures, Définitions. The end-of-path report (del_end_of_path.py) is
the same workbook for the paths of one session.
"""

from __future__ import annotations

from collections import Counter
from datetime import date

from ..indicators import del_indicators as ind
from ..indicators import lists
from ..indicators.exit_groups import exit_groups
from ..indicators.lists import Column
from ..indicators.scope import Scope, exited_in_period
from ..indicators.typology import referred_typology
from ..rules.exits import DEL_CATEGORY_ORDER
from .workbook import ReportWorkbook, cover_lines

TITLE = "Bilan annuel DEL"

SESSION_COLUMNS = (
    Column("Session", width=30),
    Column("Fin de session", "date", 14),
    Column("Intégrés", "int", 11),
    Column("En parcours à la fin", "int", 14),
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
    cover = cover_lines(
        scope,
        report_title=title,
        producer=producer,
        produced_on=produced_on,
        pseudonymised=pseudonym_key is not None,
        funder=scope.funder_name,
    )
    with ReportWorkbook(target, title=title, cover=cover) as book:
        book.key_figures(
            "Indicateurs clés",
            [f(session, scope) for f in ind.KEY_FIGURES],
            title=f"{title} — {scope.programme_code} {scope.period_label}",
        )

        book.distributions(
            "Typologie",
            (
                (f"Orientés par {name.lower()}", rows, total)
                for name, total, rows in referred_typology(session, scope)
            ),
            cards=[referred_typology.indicator],
        )

        integration = ind.integration_rate(session, scope)
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
            _exit_sections(session, scope),
            cards=[
                ind.exits.indicator,
                ind.anticipated_rate.indicator,
                ind.goal_attainment.indicator,
                ind.satisfaction.indicator,
            ],
        )

        barriers = ind.barrier_typology(session, scope)
        non_entries = ind.non_entries(session, scope)
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
                ("Engagement du demandeur", ind.engagement(session, scope).rows),
                ("Savoir-être, comportement", ind.soft_skills(session, scope).rows),
            ],
            cards=[ind.engagement.indicator, ind.soft_skills.indicator],
        )

        pseudonymised = pseudonym_key is not None
        book.table(
            "Liste nominative",
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


def _exit_sections(session, scope: Scope) -> list[tuple[str, list[tuple]]]:
    """Exits by type, by DEL category (each once), anticipated reasons, goals, satisfaction."""
    by_category: Counter = Counter()
    for g in exit_groups(session, exited_in_period(scope), scope.exit_scheme):
        by_category[g.classification.del_category or "other"] += g.count
    categories = [(DEL_CATEGORY_LABELS[c], by_category[c]) for c in DEL_CATEGORY_ORDER]
    categories.append(("Autre sortie (ni ED, ni SD, ni SP)", by_category["other"]))
    return [
        (
            "Sorties par type",
            [(label, n) for label, _category, n in ind.exits(session, scope).rows],
        ),
        ("Sorties par catégorie DEL", categories),
        ("Sorties anticipées par raison", list(ind.anticipated_rate(session, scope).rows)),
        ("Niveau d'atteinte des objectifs", list(ind.goal_attainment(session, scope).rows)),
        ("Satisfaction (note sur 5)", list(ind.satisfaction(session, scope).rows)),
    ]


__all__ = ["TITLE", "build"]
