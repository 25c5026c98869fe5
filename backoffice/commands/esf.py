"""`flask esf check --operation PLIE` and `flask esf export --operation PLIE --format csv
--output F` (issue 24): the managing authority's checks and the exports of the screen
« FSE+ (PLIE) › Contrôles avant export », for a scheduled job. The participants file is
nominative: the command is for the people who run the server, like `flask export`.
"""
from __future__ import annotations

import getpass
from datetime import date
from pathlib import Path

import click
from flask.cli import AppGroup

from ..extensions import db
from ..reports import esf as esf_reports
from ..rules import esf as rules
from ..rules.wording import plural
from ..services import esf as service
from .reports import _iso_date

esf_cli = AppGroup("esf", help="FSE+ : contrôles avant export et export des participants.")


def _people(operation: str, date_from: date | None, date_to: date | None):
    known = service.operations(db.session)
    if operation not in known:
        raise click.ClickException(f"Opération : « {operation} » n'existe pas "
                                   f"({', '.join(known) or 'aucune opération FSE+'}).")
    if date_from and date_to and date_to < date_from:
        raise click.ClickException("--to : la fin de la période ne peut pas précéder son début.")
    return service.load_people(db.session, operation, date_from=date_from, date_to=date_to)


OPERATION = click.option("--operation", required=True, help="Opération FSE+, ex. PLIE.")
DATE_FROM = click.option("--from", "date_from", callback=_iso_date,
                         help="Premier jour de la période (AAAA-MM-JJ).")
DATE_TO = click.option("--to", "date_to", callback=_iso_date,
                       help="Dernier jour de la période (AAAA-MM-JJ).")


@esf_cli.command("check")
@OPERATION
@DATE_FROM
@DATE_TO
def check_command(operation, date_from, date_to):
    """List, per person, what the managing authority would refuse (exit 1 if anything)."""
    checks = rules.check_all(_people(operation, date_from, date_to), date.today())
    to_fix = [c for c in checks if c.problems]
    for check in to_fix:
        click.echo(f"{check.person.name} :")
        for problem in check.problems:
            click.echo(f"  - {problem.message}")
    ready = sum(1 for c in checks if c.ready)
    click.echo(plural(ready, "participant prêt", "participants prêts") + " pour l'export, "
               + plural(len(to_fix), "personne") + " avec des données à compléter ou corriger.")
    if to_fix:
        raise SystemExit(1)


@esf_cli.command("export")
@OPERATION
@DATE_FROM
@DATE_TO
@click.option("--format", "kind", type=click.Choice(["csv", "xlsx"]), default="csv",
              help="csv : fichier des participants (nominatif) ; xlsx : indicateurs.")
@click.option("--output", required=True,
              type=click.Path(dir_okay=False, writable=True, path_type=Path),
              help="Fichier à écrire.")
def export_command(operation, date_from, date_to, kind, output):
    """Write the participants file or the indicators workbook of an operation."""
    found = rules.participants(_people(operation, date_from, date_to))
    if kind == "csv":
        output.write_bytes(esf_reports.participants_csv(found).encode("utf-8"))
    else:
        period = f"du {date_from:%d/%m/%Y}" if date_from else "depuis le début"
        period += f" au {date_to:%d/%m/%Y}" if date_to else ""
        esf_reports.summary_workbook(str(output), found, operation=operation, period=period,
                                     producer=getpass.getuser(), produced_on=date.today())
    click.echo(f"Fichier écrit : {output} ({plural(len(found), 'participant')}, opération "
               f"{operation}).")


def register(app) -> None:
    """Add `flask esf` to the app's commands (called from backoffice/commands/__init__.py)."""
    app.cli.add_command(esf_cli)
