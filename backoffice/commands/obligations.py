"""Commands of the deadline engine, for the operators and the daily cron job:

- ``flask obligations rebuild [--as-of AAAA-MM-JJ]`` recomputes every obligation from the
  records (idempotent) and prints what changed;
- ``flask alerts [--as-of AAAA-MM-JJ] [--referent EMAIL] [--days N] [--closed-paths]
  [--format text|xlsx] [--output FILE]`` prints or writes the daily digest: the same
  list as ``/admin/alerts/`` (what to act on; ``--closed-paths``: the deadlines closed
  paths left undone, the page's other tab).

A cron line: ``flask obligations rebuild && flask alerts --format xlsx --output
alertes-$(date +%F).xlsx``.
"""
from __future__ import annotations

from datetime import date, datetime

import click
import xlsxwriter
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import select

from ..extensions import db
from ..maintenance import refresh_statistics
from ..models import User
from ..obligation_sync import engine_writes
from ..rules.wording import plural
from ..services import alerts as service
from ..services.obligations import END_OF_DAY, rebuild
from . import plausible_day

obligations_cli = AppGroup("obligations", help="Échéances : recalcul depuis les dossiers.")

COUNT_LABELS = (
    ("created", "créée", "créées"), ("updated", "date recalculée", "dates recalculées"),
    ("fulfilled", "faite d'après le dossier", "faites d'après le dossier"),
    ("cancelled", "annulée", "annulées"), ("unchanged", "inchangée", "inchangées"),
)


def _as_of(value: str | None) -> datetime:
    """The moment the command looks from: the start of --as-of, else now."""
    if not value:
        return datetime.now()
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"« {value} » n'est pas une date AAAA-MM-JJ.",
                                 param_hint="--as-of") from None
    return service.as_of_datetime(plausible_day(day, "--as-of"))


def _line(counts: dict[str, int]) -> str:
    return ", ".join(plural(counts[key], one, many) for key, one, many in COUNT_LABELS)


@obligations_cli.command("rebuild")
@click.option("--as-of", "as_of", metavar="AAAA-MM-JJ",
              help="Recalculer à cette date (par défaut : maintenant).")
def rebuild_command(as_of: str | None) -> None:
    """Recompute every obligation from the records and print the differences."""
    now = _as_of(as_of)
    with engine_writes(db.session):
        report = rebuild(db.session, now, release_memory=True)
        db.session.commit()
    refresh_statistics(db.engine)  # a nightly rebuild also keeps the planner's figures fresh
    click.echo(f"Échéances recalculées au {now:%d/%m/%Y} :")
    for subject, result in report.by_subject.items():
        click.echo(f"  {subject} : {_line(result.counts())}")
    click.echo(f"  total : {_line(report.total.counts())}")


# --- The digest -----------------------------------------------------------------------

def _fmt(moment: datetime | None) -> str:
    if moment is None:
        return ""
    if moment.time() in (END_OF_DAY, datetime.min.time()):
        return f"{moment:%d/%m/%Y}"
    return f"{moment:%d/%m/%Y %H:%M}"


def _state(row, now: datetime) -> str:
    late = row.days_from(now)
    if row.overdue:
        return f"EN RETARD {late} j" if late > 0 else "EN RETARD"
    return "AUJOURD'HUI" if late == 0 else f"DANS {-late} j"


def digest_text(data: service.AlertList) -> str:
    """The digest as plain text, grouped by referent."""
    now, days = data.now, data.filters.days
    scope = ("échéances jamais faites des parcours clôturés"
             if data.filters.scope == service.CLOSED_PATHS
             else f"échéances dans les {plural(days, 'jour')}, parcours en cours")
    lines = [
        f"Alertes au {now:%d/%m/%Y} — {scope}",
        f"Échéances dépassées : {data.overdue_total} · à échéance : {data.due_soon_total} · "
        f"alertes de suivi : {len(data.alerts)}",
    ]
    obligations = dict(service.group_rows(data.obligations, "referent"))
    alerts = dict(service.group_rows(data.alerts, "referent"))
    for title in sorted(set(obligations) | set(alerts), key=str.casefold):
        lines += ["", f"== {title} =="]
        for row in obligations.get(title, []):
            lines.append(f"[{_state(row, now)}] {_fmt(row.due_at)}  {row.name} — {row.subject}"
                         f" ({row.programme_code or '—'})")
        for item in alerts.get(title, []):
            lines.append(f"[ALERTE] {item.kind_label} — {item.subject}"
                         f" ({item.programme_code or '—'}) : {item.message}")
    if not obligations and not alerts:
        lines += ["", "Aucune échéance ni alerte."]
    return "\n".join(lines)


OBLIGATION_COLUMNS = ("État", "Livrable", "Concerne", "Dispositif", "Référent",
                      "Événement", "Échéance", "Jours de retard", "Source")
ALERT_COLUMNS = ("Type", "Concerne", "Dispositif", "Référent", "Constat", "Source")


def write_digest_xlsx(data: service.AlertList, path: str) -> None:
    """The digest as a workbook: « Échéances » and « Alertes de suivi », user text
    written as text (never a formula), dates as dates, header frozen and filterable."""
    workbook = xlsxwriter.Workbook(path, {"strings_to_formulas": False})
    header = workbook.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
    day = workbook.add_format({"num_format": "dd/mm/yyyy"})
    minute = workbook.add_format({"num_format": "dd/mm/yyyy hh:mm"})

    def when(sheet, r, c, moment):
        if moment is None:
            sheet.write_blank(r, c, None)
        elif moment.time() in (END_OF_DAY, datetime.min.time()):
            sheet.write_datetime(r, c, datetime.combine(moment.date(), datetime.min.time()), day)
        else:
            sheet.write_datetime(r, c, moment, minute)

    sheet = workbook.add_worksheet("Échéances")
    sheet.write_row(0, 0, OBLIGATION_COLUMNS, header)
    for r, row in enumerate(data.obligations, start=1):
        sheet.write_string(r, 0, _state(row, data.now))
        sheet.write_string(r, 1, row.name)
        sheet.write_string(r, 2, row.subject)
        sheet.write_string(r, 3, row.programme_code or "")
        sheet.write_string(r, 4, row.referent_name or "")
        when(sheet, r, 5, row.event_at)
        when(sheet, r, 6, row.due_at)
        sheet.write_number(r, 7, max(row.days_from(data.now), 0))
        sheet.write_string(r, 8, row.source or "")
    sheet.freeze_panes(1, 0)
    sheet.autofilter(0, 0, max(len(data.obligations), 1), len(OBLIGATION_COLUMNS) - 1)
    sheet.set_column(0, 0, 16)
    sheet.set_column(1, 2, 45)
    sheet.set_column(3, 4, 22)
    sheet.set_column(5, 6, 17)

    sheet = workbook.add_worksheet("Alertes de suivi")
    sheet.write_row(0, 0, ALERT_COLUMNS, header)
    for r, item in enumerate(data.alerts, start=1):
        for c, value in enumerate((item.kind_label, item.subject, item.programme_code or "",
                                   item.referent_name or "", item.message, item.source)):
            sheet.write_string(r, c, value)
    sheet.freeze_panes(1, 0)
    sheet.autofilter(0, 0, max(len(data.alerts), 1), len(ALERT_COLUMNS) - 1)
    sheet.set_column(0, 1, 40)
    sheet.set_column(2, 3, 22)
    sheet.set_column(4, 4, 70)
    workbook.close()


@click.command("alerts")
@with_appcontext
@click.option("--as-of", "as_of", metavar="AAAA-MM-JJ",
              help="Date de la situation (par défaut : aujourd'hui).")
@click.option("--referent", metavar="EMAIL", help="Seulement les parcours de ce référent.")
@click.option("--days", default=service.DEFAULT_DAYS, show_default=True,
              type=click.IntRange(0, service.MAX_DAYS),
              help="Échéances à venir dans ce nombre de jours.")
@click.option("--closed-paths", is_flag=True,
              help="Les échéances jamais faites des parcours clôturés (à part de la liste "
                   "à traiter), au lieu de la liste à traiter.")
@click.option("--format", "output_format", type=click.Choice(["text", "xlsx"]),
              default="text", show_default=True, help="Texte ou classeur Excel.")
@click.option("--output", type=click.Path(dir_okay=False, writable=True),
              help="Fichier à écrire (obligatoire en xlsx ; en texte, sinon l'écran).")
def alerts_command(as_of: str | None, referent: str | None, days: int, closed_paths: bool,
                   output_format: str, output: str | None) -> None:
    """Print or write the daily digest of obligations and alerts."""
    now = _as_of(as_of)
    referent_id = None
    if referent:
        email = referent.strip().lower()
        referent_id = db.session.scalar(select(User.id).where(User.email == email))
        if referent_id is None:
            raise click.BadParameter(f"aucun compte avec l'adresse {email}.",
                                     param_hint="--referent")
    # Issue 20 §4: the list to act on (paths still open, and what concerns no path), as on
    # /admin/alerts/; a closed path's leftovers only when asked for.
    filters = service.AlertFilters(
        days=days, referent_id=referent_id, limit=None,
        scope=service.CLOSED_PATHS if closed_paths else service.ACTIONABLE)
    data = service.alert_list(db.session, None, now, filters)
    if output_format == "xlsx":
        if not output:
            raise click.UsageError("--output est obligatoire avec --format xlsx.")
        write_digest_xlsx(data, output)
        click.echo(f"Classeur écrit : {output} ({plural(data.obligations_total, 'échéance')}, "
                   f"{plural(len(data.alerts), 'alerte')}).")
        return
    text = digest_text(data)
    if output:
        with open(output, "w", encoding="utf-8") as handle:
            handle.write(text + "\n")
        click.echo(f"Fichier écrit : {output}.")
    else:
        click.echo(text)


def register(app) -> None:
    """Add ``flask obligations rebuild`` and ``flask alerts`` to the app."""
    app.cli.add_command(obligations_cli)
    app.cli.add_command(alerts_command)
