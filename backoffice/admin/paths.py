"""Menu « Parcours »: paths and what happens on them (phases, suspensions, contacts,
internships, barriers, obligations).

The path list carries the lifecycle bulk actions (issue 3, names relied on by other
tools): `next_phase`, `suspend`, `declare_abandon`, `close_with_exit`; a path's page and
its row in the list also offer « Reprendre » and « Terminer le suivi ». Status, phase,
planned end and exit are read-only in the edit form: they change through these actions
only (each calls one service of `services/lifecycle.py`, see admin/lifecycle.py).
"""
from flask import request
from flask_admin import expose
from flask_admin.actions import action
from flask_admin.form import rules
from flask_admin.helpers import is_form_submitted
from flask_login import current_user
from sqlalchemy import inspect, select
from sqlalchemy.orm import joinedload
from wtforms.validators import ValidationError

from ..enums import AbandonReason, Attendance, EnrolmentAction, EnrolmentStatus, Role
from ..extensions import db
from ..models import (
    Barrier,
    Contact,
    Enrolment,
    ExitType,
    Internship,
    Obligation,
    PhaseRecord,
    Suspension,
    SuspensionReason,
)
from ..rules.exits import (
    FACT_FIELDS,
    FIELD_LABELS,
    ExitFacts,
    ExitTypeRule,
    asked_facts,
    classification_summary,
)
from ..rules.lifecycle import TransitionRefused, enrolment_actions_allowed
from ..services import activity as activity_service
from ..services import lifecycle as service
from . import lifecycle_forms as forms
from .base import (
    BENEFICIARY_SEARCH,
    ENROLMENT_SEARCH,
    ProtectedModelView,
    current_role,
    only_counsellors,
    scope_clause,
)
from .documents import DocumentsOnDetails, bulk_documents_page
from .fields import EnumIsNotFilter, enum_filters
from .lifecycle import (
    LifecycleMixin,
    LifecycleRowAction,
    checked_by_the_rules,
    current_day,
    field_value,
    plural,
)
from .record_pages import path_page_context
from .todo_filters import WithoutContactForWeeksFilter, path_and_person_filters

CATEGORY = "Parcours"

# Staff are found by name only: their e-mails (logins) are not searchable (issue 18 §2).
USER_SEARCH = {"fields": ("name",)}

ENTRY_EXIT = ("entry_date", "exit_date",
              "Date de sortie : elle ne peut pas être antérieure à la date d'entrée ({:%d/%m/%Y}).")


def path_eager_loads(relationship) -> tuple:
    """Eager loads for a list whose rows show their path and its person (no N+1)."""
    return (
        joinedload(relationship).joinedload(Enrolment.programme),
        joinedload(relationship).joinedload(Enrolment.beneficiary),
    )


#: Set by the lifecycle actions only; shown but not editable in the plain edit form.
READ_ONLY_ON_EDIT = (
    "planned_end_date", "status", "current_phase",
    "exit_date", "exit_type", "contract_kind", "contract_months", "hours_per_month",
    "employer", "training_title", "followup_contract_kind", "followup_contract_months",
    "exit_reason", "abandon_reason", "goal_attainment", "satisfaction", "difficulties",
    "recommendations", "no_internship_reason", "follow_up_end_date", "employed_at_follow_up_end",
    "closed_on",
)

PROJECT_FIELDS = ("target_job", "rome_code", "action_plan_on", "bilan_kind", "csp_adhesion_on",
                  "prebilan_at", "csp_contract_signed_on", "csp_contract_sent_at",
                  "engagement_level", "soft_skills_level")

ENROLMENT_LABELS = {
    "next_phase": (EnrolmentAction.NEXT_PHASE.label, "Impossible de passer à la phase suivante"),
    "suspend": (EnrolmentAction.SUSPEND.label, "Impossible de suspendre"),
    "resume": (EnrolmentAction.RESUME.label, "Impossible de reprendre"),
    "declare_abandon": (EnrolmentAction.DECLARE_ABANDON.label, "Impossible de déclarer l'abandon"),
    "close_with_exit": ("Clôturer avec un type de sortie", "Impossible de clôturer"),
    "end_follow_up": ("Terminer le suivi", "Impossible de terminer le suivi"),
}
ROW_ICONS = {
    "next_phase": "fa fa-step-forward", "suspend": "fa fa-pause", "resume": "fa fa-play",
    "declare_abandon": "fa fa-user-times", "close_with_exit": "fa fa-sign-out",
    "end_follow_up": "fa fa-flag-checkered",
}


class EnrolmentView(LifecycleMixin, ProtectedModelView):
    model_class = Enrolment
    slug = "enrolments"
    menu_name = "Parcours"
    menu_category = CATEGORY
    area = "enrolments"
    stale_message = "Ce parcours a été modifié entre-temps ; rechargez la page."

    column_list = ("id", "beneficiary", "programme", "referent", "status", "current_phase",
                   "entry_date", "planned_end_date", "exit_date")
    column_select_related_list = (Enrolment.beneficiary, Enrolment.programme,
                                  Enrolment.referent, Enrolment.current_phase)
    column_default_sort = [("entry_date", True), ("id", True)]
    person_search = True
    column_searchable_list = ("beneficiary.last_name", "beneficiary.first_name",
                              "beneficiary.external_id")
    column_filters = (
        *enum_filters(Enrolment.status, "Statut", EnrolmentStatus),
        "programme.code", "referent.name", "current_phase.name",
        "entry_date", "planned_end_date", "exit_date", WithoutContactForWeeksFilter(),
        "target_job",  # searched in the box before issue 25: the box finds people only
    )
    # Staff open the paths still open (in progress, suspended, followed after the exit):
    # a closed path is history, one click away (issue 20 §3).
    _open_paths = ("Parcours non clôturés",
                   ((EnumIsNotFilter, "Statut", EnrolmentStatus.CLOSED.name),))
    first_views = dict.fromkeys(
        (Role.ADMIN, Role.COORDINATOR, Role.COUNSELLOR, Role.COMMISSION), _open_paths)
    form_columns = (
        "beneficiary", "programme", "referral", "session", "purchase_order", "referent",
        "entry_date", "planned_end_date", "status", "current_phase",
        *PROJECT_FIELDS,
        "exit_date", "exit_type", "contract_kind", "contract_months", "hours_per_month",
        "employer", "training_title", "followup_contract_kind", "followup_contract_months",
        "exit_reason", "abandon_reason", "goal_attainment", "satisfaction", "difficulties",
        "recommendations", "no_internship_reason", "follow_up_end_date",
        "employed_at_follow_up_end", "closed_on",
    )
    form_edit_rules = (
        rules.FieldSet(("beneficiary", "programme", "referral", "session", "purchase_order",
                        "referent"), "Personne et dispositif"),
        rules.FieldSet(("entry_date", "planned_end_date", "status", "current_phase"),
                       "Déroulement"),
        rules.FieldSet(PROJECT_FIELDS, "Projet professionnel et progression"),
        rules.FieldSet(("exit_date", "exit_type", "contract_kind", "contract_months",
                        "hours_per_month", "employer", "training_title",
                        "followup_contract_kind", "followup_contract_months", "exit_reason",
                        "abandon_reason", "goal_attainment", "satisfaction", "difficulties",
                        "recommendations", "no_internship_reason", "follow_up_end_date",
                        "employed_at_follow_up_end", "closed_on"),
                       "Sortie et évaluation"),
    )
    # A new path opens active, in its programme's first phase (services.lifecycle.open_path):
    # status, phase, planned end and exit are not typed in, they follow from the actions.
    form_create_rules = (
        rules.FieldSet(("beneficiary", "programme", "referral", "session", "purchase_order",
                        "referent"), "Personne et dispositif"),
        rules.FieldSet(("entry_date",), "Déroulement"),
        rules.FieldSet(PROJECT_FIELDS, "Projet professionnel et progression"),
    )
    form_ajax_refs = {
        "beneficiary": BENEFICIARY_SEARCH,
        "referral": {"fields": ("id", "prescriber_name")},
        "purchase_order": {"fields": ("number",)},
        "referent": {**USER_SEARCH, "where": only_counsellors},
    }
    # The planned end is computed and the exit's dates are set by the actions (checked
    # there): only the entry, typed here, is checked against the recorded exit.
    date_order = (ENTRY_EXIT,)

    form_widget_args = {"planned_end_date": {"disabled": True,
                                             "title": "Calculée : entrée + durée du parcours"}}

    def get_create_form(self):
        """The path's person, programme, entry and project; not what the actions set."""
        form_class = super().get_create_form()  # a class scaffolded for this form alone
        for name in READ_ONLY_ON_EDIT:
            delattr(form_class, name)
        return form_class

    def edit_form(self, obj=None):
        """Show the lifecycle fields disabled and keep their stored values whatever is
        posted (the version the user loaded is carried by the base view)."""
        form = super().edit_form(obj)
        if obj is not None:
            form.programme.render_kw = {
                "title": "Le dispositif d'un parcours ne change pas ; en cas d'erreur, "
                         "supprimer le parcours et le recréer."}
            for name in (*READ_ONLY_ON_EDIT, "programme"):
                field = form[name]
                field.render_kw = {**(field.render_kw or {}), "disabled": True}
                field.data = getattr(obj, name)
                field.raw_data = None
                field.process_errors = []
            form.programme.raw_data = [str(obj.programme_id)]  # required: kept as stored
        return form

    def on_model_change(self, form, model, is_created):
        # Read before anything may flush: the entry date the form replaces.
        previous_entry = inspect(model).attrs.entry_date.history.deleted
        # A counsellor works on their own paths; handing one over is a coordinator's job.
        if current_role() == Role.COUNSELLOR and (
            model.referent is None or model.referent.id != current_user.id
        ):
            raise ValidationError(
                "Référent : seul un coordinateur peut confier ce parcours à un autre référent."
            )
        with checked_by_the_rules():
            if is_created:
                service.open_path(db.session, model, current_day())
            else:  # checked as a new path; the planned end is computed again (002 §3)
                service.correct_path(db.session, model, current_day(),
                                     previous_entry[0] if previous_entry else model.entry_date)

    # --- lifecycle actions (issue 3) --------------------------------------------------
    # The path's page: its lifecycle buttons, its record, then its story (issue 20 §1).
    details_template = "admin/path.html"
    # the path's page names its person, referral, session, order, programme and exit:
    # one statement with the path, whichever it has (issue 20 « Speed »)
    record_eager_loads = tuple(joinedload(relation) for relation in (
        Enrolment.beneficiary, Enrolment.referral, Enrolment.session, Enrolment.purchase_order,
        Enrolment.programme, Enrolment.exit_type))
    edit_template = "admin/lifecycle/edit.html"
    lifecycle_endpoint = ".transition_view"
    lifecycle_actions = ENROLMENT_LABELS

    def render(self, template, **kwargs):
        if template == self.details_template and kwargs.get("model") is not None:
            kwargs.update(path_page_context(kwargs["model"]))
        return super().render(template, **kwargs)
    lifecycle_columns = (
        ("N°", lambda e: e.id),
        ("Bénéficiaire", lambda e: e.beneficiary),
        ("Dispositif", lambda e: e.programme.code),
        ("Statut", lambda e: e.status.label),
        ("Phase en cours", lambda e: e.current_phase.name if e.current_phase else "—"),
        ("Entrée", lambda e: f"{e.entry_date:%d/%m/%Y}"),
        ("Fin prévue", lambda e: f"{e.planned_end_date:%d/%m/%Y}" if e.planned_end_date
         else "—"),
    )
    column_extra_row_actions = [
        LifecycleRowAction(name, ROW_ICONS[name], label, ".transition_view")
        for name, (label, _refused) in ENROLMENT_LABELS.items()
    ]

    def status_allows(self, name: str, row) -> bool:
        return EnrolmentAction(name) in enrolment_actions_allowed(row.status)

    @expose("/transition/", methods=("GET", "POST"))
    def transition_view(self):
        """/admin/enrolments/transition/?action=suspend&ids=3 — the form of an action."""
        return self.lifecycle_page()

    @action("next_phase", EnrolmentAction.NEXT_PHASE.label,
            "Passer les parcours sélectionnés à la phase suivante ?")
    def action_next_phase(self, ids):
        return self.bulk_to_form("next_phase", ids)

    @action("suspend", EnrolmentAction.SUSPEND.label, "Suspendre les parcours sélectionnés ?")
    def action_suspend(self, ids):
        return self.bulk_to_form("suspend", ids)

    @action("declare_abandon", EnrolmentAction.DECLARE_ABANDON.label,
            "Déclarer un abandon pour les parcours sélectionnés ?")
    def action_declare_abandon(self, ids):
        return self.bulk_to_form("declare_abandon", ids)

    @action("close_with_exit", "Clôturer avec un type de sortie",
            "Clôturer les parcours sélectionnés ?")
    def action_close_with_exit(self, ids):
        return self.bulk_to_form("close_with_exit", ids)

    @action("produce_documents", "Produire un document (un fichier ZIP)")
    def action_produce_documents(self, ids):
        """One document per selected path in one ZIP (issue 21 §3): the next page asks
        which document."""
        return bulk_documents_page("enrolment", ids)

    # --- the forms --------------------------------------------------------------------
    def form_next_phase(self, rows, formdata):
        return forms.NextPhaseForm(formdata, today=current_day(),
                                   data={"on_date": current_day()})

    def form_suspend(self, rows, formdata):
        form = forms.SuspendForm(formdata, today=current_day(),
                                 data={"starts_on": current_day()})
        form.reason.choices = forms.suspension_reason_choices(db.session)
        return form

    def form_resume(self, rows, formdata):
        return forms.ResumeForm(formdata, today=current_day(), data={"on_date": current_day()})

    def form_declare_abandon(self, rows, formdata):
        return forms.AbandonForm(formdata, today=current_day(), data={"on_date": current_day()})

    def form_end_follow_up(self, rows, formdata):
        return forms.EndFollowUpForm(formdata, today=current_day(),
                                     data={"on_date": current_day()})

    def form_close_with_exit(self, rows, formdata):
        """Two steps: choose the exit type (GET), then its facts only (POST)."""
        schemes = sorted({row.programme.exit_scheme for row in rows})
        if len(schemes) > 1:
            raise TransitionRefused(
                f"Sélection : ces parcours relèvent de typologies de sortie différentes "
                f"({', '.join(schemes)}) ; clôturez-les séparément"
            )
        raw = (request.values.get("exit_type") or "").strip()
        exit_type = db.session.get(ExitType, int(raw)) if raw.isdigit() else None
        if exit_type is None:
            offered = forms.exit_types_for(db.session, schemes[0])
            form = forms.ExitTypeChoiceForm(request.args if raw else None)
            form.exit_type.choices = forms.options([(forms.NONE, "—"),
                                                    *((t.id, t.label) for t in offered)])
            if raw:
                form.validate()
            form.method, form.submit_label = "get", "Continuer"
            return form
        form = forms.ExitForm(formdata, today=current_day(),
                              data={"exit_date": current_day(), "exit_type": exit_type.id})
        rule = ExitTypeRule.from_object(exit_type)
        asked = asked_facts(rule)
        form.drop(*(name for name in FACT_FIELDS if name not in asked))
        if not rule.is_rupture:
            form.drop("difficulties", "recommendations")
        if not any(row.programme.requires_internship
                   and not service.internship_count(db.session, row) for row in rows):
            form.drop("no_internship_reason")  # 001 « Description »: stage obligatoire
        if "contract_months" in form and rule.needs_training_title:
            form.contract_months.label.text = FIELD_LABELS["training_months"]
        form.intro = (f"Type de sortie : « {exit_type.label} ». Seuls les éléments que ce "
                      f"type demande sont à renseigner.")
        form.restart_url = self.lifecycle_url("close_with_exit", [row.id for row in rows],
                                              self._back_url())
        form.submit_label = "Clôturer"
        return form

    # --- the actions: one service each ---------------------------------------------------
    def apply_next_phase(self, rows, form) -> str:
        records = self.each(rows, lambda row: service.next_phase(
            db.session, row, form.on_date.data, derogation=form.derogation.data))
        if len(rows) == 1:
            return (f"{rows[0]} : passage à « {records[0].phase.name} » le "
                    f"{form.on_date.data:%d/%m/%Y}.")
        return plural(len(rows), "parcours passé", "parcours passés") + \
            f" à la phase suivante le {form.on_date.data:%d/%m/%Y}."

    def apply_suspend(self, rows, form) -> str:
        reason = db.session.get(SuspensionReason, form.reason.data)
        self.each(rows, lambda row: service.suspend(
            db.session, row, reason, form.starts_on.data, field_value(form, "ends_on"),
            field_value(form, "notes")))
        return (plural(len(rows), "parcours suspendu", "parcours suspendus")
                + f" à partir du {form.starts_on.data:%d/%m/%Y} ({reason.label})"
                + self._planned_end(rows) + ".")

    def apply_resume(self, rows, form) -> str:
        self.each(rows, lambda row: service.resume(db.session, row, form.on_date.data))
        return (plural(len(rows), "parcours repris", "parcours repris")
                + f" le {form.on_date.data:%d/%m/%Y}" + self._planned_end(rows) + ".")

    def apply_declare_abandon(self, rows, form) -> str:
        self.each(rows, lambda row: service.declare_abandon(
            db.session, row, form.on_date.data, form.reason.data, current_day(),
            difficulties=field_value(form, "difficulties"),
            recommendations=field_value(form, "recommendations")))
        reason = AbandonReason(form.reason.data).label
        return (f"Abandon déclaré ({reason}) : "
                + plural(len(rows), "parcours clôturé", "parcours clôturés")
                + f" le {form.on_date.data:%d/%m/%Y}.")

    def apply_close_with_exit(self, rows, form) -> str:
        exit_type = db.session.get(ExitType, int(form.exit_type.data))
        data = service.ExitInput(
            exit_date=form.exit_date.data,
            facts=ExitFacts(**{name: field_value(form, name) for name in FACT_FIELDS}),
            reason=field_value(form, "exit_reason"),
            goal_attainment=field_value(form, "goal_attainment"),
            satisfaction=field_value(form, "satisfaction"),
            difficulties=field_value(form, "difficulties"),
            recommendations=field_value(form, "recommendations"),
            no_internship_reason=field_value(form, "no_internship_reason"),
        )
        results = self.each(rows, lambda row: service.close_with_exit(
            db.session, row, exit_type, data, current_day()))
        sentences = []
        for row, classification in zip(rows, results, strict=True):
            follow_up = row.follow_up_end_date if row.status is EnrolmentStatus.FOLLOW_UP \
                else None
            sentence = classification_summary(classification, exit_type.label, follow_up)
            sentences.append(sentence if len(rows) == 1 else f"{row} : {sentence}")
        return " ; ".join(sentences) + "."

    def apply_end_follow_up(self, rows, form) -> str:
        self.each(rows, lambda row: service.end_follow_up(
            db.session, row, form.on_date.data, employed=form.employed.data))
        return ("Suivi après la sortie terminé : "
                + plural(len(rows), "parcours clôturé", "parcours clôturés")
                + f" le {form.on_date.data:%d/%m/%Y}.")

    @staticmethod
    def _planned_end(rows) -> str:
        if len(rows) != 1 or rows[0].planned_end_date is None:
            return ""
        return f" — fin prévue le {rows[0].planned_end_date:%d/%m/%Y}"


class PathChildView(ProtectedModelView):
    """A record that belongs to a path: searchable path select, path and person shown."""

    menu_category = CATEGORY
    form_ajax_refs = {"enrolment": ENROLMENT_SEARCH}

    def __init__(self):
        self.list_eager_loads = path_eager_loads(self.model_class.enrolment)
        self.column_filters = (*self.column_filters, *path_and_person_filters(self.model_class))
        super().__init__()

    def create_form(self, obj=None):
        """« Ajouter » from a path's or a person's page (…/new/?enrolment=12): the form
        comes with that path chosen — if the user may see it — and, for a counsellor, with
        themself as the one who met the person (issue 20 §1)."""
        form = super().create_form(obj)
        if is_form_submitted():
            return form
        path_id = request.args.get("enrolment", type=int)
        if path_id is not None and "enrolment" in form:
            query = select(Enrolment).where(Enrolment.id == path_id)
            scope = scope_clause(Enrolment, "enrolments")
            if scope is not None:
                query = query.where(scope)
            form.enrolment.data = db.session.scalars(query).first()
        if "staff" in form and current_role() == Role.COUNSELLOR:
            form.staff.data = current_user._get_current_object()
        return form


class PhaseRecordView(PathChildView):
    model_class = PhaseRecord
    slug = "phase-records"
    menu_name = "Phases suivies"
    area = "phase_records"
    column_list = ("id", "enrolment", "enrolment.beneficiary", "phase", "started_on",
                   "ended_on", "derogation")
    column_select_related_list = (PhaseRecord.enrolment, PhaseRecord.phase)
    column_default_sort = ("started_on", True)
    column_filters = ("phase.name", "started_on", "ended_on", "derogation")
    form_columns = ("enrolment", "phase", "started_on", "ended_on", "derogation")
    date_order = (("started_on", "ended_on",
                   "Fin : elle ne peut pas être antérieure au début ({:%d/%m/%Y})."),)
    column_labels = {"phase.name": "Phase"}

    def on_model_change(self, form, model, is_created):
        """A correction of the path's phases (002 §4): checked, and the path's current
        phase follows its records; moving on is « Phase suivante »."""
        with checked_by_the_rules():
            service.save_phase_record(db.session, model)

    def on_model_delete(self, model):
        service.before_phase_record_deleted(model)


class SuspensionView(PathChildView):
    model_class = Suspension
    slug = "suspensions"
    menu_name = "Suspensions"
    area = "suspensions"
    column_list = ("id", "enrolment", "enrolment.beneficiary", "reason", "starts_on",
                   "ends_on")
    column_select_related_list = (Suspension.enrolment, Suspension.reason)
    column_default_sort = ("starts_on", True)
    column_filters = ("reason.label", "starts_on", "ends_on")
    form_columns = ("enrolment", "reason", "starts_on", "ends_on", "notes")
    date_order = (("starts_on", "ends_on",
                   "Fin : elle ne peut pas être antérieure au début ({:%d/%m/%Y})."),)
    column_labels = {"reason.label": "Motif"}

    def on_model_change(self, form, model, is_created):
        """Typed here as by « Suspendre » (002 §3): a new suspension suspends its path; a
        correction keeps the dates checked; the planned end follows both."""
        with checked_by_the_rules():
            if is_created:
                service.add_suspension(db.session, model.enrolment, model)
            else:
                service.correct_suspension(db.session, model)

    def on_model_delete(self, model):
        service.before_suspension_deleted(model)


class ContactView(DocumentsOnDetails, PathChildView):
    document_subject = "contact"  # its convocation (issue 21 §3)
    model_class = Contact
    slug = "contacts"
    menu_name = "Entretiens et contacts"
    area = "contacts"
    column_list = ("id", "occurs_at", "enrolment", "enrolment.beneficiary", "contact_type",
                   "duration_minutes", "attendance", "staff")
    column_select_related_list = (Contact.enrolment, Contact.contact_type, Contact.staff)
    # No total count over hundreds of thousands of contacts: previous / next only
    # (bench/run.py: search 1.26 s → 0.12 s at 100 000 people).
    simple_list_pager = True
    column_default_sort = [("occurs_at", True), ("id", True)]
    person_search = True
    column_searchable_list = ("enrolment.beneficiary.last_name",
                              "enrolment.beneficiary.first_name",
                              "enrolment.beneficiary.external_id")
    column_filters = ("occurs_at", *enum_filters(Contact.attendance, "Présence", Attendance),
                      "contact_type.label", "staff.name",
                      "objective")  # searched in the box before issue 25
    form_columns = ("enrolment", "occurs_at", "contact_type", "duration_minutes", "staff",
                    "attendance", "objective", "notes")
    form_ajax_refs = {"enrolment": ENROLMENT_SEARCH, "staff": USER_SEARCH}

    def on_model_change(self, form, model, is_created):
        """A contact of the path: not before its entry (issue 20 §5)."""
        with checked_by_the_rules():
            activity_service.check_contact(db.session, model)


class InternshipView(DocumentsOnDetails, PathChildView):
    document_subject = "internship"  # agreement, report, diagnostic (issue 21 §3)
    model_class = Internship
    slug = "internships"
    menu_name = "Stages et immersions"
    area = "internships"
    column_list = ("id", "enrolment", "enrolment.beneficiary", "company_name", "starts_on",
                   "ends_on", "hours", "tutor_name")
    column_select_related_list = (Internship.enrolment,)
    column_default_sort = ("starts_on", True)
    column_searchable_list = ("company_name", "company_number", "tutor_name")
    column_filters = ("company_name", "starts_on", "ends_on", "report_on")
    form_columns = (
        "enrolment", "company_name", "company_number", "tutor_name", "starts_on", "ends_on",
        "hours", "planned_activities", "evaluation_criteria", "conditions_checked_on",
        "midpoint_technical", "midpoint_behavioural", "final_technical", "final_behavioural",
        "report_on", "diagnostic_behaviour", "diagnostic_understanding", "diagnostic_skills",
        "diagnostic_relations", "diagnostic_recommendations", "diagnostic_cosigned_on",
    )
    column_labels = {"company_name": "Entreprise d'accueil"}
    date_order = (("starts_on", "ends_on",
                   "Fin : elle ne peut pas être antérieure au début du stage ({:%d/%m/%Y})."),)

    def on_model_change(self, form, model, is_created):
        """A period of the path (001, 004 Lot 3): from its entry, not after its exit."""
        with checked_by_the_rules():
            activity_service.check_internship(db.session, model)


class BarrierView(PathChildView):
    model_class = Barrier
    slug = "barriers"
    menu_name = "Freins"
    area = "barriers"
    column_list = ("id", "enrolment", "enrolment.beneficiary", "barrier_type",
                   "identified_on", "lifted_on")
    column_select_related_list = (Barrier.enrolment, Barrier.barrier_type)
    column_default_sort = ("identified_on", True)
    column_filters = ("barrier_type.label", "identified_on", "lifted_on")
    form_columns = ("enrolment", "barrier_type", "identified_on", "lifted_on", "notes")
    date_order = (("identified_on", "lifted_on",
                   "Levé le : la date ne peut pas être antérieure à l'identification "
                   "({:%d/%m/%Y})."),)


class ObligationView(ProtectedModelView):
    model_class = Obligation
    slug = "obligations"
    menu_name = "Échéances"
    menu_category = CATEGORY
    area = "obligations"
    column_list = ("id", "name", "due_at", "done_at", "cancelled_at", "enrolment",
                   "enrolment.beneficiary", "programme", "purchase_order", "session")
    column_select_related_list = (Obligation.enrolment, Obligation.programme,
                                  Obligation.purchase_order, Obligation.session)
    list_eager_loads = path_eager_loads(Obligation.enrolment)
    column_default_sort = ("due_at", False)
    column_searchable_list = ("name", "document_ref")
    column_filters = ("due_at", "done_at", "cancelled_at", "name", "programme.code",
                      *path_and_person_filters(Obligation))
    form_columns = ("name", "rule", "enrolment", "purchase_order", "session", "programme",
                    "event_at", "due_at", "done_at", "late_reason", "cancelled_at", "document_ref")
    form_ajax_refs = {"enrolment": ENROLMENT_SEARCH, "purchase_order": {"fields": ("number",)}}
    column_labels = {"name": "Livrable"}

    def on_model_change(self, form, model, is_created):
        if not (model.enrolment or model.purchase_order or model.session or model.programme):
            raise ValidationError(
                "Échéance : indiquez au moins un parcours, un bon de commande, une session "
                "ou un dispositif."
            )
