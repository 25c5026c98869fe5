"""Flask-Admin: one view per table, grouped in French menus, every view guarded by the
role table (auth/permissions.py) through `ProtectedModelView` (admin/base.py)."""
from pathlib import Path

from flask_admin import Admin
from flask_admin.menu import MenuView
from flask_admin.theme import Bootstrap4Theme

from ..rules.wording import agreed, number
from ..security import allow_bulk_actions, csp_nonce
from .account import AccountView
from .activity import AttendanceView, SessionView, WorkshopView
from .administration import AuditView, UserView
from .alerts import AlertsView
from .base import ProtectedModelView
from .beneficiaries import BeneficiaryView
from .commission import CommissionView, PurchaseOrderLineView, PurchaseOrderView, ReferralView
from .documents import DocumentsView, TemplatesView
from .esf import EsfChecksView, EsfEntryView, EsfExitView
from .fields import render_field
from .home import HomeView
from .imports import ImportView
from .indicators import IndicatorsView, TargetsView
from .paths import (
    BarrierView,
    ContactView,
    EnrolmentView,
    InternshipView,
    ObligationView,
    PhaseRecordView,
    SuspensionView,
)
from .record_pages import story_day, story_link
from .reference import (
    BarrierTypeView,
    ContactTypeView,
    DeadlineRuleView,
    ExitTypeView,
    FunderView,
    ImportPresetView,
    PhaseView,
    ProgrammeView,
    SuspensionReasonView,
)
from .row_actions import row_cells, row_icons

# French strings Flask-Admin leaves untranslated (see the .po file there).
TRANSLATIONS = Path(__file__).parent / "translations"

# Menu order: what a user opens most comes first.
VIEWS: tuple[type[ProtectedModelView], ...] = (
    BeneficiaryView,
    EnrolmentView, PhaseRecordView, SuspensionView, ContactView, InternshipView,
    BarrierView, ObligationView,
    EsfEntryView, EsfExitView,  # issue 24, menu « FSE+ (PLIE) »
    ReferralView, CommissionView, PurchaseOrderView, PurchaseOrderLineView,
    SessionView, WorkshopView, AttendanceView,
    FunderView, ProgrammeView, PhaseView, DeadlineRuleView, ExitTypeView, BarrierTypeView,
    ContactTypeView, SuspensionReasonView, ImportPresetView,
    UserView, AuditView,
)


def init_admin(app) -> Admin:
    """Create the Admin inside the factory (a module-level one breaks a second app)."""
    admin = Admin(
        app,
        name="Parcours",
        theme=Bootstrap4Theme(swatch=app.config.get("FLASK_ADMIN_SWATCH", "default")),
        url="/admin",
        index_view=HomeView(),
        csp_nonce_generator=csp_nonce,  # its inline scripts carry the nonce (security.py)
    )
    _prefer_our_translations()
    for view_class in VIEWS:
        view = view_class()
        admin.add_view(view)
        allow_bulk_actions(name for name, _text in view._actions)
    admin.add_view(ImportView())  # Commission › Importer des prescriptions (issue 23)
    admin.add_view(AlertsView(name="Alertes", endpoint="alerts", url="alerts"))
    admin.add_view(IndicatorsView(name="Indicateurs", endpoint="indicators", url="indicators",
                                  category="Pilotage"))
    admin.add_view(AccountView(name="Changer mon mot de passe", endpoint="account",
                               url="account", category="Mon compte"))
    admin.add_view(TargetsView())
    admin.add_view(DocumentsView(name="Documents", endpoint="documents", url="documents"))
    admin.add_view(TemplatesView(name="Modèles de documents", endpoint="document_templates",
                                 url="document-templates", category="Administration"))
    admin.add_view(EsfChecksView())  # issue 24: checks and exports before the ESF+ upload
    _add_overdue_badge(app)
    _menu_opens_first_views(admin)
    app.add_template_filter(agreed)  # « {{ n }} {{ n|agreed('échéance', 'échéances') }} »
    app.add_template_filter(number)  # « {{ n|number }} »: 193 571, in groups of three
    _render_menu_once(app)
    app.add_template_global(row_icons)  # a list row's icons in one call (admin/list.html)
    app.add_template_global(row_cells)  # and its cells
    app.add_template_global(render_field, "plain_render_field")  # a form rule's field (base.py)
    app.add_template_global(story_link)  # a story's row and day (admin/story.html)
    app.add_template_global(story_day)
    return admin


class FirstViewMenu(MenuView):
    """A menu entry that opens its list on the view the user's role needs first
    (`first_views` of the view, issue 20 §3); its URL depends on the user: not cached."""

    def get_url(self) -> str | None:
        first_view = self._view.first_view()
        return first_view.url if first_view else super().get_url()


def _menu_opens_first_views(admin: Admin) -> None:
    """Turn the menu entries of lists that declare `first_views` into `FirstViewMenu`s."""
    entries = [child for item in admin.menu() for child in (item, *item._children)]
    for entry in entries:
        if isinstance(entry, MenuView) and getattr(entry._view, "first_views", None):
            entry.__class__ = FirstViewMenu
            entry._cache = False


def _render_menu_once(app) -> None:
    """The navbar's menu rendered once per role and page, then reused (issue 25 §3: each
    page asked every one of the 30 entries whether the user may open it and built its
    address, a quarter of the emptiest page). What it shows depends on the role only
    (every view's `is_accessible` reads the role table), which entry is active, and the
    prefix the application is served under."""
    from flask import request
    from markupsafe import Markup

    from .base import current_role

    menus: dict[tuple, Markup] = {}

    @app.context_processor
    def menu_once():
        def menu(view, render) -> Markup:
            key = (current_role(), getattr(view, "endpoint", None), request.script_root)
            if key not in menus:
                menus[key] = Markup(render())
            return menus[key]
        return {"menu_once": menu}


def _prefer_our_translations() -> None:
    """Our French catalogue (TRANSLATIONS) is merged after Flask-Admin's, so that it wins
    where Flask-Admin's French reads wrong (« Editer », « Filtres réinitialisés »…).
    Flask-Admin's `translations_path` would merge it first, where Flask-Admin's wins."""
    from flask_admin.babel import domain

    directories = domain._translation_directories
    if str(TRANSLATIONS) not in directories:
        directories.append(str(TRANSLATIONS))
        domain.cache.clear()


def _add_overdue_badge(app) -> None:
    """Every admin page shows the user's overdue obligations count in the navbar
    (« 99+ » beyond 99: the count stops there, so it costs the same at any size)."""
    from flask_login import current_user

    from ..extensions import db
    from ..services.alerts import BADGE_CAP, badge_text, overdue_count
    from . import alerts as alerts_view

    @app.context_processor
    def overdue_alerts():
        def count() -> str | None:
            if not current_user.is_authenticated:
                return None
            found = overdue_count(db.session, current_user, alerts_view.current_moment(),
                                  cap=BADGE_CAP)
            return badge_text(found) if found else None
        return {"overdue_alerts": count}
