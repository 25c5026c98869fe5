"""« Alertes » (/admin/alerts/): obligations overdue or due within N days and the
behavioural alerts, grouped by person (most urgent first), by referent or by programme,
with « Marquer comme fait » one by one or in bulk.

Issue 20 §4: the page opens on what a user can act on (paths still open, and what
concerns no path); the deadlines closed paths left undone are on their own tab
(« Échéances de parcours clôturés »), where a coordinator closes them in bulk with a
reason (area « alerts », verb « close »).

Counsellors see their own paths only; coordinators and admins see everything;
commission members and funders' representatives get a 403 (auth/permissions.py, area
« alerts »: "read" = the list, "edit" = « Marquer comme fait »). The list itself is built
by ``services/alerts.py``, shared with the menu badge and ``flask alerts``.
"""
from __future__ import annotations

import html
from datetime import datetime

from flask import abort, flash, redirect, request, url_for
from flask_admin import expose
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.routing import BuildError

from ..enums import Role
from ..extensions import db
from ..models import Programme, User
from ..redirects import back_to
from ..rules.wording import plural
from ..services import alerts as service
from ..services.alerts import AREA, AlertFilters, overdue_count  # noqa: F401 (menu badge)
from ..services.obligations import (
    END_OF_DAY,
    CloseRefused,
    MarkDoneRefused,
    close_stale,
    is_late,
    mark_done,
    mark_many_done,
)
from .base import GuardedScreen, parse_id
from .documents import alert_kinds
from .fields import posted_done_on

GROUPINGS = {"person": "Par personne", "referent": "Par référent",
             "programme": "Par dispositif"}


def current_moment() -> datetime:
    """Now, as the organisation's clock reads it (tests replace it)."""
    return datetime.now()


def format_due(moment: datetime | None) -> str:
    """12/03/2026 for a due day, 12/03/2026 10:00 for a due hour (48 h delays)."""
    if moment is None:
        return ""
    if moment.time() in (END_OF_DAY, datetime.min.time()):
        return f"{moment:%d/%m/%Y}"
    return f"{moment:%d/%m/%Y %H:%M}"


def _link(endpoint: str, record_id: int | None, view: str = "edit_view") -> str | None:
    """The admin page of a record, or None when that view is not registered."""
    if record_id is None:
        return None
    try:
        return url_for(f"{endpoint}.{view}", id=record_id)
    except BuildError:
        return None


def record_link(row) -> str | None:
    """Where a row of the list leads: the path first, else what the obligation is about."""
    if getattr(row, "enrolment_id", None) is not None:
        return _link("enrolments", row.enrolment_id)
    if getattr(row, "referral_id", None) is not None:
        return _link("referrals", row.referral_id, "details_view")
    if getattr(row, "purchase_order_id", None) is not None:
        return _link("purchase_orders", row.purchase_order_id)
    if getattr(row, "session_id", None) is not None:
        return _link("sessions", row.session_id)
    if getattr(row, "workshop_id", None) is not None:
        return _link("workshops", row.workshop_id)
    if getattr(row, "programme_id", None) is not None:
        return _link("programmes", row.programme_id, "details_view")
    return None


def referent_options(referents, chosen: int | None) -> Markup:
    """The « Référent » filter's options, built in one string: a million people's demo has
    16 667 counsellors, whose options the template's loop took 0.15 s to write (issue 25
    §4)."""
    return Markup("".join(
        f'<option value="{rid}"{" selected" if rid == chosen else ""}>{html.escape(name)}'
        '</option>'
        for rid, name in referents))


def _int_arg(name: str) -> int | None:
    """An id filter of the query string; anything else (2^70, « ² ») filters nothing."""
    return parse_id(request.args.get(name))



def _late_note(obligations) -> str:
    """What the success message adds about « Motif du retard »: kept on the late ones, not
    kept (and said so) when typed for obligations done in time."""
    typed = " ".join((request.form.get("late_reason") or "").split())
    if not typed:
        return ""
    kept = sum(1 for row in obligations if row.late_reason and is_late(row))
    if kept == len(obligations):
        return " ; motif du retard enregistré"
    if kept:
        return (" ; motif du retard enregistré pour "
                + ("celle faite" if kept == 1 else f"les {kept} faites") + " en retard")
    done_in_time = "faite à temps" if len(obligations) == 1 else "faites à temps"
    return f" ; {done_in_time} : motif du retard non enregistré"


class AlertsView(GuardedScreen):
    """The alerts list and its « Marquer comme fait » action."""

    permission_area = AREA

    def __init__(self, name: str = "Alertes", endpoint: str = "alerts", url: str = "alerts",
                 category: str | None = None, **kwargs):
        super().__init__(name=name, category=category, endpoint=endpoint, url=url, **kwargs)

    # --- who may ---------------------------------------------------------------------

    # --- the list --------------------------------------------------------------------
    def _filters(self, restricted: bool) -> AlertFilters:
        """The filters of the query string; a wrong value is replaced and said in French."""
        days = service.DEFAULT_DAYS
        raw_days = (request.args.get("days") or "").strip()
        if raw_days:
            if raw_days.isdigit() and 0 <= int(raw_days) <= service.MAX_DAYS:
                days = int(raw_days)
            else:
                flash(f"Nombre de jours : « {raw_days} » n'est pas un nombre de 0 à "
                      f"{service.MAX_DAYS} ; {service.DEFAULT_DAYS} jours retenus.", "warning")
        kind = request.args.get("kind") or None
        if kind not in (None, *dict(service.kind_choices())):
            flash(f"Type : « {kind} » est inconnu ; tous les types sont affichés.", "warning")
            kind = None
        scope = request.args.get("scope")
        return AlertFilters(
            days=days, programme_id=_int_arg("programme"),
            referent_id=None if restricted else _int_arg("referent"), kind=kind,
            scope=scope if scope in service.SCOPES else service.ACTIONABLE,
        )

    @expose("/")
    def index_view(self):
        now = current_moment()
        own = service.own_referent_id(current_user)
        filters = self._filters(restricted=own is not None)
        group = request.args.get("group") if request.args.get("group") in GROUPINGS \
            else "person"
        data = service.alert_list(db.session, current_user, now, filters)
        data.closed_paths_total = (
            data.obligations_total if filters.scope == service.CLOSED_PATHS
            else service.closed_paths_total(db.session, current_user, now, filters))
        programmes = db.session.execute(
            select(Programme.id, Programme.code, Programme.name).order_by(Programme.code)).all()
        referents = Markup() if own is not None else referent_options(db.session.execute(
            select(User.id, User.name).where(User.role == Role.COUNSELLOR)
            .order_by(User.name)).all(), filters.referent_id)
        return self.render(
            "admin/alerts/index.html",
            data=data, now=now, today=now.date(), filters=filters, group=group,
            groupings=GROUPINGS,
            obligation_groups=service.group_rows(data.obligations, group),
            alert_groups=service.group_rows(data.alerts_shown, group),
            programmes=programmes, referents=referents, kinds=service.kind_choices(),
            restricted=own is not None, can_mark_done=self._may("edit"),
            can_close=self._may("close"), scopes=service.SCOPES,
            closed_scope=filters.scope == service.CLOSED_PATHS,
            format_due=format_due, record_link=record_link, alert_kinds=alert_kinds,
            count_text=service.count_text,
            back=request.full_path if request.query_string else request.path,
        )

    # --- « Marquer comme fait » ------------------------------------------------------
    def _back(self) -> str:
        back = back_to(request.form.get("next"))
        return back if back.startswith(url_for(".index_view")) else url_for(".index_view")

    def _selected(self, closed_paths: bool = False):
        """The ticked obligations the user sees (404 when one is not theirs or unknown:
        nothing is changed); an empty list when none is ticked."""
        raw = request.form.getlist("obligation_ids")
        ids = {parse_id(value) for value in raw}
        if None in ids:
            abort(404)
        found = service.visible_obligations(db.session, current_user, ids, closed_paths)
        if len(found) != len(ids):
            abort(404)
        return found

    def _commit(self, back: str) -> bool:
        try:
            db.session.commit()
        except StaleDataError:  # saved by someone else between the read and the write
            db.session.rollback()
            flash("Ces échéances ont été modifiées entre-temps ; rien n'a été enregistré, "
                  "rechargez la page.", "error")
            return False
        return True

    @expose("/done/", methods=("POST",))
    def mark_done_view(self):
        """Set done_at (the prompted date, today by default) on one obligation."""
        if not self._may("edit"):
            abort(403)
        back = self._back()
        obligation_id = parse_id(request.form.get("obligation_id"))
        if obligation_id is None:
            abort(404)
        # A counsellor asking for another counsellor's obligation gets a 404.
        obligation = service.visible_obligation(db.session, current_user, obligation_id)
        if obligation is None:
            abort(404)
        today = current_moment().date()
        done_on = posted_done_on(today)
        if done_on is None:
            return redirect(back)
        try:
            mark_done(obligation, done_on, today, request.form.get("document_ref"),
                      request.form.get("late_reason"))
        except MarkDoneRefused as refused:
            flash(str(refused), "error")
            return redirect(back)
        try:
            db.session.commit()
        except StaleDataError:  # saved by someone else between the read and the write
            db.session.rollback()
            flash("Cette échéance a été modifiée entre-temps ; rechargez la page.", "error")
            return redirect(back)
        flash(f"« {obligation.name} » marquée comme faite le {done_on:%d/%m/%Y}"
              f"{_late_note([obligation])}.", "success")
        return redirect(back)

    @expose("/done-many/", methods=("POST",))
    def mark_many_done_view(self):
        """« Marquer comme fait » on every ticked obligation, on one date: all or none."""
        if not self._may("edit"):
            abort(403)
        back = self._back()
        obligations = self._selected()
        today = current_moment().date()
        done_on = posted_done_on(today)
        if done_on is None:
            return redirect(back)
        try:
            mark_many_done(obligations, done_on, today, request.form.get("late_reason"))
        except MarkDoneRefused as refused:
            db.session.rollback()
            flash(f"{refused} Rien n'a été enregistré.", "error")
            return redirect(back)
        if self._commit(back):
            flash(plural(len(obligations), "échéance marquée comme faite",
                         "échéances marquées comme faites")
                  + f" le {done_on:%d/%m/%Y}{_late_note(obligations)}.", "success")
        return redirect(back)

    # --- « Clore » the deadlines closed paths left undone ----------------------------
    @expose("/close/", methods=("POST",))
    def close_view(self):
        """Close the ticked closed paths' deadlines with the reason typed (coordinators
        and administrators): all or none."""
        if not self._may("close"):
            abort(403)
        back = self._back()
        obligations = self._selected(closed_paths=True)
        try:
            close_stale(obligations, request.form.get("reason"), current_moment())
        except CloseRefused as refused:
            db.session.rollback()
            flash(str(refused), "error")
            return redirect(back)
        if self._commit(back):
            flash(plural(len(obligations), "échéance close", "échéances closes")
                  + f" : « {obligations[0].cancel_reason} ».", "success")
        return redirect(back)
