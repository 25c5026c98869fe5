"""The admin home page: what the user's role has to do today (issue 20 §3), each figure
a link to the list that shows the same rows, then the screens the role may open."""
from dataclasses import dataclass

from flask import redirect, request, url_for
from flask_admin import AdminIndexView, expose
from flask_admin.contrib.sqla.filters import FilterEmpty
from flask_login import current_user

from ..auth.permissions import can
from ..enums import EnrolmentStatus, ReferralStatus, Role
from ..extensions import db
from ..rules.alerts import AlertKind
from ..services import worklist
from ..services.alerts import DUE_SOON, OVERDUE, count_text
from . import alerts as alerts_view
from .base import filtered_list_url
from .fields import EnumIsFilter
from .todo_filters import (
    HeldBeforeNowFilter,
    ReferralToDecideFilter,
    ReferralWithoutPathFilter,
    WithoutContactForWeeksFilter,
    WorkshopWithoutSheetFilter,
)


@dataclass(frozen=True)
class Todo:
    """One figure of the home page: « 12 prescriptions en attente de décision »."""

    count: int
    one: str
    many: str
    url: str | None
    urgent: bool = False
    capped: bool = False  # counted up to worklist.COUNT_CAP + 1 (read row by row)

    @property
    def label(self) -> str:
        """The words after the count, agreed with it (« 1 échéance », « 3 échéances »)."""
        return self.one if abs(self.count) < 2 else self.many

    @property
    def shown(self) -> str:
        """The count as shown: « plus de 100 » past the cap of the capped figures."""
        return count_text(self.count, self.capped)


@dataclass(frozen=True)
class Section:
    title: str
    todos: list[Todo]
    note: str = ""


class HomeView(AdminIndexView):
    """« Accueil »: login required; what to do today, then the role's screens by menu."""

    def __init__(self):
        super().__init__(name="Accueil", url="/admin", template="admin/home.html")

    def is_accessible(self) -> bool:
        return current_user.is_authenticated

    def inaccessible_callback(self, name, **kwargs):
        return redirect(url_for("auth.login", next=request.path))

    def menus_for_current_user(self) -> list[tuple[str, list[tuple[str, str]]]]:
        """[(menu name, [(screen name, url), …]), …] of the screens this user may open."""
        menus: dict[str, list[tuple[str, str]]] = {}
        for view in self.admin._views:
            if view is self or not view.is_accessible():
                continue
            menu = view.category or view.name
            menus.setdefault(menu, []).append((view.name, url_for(f"{view.endpoint}.index_view")))
        return list(menus.items())

    # --- links to filtered lists ------------------------------------------------------
    def _view(self, endpoint: str):
        return next((v for v in self.admin._views if v.endpoint == endpoint), None)

    def list_url(self, endpoint: str, *filters) -> str | None:
        """The list of `endpoint` with `filters` applied — each (filter class, label or
        None, value) — or None when the user may not open that list."""
        view = self._view(endpoint)
        if view is None or not view.is_accessible():
            return None
        return filtered_list_url(view, *filters)

    def _alerts_url(self, **arguments) -> str | None:
        if not can(current_user.role, "alerts", "read"):
            return None
        return url_for("alerts.index_view", **arguments)

    # --- the sections of each role ----------------------------------------------------
    def _commission_section(self, today) -> Section:
        pending = worklist.pending_referrals(db.session)
        deferred = worklist.deferred_referrals(db.session, today)
        to_decide = worklist.referrals_to_decide(db.session)
        todos = [
            # the working view: pending and deferred together (issue 20 §7)
            Todo(to_decide, "prescription à décider (en attente ou ajournée)",
                 "prescriptions à décider (en attente ou ajournées)",
                 self.list_url("referrals", (ReferralToDecideFilter, None, "1")),
                 to_decide > 0),
            Todo(pending, "prescription en attente de décision",
                 "prescriptions en attente de décision",
                 self.list_url("referrals", (EnumIsFilter, "Statut",
                                             ReferralStatus.PENDING.name)), pending > 0),
            Todo(sum(group.count for group in deferred),
                 "prescription ajournée", "prescriptions ajournées",
                 self.list_url("referrals", (EnumIsFilter, "Statut",
                                             ReferralStatus.DEFERRED.name))),
        ]
        return Section("Commission : décisions à prendre", todos)

    def _coordination_section(self, now) -> Section:
        today = now.date()
        todos = [
            Todo(worklist.validated_without_path(db.session),
                 "prescription validée sans parcours ouvert",
                 "prescriptions validées sans parcours ouvert",
                 self.list_url("referrals",
                               (EnumIsFilter, "Statut", ReferralStatus.VALIDATED.name),
                               (ReferralWithoutPathFilter, None, "1")), capped=True),
            Todo(worklist.paths_past_planned_end(db.session, today),
                 "parcours au-delà de sa fin prévue",
                 "parcours au-delà de leur fin prévue",
                 self._alerts_url(kind=AlertKind.PAST_PLANNED_END.value), urgent=True),
            Todo(worklist.orders_to_receive(db.session), "bon de commande à réceptionner",
                 "bons de commande à réceptionner",
                 self.list_url("purchase_orders", (FilterEmpty, "Date de réception", "1"))),
            Todo(worklist.workshops_without_sheet(db.session, now),
                 "atelier tenu sans feuille d'émargement",
                 "ateliers tenus sans feuille d'émargement",
                 self.list_url("workshops", (HeldBeforeNowFilter, None, "1"),
                               (WorkshopWithoutSheetFilter, None, "1")), capped=True),
        ]
        return Section("Coordination : dossiers à faire avancer", todos)

    def _follow_up_section(self, now, own: int | None) -> Section:
        mine = own is not None
        overdue, soon = worklist.deadlines_this_week(db.session, now, own)
        weeks = worklist.NO_CONTACT_WEEKS
        todos = [
            Todo(worklist.paths_in_progress(db.session, own),
                 "parcours en cours" + (" que vous suivez" if mine else ""),
                 "parcours en cours" + (" que vous suivez" if mine else ""),
                 self.list_url("enrolments", (EnumIsFilter, "Statut",
                                              EnrolmentStatus.ACTIVE.name))),
            Todo(overdue, "échéance en retard", "échéances en retard",
                 self._alerts_url(kind=OVERDUE, days=worklist.WEEK_DAYS), overdue > 0,
                 capped=True),
            Todo(soon, f"échéance dans les {worklist.WEEK_DAYS} prochains jours",
                 f"échéances dans les {worklist.WEEK_DAYS} prochains jours",
                 self._alerts_url(kind=DUE_SOON, days=worklist.WEEK_DAYS), capped=True),
            Todo(worklist.paths_without_contact(db.session, now, own),
                 f"personne en parcours sans contact depuis {weeks} semaines",
                 f"personnes en parcours sans contact depuis {weeks} semaines",
                 self.list_url("enrolments",
                               (EnumIsFilter, "Statut", EnrolmentStatus.ACTIVE.name),
                               (WithoutContactForWeeksFilter, None, str(weeks))),
                 capped=True),
        ]
        title = "Mes parcours : à faire cette semaine" if mine else \
            "Suivi : échéances et contacts"
        return Section(title, todos)

    def sections_for_current_user(self) -> list[Section]:
        """The « à faire » sections of the user's role, most pressing first."""
        now = alerts_view.current_moment()
        role = Role(current_user.role)
        sections = []
        if role == Role.COUNSELLOR:
            sections.append(self._follow_up_section(now, current_user.id))
        if role in (Role.COMMISSION, Role.ADMIN):
            sections.append(self._commission_section(now.date()))
        if role in (Role.COORDINATOR, Role.ADMIN):
            sections.append(self._coordination_section(now))
            sections.append(self._follow_up_section(now, None))
        return sections

    @expose("/")
    def index(self):
        role = Role(current_user.role)
        now = alerts_view.current_moment()
        today = now.date()
        context = {"menus": self.menus_for_current_user(),
                   "sections": self.sections_for_current_user()}
        if role in (Role.COMMISSION, Role.ADMIN):
            context["deferred"] = worklist.deferred_referrals(db.session, today)
            context["commissions"] = worklist.upcoming_commissions(db.session, today)
        if role == Role.ADMIN:
            context["system"] = worklist.system_state(db.session, now)
        if can(role, "indicators", "read"):
            context["indicators_url"] = url_for("indicators.index_view")
        return self.render(self._template, **context)

