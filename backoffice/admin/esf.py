"""Menu « FSE+ (PLIE) » (issue 24): a path's ESF+ entry and exit records, and the
managing authority's checks before the export, with the exports themselves.

The views stay thin: the rules are in `rules/esf.py`, the loading in `services/esf.py`,
the files in `reports/esf.py`. A counsellor sees and edits their own paths' records only
(`permissions.OWN_PATHS_ONLY`); a funder's representative sees none of it (the records
and the participants file name people: `permissions.NOMINATIVE`).
"""
from __future__ import annotations

import io
from datetime import date

from flask import Response, abort, flash, redirect, request, send_file, url_for
from flask_admin import expose
from flask_admin.helpers import is_form_submitted
from flask_login import current_user
from sqlalchemy import select
from wtforms.validators import NumberRange, Optional, ValidationError

from ..auth.permissions import can
from ..enums import Answer
from ..extensions import db
from ..models import Enrolment, EsfEntry, EsfExit
from ..reports import esf as esf_reports
from ..reports.workbook import XLSX_MIMETYPE
from ..rules import esf as rules
from ..rules.calendar import add_months
from ..services import esf as service
from .base import GuardedScreen, add_error, current_role, scope_clause
from .lifecycle import current_day
from .paths import PathChildView

CATEGORY = "FSE+ (PLIE)"
AREA = "esf"

ISCED_ARGS = {"validators": [Optional(), NumberRange(
    min=0, max=8, message="Niveau d'études (CITE) : un niveau de 0 à 8 est attendu.")]}


def _path_of_request() -> Enrolment | None:
    """The path named by « ?enrolment= », if the user may see it."""
    path_id = request.args.get("enrolment", type=int)
    if path_id is None:
        return None
    query = select(Enrolment).where(Enrolment.id == path_id)
    scope = scope_clause(Enrolment, "enrolments")
    if scope is not None:
        query = query.where(scope)
    return db.session.scalars(query).first()


def _check_recorded(form, event: str, label: str, today: date) -> bool:
    """« Date de recueil »: not before the event it records, not in the future."""
    valid = True
    recorded, happened = form.recorded_on.data, form[event].data
    if recorded is not None and recorded > today:
        add_error(form.recorded_on, f"Date de recueil : le {recorded:%d/%m/%Y} est dans le "
                                    f"futur (aujourd'hui : {today:%d/%m/%Y}).")
        valid = False
    if recorded is not None and happened is not None and recorded < happened:
        add_error(form.recorded_on, f"Date de recueil : elle ne peut pas précéder {label} "
                                    f"({happened:%d/%m/%Y}).")
        valid = False
    return valid


class EsfRecordView(PathChildView):
    """What the entry and exit records share: the menu, the area, the path chosen."""

    menu_category = CATEGORY
    area = "esf_records"
    column_select_related_list = ()
    #: the path's date the record's event date starts from (on « Ajouter »)
    path_date: str = ""
    event_field: str = ""

    def create_form(self, obj=None):
        """« Ajouter » from a path's page: the path chosen, its date, today's recording."""
        form = super().create_form(obj)
        if not is_form_submitted():
            path = _path_of_request()
            if path is not None:
                form[self.event_field].data = getattr(path, self.path_date)
                form.recorded_on.data = current_day()
        return form


class EsfEntryView(EsfRecordView):
    model_class = EsfEntry
    slug = "esf-entries"
    menu_name = "Données d'entrée FSE+"
    path_date = "entry_date"
    event_field = "entered_on"
    column_list = ("id", "enrolment", "enrolment.beneficiary", "entered_on", "recorded_on",
                   "labour_market_status", "isced_level")
    column_select_related_list = (EsfEntry.enrolment,)
    column_default_sort = ("entered_on", True)
    column_filters = ("entered_on", "recorded_on")
    form_columns = ("enrolment", "entered_on", "recorded_on", *rules.ENTRY_ITEMS)
    form_args = {"isced_level": ISCED_ARGS}
    column_descriptions = {
        name: "Question sensible : « Refuse de répondre » est une réponse admise."
        for name in rules.SENSITIVE}

    def check_form(self, form) -> bool:
        """Dates in order; « Refuse de répondre » only for the sensitive items."""
        valid = super().check_form(form)
        if "entered_on" not in form:
            return valid
        valid = _check_recorded(form, "entered_on", "l'entrée", current_day()) and valid
        answers = {name: form[name].data for name in rules.ENTRY_ITEMS if name in form}
        for name, message in rules.refused_where_not_allowed(answers):
            add_error(form[name], message)
            valid = False
        path = form.enrolment.data if "enrolment" in form else None
        entered = form.entered_on.data
        problem = (rules.entered_before_path_problem(entered, path.entry_date)
                   if path is not None and entered is not None else None)
        if problem:
            add_error(form.entered_on, problem)
            valid = False
        return valid

    def on_model_change(self, form, model, is_created):
        """One participant per operation: a re-entry keeps the first entry's data."""
        try:
            service.check_new_entry(db.session, model)
        except service.EntryRefused as refused:
            raise ValidationError(str(refused)) from None


class EsfExitView(EsfRecordView):
    model_class = EsfExit
    slug = "esf-exits"
    menu_name = "Données de sortie FSE+"
    path_date = "exit_date"
    event_field = "left_on"
    column_list = ("id", "enrolment", "enrolment.beneficiary", "left_on", "recorded_on",
                   "in_employment", "in_education_or_training")
    column_select_related_list = (EsfExit.enrolment,)
    column_default_sort = ("left_on", True)
    column_filters = ("left_on", "recorded_on", "six_month_recorded_on")
    form_columns = ("enrolment", "left_on", "recorded_on", *rules.EXIT_ITEMS,
                    "six_month_recorded_on", *rules.SIX_MONTH_ITEMS)
    column_descriptions = {
        "recorded_on": "À recueillir dans les 4 semaines qui suivent la sortie.",
        "six_month_recorded_on": "Seulement si le dispositif recueille la situation 6 mois "
                                 "après la sortie.",
    }

    def check_form(self, form) -> bool:
        """Dates in order; the six-month situation not before six months."""
        valid = super().check_form(form)
        if "left_on" not in form:
            return valid
        valid = _check_recorded(form, "left_on", "la sortie", current_day()) and valid
        for name in rules.EXIT_ITEMS:
            if form[name].data == Answer.REFUSED:
                add_error(form[name], f"{rules.EXIT_ITEMS[name]} : « Refuse de répondre » "
                                      f"n'est admis que pour les questions sensibles.")
                valid = False
        path, left = form.enrolment.data, form.left_on.data
        if path is not None and left is not None:
            if path.exit_date is None:
                add_error(form.left_on, "Date de sortie de l'opération : le parcours n'a pas "
                                        "de sortie enregistrée ; clôturez-le d'abord.")
                valid = False
            elif left < path.entry_date:
                add_error(form.left_on, f"Date de sortie de l'opération : elle ne peut pas "
                                        f"précéder l'entrée du parcours "
                                        f"({path.entry_date:%d/%m/%Y}).")
                valid = False
        six = form.six_month_recorded_on.data
        if six is not None and left is not None \
                and six < add_months(left, rules.LONGER_TERM_MONTHS):
            add_error(form.six_month_recorded_on,
                      f"Date de recueil de la situation à 6 mois : au plus tôt le "
                      f"{add_months(left, rules.LONGER_TERM_MONTHS):%d/%m/%Y} "
                      f"(6 mois après la sortie).")
            valid = False
        return valid


# --- the managing authority's checks and the exports -------------------------------------

def _posted_date(name: str, label: str) -> tuple[date | None, str | None]:
    """A date of the query string (JJ/MM/AAAA or AAAA-MM-JJ), or an error in French."""
    raw = (request.args.get(name) or "").strip()
    if not raw:
        return None, None
    for parse in (date.fromisoformat,
                  lambda text: date(*reversed([int(p) for p in text.split("/")]))):
        try:
            return parse(raw), None
        except (ValueError, TypeError):
            continue
    return None, f"{label} : « {raw} » n'est pas une date (JJ/MM/AAAA)."


class EsfChecksView(GuardedScreen):
    """« Contrôles avant export »: per person, what the managing authority would refuse,
    each line a link to the form that fixes it; then the exports."""

    permission_area = AREA

    def __init__(self, name="Contrôles avant export", endpoint="esf_checks", url="esf",
                 category=CATEGORY, **kwargs):
        super().__init__(name=name, endpoint=endpoint, url=url, category=category, **kwargs)


    def _query(self):
        """(operation, from, to, errors) from the query string."""
        operations = service.operations(db.session)
        operation = request.args.get("operation") or (operations[0] if operations else "")
        errors = []
        if operation and operation not in operations:
            errors.append(f"Opération : « {operation} » n'existe pas "
                          f"({', '.join(operations) or 'aucune'}).")
            operation = operations[0] if operations else ""
        date_from, error = _posted_date("from", "Du")
        errors += [error] if error else []
        date_to, error = _posted_date("to", "Au")
        errors += [error] if error else []
        if date_from and date_to and date_to < date_from:
            errors.append("Au : la fin de la période ne peut pas précéder son début.")
            date_to = None
        return operations, operation, date_from, date_to, errors

    def _people(self, operation, date_from, date_to):
        return service.load_people(db.session, operation, date_from=date_from,
                                   date_to=date_to,
                                   paths_where=scope_clause(Enrolment, "esf_records"))

    @staticmethod
    def fix_url(problem: rules.Problem) -> str | None:
        """The form that fixes a problem, back to this list after."""
        endpoint = "esf_entries" if problem.record == rules.ENTRY else "esf_exits"
        if problem.record_id is not None:
            if not can(current_role(), "esf_records", "edit"):
                return None
            return url_for(f"{endpoint}.edit_view", id=problem.record_id, url=request.url)
        if not can(current_role(), "esf_records", "create"):
            return None
        return url_for(f"{endpoint}.create_view", enrolment=problem.enrolment_id,
                       url=request.url)

    @expose("/")
    def index_view(self):
        operations, operation, date_from, date_to, errors = self._query()
        for error in errors:
            flash(error, "error")
        checks = rules.check_all(self._people(operation, date_from, date_to), current_day()) \
            if operation else []
        found = [c.participant for c in checks if c.participant is not None]
        return self.render(
            "admin/esf/checks.html", checks=checks, operations=operations,
            operation=operation, date_from=date_from, date_to=date_to,
            participants=len(found), ready=sum(1 for c in checks if c.ready),
            may_export=self._may("export"), fix_url=self.fix_url,
            export_url=lambda kind: url_for(".download", operation=operation, format=kind,
                                            **{name: value.isoformat() for name, value in
                                               (("from", date_from), ("to", date_to))
                                               if value}),
            person_url=lambda pid: url_for("beneficiaries.details_view", id=pid)
            if can(current_role(), "beneficiaries") else None,
            path_url=lambda pid: url_for("enrolments.details_view", id=pid))

    @expose("/export/")
    def download(self):
        """The participants file (CSV, nominative) or the summary workbook (XLSX)."""
        if not self._may("export"):
            abort(403)
        operations, operation, date_from, date_to, errors = self._query()
        kind = request.args.get("format", "csv")
        if errors or not operation or kind not in ("csv", "xlsx"):
            flash(" ".join(errors) or "Export : format « csv » ou « xlsx » attendu, et une "
                                      "opération FSE+.", "error")
            return redirect(url_for(".index_view", **request.args))
        found = rules.participants(self._people(operation, date_from, date_to))
        period = _period_label(date_from, date_to)
        stem = f"fse-{operation.lower()}-{current_day():%Y%m%d}"
        if kind == "csv":
            return Response(esf_reports.participants_csv(found), mimetype="text/csv",
                            headers={"Content-Disposition":
                                     f"attachment;filename={stem}-participants.csv"})
        buffer = io.BytesIO()
        esf_reports.summary_workbook(buffer, found, operation=operation, period=period,
                                     producer=current_user.name, produced_on=current_day())
        buffer.seek(0)
        return send_file(buffer, mimetype=XLSX_MIMETYPE, as_attachment=True,
                         download_name=f"{stem}-indicateurs.xlsx")


def _period_label(date_from: date | None, date_to: date | None) -> str:
    if date_from and date_to:
        return f"du {date_from:%d/%m/%Y} au {date_to:%d/%m/%Y}"
    if date_from:
        return f"depuis le {date_from:%d/%m/%Y}"
    if date_to:
        return f"jusqu'au {date_to:%d/%m/%Y}"
    return "depuis le début de l'opération"


__all__ = ["EsfChecksView", "EsfEntryView", "EsfExitView"]
