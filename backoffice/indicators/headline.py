"""The headline figures of each report, for the on-screen dashboard (/admin/indicators/).

Returns plain values: (French name, value as shown, definition) and the distributions to
draw as bar charts. Same functions as the workbooks, so screen and file always agree.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..rules.wording import number
from . import arjlj, csp, del_indicators, plie
from .base import Kind, Result, one_reading
from .scope import Scope
from .typology import followed_typology

EMPTY = "—"


@dataclass(frozen=True)
class Figure:
    """One figure on screen."""

    name: str
    shown: str  # « 37,5 % », « 12 », « 1,25 » or « — »
    definition: str


def shown(value, kind: Kind) -> str:
    """French display of a value: percent with a comma, decimals with a comma, « — » if None."""
    if value is None:
        return EMPTY
    if kind == Kind.RATE:
        return f"{value * 100:.1f} %".replace(".", ",")
    if kind == Kind.AVERAGE or isinstance(value, float):
        return f"{value:.2f}".replace(".", ",")
    return number(value)


def _figures(results: list[Result]) -> list[Figure]:
    return [
        Figure(r.name, shown(r.value, r.indicator.kind), r.indicator.definition) for r in results
    ]


def headline(
    session, report_code: str, scope: Scope
) -> tuple[list[Figure], list[tuple[str, list]]]:
    """(figures, charts) for report ``report_code`` on ``scope``.

    Charts are (title, [(label, n), …]). The shared queries run once (``one_reading``).
    """
    with one_reading(session):
        return _headline(session, report_code, scope)


def _headline(session, report_code: str, scope: Scope):
    if report_code.startswith("del"):
        figures = _figures([f(session, scope) for f in del_indicators.KEY_FIGURES])
        categories = del_indicators.exits_by_category(session, scope)
        charts = [
            (
                "Sorties par catégorie DEL",
                [(k, categories[k]) for k in ("ED", "SD", "SP")] + [("Autre", categories["other"])],
            ),
            (
                "Freins rencontrés",
                [r[:2] for r in del_indicators.barrier_typology(session, scope).rows],
            ),
        ]
        return figures, charts
    if report_code == "csp-monthly":
        table = csp.monthly_table(session, scope)
        total = table.total
        figures = [
            Figure(card.name, shown(total.counts[card.code], Kind.COUNT), card.definition)
            for card in csp.ACTIVITY
        ]
        figures += [
            Figure(f"{card.name} (taux)", shown(total.rate(card), Kind.RATE), card.definition)
            for card in csp.RESULTS
        ]
        charts = [
            ("Adhérents par cohorte", [(r.label, r.counts[csp.ADHERED.code]) for r in table.rows]),
            (
                "Retour à l'emploi par type de contrat (cumul)",
                [(g, total.contracts[g]) for g in csp.CONTRACT_GROUP_ORDER],
            ),
        ]
        return figures, charts
    if report_code.startswith("plie"):
        figures = _figures([f(session, scope) for f in plie.KEY_FIGURES])
        charts = [
            (f"Participants par {name.lower()}", list(rows))
            for name, _total, rows in followed_typology(session, scope)
        ]
        return figures, charts
    if report_code == "arjlj":
        results = [f(session, scope) for f in arjlj.KEY_FIGURES]
        adhesions = next(r for r in results if r.indicator.code == "arjlj.csp_adhesions")
        return _figures(results), [("Issue de l'appui", list(adhesions.rows))]
    raise ValueError(f"Rapport « {report_code} » inconnu")
