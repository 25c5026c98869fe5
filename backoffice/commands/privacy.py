"""`flask privacy purge --as-of DATE` and `flask privacy export --beneficiary ID`
(issue 6 §7; what they keep and erase: privacy.py and README « Données personnelles »)."""
import json
from datetime import date

import click
from flask import current_app
from flask.cli import AppGroup

from .. import audit
from ..extensions import db
from ..privacy import person_data, purge
from ..rules.wording import plural
from . import RECORD_ID, plausible_day

privacy_cli = AppGroup("privacy", help="Données personnelles : purge et droit d'accès.")


@privacy_cli.command(
    "purge", help="Anonymiser les personnes au-delà de la durée de conservation et purger "
                  "le journal d'audit ancien.")
@click.option("--as-of", "as_of", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Date de référence AAAA-MM-JJ (par défaut : aujourd'hui).")
@click.option("--dry-run", is_flag=True, help="Afficher ce qui serait fait, sans l'enregistrer.")
def purge_command(as_of, dry_run: bool) -> None:
    """Anonymise people past the retention period; delete old audit entries."""
    day = plausible_day(as_of.date(), "--as-of") if as_of else date.today()
    config = current_app.config
    report = purge(db.session, day, retention_months=config["PRIVACY_RETENTION_MONTHS"],
                   log_retention_months=config["AUDIT_RETENTION_MONTHS"])
    if dry_run:
        db.session.rollback()
    else:
        db.session.commit()
    prefix = "[simulation] " if dry_run else ""
    click.echo(f"{prefix}Purge au {day:%d/%m/%Y} "
               f"(dernière sortie ou dernier contact avant le {report.cutoff:%d/%m/%Y}) :")
    click.echo("  " + plural(len(report.anonymised), "bénéficiaire anonymisé",
                             "bénéficiaires anonymisés")
               + (f" : n° {', '.join(map(str, report.anonymised))}" if report.anonymised else ""))
    click.echo("  " + plural(report.audit_entries_deleted,
                             "entrée du journal d'audit supprimée",
                             "entrées du journal d'audit supprimées")
               + f" (d'avant le {report.log_cutoff:%d/%m/%Y})")
    click.echo("  " + plural(report.login_attempts_deleted, "tentative de connexion supprimée",
                             "tentatives de connexion supprimées"))


@privacy_cli.command(
    "export", help="Exporter en JSON toutes les données d'une personne (droit d'accès).")
@click.option("--beneficiary", "beneficiary_id", required=True, type=RECORD_ID,
              help="Numéro (id) du bénéficiaire.")
@click.option("--output", type=click.Path(dir_okay=False, writable=True), default=None,
              help="Fichier JSON à écrire (par défaut : la sortie standard).")
def export_command(beneficiary_id: int, output: str | None) -> None:
    """Everything stored about one person (access right), as JSON."""
    data = person_data(db.session, beneficiary_id)
    if data is None:
        raise click.ClickException(f"Aucun bénéficiaire n° {beneficiary_id}.")
    audit.record(db.session, "export", "beneficiaries", beneficiary_id,
                 detail="Export des données de la personne (droit d'accès)")
    db.session.commit()
    text = json.dumps(data, ensure_ascii=False, indent=2)
    if output:
        with open(output, "w", encoding="utf-8") as handle:
            handle.write(text + "\n")
        click.echo(f"Données du bénéficiaire n° {beneficiary_id} écrites dans {output}.")
    else:
        click.echo(text)


def register(app) -> None:
    app.cli.add_command(privacy_cli)
