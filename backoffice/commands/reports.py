"""`flask export REPORT --programme CODE --from YYYY-MM-DD --to YYYY-MM-DD --output FILE.xlsx`.

Writes one funder workbook (backoffice/reports). REPORT is one of del-annual,
del-end-of-path (with --session), csp-monthly, arjlj (with --order), plie-interim,
plie-final. --pseudonymise writes the version without personal data (funder
representatives); the pseudonyms use the application's SECRET_KEY, so they match the
ones of the web page.
"""

from __future__ import annotations

import getpass
from datetime import date
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from ..extensions import db
from ..indicators.scope import ScopeError
from ..reports import REPORTS, produce
from . import RECORD_ID


def _iso_date(_ctx, param, value):
    """Parse an ISO date option, with a French error naming the option."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as error:
        raise click.BadParameter(
            f"« {value} » n'est pas une date AAAA-MM-JJ.", param=param
        ) from error


@click.command("export")
@click.argument("report", type=click.Choice(list(REPORTS)))
@click.option(
    "--programme", "programme_code", required=True, help="Code du dispositif, ex. DEL-L1."
)
@click.option(
    "--from",
    "date_from",
    callback=_iso_date,
    help="Premier jour de la période (AAAA-MM-JJ). Sans --from ni --to : la période du "
    "rapport (dernier mois complet pour le CSP, dernier arrêté 31 mai ou 30 septembre pour "
    "le bilan intermédiaire PLIE, dernière année complète pour un bilan annuel, dates de la "
    "session ou du bon de commande).",
)
@click.option(
    "--to",
    "date_to",
    callback=_iso_date,
    help="Dernier jour de la période, jour d'arrêté des chiffres (AAAA-MM-JJ).",
)
@click.option(
    "--output",
    required=True,
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Fichier .xlsx à écrire.",
)
@click.option("--session", "session_id", type=RECORD_ID,
              help="Session (bilan de fin de parcours DEL).")
@click.option("--order", "order_id", type=RECORD_ID, help="Bon de commande (tableau ARJLJ).")
@click.option("--pseudonymise", is_flag=True, help="Version sans données nominatives.")
@click.option(
    "--producer",
    default=None,
    help="Nom affiché comme producteur (par défaut : l'utilisateur système).",
)
@with_appcontext
def export_command(
    report, programme_code, date_from, date_to, output, session_id, order_id, pseudonymise, producer
):
    """Write the workbook of REPORT for a programme and a period."""
    key = current_app.config["SECRET_KEY"] if pseudonymise else None
    try:
        scope = produce(
            db.session,
            report,
            str(output),
            programme_code=programme_code,
            date_from=date_from,
            date_to=date_to,
            session_id=session_id,
            order_id=order_id,
            producer=producer or getpass.getuser(),
            produced_on=date.today(),
            pseudonym_key=key,
        )
    except ScopeError as error:
        raise click.ClickException(str(error)) from error
    click.echo(
        f"Classeur écrit : {output} ({REPORTS[report].title}, {scope.programme_code}, "
        f"{scope.period_label})."
    )


def register(app) -> None:
    """Add `flask export` to the app's commands (called from backoffice/commands/__init__.py)."""
    app.cli.add_command(export_command)
