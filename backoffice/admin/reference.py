"""Menu « Référentiels »: reference data seeded from seeds/, editable by an administrator."""
import yaml
from flask_admin.form import Select2Field
from wtforms import TextAreaField

from ..enums import ExitScheme
from ..imports.mapping import FIELDS, MappingProblem, check_columns
from ..models import (
    BarrierType,
    ContactType,
    DeadlineRule,
    ExitType,
    Funder,
    ImportPreset,
    Phase,
    Programme,
    SuspensionReason,
)
from ..rules.deadlines import PHASE_TRIGGERS, TRIGGER_EVENTS
from .base import ProtectedModelView, add_error
from .fields import EnumSelectField, label_of

CATEGORY = "Référentiels"


class ReferenceView(ProtectedModelView):
    menu_category = CATEGORY
    column_default_sort = "sort_order"


class FunderView(ReferenceView):
    model_class = Funder
    slug = "funders"
    menu_name = "Financeurs"
    area = "funders"
    column_list = ("id", "code", "name", "territory")
    column_default_sort = "name"
    column_searchable_list = ("code", "name")
    form_columns = ("code", "name", "territory")


class ProgrammeView(ReferenceView):
    model_class = Programme
    slug = "programmes"
    menu_name = "Dispositifs"
    area = "programmes"
    column_list = ("code", "name", "funder", "source", "exit_scheme", "planned_months",
                   "max_months", "follow_up_months", "requires_commission")
    column_select_related_list = (Programme.funder,)
    column_default_sort = "code"
    column_searchable_list = ("code", "name")
    column_filters = ("funder.name", "requires_commission")
    column_formatters = {"exit_scheme": label_of(ExitScheme)}
    column_formatters_detail = {"exit_scheme": label_of(ExitScheme)}
    column_details_exclude_list = ("phases", "deadline_rules")
    form_excluded_columns = ("phases", "deadline_rules")
    form_overrides = {"exit_scheme": EnumSelectField}
    form_args = {"exit_scheme": {"enum": ExitScheme}}
    column_labels = {"name": "Intitulé", "funder.name": "Financeur"}


class PhaseView(ReferenceView):
    model_class = Phase
    slug = "phases"
    menu_name = "Phases"
    area = "phases"
    column_list = ("programme", "position", "code", "name", "max_days", "derogation_max_days",
                   "is_follow_up")
    column_select_related_list = (Phase.programme,)
    column_default_sort = [("programme_id", False), ("position", False)]
    column_filters = ("programme.code",)
    form_columns = ("programme", "position", "code", "name", "max_days",
                    "derogation_max_days", "is_follow_up")
    column_labels = {"name": "Intitulé"}
    date_order = (("max_days", "derogation_max_days",
                   "Durée maximale avec dérogation : elle ne peut pas être inférieure à la "
                   "durée maximale ({} jours)."),)


class DeadlineRuleView(ReferenceView):
    model_class = DeadlineRule
    slug = "deadline-rules"
    menu_name = "Règles d'échéance"
    area = "deadline_rules"
    column_list = ("programme", "code", "name", "trigger_event", "offset_value", "unit",
                   "roll", "source", "active")
    column_select_related_list = (DeadlineRule.programme,)
    column_default_sort = "code"
    column_searchable_list = ("code", "name")
    column_filters = ("programme.code", "active")
    form_columns = ("programme", "code", "name", "trigger_event", "phase_code", "offset_value",
                    "unit", "roll", "fulfilled_by", "source", "active")
    form_overrides = {"trigger_event": Select2Field}
    form_args = {"trigger_event": {"choices": list(TRIGGER_EVENTS.items())}}
    column_formatters = {"trigger_event": lambda v, c, m, n: TRIGGER_EVENTS.get(m.trigger_event,
                                                                                m.trigger_event)}
    column_labels = {"name": "Livrable", "active": "Active"}

    def check_form(self, form) -> bool:
        """A rule counted from a phase names one of its programme's phases (by code)."""
        valid = super().check_form(form)
        if "trigger_event" not in form or form.trigger_event.data not in PHASE_TRIGGERS:
            return valid
        programme = form.programme.data
        codes = sorted(p.code for p in programme.phases) if programme is not None else []
        if (form.phase_code.data or "").strip() not in codes:
            add_error(form.phase_code,
                      "Phase : une règle déclenchée par le début ou la fin d'une phase doit "
                      f"nommer une phase du dispositif ({', '.join(codes) or 'aucune phase'}).")
            valid = False
        return valid


class ExitTypeView(ReferenceView):
    model_class = ExitType
    slug = "exit-types"
    menu_name = "Types de sortie"
    area = "exit_types"
    column_list = ("code", "label", "schemes", "del_category", "csp_rule", "csp_min_months",
                   "is_durable_job", "is_rupture", "is_anticipated", "sort_order")
    column_searchable_list = ("code", "label")


class BarrierTypeView(ReferenceView):
    model_class = BarrierType
    slug = "barrier-types"
    menu_name = "Types de frein"
    area = "barrier_types"
    column_list = ("code", "label", "is_sensitive", "sort_order")
    column_searchable_list = ("code", "label")


class ContactTypeView(ReferenceView):
    model_class = ContactType
    slug = "contact-types"
    menu_name = "Types de contact"
    area = "contact_types"
    column_list = ("code", "label", "default_minutes", "is_group", "is_remote", "sort_order")
    column_searchable_list = ("code", "label")


class SuspensionReasonView(ReferenceView):
    model_class = SuspensionReason
    slug = "suspension-reasons"
    menu_name = "Motifs de suspension"
    area = "suspension_reasons"
    column_list = ("code", "label", "pushes_end_date", "only_experimental_public",
                   "counts_as_active", "sort_order")
    column_searchable_list = ("code", "label")


class ColumnsField(TextAreaField):
    """A preset's columns as YAML an administrator reads and types:
    « last_name: [Nom, Nom de famille] », one field a line (imports/mapping.py FIELDS)."""

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        if not self.data:
            return ""
        return yaml.safe_dump(self.data, allow_unicode=True, sort_keys=False,
                              default_flow_style=None, width=200)

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        try:
            parsed = yaml.safe_load(valuelist[0] or "") or {}
        except yaml.YAMLError:
            self.data = None
            raise ValueError("Colonnes : texte illisible ; une ligne « champ: [en-tête, "
                             "autre en-tête] » par champ est attendue.") from None
        try:
            self.data = check_columns(parsed)
        except MappingProblem as problem:
            self.data = None
            raise ValueError(str(problem)) from None


class ImportPresetView(ReferenceView):
    """Which header of a funder's list holds which field (issue 23 §2), per programme."""

    model_class = ImportPreset
    slug = "import-presets"
    menu_name = "Correspondances d'import"
    area = "import_presets"
    column_list = ("programme", "name", "updated_at")
    column_select_related_list = (ImportPreset.programme,)
    column_default_sort = "name"
    column_filters = ("programme.code",)
    form_columns = ("programme", "name", "columns")
    form_overrides = {"columns": ColumnsField}
    form_args = {"columns": {"label": "Colonnes", "description":
                             "Champs : " + ", ".join(f"{f.key} ({f.label})" for f in FIELDS)
                             + ". Accents, casse et ponctuation des en-têtes ignorés."}}
    form_widget_args = {"columns": {"rows": 18}}
    column_labels = {"name": "Nom", "programme": "Dispositif", "updated_at": "Modifiée le",
                     "columns": "Colonnes"}
    column_formatters_detail = {"columns": lambda v, c, m, n: yaml.safe_dump(
        m.columns, allow_unicode=True, sort_keys=False)}
