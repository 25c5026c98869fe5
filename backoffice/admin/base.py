"""The base of every admin view: role checks from auth/permissions.py, counsellors' row
filtering, French labels, enum selects, date-order checks and French database errors.

A view declares `model_class`, `slug` (URL and endpoint), `menu_name`, `menu_category`
and `area` (the permission area); this base does the rest.
"""
import csv
import re
from dataclasses import dataclass
from datetime import date, datetime

from flask import (
    Response,
    abort,
    current_app,
    flash,
    g,
    has_request_context,
    redirect,
    request,
    stream_with_context,
    url_for,
)
from flask_admin import BaseView
from flask_admin.actions import action
from flask_admin.babel import lazy_gettext
from flask_admin.contrib.sqla import ModelView
from flask_admin.contrib.sqla.ajax import QueryAjaxModelLoader
from flask_admin.form import BaseForm, rules
from flask_admin.helpers import is_form_submitted
from flask_admin.model.fields import AjaxSelectField
from flask_babel import get_locale
from flask_login import current_user
from sqlalchemy import Enum as SAEnum
from sqlalchemy import false, func, select, text
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.utils import secure_filename
from wtforms import HiddenField
from wtforms.fields.core import UnboundField
from wtforms.validators import ValidationError

from .. import people_search
from ..auth.permissions import (
    ACTIONS,
    can,
    is_restricted_to_own_funder,
    is_restricted_to_own_paths,
    may_run,
)
from ..enums import LabelledEnum
from ..errors import BadInput, database_error_message
from ..extensions import db
from ..models import (
    Barrier,
    Beneficiary,
    Commission,
    Contact,
    DeadlineRule,
    Enrolment,
    EsfEntry,
    EsfExit,
    Funder,
    Internship,
    Obligation,
    Phase,
    PhaseRecord,
    Programme,
    ProgrammeSession,
    PurchaseOrder,
    Suspension,
    Workshop,
    WorkshopAttendance,
)
from ..rules.wording import number
from ..value_ranges import BIG_INTEGER_MAX, strip_invisible
from .concurrency import VERSION_FIELD, save_refusal
from .fields import (
    BLANK,
    DETAIL_FORMATTERS,
    EXPORT_FORMATTERS,
    LIST_FORMATTERS,
    EnumSelectField,
    FrenchDateField,
    FrenchDateTimeField,
    FrenchTranslations,
    plain_widget,
)
from .labels import LABELS
from .links import link_formatters
from .row_actions import DeleteRow, edit_row, view_row

# Which permission area guards a model when it is searched through another view's form
# (AJAX lookups). Users are absent on purpose: picking a referent needs their name only.
AREA_OF_MODEL: dict[type, str] = {}

# View function → verb of the role table. Flask-Admin only hides buttons and redirects;
# we refuse with 403 so a hand-made request changes nothing.
VERB_OF_VIEW = {
    "index_view": "read",
    "details_view": "read",
    "ajax_lookup": "read",
    "create_view": "create",
    "edit_view": "edit",
    "ajax_update": "edit",
    "delete_view": "delete",
    "export": "export",
}


class _Passthrough:
    """A file-like object whose write returns what it is given (a streamed CSV line)."""

    def write(self, value):
        return value


def _python_type(column):
    """The Python type of a column's values (None where the type does not say)."""
    try:
        return column.type.python_type
    except NotImplementedError:
        return None


#: The largest id a URL or a form may name: what the databases' integers hold.
MAX_ID = BIG_INTEGER_MAX
#: The last page a list may be asked for (20 000 000 000 rows at 20 a page).
MAX_PAGE = 10**9
_ID = re.compile(r"[0-9]{1,19}")
#: From how many rows a PostgreSQL list without search, filter or role scope shows the
#: engine's estimate of its size, « environ … », instead of counting every row (issue 25
#: §4: 30-80 ms for 0.8-1 million rows, the first page's rows 1-6 ms).
ESTIMATE_FROM = 100_000


class Approximate(int):
    """A number of rows estimated, not counted: written « environ 880 000 » wherever the
    list shows its count (Flask-Admin's « Liste (…) »), a number for its pager."""

    def __str__(self) -> str:
        return "environ " + number(int(self))


def estimated_rows(session, table: str) -> float | None:
    """PostgreSQL's estimate of the rows of `table`, as its planner makes it: the rows per
    page of the last ANALYZE (or VACUUM) times the pages the table has now, so rows added
    since are in it. None where the table was never analysed."""
    row = session.execute(text(
        "SELECT reltuples, relpages, pg_relation_size(oid) / "
        "current_setting('block_size')::integer FROM pg_class "
        "WHERE oid = to_regclass(:table)"), {"table": table}).first()
    if row is None or row[0] < 0:
        return None
    tuples, pages, pages_now = row
    return tuples / pages * pages_now if pages > 0 else float(tuples)


def parse_id(raw) -> int | None:
    """A record's id typed in a URL or posted: a whole number from 1 to `MAX_ID`, else None
    (letters, signs, spaces, or a number no table holds: 2^70 made SQLite fail)."""
    text = str(raw).strip() if raw is not None else ""
    if not _ID.fullmatch(text):
        return None
    value = int(text)
    return value if 1 <= value <= MAX_ID else None


def ids_or_404(raw_ids) -> list[int]:
    """Every id of a selection parsed by `parse_id`; 404 when one is not an id or none
    is given (the records cannot exist)."""
    ids = [parse_id(raw) for raw in raw_ids]
    if not ids or None in ids:
        abort(404)
    return ids


def current_role():
    """The logged-in user's role, or None (anonymous, or outside a request).

    Read once per request (issue 25 §3): a list page asks it for every menu entry, every
    row's icons and every link (hundreds of times), and each `current_user` went through
    Flask-Login's proxy. Kept in `g` with the account it was read from: a login or a
    logout within the request (another user object) reads it again."""
    if not has_request_context():
        return None
    user = g.get("_login_user")  # where Flask-Login keeps this request's user
    if user is None:
        user = current_user._get_current_object()
    cached = g.get("_parcours_role")
    if cached is not None and cached[0] is user:
        return cached[1]
    role = user.role if user.is_authenticated else None
    g._parcours_role = (user, role)
    return role


def own_paths_clause(model: type, user_id: int):
    """SQL condition « belongs to a path this counsellor is referent of » for `model`."""
    own_paths = select(Enrolment.id).where(Enrolment.referent_id == user_id)
    if model is Enrolment:
        return Enrolment.referent_id == user_id
    if model is Beneficiary:
        return Beneficiary.id.in_(
            select(Enrolment.beneficiary_id).where(Enrolment.referent_id == user_id)
        )
    if model in (PhaseRecord, Suspension, Contact, Barrier, Internship, Obligation,
                 WorkshopAttendance, EsfEntry, EsfExit):
        return model.enrolment_id.in_(own_paths)
    raise ValueError(f"No own-paths rule for {model.__name__}")


def own_funder_clause(model: type, funder_id: int | None):
    """SQL condition « belongs to a programme of this funder » for `model`; a table
    without such a rule, or an account linked to no funder, gives no row at all."""
    if funder_id is None:
        return false()
    programmes = select(Programme.id).where(Programme.funder_id == funder_id)
    if model is Funder:
        return Funder.id == funder_id
    if model is Programme:
        return Programme.funder_id == funder_id
    if model is PurchaseOrder:
        return PurchaseOrder.funder_id == funder_id
    if model in (ProgrammeSession, Workshop, Commission, Phase, DeadlineRule):
        return model.programme_id.in_(programmes)
    return false()


def scope_clause(model: type, area: str | None):
    """The row filter the current user needs on `model` (None: sees every row)."""
    role = current_role()
    if role is None or area is None:
        return None
    if is_restricted_to_own_funder(role):
        return own_funder_clause(model, current_user.funder_id)
    if not is_restricted_to_own_paths(role, area):
        return None
    return own_paths_clause(model, current_user.id)


def note_refusal(detail: str) -> None:
    """Keep a refusal of this request for the audit trail: audit/access_log.py writes it once
    the request's own transaction is over (a rolled-back save must not take it along)."""
    if has_request_context():
        g.setdefault("audit_refusals", []).append(detail)


class ScopedAjaxLoader(QueryAjaxModelLoader):
    """AJAX search of a related record that applies the same rules as the lists:
    a counsellor finds only their own paths (and their people), and nobody finds rows of
    an area they may not read. `where` adds a fixed condition (e.g. counsellors only).

    The same rule holds for an id posted in a form (`get_one`, issue 18 §2): a row the
    user may not read is « not found », whoever typed its id; only the value already on
    the record is kept as it is (`ScopedAjaxSelectField`)."""

    def __init__(self, name, session, model, where=None, joins=(), label=None,
                 person_search=False, **options):
        super().__init__(name, session, model, **options)
        self.where = where
        self.joins = joins
        self.label = label
        self.person_search = person_search

    def format(self, model):
        if model is None:
            return None
        return model.id, (self.label(model) if self.label else str(model))

    @property
    def area(self) -> str | None:
        """The permission area of the searched table (None: staff accounts)."""
        return AREA_OF_MODEL.get(self.model)

    def _clauses(self) -> list:
        clauses = [self.where()] if self.where is not None else []
        area = self.area
        if area is not None:
            scope = scope_clause(self.model, area)
            if scope is not None:
                clauses.append(scope)
            if not can(current_role(), area, "read"):
                clauses.append(false())
        return clauses

    def get_query(self):
        query = super().get_query()
        for relationship in self.joins:
            query = query.join(relationship)
        return query.filter(*self._clauses())

    def get_list(self, term, offset=0, limit=10):
        """The choices of the select for what is typed. With `person_search`, people (or
        their paths) are found by name or external id as in the lists (people_search.py),
        in alphabetical order; a path is also found by its number typed alone."""
        if not self.person_search:
            return super().get_list(term, offset, limit)
        up_to = (offset or 0) + limit if (offset or 0) >= 0 and (limit or 0) > 0 else None
        if self.model is Beneficiary and not self.joins and up_to is not None:
            # in name order: the people up to this page only
            found, from_people = people_search.people_in_name_order(
                db.session, self.get_query(), term, up_to)
        else:
            found, from_people = people_search.search_rows(db.session, self.model, term)
        if self.model is not Beneficiary:
            number = parse_id(term)
            if number is not None:
                found = found | (self.model.id == number)
        query = self.get_query().filter(found)
        if self.model is Beneficiary:
            query = query.order_by(*people_search.by_name(from_people))
        else:
            query = query.order_by(self.model.id.desc())
        return query.offset(offset).limit(limit).all()

    def get_one(self, pk):
        pk = parse_id(pk)
        if pk is None:
            return None
        session = db.session
        with session.no_autoflush:
            return (
                session.query(self.model)
                .filter(self.model.id == pk, *self._clauses())
                .one_or_none()
            )


#: The person select of the forms: by name or external id, as in the lists.
BENEFICIARY_SEARCH = {"fields": ("last_name", "first_name", "external_id"),
                      "person_search": True}
#: The path select of the forms: by its person (as above) or its number.
ENROLMENT_SEARCH = {
    "fields": (Enrolment.id,), "person_search": True,
    "label": lambda path: f"{path} — {path.beneficiary.full_name}",
}


class ScopedAjaxSelectField(AjaxSelectField):
    """Flask-Admin's AJAX select, checked on write as the search is on read: a posted id
    is looked up through the loader's rules (`ScopedAjaxLoader.get_one`), except the
    record's own current value, kept as it is (a counsellor saves their path without
    being allowed to search prescriptions). A refused id gives « none » and the form's
    error (`ProtectedModelView.check_form`), never the row: a refusal names no one."""

    def _get_data(self):
        if self._formdata:
            kept = self.object_data
            if kept is not None and str(getattr(kept, "id", "")) == str(self._formdata).strip():
                self._set_data(kept)
            else:
                found = self.loader.get_one(self._formdata)
                if found is not None:
                    self._set_data(found)
        return self._data

    data = property(_get_data, AjaxSelectField._set_data)


# Database constraints → what the user reads. Matched against the driver's message
# (SQLite: "CHECK constraint failed: ck_enrolments_exit_after_entry", "UNIQUE constraint
# failed: users.email"; PostgreSQL: the constraint name in quotes).
CONSTRAINT_MESSAGES: list[tuple[str, str]] = [
    (r"suspensions_no_overlap",
     "Période de suspension : elle chevauche une autre suspension de ce parcours (002 §3)."),
    (r"exit_after_entry",
     "Date de sortie : elle ne peut pas être antérieure à la date d'entrée."),
    (r"planned_end_after_entry",
     "Fin prévue : elle ne peut pas être antérieure à la date d'entrée."),
    (r"follow_up_after_exit",
     "Fin du suivi après la sortie : elle ne peut pas être antérieure à la date de sortie."),
    (r"received_after_issue",
     "Date de réception : elle ne peut pas être antérieure à la date d'émission."),
    (r"decision_after_referral",
     "Date de décision : elle ne peut pas être antérieure à la date de prescription."),
    (r"dates_order", "Date de fin : elle ne peut pas être antérieure à la date de début."),
    (r"size_order|group_size_order",
     "Effectif maximum : il ne peut pas être inférieur à l'effectif minimum."),
    (r"uq_beneficiaries_identity|beneficiaries\.name_key",
     "Doublon : un bénéficiaire avec les mêmes nom, prénom et date de naissance existe déjà."),
    (r"beneficiaries\.external_id|uq_beneficiaries_external_id",
     "Doublon : cet identifiant externe est déjà celui d'un autre bénéficiaire."),
    (r"users\.email|uq_users_email", "Adresse e-mail : déjà utilisée par un autre compte."),
    (r"UNIQUE|unique constraint|duplicate key",
     "Doublon : une fiche identique existe déjà (valeur unique déjà utilisée)."),
    (r"FOREIGN KEY|foreign key",
     "Opération impossible : d'autres fiches font référence à celle-ci ; "
     "modifiez-les ou supprimez-les d'abord."),
    (r"NOT NULL|not-null", "Un champ obligatoire est vide."),
    (r"_range|not_negative|plausible|CHECK|check constraint",
     "Une valeur est hors des limites autorisées."),
]


def integrity_message(exc: IntegrityError) -> str:
    """A French sentence for a refused write (never the raw database error)."""
    text = str(exc.orig) if exc.orig is not None else str(exc)
    for pattern, message in CONSTRAINT_MESSAGES:
        if re.search(pattern, text):
            return f"Enregistrement refusé. {message}"
    return "Enregistrement refusé : les données ne respectent pas une règle de la base."


class AlreadyRendered(rules.Field):
    """A hidden field in a form with rules: Flask-Admin writes hidden inputs before the
    rules, so the rule only declares it (no « missing from ruleset » warning)."""

    def __call__(self, form, form_opts=None, field_args=None):
        return ""


def _merge_args(*dicts: dict | None) -> dict:
    merged: dict = {}
    for d in dicts:
        for key, value in (d or {}).items():
            merged[key] = {**merged.get(key, {}), **value}
    return merged


def _plain_field_rules(form_rules) -> None:
    """Point the field rules of `form_rules` (nested in field sets) to `fields.render_field`,
    the template global « plain_render_field » (backoffice/admin/__init__.py). The rules are
    the view class's own objects: pointed once, for every application."""
    for rule in form_rules:
        if type(rule) is rules.Field and rule.macro_name == "lib.render_field":
            rule.macro_name = "plain_render_field"
        elif isinstance(rule, rules.NestedRule):
            _plain_field_rules(rule.rules)


class FrenchForm(BaseForm):
    """Flask-Admin's form with the messages of its fields in French (« Not a valid
    choice »… go through WTForms' catalogue, which lacks them)."""

    class Meta(BaseForm.Meta):
        _translations = FrenchTranslations()


def login_or_forbidden():
    """A page the user may not open: anonymous, to the login page and back here after;
    logged in without the right, 403."""
    if not current_user.is_authenticated:
        target = request.full_path if request.query_string else request.path
        return redirect(url_for("auth.login", next=target))
    abort(403)


class GuardedScreen(BaseView):
    """A screen that is not a table's list (alerts, indicators, imports, ESF+ checks,
    documents), guarded by one area of the role table (auth/permissions.py)."""

    #: its area in the role table (not `area`: the audit's access log reads that one as a
    #: table's view)
    permission_area: str = None

    def _may(self, verb: str) -> bool:
        return can(current_role(), self.permission_area, verb)

    def is_accessible(self) -> bool:
        return self._may("read")

    def inaccessible_callback(self, name, **kwargs):
        return login_or_forbidden()


@dataclass(frozen=True)
class FirstView:
    """A list's working view: « À décider en commission » and its URL."""

    title: str
    url: str


def filtered_list_url(view, *filters) -> str:
    """The list of `view` with `filters` applied — each (filter class, label or None,
    value): the URL arguments Flask-Admin reads (« flt0_12=PENDING »)."""
    arguments = {}
    for position, (kind, label, value) in enumerate(filters):
        for index, flt in enumerate(view._filters or ()):
            if isinstance(flt, kind) and (label is None or str(flt.name) == label):
                arguments[f"flt{position}_{view.get_filter_arg(index, flt)}"] = value
                break
        else:
            raise LookupError(f"{view.endpoint}: no filter {kind.__name__} {label!r}")
    return url_for(f"{view.endpoint}.index_view", **arguments)


class ProtectedModelView(ModelView):
    """A table in the admin, guarded by the role table (`can(role, area, verb)`).

    Every edit form carries the version of the record it shows (`version_seen`) and a
    save made on an older copy, or without a valid version, is refused with nothing
    saved (admin/concurrency.py): a view cannot forget it, and a view whose model is not
    `Versioned` (models/_types.py) refuses to start unless it is `read_only`.
    """

    model_class: type = None
    slug: str = None
    menu_name: str = None
    menu_category: str | None = None
    area: str = None

    # Date pairs checked on the form: (earlier field, later field, message with {:%d/%m/%Y}).
    date_order: tuple[tuple[str, str, str], ...] = ()
    # Loader options for the list (nested eager loads that column_select_related_list
    # cannot express, e.g. contact → enrolment → programme).
    list_eager_loads: tuple = ()
    #: Loader options of the record a details or edit page shows (``get_one``): what its
    #: page reads of the records it references, in the same statement (issue 20 « Speed »:
    #: a fixed number of statements whatever the record references).
    record_eager_loads: tuple = ()
    stale_message = "Cette fiche a été modifiée entre-temps ; rechargez la page."
    # Nothing of this table is ever edited through the admin (e.g. the audit trail).
    read_only: bool = False
    # The view each role needs first when it opens this list from the menu (issue 20 §3):
    # {Role: (title, ((filter class, label or None, value), …))}. The bare list, all rows,
    # stays one click away (« Toute la liste »).
    first_views: dict = {}
    list_template = "admin/list.html"
    # The search box finds people by name (backoffice/people_search.py, through its index)
    # instead of Flask-Admin's « every word inside a column » over `column_searchable_list`,
    # which then only names what is searched (the box's placeholder).
    person_search: bool = False

    form_base_class = FrenchForm
    page_size = 20
    can_set_page_size = True
    column_display_pk = True
    column_type_formatters = LIST_FORMATTERS
    column_type_formatters_detail = DETAIL_FORMATTERS
    column_type_formatters_export = EXPORT_FORMATTERS
    form_widget_args = None
    create_modal = False
    edit_modal = False

    def __init__(self):
        model = self.model_class
        self._require_version_check()
        # The version is bookkeeping: never typed, listed, shown or exported.
        for name in ("form_excluded_columns", "column_exclude_list",
                     "column_details_exclude_list", "column_export_exclude_list"):
            setattr(self, name, (*(getattr(self, name) or ()), "version"))
        if self.area != "users":
            AREA_OF_MODEL.setdefault(model, self.area)
        self.column_labels = {**LABELS, **self._declared("column_labels")}
        # Enum columns: a select of French labels that refuses unknown values in French.
        overrides, args = {}, {}
        for column in model.__table__.columns:
            # One date input everywhere, French input accepted, nothing rewritten.
            python_type = _python_type(column)
            if python_type is datetime:
                overrides[column.key] = FrenchDateTimeField
            elif python_type is date:
                overrides[column.key] = FrenchDateField
            enum_class = getattr(column.type, "enum_class", None)
            if isinstance(column.type, SAEnum) and enum_class \
                    and issubclass(enum_class, LabelledEnum):
                overrides[column.key] = EnumSelectField
                args[column.key] = {"enum": enum_class}
        # Optional many-to-one selects: a dash for « none » (Flask-Admin shows "__None").
        for relationship in model.__mapper__.relationships:
            if relationship.direction.name == "MANYTOONE":
                args.setdefault(relationship.key, {"blank_text": "—"})
        self.form_overrides = {**overrides, **self._declared("form_overrides")}
        # References shown as links to their records in lists and pages, never in exports.
        declared = self._declared("column_formatters")
        relations = [r.key for r in model.__mapper__.relationships
                     if r.direction.name == "MANYTOONE"]
        self.column_formatters_export = self._declared("column_formatters_export") or declared
        self.column_formatters = {**link_formatters(model, self.column_list or (), short=True),
                                  **declared}
        self.column_formatters_detail = self._declared("column_formatters_detail") or {
            **link_formatters(model, self.column_details_list or relations), **declared}
        self.form_args = _merge_args(args, self._declared("form_args"))
        super().__init__(
            model, db, name=self.menu_name, category=self.menu_category,
            endpoint=self.slug.replace("-", "_"), url=self.slug,
        )
        # Flask-Admin prepares the detail columns only if can_view_details is true at start-up,
        # outside any request, where our role-based property is False.
        self._details_columns = self.get_details_columns()

    def _require_version_check(self) -> None:
        """Refuse at start-up a view that could save without the version check."""
        name = type(self).__name__
        if self.read_only:
            return
        if self.model_class.__mapper__.version_id_col is None:
            raise TypeError(f"{name}: {self.model_class.__name__} must be Versioned "
                            f"(models/_types.py) to be edited without lost updates.")
        if self.column_editable_list:
            # x-editable posts one cell without the version the list showed.
            raise TypeError(f"{name}: column_editable_list cannot carry the version seen; "
                            f"edit through the edit form.")
        edit_rules = self.form_edit_rules or self.form_rules
        if edit_rules is not None:
            self.form_edit_rules = (*edit_rules, AlreadyRendered(VERSION_FIELD))

    @classmethod
    def _declared(cls, name: str) -> dict:
        """A dict attribute as the view class declares it ({} for Flask-Admin's defaults)."""
        value = getattr(cls, name, None)
        return value if isinstance(value, dict) else {}

    # --- who may do what -------------------------------------------------------------
    def _may(self, verb: str) -> bool:
        return can(current_role(), self.area, verb)

    def is_accessible(self) -> bool:
        return self._may("read")

    def first_view(self) -> FirstView | None:
        """The list as the current user's role needs it first (`first_views`), or None."""
        if not current_user.is_authenticated:
            return None
        entry = self.first_views.get(current_role())
        if entry is None:
            return None
        title, filters = entry
        return FirstView(title, filtered_list_url(self, *filters))

    def inaccessible_callback(self, name, **kwargs):
        return login_or_forbidden()

    def _handle_view(self, name, **kwargs):
        response = super()._handle_view(name, **kwargs)
        if response is not None:
            return response
        if name == "action_view":
            action = request.form.get("action")
            if action and not self.is_action_allowed(action):
                abort(403)
            if request.form.getlist("rowid"):  # ids, not text (PostgreSQL, 2^70)
                ids_or_404(request.form.getlist("rowid"))
        elif name in VERB_OF_VIEW and not self._may(VERB_OF_VIEW[name]):
            abort(403)
        return None

    def is_action_allowed(self, name: str) -> bool:
        """Bulk actions: lifecycle ones follow `permissions.ACTIONS`, « delete » the
        view's delete right (checked on the menu and on the POST)."""
        if name in ACTIONS:
            return may_run(current_role(), name)
        return super().is_action_allowed(name)

    @action("delete", lazy_gettext("Delete"),
            lazy_gettext("Are you sure you want to delete selected records?"))
    def action_delete(self, ids):
        """Flask-Admin's bulk delete, given the ids as numbers: as text, PostgreSQL refused
        to compare them with the integer keys (« integer = character varying »), a 500
        on every table."""
        return super().action_delete(ids_or_404(ids))

    def _get_list_extra_args(self):
        """The list's URL arguments; a page number below 0 or beyond `MAX_PAGE` is refused
        in French (PostgreSQL failed on a negative OFFSET, SQLite on a huge one)."""
        args = super()._get_list_extra_args()
        if not 0 <= args.page <= MAX_PAGE:
            raise BadInput(f"Page : « {request.args.get('page')} » n'est pas un numéro de "
                           f"page possible (un nombre de 0 à {MAX_PAGE} attendu).")
        return args

    def _get_filter_groups(self):
        """Flask-Admin's filters as plain text for the list's filter menu: their lazy
        labels translated once per view and language, not on every list page (issue 25
        §3: ≈ 40 translations a page). Their options are read at start-up anyway."""
        key = (str(get_locale()), id(self._filter_groups))
        cached = self.__dict__.get("_filter_groups_text")
        if cached is None or cached[0] != key:
            cached = self._filter_groups_text = (key, super()._get_filter_groups())
        return cached[1]

    def get_list_row_actions(self) -> list:
        """The row icons the role may use, rendered by ``row_actions`` (Flask-Admin's own
        cost a third of a list page), then the view's lifecycle icons."""
        actions = []
        if self.can_view_details:
            actions.append(view_row())
        if self.can_edit:
            actions.append(edit_row())
        if self.can_delete:
            actions.append(DeleteRow())
        return actions + list(self.column_extra_row_actions or [])

    @property
    def can_create(self) -> bool:
        return self._may("create")

    @property
    def can_edit(self) -> bool:
        return self._may("edit")

    @property
    def can_delete(self) -> bool:
        return self._may("delete")

    @property
    def can_export(self) -> bool:
        return self._may("export")

    @property
    def can_view_details(self) -> bool:
        return self._may("read")

    # --- exports ---------------------------------------------------------------------
    def _export_csv(self, return_url):
        """A CSV Excel opens as it is in French (issue 20 §9): « ; » between fields (« , »
        is the French decimal mark) and a UTF-8 byte order mark (else Excel reads the
        accents as Windows-1252). Rows are streamed, as Flask-Admin's own export does."""
        _count, data = self._export_data()
        writer = csv.writer(_Passthrough(), delimiter=";")
        columns = self._export_columns

        def lines():
            yield "\ufeff" + writer.writerow([str(label) for _name, label in columns])
            for row in data:
                yield writer.writerow([str(self.get_export_value(row, name))
                                       for name, _label in columns])

        filename = secure_filename(self.get_export_name(export_type="csv"))
        return Response(stream_with_context(lines()), mimetype="text/csv",
                        headers={"Content-Disposition": f"attachment;filename={filename}"})

    # --- which rows ------------------------------------------------------------------
    def _scope(self):
        return scope_clause(self.model, self.area)

    def get_query(self):
        query = super().get_query()
        scope = self._scope()
        if scope is not None:
            query = query.filter(scope)
        return query.options(*self.list_eager_loads)

    def _apply_search(self, query, count_query, joins, count_joins, search):
        """A people list's search: the rows of the people whose names match, found through
        the name index (people_search.py); other lists: Flask-Admin's."""
        if not self.person_search:
            return super()._apply_search(query, count_query, joins, count_joins, search)
        up_to = g.pop("search_people_up_to", None)  # set by `get_list`
        rows_up_to = g.pop("search_rows_up_to", None)
        if up_to is not None and count_query is None:
            found, from_people = people_search.people_in_name_order(
                db.session, query, search, up_to)
        else:
            found, from_people = people_search.search_rows(
                db.session, self.model, search, rows_up_to if count_query is None else None)
        g.search_from_people = from_people  # read by `_order_by` (the same request)
        if count_query is not None:
            count_query = count_query.filter(found)
        return query.filter(found), count_query, joins, count_joins

    def _order_by(self, query, joins, sort_joins, sort_field, sort_desc):
        """Flask-Admin's, except the name order of a search that starts from the people
        found: sorted, never walked (`people_search.by_name`)."""
        if sort_field is Beneficiary.name_key and g.get("search_from_people"):
            sort_field = people_search.by_name(True)[0]
        return super()._order_by(query, joins, sort_joins, sort_field, sort_desc)

    @property
    def simple_list_pager(self) -> bool:
        """No total count while searching: a « contains » search cannot use an index, so
        its count reads every row of the table, whereas the page's 20 rows stop at the first
        matches in sort order (bench/run.py at 100 000 people: referrals search 103 ms, of
        which 4.5 ms for the rows). The list then offers previous / next."""
        return has_request_context() and bool(request.args.get("search", "").strip())

    def get_list(self, page, sort_column, sort_desc, search, filters, execute=True,
                 page_size=None):
        """Flask-Admin's list, read in two steps:

        1. the page's ids: the list's search, filters, order and LIMIT / OFFSET over the
           ids alone (an index walk where the order has an index, migration 0009);
        2. only those rows, with their joins and per-row subqueries, in the same order.

        Read in one step, the database joins every row a later page skips (page 3 520 of
        referrals: 4.9 s → 0.15 s at 100 000 people), and PostgreSQL plans the joins for
        the whole table (it hashed every path's referral to answer the referrals' first 20
        rows: 21 → 1 ms). Step 2 does not repeat the search: with it PostgreSQL scanned
        every contact again (contacts search, page 2: 448 ms).
        """
        limited = page_size if page_size is not None else self.page_size
        # A list without filter: its search knows how far the page goes. A list of people
        # in name order keeps only the people up to this page
        # (`people_search.people_in_name_order`); another list may walk its order up to
        # there (`people_search.search_rows`).
        up_to = (((page or 0) + 1) * limited
                 if self.person_search and limited and not (filters and self._filters)
                 else None)
        by_name = self.model is Beneficiary and self._in_name_order(sort_column, sort_desc)
        g.search_people_up_to = up_to if by_name else None
        g.search_rows_up_to = up_to
        estimate = self._estimated_count(page, limited, search, filters)
        g.count_estimated = estimate is not None  # read by `get_count_query`
        try:
            count, query = super().get_list(page, sort_column, sort_desc, search, filters,
                                            execute=False, page_size=page_size)
        finally:
            g.pop("count_estimated", None)
        if estimate is not None:
            count = estimate
        g.pop("search_people_up_to", None)
        g.pop("search_rows_up_to", None)
        if not execute or not limited:
            return count, (query.all() if execute else query)
        query = self._from_the_end(query, count, page, limited, sort_column, sort_desc) \
            or query
        ids = query.with_entities(self.model.id).scalar_subquery()
        rows = self._rows_query().filter(self.model.id.in_(ids))
        rows, _joins = self._apply_sorting(rows, {}, sort_column, sort_desc)
        return count, rows.all()

    def _estimated_count(self, page, page_size, search, filters) -> Approximate | None:
        """The pager's total as PostgreSQL's estimate (`estimated_rows`, rounded to three
        digits and shown « environ … »), where it is the whole table — no search, filter
        or role scope — of more than `ESTIMATE_FROM` rows, and the page asked is in the
        first half of the pages it gives; else None: the rows are counted. The later
        pages count: the last page's link (« » ») then leads to a pager of the exact count,
        and OFFSET reads as many rows there as the count does. SQLite counts every time
        (its count of a million rows takes a few ms)."""
        if (db.session.get_bind().dialect.name != "postgresql" or not page_size
                or self.simple_list_pager or (search or "").strip()
                or (filters and self._filters) or self._scope() is not None):
            return None
        rows = estimated_rows(db.session, self.model.__table__.name)
        if rows is None or rows < ESTIMATE_FROM:
            return None
        if (page or 0) >= rows / page_size / 2:
            return None
        return Approximate(round(rows, 2 - len(str(int(rows)))))  # 3 digits: 880 000

    def _from_the_end(self, query, count, page, page_size: int, sort_column, sort_desc):
        """A page in the second half of a counted list (the last page's link « » »), read
        from the end: the list's order reversed, skipping the rows after the page instead
        of those before it (the page's rows are then sorted back, `get_list`'s second
        step). OFFSET reads every row it skips (page 40 000 of a million people: 53 ms of
        SQL on PostgreSQL, the last page 0.1 ms this way). Only for an order of the list's
        own columns ending with its id (one order, exactly reversed; PostgreSQL and SQLite
        put NULLs at the other end too); None otherwise, or for a page beyond the end."""
        if count is None or isinstance(count, Approximate) or not page:
            return None
        start = page * page_size
        if start * 2 <= count or start >= count:
            return None
        fields = self._order_fields(sort_column, sort_desc)
        if not fields or fields[-1][0] is not self.model.id or any(
                getattr(field, "class_", None) is not self.model for field, _desc in fields):
            return None
        return (query.limit(None).offset(None).order_by(None)
                .order_by(*(field.asc() if desc else field.desc() for field, desc in fields))
                .limit(min(page_size, count - start))
                .offset(max(0, count - start - page_size)))

    def _order_fields(self, sort_column, sort_desc: bool) -> list:
        """The list's order: (column, descending) pairs, the default one or the header's."""
        if sort_column is None:
            return [(field, desc) for field, _joins, desc in self._get_default_order()]
        field = self._sortable_columns.get(sort_column)
        return [(item, sort_desc) for item in
                (field if isinstance(field, list | tuple) else [field])]

    def _in_name_order(self, sort_column, sort_desc: bool) -> bool:
        """Whether the list is sorted by `name_key`, then `id`, both ascending (the people's
        default order, or their « Nom » header clicked once)."""
        fields = self._order_fields(sort_column, sort_desc)
        return (len(fields) == 2 and fields[0][0] is Beneficiary.name_key
                and fields[1][0] is Beneficiary.id and not fields[0][1] and not fields[1][1])

    def _rows_query(self):
        """The rows of a list page, without its search and filters: the model with the
        list's eager loads (the ids chosen already carry the role's scope)."""
        return super().get_query().options(
            *self.list_eager_loads, *(joinedload(relation) for relation in self._auto_joins)
        )

    def get_count_query(self):
        """The pager's count as `count(*)`: Flask-Admin's `count('*')` sends « * » as a
        bound value, which SQLite cannot answer from its fast path (issue 25 §3). None
        when `get_list` shows an estimate instead (`_estimated_count`)."""
        if g.get("count_estimated"):
            return None
        query = db.session.query(func.count()).select_from(self.model)
        scope = self._scope()
        return query.filter(scope) if scope is not None else query

    def get_one(self, id):
        """One row by id, through the same filter as the list (a counsellor asking for
        another counsellor's record by URL gets a 404); an id no table can hold: 404."""
        pk = parse_id(id)
        if pk is None:
            abort(404)
        scope = self._scope()
        query = super().get_query().filter(self.model.id == pk).options(*self.record_eager_loads)
        if scope is not None:
            query = query.filter(scope)
        found = query.one_or_none()
        if found is None and scope is not None:
            abort(404)
        return found

    def scaffold_form(self):
        """Flask-Admin's form, with every AJAX select checked against the user's read
        rights on write too (`ScopedAjaxSelectField`), and every select and input written
        with plain strings (`fields.plain_widget`: the same HTML, a fraction of the time)."""
        form_class = super().scaffold_form()
        for name, unbound in list(vars(form_class).items()):
            if not isinstance(unbound, UnboundField):
                continue
            field_class, kwargs = unbound.field_class, unbound.kwargs
            if field_class is AjaxSelectField:
                field_class = ScopedAjaxSelectField
            else:
                plain = plain_widget(kwargs.get("widget", getattr(field_class, "widget", None)))
                if plain is None:
                    continue
                kwargs = {**kwargs, "widget": plain}
            replaced = UnboundField(field_class, *unbound.args, name=unbound.name, **kwargs)
            replaced.creation_counter = unbound.creation_counter  # same place in the form
            setattr(form_class, name, replaced)
        return form_class

    def _refresh_form_rules_cache(self):
        """Flask-Admin's form rules, each field written by `render_field` (the HTML of its
        ``lib.render_field`` macro, without a Jinja macro call per field)."""
        super()._refresh_form_rules_cache()
        for rule_set in {id(r): r for r in (self._form_create_rules, self._form_edit_rules)
                         if r is not None}.values():
            _plain_field_rules(rule_set.rules)

    def _create_ajax_loader(self, name, options):
        remote = getattr(self.model, name).property.mapper.class_
        options = {"placeholder": "Rechercher…", "minimum_input_length": 0, **options}
        return ScopedAjaxLoader(name, db, remote, **options)

    # --- forms -----------------------------------------------------------------------
    def get_edit_form(self):
        """The edit form, with the hidden version the user loads (not the create form)."""
        form_class = super().get_edit_form()
        if self.read_only:
            return form_class
        version = HiddenField(widget=plain_widget(HiddenField.widget))
        return type(form_class.__name__, (form_class,), {VERSION_FIELD: version})

    def edit_form(self, obj=None):
        """On display, the version of the record shown; on save, what was posted (never
        filled in: an empty or missing version is refused, not taken as the current one)."""
        form = super().edit_form(obj)
        if obj is not None and VERSION_FIELD in form and not is_form_submitted():
            form[VERSION_FIELD].data = str(obj.version)
        return form

    def update_model(self, form, model) -> bool:
        """Save only if the form was loaded from the version stored now (else a French
        refusal, the posted form shown again, nothing saved)."""
        if not self.read_only:
            seen = form[VERSION_FIELD].data if VERSION_FIELD in form else None
            refusal = save_refusal(seen, model)
            if refusal is not None:
                flash(refusal, "error")
                return False
        return super().update_model(form, model)

    def validate_form(self, form) -> bool:
        """Flask-Admin's validation, then this view's checks (dates in order…)."""
        valid = super().validate_form(form)
        if not is_form_submitted() or not hasattr(form, "_fields"):
            return valid
        valid = self.check_form(form) and valid
        if not valid:  # the fields in error, never their values (they may name someone)
            wrong = ", ".join(str(field.label.text) for field in form if field.errors)
            note_refusal(f"Formulaire refusé ({self.name}) : {wrong or 'données invalides'}")
        return valid

    def check_form(self, form) -> bool:
        """Cross-field checks; add French errors to the fields and return False if any."""
        valid = True
        for field in form:
            if not clean_text(field):
                valid = False
            # An id posted by hand that the search would not offer (another counsellor's
            # path, a deleted row): Flask-Admin would silently store « none ».
            if isinstance(field, AjaxSelectField) and field.data is None \
                    and getattr(field, "_formdata", None) not in (None, "", BLANK):
                add_error(field, "Choix impossible : cette fiche n'existe pas ou "
                                 "vous n'y avez pas accès.")
                valid = False
        for earlier, later, message in self.date_order:
            if earlier not in form or later not in form:
                continue
            start, end = form[earlier].data, form[later].data
            if start is not None and end is not None and end < start:
                add_error(form[later], message.format(start))
                valid = False
        return valid

    def handle_view_exception(self, exc: Exception) -> bool:
        """Database refusals and concurrent edits become French messages, never a 500;
        every refused save is kept for the audit trail (issue 18 §8)."""
        if isinstance(exc, ValidationError | IntegrityError | StaleDataError):
            reason = (integrity_message(exc) if isinstance(exc, IntegrityError)
                      else self.stale_message if isinstance(exc, StaleDataError) else str(exc))
            note_refusal(f"Enregistrement refusé ({self.name}) : {reason}"[:1000])
        if isinstance(exc, IntegrityError):
            db.session.rollback()
            flash(integrity_message(exc), "error")
            return True
        if isinstance(exc, StaleDataError):
            db.session.rollback()
            flash(self.stale_message, "error")
            return True
        if isinstance(exc, ValidationError):
            return super().handle_view_exception(exc)
        # Anything else: Flask-Admin would show the exception's text (for a database error,
        # the SQL statement and the values typed). Log it for the administrator instead.
        db.session.rollback()
        current_app.logger.error("Erreur dans %s", self.endpoint, exc_info=exc)
        if isinstance(exc, SQLAlchemyError):
            flash(database_error_message(exc), "error")
        else:
            flash("Opération impossible : une erreur inattendue s'est produite ; rien n'a "
                  "été enregistré. Si cela se reproduit, prévenez l'administrateur.", "error")
        return True


TEXT_FIELDS = ("StringField", "TextAreaField", "EmailField", "TelField", "URLField")


def clean_text(field) -> bool:
    """Strip spaces and invisible characters (zero-width, non-breaking) at both ends of a
    text field; refuse a required one that holds nothing else (False), store an optional
    one as empty (None)."""
    if field.type not in TEXT_FIELDS or not isinstance(field.data, str):
        return True
    field.data = strip_invisible(field.data)
    if field.data:
        return True
    if field.flags.required:
        add_error(field, "Champ obligatoire : des espaces ou des caractères invisibles seuls "
                         "ne suffisent pas.")
        return False
    field.data = None if field.flags.optional else ""
    return True


def add_error(field, message: str) -> None:
    """Append a validation message to a form field (errors may still be a tuple)."""
    field.errors = [*field.errors, message]


def only_counsellors():
    """AJAX condition: a path's referent is an active counsellor account."""
    from ..enums import Role
    from ..models import User

    return (User.role == Role.COUNSELLOR) & User.active.is_(True)
