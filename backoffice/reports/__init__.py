"""The funders' reports as XLSX workbooks (XlsxWriter), one module per report; no Flask.

:data:`REPORTS` lists them by the name the CLI and the indicators page use
(``flask export REPORT``); :func:`produce` checks the request and writes a workbook.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from ..indicators.scope import Scope, ScopeError, make_scope
from . import arjlj, csp_monthly, del_annual, del_end_of_path, plie
from .periods import default_period
from .workbook import XLSX_MIMETYPE


@dataclass(frozen=True)
class Report:
    """A report: its CLI name, French title, builder, and what it applies to."""

    code: str
    title: str
    build: Callable
    schemes: tuple[str, ...]  # Programme.exit_scheme values it applies to
    source: str
    needs_session: bool = False
    needs_order: bool = False
    filename: str = "rapport"  # French stem of the downloaded file


REPORTS: dict[str, Report] = {
    r.code: r
    for r in (
        Report(
            "del-annual",
            "DEL — bilan annuel",
            del_annual.build,
            ("DEL",),
            "001 « Évaluation », tableau des indicateurs",
            filename="bilan-annuel",
        ),
        Report(
            "del-end-of-path",
            "DEL — bilan de fin de parcours (session)",
            del_end_of_path.build,
            ("DEL",),
            "001 « Évaluation »",
            needs_session=True,
            filename="bilan-fin-de-parcours",
        ),
        Report(
            "csp-monthly",
            "CSP — tableau mensuel des indicateurs",
            csp_monthly.build,
            ("CSP",),
            "002 II §9",
            filename="tableau-mensuel-csp",
        ),
        Report(
            "arjlj",
            "ARJLJ — tableau de suivi d'un bon de commande",
            arjlj.build,
            ("ARJLJ",),
            "002 I §7",
            needs_order=True,
            filename="tableau-suivi-arjlj",
        ),
        Report(
            "plie-interim",
            "PLIE — bilan intermédiaire (31 mai, 30 septembre)",
            plie.build_interim,
            ("PLIE",),
            "004 §5",
            filename="bilan-intermediaire-plie",
        ),
        Report(
            "plie-final",
            "PLIE — bilan final",
            plie.build_final,
            ("PLIE",),
            "004 §5",
            filename="bilan-final-plie",
        ),
    )
}


def prepare(
    session,
    code: str,
    *,
    programme_code: str,
    date_from: date | None,
    date_to: date | None,
    session_id: int | None = None,
    order_id: int | None = None,
    today: date | None = None,
) -> tuple[Report, Scope]:
    """Check a report request and return the report and its scope (ScopeError in French).

    Without dates, the report's own period (issue 22 §2, :func:`periods.default_period`:
    the last complete month for the CSP, the interim cut-off just passed for the PLIE, the
    last complete year for an annual report) as of ``today``.
    """
    report = REPORTS.get(code)
    if report is None:
        raise ScopeError(f"Rapport « {code} » inconnu (connus : {', '.join(REPORTS)}).")
    if date_from is None and date_to is None:
        default = default_period(code, today or date.today())
        if default is not None:
            date_from, date_to = default
    if report.needs_session and session_id is None:
        raise ScopeError(f"{report.title} : choisir une session (--session).")
    if report.needs_order and order_id is None:
        raise ScopeError(f"{report.title} : choisir un bon de commande (--order).")
    scope = make_scope(
        session, programme_code, date_from, date_to, session_id=session_id, order_id=order_id
    )
    if scope.exit_scheme not in report.schemes:
        raise ScopeError(
            f"{report.title} : le dispositif {scope.programme_code} n'est pas concerné "
            f"(dispositifs {', '.join(report.schemes)})."
        )
    return report, scope


def produce(
    session,
    code: str,
    target,
    *,
    programme_code: str,
    date_from: date | None,
    date_to: date | None,
    producer: str,
    produced_on: date,
    session_id: int | None = None,
    order_id: int | None = None,
    pseudonym_key: str | None = None,
    today: date | None = None,
) -> Scope:
    """Write report ``code`` to ``target``.

    With ``pseudonym_key`` (the application's SECRET_KEY) the version is pseudonymised.
    """
    report, scope = prepare(
        session,
        code,
        programme_code=programme_code,
        date_from=date_from,
        date_to=date_to,
        session_id=session_id,
        order_id=order_id,
        today=today or produced_on,
    )
    report.build(
        session,
        target,
        scope,
        producer=producer,
        produced_on=produced_on,
        pseudonym_key=pseudonym_key,
    )
    return scope


def filename(report: Report, scope: Scope) -> str:
    """« bilan-annuel_DEL-L1_2025-01-01_2025-12-31.xlsx »."""
    return (
        f"{report.filename}_{scope.programme_code}_{scope.date_from:%Y-%m-%d}_"
        f"{scope.date_to:%Y-%m-%d}.xlsx"
    )


__all__ = [
    "REPORTS",
    "Report",
    "ScopeError",
    "XLSX_MIMETYPE",
    "default_period",
    "filename",
    "prepare",
    "produce",
]
