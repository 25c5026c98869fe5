"""`flask audit flush` (issue 25 §3): write to the audit trail the entries waiting in the
audit spool (audit/spool.py), e.g. those a stopped or crashed server left behind. Each
request that records something drains the spool after its response, leftovers included;
this command writes them without waiting for a request (after a restart, or from cron)."""
import click
from flask import current_app
from flask.cli import AppGroup

from ..audit import spool
from ..rules.wording import plural

audit_cli = AppGroup("audit", help="Journal d'audit : entrées en attente d'écriture.")


@audit_cli.command("flush", help="Écrire dans le journal d'audit les entrées en attente "
                                 "(fichier d'attente des lectures, exports et refus).")
def flush_command() -> None:
    """Drain the spool, waiting for a drain already running."""
    app = current_app._get_current_object()
    written = spool.drain(app, wait=True)
    click.echo(plural(written, "entrée écrite", "entrées écrites")
               + f" dans le journal d'audit (fichier d'attente : {spool.folder(app)}).")
    if spool.pending(app):  # appended while it ran: the next request or flush writes them
        click.echo("Des entrées sont arrivées pendant l'écriture : elles seront écrites "
                   "par la prochaine requête ou un nouveau « flask audit flush ».")


def register(app) -> None:
    app.cli.add_command(audit_cli)
