"""CSP — tableau mensuel de suivi des indicateurs d'activité et de résultats (002 II §9).

One line per monthly cohort (month of referral) from the first month of the period to
the chosen month (the month of the period's last day), then « Cumul ». Every figure is
observed on the period's last day. Due on the 5th working day of the next month.
"""

from __future__ import annotations

from datetime import date

from ..indicators import csp
from ..indicators.exit_groups import anticipated_reasons
from ..indicators.lists import Column
from ..indicators.scope import Scope, programme_territory
from .periods import csp_due_on
from .workbook import compliance_sheet, report_workbook, targets_sheet

TITLE = "Tableau mensuel CSP"


def columns() -> tuple[Column, ...]:
    """Cohort, the activity counts, then each result as « nombre » and « taux »."""
    cols = [Column("Cohorte (mois d'orientation)", width=22)]
    cols += [Column(card.name, "int", 13) for card in csp.ACTIVITY]
    for card in csp.RESULTS:
        cols += [
            Column(f"{card.name} — nombre", "int", 14),
            Column(f"{card.name} — taux", "percent", 12),
        ]
    for group in csp.CONTRACT_GROUP_ORDER:
        cols += [
            Column(f"Emploi : {group} — nombre", "int", 14),
            Column(f"Emploi : {group} — taux", "percent", 12),
        ]
    return tuple(cols)


def row_values(row: csp.CohortRow) -> tuple:
    """The cells of one line, in the order of :func:`columns`."""
    values = [row.label] + [row.counts[card.code] for card in csp.ACTIVITY]
    for card in csp.RESULTS:
        values += [row.counts[card.code], row.rate(card)]
    for group in csp.CONTRACT_GROUP_ORDER:
        values += [row.contracts[group], row.contract_rate(group)]
    return tuple(values)


def build(
    session,
    target,
    scope: Scope,
    *,
    producer: str,
    produced_on: date,
    pseudonym_key: str | None = None,
) -> None:
    """Write the CSP monthly workbook: figures only, but for the late obligations under
    the « Respect des délais » table (named, or pseudonymised with ``pseudonym_key``)."""
    table = csp.monthly_table(session, scope)
    month = csp.month_label(f"{table.cut_off:%Y-%m}")
    due_on = csp_due_on(table.cut_off, programme_territory(session, scope))
    with report_workbook(
        session,
        target,
        scope,
        title=f"{TITLE} — {month}",
        producer=producer,
        produced_on=produced_on,
        pseudonymised=pseudonym_key is not None,
        after_period=[
            ("Jour d'arrêté des chiffres", table.cut_off),
            # 002 II §9: « au plus tard le 5ème jour ouvré du mois suivant »
            ("À transmettre au plus tard le", due_on),
        ],
    ) as book:
        rows = [row_values(r) for r in table.rows] + [row_values(table.total)]
        book.table(
            "Tableau mensuel",
            columns(),
            rows,
            title=f"Indicateurs par cohorte mensuelle et en cumulé, arrêtés au "
            f"{table.cut_off:%d/%m/%Y}",
            cards=[*csp.ACTIVITY, *csp.RESULTS, csp.CONTRACTS],
        )
        targets_sheet(book, session, scope)
        compliance_sheet(book, session, scope, pseudonym_key)
        total = table.total
        anticipated = anticipated_reasons(session, scope)
        book.distributions(
            "Résultats cumulés",
            [
                (
                    "Retour à l'emploi par type de contrat (cumul)",
                    [(group, total.contracts[group]) for group in csp.CONTRACT_GROUP_ORDER],
                ),
                (
                    "Issue des adhérents sortis (cumul)",
                    [
                        ("Emploi", sum(total.contracts.values())),
                        ("Création ou reprise d'entreprise", total.counts[csp.CREATIONS.code]),
                        (
                            "Formation qualifiante de 6 mois et plus",
                            total.counts[csp.TRAININGS.code],
                        ),
                        ("Sans solution d'emploi", total.counts[csp.WITHOUT_SOLUTION.code]),
                    ],
                ),
                # 002 II §4: abandons declared; 001's « raisons de la sortie » in every report
                ("Sorties anticipées et abandons par raison (sorties de la période)",
                 anticipated.rows),
            ],
            cards=[anticipated.indicator],
        )
