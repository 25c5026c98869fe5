"""`flask import referrals FILE --programme CODE` and `flask import undo ID` (issue 23):
the import of a funder's list without the screen, same checks, same record.

The rows in error are listed (line, column, rule) and left out; the valid rows are
written in one transaction. Candidates found by names (swapped first and last names,
another external id) stop the import unless ``--confirm-matches`` says they are the
people proposed. ``--dry-run`` shows the preview and writes nothing.
"""
from datetime import date
from pathlib import Path

import click
from flask.cli import AppGroup
from sqlalchemy import select

from ..enums import ImportRowStatus
from ..extensions import db
from ..imports.reader import UnreadableFile
from ..models import Commission, Programme, PurchaseOrder, ReferralImport, ReferralImportRow, User
from ..services import imports as service
from . import RECORD_ID

import_cli = AppGroup("import", help="Importer les listes de prescriptions des financeurs.")

#: Rows in error printed before « … et N autres ».
SHOWN_ERRORS = 30


def _programme(code: str) -> Programme:
    found = db.session.scalar(select(Programme).where(Programme.code == code.strip().upper()))
    if found is None:
        codes = ", ".join(db.session.scalars(select(Programme.code).order_by(Programme.code)))
        raise click.ClickException(f"--programme : dispositif « {code} » inconnu ; codes : "
                                   f"{codes or 'aucun dispositif chargé'}.")
    return found


def _same_step(programme: Programme, referent: str | None, order: str | None,
               commission_on: date | None) -> service.SameStep:
    choice = service.SameStep()
    if referent:
        user = db.session.scalar(select(User).where(User.email == referent.strip().lower()))
        if user is None:
            raise click.ClickException(f"--referent : aucun compte « {referent} ».")
        choice.referent_id = user.id
    if order:
        found = db.session.scalar(select(PurchaseOrder.id).where(
            PurchaseOrder.programme_id == programme.id, PurchaseOrder.number == order.strip()))
        if found is None:
            raise click.ClickException(f"--order : aucun bon de commande n° {order} pour "
                                       f"{programme.code}.")
        choice.purchase_order_id = found
    if commission_on:
        found = db.session.scalar(select(Commission.id).where(
            Commission.programme_id == programme.id, Commission.held_on == commission_on)
            .order_by(Commission.id).limit(1))
        if found is None:
            raise click.ClickException(f"--commission : aucune commission {programme.code} le "
                                       f"{commission_on:%d/%m/%Y}.")
        choice.commission_id = found
    return choice


def _print_preview(record: ReferralImport) -> None:
    counts = service.summary(db.session, record)
    click.echo(f"{record.file_name} : {record.row_count} ligne(s) lue(s) pour "
               f"{record.programme.code}.")
    for status in ImportRowStatus:
        if counts.get(status.value):
            click.echo(f"  {status.label} : {counts[status.value]}")
    errors = db.session.scalars(select(ReferralImportRow).where(
        ReferralImportRow.import_id == record.id,
        ReferralImportRow.status == ImportRowStatus.ERROR)
        .order_by(ReferralImportRow.line).limit(SHOWN_ERRORS + 1)).all()
    for row in errors[:SHOWN_ERRORS]:
        for _field, message in row.problems or []:
            click.echo(f"  {message}")
    if counts.get("error", 0) > SHOWN_ERRORS:
        click.echo(f"  … et {counts['error'] - SHOWN_ERRORS} autre(s) ligne(s) en erreur.")
    for row in db.session.scalars(select(ReferralImportRow).where(
            ReferralImportRow.import_id == record.id,
            ReferralImportRow.status == ImportRowStatus.TO_CONFIRM)
            .order_by(ReferralImportRow.line).limit(SHOWN_ERRORS)):
        click.echo(f"  Ligne {row.line} à confirmer : {'; '.join(row.notes or [])}")


@import_cli.command("referrals")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--programme", required=True, help="Code du dispositif (CSP, DEL-L1…).")
@click.option("--referent", default=None, help="E-mail du référent donné à chaque ligne.")
@click.option("--order", default=None,
              help="N° du bon de commande où inscrire les lignes (ARJLJ, CSP).")
@click.option("--commission", "commission_on", type=click.DateTime(formats=["%Y-%m-%d"]),
              default=None, help="Date AAAA-MM-JJ de la commission à l'ordre du jour de "
                                 "laquelle mettre les lignes (DEL, PLIE).")
@click.option("--confirm-matches", is_flag=True,
              help="Les personnes proposées par nom (à confirmer) sont bien celles des lignes.")
@click.option("--dry-run", is_flag=True, help="Afficher l'aperçu, sans rien enregistrer.")
def referrals_command(file: str, programme: str, referent: str | None, order: str | None,
                      commission_on, confirm_matches: bool, dry_run: bool) -> None:
    """Import a list of referrals of one programme."""
    today = date.today()
    programme_row = _programme(programme)
    choice = _same_step(programme_row, referent, order,
                        commission_on.date() if commission_on else None)
    try:
        record = service.start_import(db.session, Path(file), Path(file).name,
                                      programme_row, None, today)
    except (UnreadableFile, service.ImportRefused) as refused:
        db.session.rollback()
        raise click.ClickException(f"{refused} Rien n'a été enregistré.") from None
    if record.mapping is None:
        db.session.rollback()
        raise click.ClickException(
            f"les en-têtes de « {Path(file).name} » ne correspondent à aucune "
            f"correspondance de {programme_row.code} ; importez-le une première fois depuis "
            "Commission › Importer des prescriptions pour choisir les colonnes et enregistrer "
            "la correspondance. Rien n'a été enregistré.")
    _print_preview(record)
    if dry_run:
        db.session.rollback()
        click.echo("[simulation] Rien n'a été enregistré.")
        return
    if confirm_matches:
        service.confirm_all_candidates(db.session, record)
    try:
        service.confirm(db.session, record, None, today, choice)
    except service.ImportRefused as refused:
        db.session.rollback()
        raise click.ClickException(f"{refused} (--confirm-matches pour les accepter)"
                                   if "confirmer" in str(refused) else str(refused)) from None
    db.session.commit()
    click.echo(f"Import n° {record.id} : {record.people_created} personne(s) créée(s), "
               f"{record.referrals_created} prescription(s) créée(s), "
               f"{record.referrals_updated} mise(s) à jour, {record.rows_unchanged} "
               f"inchangée(s), {record.rows_in_error} ligne(s) en erreur ou en double non "
               "importée(s).")


@import_cli.command("undo")
@click.argument("import_id", type=RECORD_ID)
def undo_command(import_id: int) -> None:
    """Undo an import while none of its referrals is decided."""
    record = db.session.get(ReferralImport, import_id)
    if record is None:
        raise click.ClickException(f"aucun import n° {import_id}.")
    try:
        counts = service.undo(db.session, record, None)
    except service.ImportRefused as refused:
        db.session.rollback()
        raise click.ClickException(str(refused)) from None
    db.session.commit()
    click.echo(f"Import n° {import_id} annulé : {counts['referrals']} prescription(s) et "
               f"{counts['people']} personne(s) supprimée(s), {counts['restored']} "
               "prescription(s) remise(s) comme avant.")


def register(app) -> None:
    app.cli.add_command(import_cli)
