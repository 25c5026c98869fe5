"""« Indicateurs » (menu Pilotage): every funder report in one click, and its headline
figures on screen with simple server-rendered bar charts (SVG, no JavaScript library).

Access (auth/permissions.py, area "indicators"): admin, coordinator and commission get
the nominative workbooks; a viewer (funder representative) gets them pseudonymised — the
rule is "may export beneficiaries" (area "beneficiaries", verb "export"); a counsellor
gets 403. A viewer reads only the programmes of the funder its account is linked to
(issue 18 §1: a DEL representative, not France Travail's or the PLIE's; linked to none:
no programme). The figures come from backoffice/indicators, the files from
backoffice/reports.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from datetime import date

from flask import abort, current_app, request, send_file
from flask_admin import expose
from flask_login import current_user
from sqlalchemy import select

from ..auth.permissions import can, is_restricted_to_own_funder
from ..extensions import db
from ..indicators.compliance import late_obligations, ledger
from ..indicators.headline import headline
from ..indicators.lists import MASKED, pseudonym
from ..indicators.scope import ScopeError
from ..indicators.targets import all_targets
from ..models import Programme, ProgrammeSession, PurchaseOrder
from ..reports import REPORTS, XLSX_MIMETYPE, default_period, filename, prepare
from ..reports.periods import csp_due_on
from .alerts import format_due
from .base import GuardedScreen, parse_id

#: The query string's keys that say which report and scope a page shows (kept by its links).
SCOPE_KEYS = ("report", "programme", "date_from", "date_to", "session", "order")


def scope_args() -> dict[str, str]:
    """The report and scope of the query string, for a link to another page of the same
    (only these keys: nothing else of the query string goes into ``url_for``)."""
    return {key: request.args[key] for key in SCOPE_KEYS if request.args.get(key)}


def nominative_allowed(role) -> bool:
    """True when the role may see the nominative version (else: pseudonymised)."""
    return can(role, "beneficiaries", "export")


def _date(value: str | None) -> date | None:
    """An ISO date from the form, None when empty; ScopeError in French when malformed."""
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as error:
        raise ScopeError(f"Date « {value} » invalide : format attendu AAAA-MM-JJ.") from error


def _int(value: str | None) -> int | None:
    """A session's or an order's id from the form, None when empty; ScopeError in French
    when it is not an id (letters, 2^70…)."""
    if not value:
        return None
    record_id = parse_id(value)
    if record_id is None:
        raise ScopeError(f"Identifiant « {value} » invalide.")
    return record_id


def programmes_query():
    """The programmes the current user may report on (a viewer: its funder's only)."""
    query = select(Programme).order_by(Programme.code)
    if is_restricted_to_own_funder(current_user.role):
        query = query.where(Programme.funder_id == current_user.funder_id)
    return query


#: Late obligations listed at most on the drill-down page (the workbook lists them all).
LATE_PAGE_LIMIT = 200


@dataclass(frozen=True)
class LateRow:
    """One line of the drill-down as the reader's role may see it (issue 22 §4)."""

    late: object  # indicators.compliance.LateObligation
    who: str  # the person's name, their pseudonym, or what it concerns (an order…)
    path_id: int | None  # set when the reader may open the path
    reason: str | None  # masked for a reader who may not read the obligations' free text


def late_rows(lates, role, key: str) -> list[LateRow]:
    """The drill-down's lines for ``role``: names for those who get the nominative
    reports (``nominative_allowed``), else a stable pseudonym (a funder's representative,
    as in the pseudonymised workbook); a link to the path for those who may read paths;
    the reason for those who may read the obligations, else « masqué »."""
    names = nominative_allowed(role)
    paths = can(role, "enrolments", "read")
    reasons = can(role, "obligations", "read")
    rows = []
    for late in lates:
        if late.beneficiary_id is None:
            who = late.subject
        else:
            who = late.person if names else pseudonym(late.beneficiary_id, key)
        reason = late.reason if reasons or not late.reason else MASKED
        rows.append(LateRow(late, who, late.enrolment_id if paths else None, reason))
    return rows


class IndicatorsView(GuardedScreen):
    """The list of reports, a programme / period form per report, « Télécharger »."""

    permission_area = "indicators"

    def __init__(
        self,
        name="Indicateurs",
        endpoint="indicators",
        url="indicators",
        category="Pilotage",
        **kwargs,
    ):
        super().__init__(name=name, endpoint=endpoint, url=url, category=category, **kwargs)

    # --- access -------------------------------------------------------------------------

    # --- pages --------------------------------------------------------------------------

    def _choices(self) -> dict:
        """Programmes per report, sessions of DEL programmes, ARJLJ orders (for the forms)."""
        programmes = db.session.scalars(programmes_query()).all()
        ids = [p.id for p in programmes]
        sessions = db.session.execute(
            select(ProgrammeSession.id, ProgrammeSession.label, Programme.code)
            .join(Programme, ProgrammeSession.programme_id == Programme.id)
            .where(Programme.id.in_(ids))
            .order_by(ProgrammeSession.starts_on.desc())
        ).all()
        orders = db.session.execute(
            select(PurchaseOrder.id, PurchaseOrder.number, Programme.code)
            .join(Programme, PurchaseOrder.programme_id == Programme.id)
            .where(Programme.id.in_(ids))
            .order_by(PurchaseOrder.issued_on.desc())
        ).all()
        return {
            "programmes": {
                code: [p for p in programmes if p.exit_scheme in r.schemes]
                for code, r in REPORTS.items()
            },
            "sessions": sessions,
            "orders": orders,
        }

    @staticmethod
    def _defaults(choices: dict, today: date) -> dict:
        """Per report, the dates its form opens on (issue 22 §2, reports/periods.py), ISO
        strings, empty for the session's or order's own dates; the CSP's due date per
        programme (002 II §9: 5th working day of the next month)."""
        periods = {code: default_period(code, today) for code in REPORTS}
        dates = {code: (p[0].isoformat(), p[1].isoformat()) if p else ("", "")
                 for code, p in periods.items()}
        csp_end = periods["csp-monthly"][1]
        due = {p.code: csp_due_on(csp_end, p.funder.territory.value)
               for p in choices["programmes"].get("csp-monthly", [])}
        return {"dates": dates, "csp_due": due}

    @staticmethod
    def _reports(choices: dict) -> dict:
        """The reports offered: a funder's account sees only those of its programmes."""
        if not is_restricted_to_own_funder(current_user.role):
            return REPORTS
        return {code: r for code, r in REPORTS.items() if choices["programmes"].get(code)}

    def _request(self, today: date):
        """Report and scope from the query string (ScopeError with a French message);
        without dates, the report's own period as of ``today`` (reports/periods.py)."""
        args = request.args
        report_code = args.get("report", "")
        programme_code = args.get("programme", "")
        if not programme_code:  # a bare link (?report=…) shows the report's first programme
            offered = self._choices()["programmes"].get(report_code) or []
            programme_code = offered[0].code if offered else ""
        if is_restricted_to_own_funder(current_user.role) and programme_code not in set(
                db.session.scalars(programmes_query().with_only_columns(Programme.code))):
            raise ScopeError(f"Dispositif « {programme_code} » : hors du périmètre de votre "
                             f"compte (dispositifs du financeur que vous représentez).")
        return prepare(
            db.session,
            report_code,
            programme_code=programme_code,
            date_from=_date(args.get("date_from")),
            date_to=_date(args.get("date_to")),
            session_id=_int(args.get("session")),
            order_id=_int(args.get("order")),
            today=today,
        )

    @expose("/")
    def index_view(self):
        """The reports, their forms, and the headline figures of the one asked for."""
        today = date.today()
        choices = self._choices()
        context = {
            "reports": self._reports(choices),
            "choices": choices,
            "defaults": self._defaults(choices, today),
            "pseudonymised": not nominative_allowed(current_user.role),
            "args": request.args,
            "scope_args": scope_args(),
            "error": None,
            "figures": None,
            "charts": None,
            "ledger": None,
            "scope": None,
            "report": None,
        }
        if request.args.get("report"):
            try:
                report, scope = self._request(today)
                figures, charts = headline(db.session, report.code, scope)
                context.update(report=report, scope=scope, figures=figures, charts=charts,
                               ledger=ledger(db.session, scope))
            except ScopeError as error:
                context["error"] = str(error)
        return self.render("admin/indicators/index.html", **context)

    @expose("/retards/")
    def late_view(self):
        """Drill-down of the ledger (issue 22 §4): the obligations of one deadline rule
        done late in the period, with their reason when one was given. A funder's
        representative gets pseudonyms and no free text (``late_rows``)."""
        today = date.today()
        context = {"error": None, "rows": [], "line": None, "scope": None, "report": None,
                   "scope_args": scope_args(), "format_moment": format_due,
                   "pseudonymised": not nominative_allowed(current_user.role)}
        try:
            report, scope = self._request(today)
            rule_id = _int(request.args.get("rule"))
            line = next((line for line in ledger(db.session, scope)
                         if line.rule_id == rule_id), None)
            if line is None:
                raise ScopeError(f"Règle de délai « {request.args.get('rule', '')} » : "
                                 f"inconnue pour le dispositif {scope.programme_code}.")
            lates = late_obligations(db.session, scope, rule_id, limit=LATE_PAGE_LIMIT)
            context.update(report=report, scope=scope, line=line, rows=late_rows(
                lates, current_user.role, current_app.config["SECRET_KEY"]))
        except ScopeError as error:
            context["error"] = str(error)
        status = 400 if context["error"] else 200
        return self.render("admin/indicators/late.html", **context), status

    @expose("/telecharger/")
    def download(self):
        """The workbook of the report asked for; pseudonymised for a viewer."""
        if not can(current_user.role, "indicators", "export"):
            abort(403)
        try:
            report, scope = self._request(date.today())
        except ScopeError as error:
            choices = self._choices()
            return self.render(
                "admin/indicators/index.html",
                reports=self._reports(choices),
                choices=choices,
                defaults=self._defaults(choices, date.today()),
                args=request.args,
                error=str(error),
                figures=None,
                charts=None,
                scope=None,
                report=None,
                pseudonymised=not nominative_allowed(current_user.role),
            ), 400
        key = None if nominative_allowed(current_user.role) else current_app.config["SECRET_KEY"]
        # A file on disk, not in memory: the peak memory of a download stays flat whatever
        # the size of the workbook (issue 5 §7); send_file streams it and closes it.
        buffer = tempfile.TemporaryFile()
        report.build(
            db.session,
            buffer,
            scope,
            producer=current_user.name,
            produced_on=date.today(),
            pseudonym_key=key,
        )
        buffer.seek(0)
        name = filename(report, scope)
        if key is not None:
            name = name.replace(".xlsx", "_pseudonymise.xlsx")
        return send_file(buffer, mimetype=XLSX_MIMETYPE, as_attachment=True, download_name=name)


class TargetsView(GuardedScreen):
    """« Objectifs du marché »: per programme and year, the contractual volumes (annual
    target, sessions, host structures…) against the actual and the projection to the end
    of the year (indicators/targets.py). No nominative data: same access as the reports'
    figures (area "indicators", verb "read")."""

    def __init__(self, name="Objectifs du marché", endpoint="targets", url="objectifs",
                 category="Pilotage", **kwargs):
        super().__init__(name=name, endpoint=endpoint, url=url, category=category, **kwargs)

    permission_area = "indicators"

    @expose("/")
    def index_view(self):
        """The target lines of every programme for the year asked for (this year by default),
        counted up to today (or the year's last day)."""
        today = date.today()
        error, year = None, today.year
        raw = request.args.get("year", "")
        if raw:
            if raw.isdigit() and 2000 <= int(raw) <= today.year + 1:
                year = int(raw)
            else:
                error = (f"Année « {raw} » invalide : une année de 2000 à {today.year + 1} "
                         "est attendue.")
        lines = all_targets(db.session, year, today)
        return self.render("admin/indicators/targets.html", lines=lines, year=year,
                           years=range(today.year + 1, today.year - 5, -1), error=error,
                           as_of=min(today, date(year, 12, 31)))
