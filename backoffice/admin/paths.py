"""Menu « Parcours »: paths and what happens on them (phases, suspensions, contacts,
internships, barriers, obligations)."""
from flask import flash
from flask_admin.form import rules
from flask_login import current_user
from sqlalchemy.orm import joinedload
from wtforms import HiddenField
from wtforms.validators import ValidationError

from ..enums import Attendance, EnrolmentStatus, Role
from ..models import (
    Barrier,
    Beneficiary,
    Contact,
    Enrolment,
    Internship,
    Obligation,
    PhaseRecord,
    Suspension,
)
from .base import ProtectedModelView, current_role, only_counsellors
from .fields import enum_filters

CATEGORY = "Parcours"

BENEFICIARY_SEARCH = {"fields": ("last_name", "first_name", "external_id")}
ENROLMENT_SEARCH = {
    "fields": (Enrolment.id, Beneficiary.last_name, Beneficiary.first_name,
               Beneficiary.external_id),
    "joins": (Enrolment.beneficiary,),
    "label": lambda path: f"{path} — {path.beneficiary.full_name}",
}
USER_SEARCH = {"fields": ("name", "email")}

ENTRY_EXIT = ("entry_date", "exit_date",
              "Date de sortie : elle ne peut pas être antérieure à la date d'entrée ({:%d/%m/%Y}).")


class AlreadyRendered(rules.Field):
    """A hidden field in a form with rules: Flask-Admin writes hidden inputs before the
    rules, so the rule only declares it (no « missing from ruleset » warning)."""

    def __call__(self, form, form_opts=None, field_args=None):
        return ""


def path_eager_loads(relationship) -> tuple:
    """Eager loads for a list whose rows show their path and its person (no N+1)."""
    return (
        joinedload(relationship).joinedload(Enrolment.programme),
        joinedload(relationship).joinedload(Enrolment.beneficiary),
    )


class EnrolmentView(ProtectedModelView):
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
    column_default_sort = ("entry_date", True)
    column_searchable_list = ("beneficiary.last_name", "beneficiary.first_name",
                              "beneficiary.external_id", "target_job")
    column_filters = (
        *enum_filters(Enrolment.status, "Statut", EnrolmentStatus),
        "programme.code", "referent.name", "current_phase.name",
        "entry_date", "planned_end_date", "exit_date",
    )
    column_details_exclude_list = ("version",)
    column_export_exclude_list = ("version",)
    form_columns = (
        "beneficiary", "programme", "referral", "session", "purchase_order", "referent",
        "entry_date", "planned_end_date", "status", "current_phase",
        "target_job", "rome_code", "action_plan_on", "prebilan_at", "csp_contract_signed_on",
        "engagement_level", "soft_skills_level",
        "exit_date", "exit_type", "contract_kind", "contract_months", "hours_per_month",
        "employer", "training_title", "followup_contract_kind", "followup_contract_months",
        "exit_reason", "goal_attainment", "satisfaction", "difficulties", "recommendations",
        "follow_up_end_date", "closed_on", "version_seen",
    )
    form_extra_fields = {"version_seen": HiddenField()}
    form_rules = (
        rules.FieldSet(("beneficiary", "programme", "referral", "session", "purchase_order",
                        "referent"), "Personne et dispositif"),
        rules.FieldSet(("entry_date", "planned_end_date", "status", "current_phase"),
                       "Déroulement"),
        rules.FieldSet(("target_job", "rome_code", "action_plan_on", "prebilan_at",
                        "csp_contract_signed_on", "engagement_level", "soft_skills_level"),
                       "Projet professionnel et progression"),
        rules.FieldSet(("exit_date", "exit_type", "contract_kind", "contract_months",
                        "hours_per_month", "employer", "training_title",
                        "followup_contract_kind", "followup_contract_months", "exit_reason",
                        "goal_attainment", "satisfaction", "difficulties", "recommendations",
                        "follow_up_end_date", "closed_on"), "Sortie et évaluation"),
        AlreadyRendered("version_seen"),
    )
    form_ajax_refs = {
        "beneficiary": BENEFICIARY_SEARCH,
        "referral": {"fields": ("id", "prescriber_name")},
        "purchase_order": {"fields": ("number",)},
        "referent": {**USER_SEARCH, "where": only_counsellors},
    }
    date_order = (
        ENTRY_EXIT,
        ("entry_date", "planned_end_date",
         "Fin prévue : elle ne peut pas être antérieure à la date d'entrée ({:%d/%m/%Y})."),
        ("exit_date", "follow_up_end_date",
         "Fin du suivi dans l'emploi : elle ne peut pas être antérieure à la date de sortie "
         "({:%d/%m/%Y})."),
    )

    def edit_form(self, obj=None):
        """Carry the version the user loaded, to detect a concurrent edit on save."""
        form = super().edit_form(obj)
        if obj is not None and not form.version_seen.data:
            form.version_seen.data = str(obj.version)
        return form

    def update_model(self, form, model):
        seen = form.version_seen.data
        if seen and seen.isdigit() and int(seen) != model.version:
            flash(self.stale_message, "error")
            return False
        return super().update_model(form, model)

    def on_model_change(self, form, model, is_created):
        # A counsellor works on their own paths; handing one over is a coordinator's job.
        if current_role() == Role.COUNSELLOR and (
            model.referent is None or model.referent.id != current_user.id
        ):
            raise ValidationError(
                "Référent : seul un coordinateur peut confier ce parcours à un autre référent."
            )


class PathChildView(ProtectedModelView):
    """A record that belongs to a path: searchable path select, path and person shown."""

    menu_category = CATEGORY
    form_ajax_refs = {"enrolment": ENROLMENT_SEARCH}

    def __init__(self):
        self.list_eager_loads = path_eager_loads(self.model_class.enrolment)
        super().__init__()


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


class ContactView(PathChildView):
    model_class = Contact
    slug = "contacts"
    menu_name = "Entretiens et contacts"
    area = "contacts"
    column_list = ("id", "occurs_at", "enrolment", "enrolment.beneficiary", "contact_type",
                   "duration_minutes", "attendance", "staff")
    column_select_related_list = (Contact.enrolment, Contact.contact_type, Contact.staff)
    column_default_sort = ("occurs_at", True)
    column_searchable_list = ("enrolment.beneficiary.last_name",
                              "enrolment.beneficiary.first_name", "objective")
    column_filters = ("occurs_at", *enum_filters(Contact.attendance, "Présence", Attendance),
                      "contact_type.label", "staff.name")
    form_columns = ("enrolment", "occurs_at", "contact_type", "duration_minutes", "staff",
                    "attendance", "objective", "notes")
    form_ajax_refs = {"enrolment": ENROLMENT_SEARCH, "staff": USER_SEARCH}


class InternshipView(PathChildView):
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
    column_filters = ("due_at", "done_at", "cancelled_at", "name", "programme.code")
    form_columns = ("name", "rule", "enrolment", "purchase_order", "session", "programme",
                    "event_at", "due_at", "done_at", "cancelled_at", "document_ref")
    form_ajax_refs = {"enrolment": ENROLMENT_SEARCH, "purchase_order": {"fields": ("number",)}}
    column_labels = {"name": "Livrable"}

    def on_model_change(self, form, model, is_created):
        if not (model.enrolment or model.purchase_order or model.session or model.programme):
            raise ValidationError(
                "Échéance : indiquez au moins un parcours, un bon de commande, une session "
                "ou un dispositif."
            )
