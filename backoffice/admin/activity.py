"""Menu « Activité »: sessions, workshops and their attendance sheets.

Typed or corrected by hand, they follow ``services.activity``: one programme for a
workshop, its session and the paths on its sheet; a workshop within its session's dates,
not before its attendees' entries. A workshop's « Feuille d'émargement » marks everyone
of its group at once (``services.activity.sheet_lines`` / ``save_sheet``).
"""
from collections import Counter

from flask_admin import expose
from sqlalchemy.orm import joinedload

from ..enums import Attendance
from ..extensions import db
from ..models import Enrolment, ProgrammeSession, Workshop, WorkshopAttendance
from ..rules.lifecycle import TransitionRefused
from ..services import activity as service
from . import lifecycle_forms as forms
from .base import ENROLMENT_SEARCH, ProtectedModelView
from .documents import DocumentsOnDetails
from .fields import enum_filters
from .lifecycle import (
    LifecycleMixin,
    LifecycleRowAction,
    checked_by_the_rules,
    current_day,
)
from .todo_filters import (
    HeldBeforeNowFilter,
    WorkshopWithoutSheetFilter,
    path_and_person_filters,
)

CATEGORY = "Activité"


class SessionView(ProtectedModelView):
    model_class = ProgrammeSession
    slug = "sessions"
    menu_name = "Sessions"
    menu_category = CATEGORY
    area = "sessions"

    column_list = ("id", "label", "programme", "starts_on", "ends_on", "place", "min_size",
                   "max_size", "continuous_entry")
    column_select_related_list = (ProgrammeSession.programme,)
    column_default_sort = ("starts_on", True)
    column_searchable_list = ("label", "place")
    column_filters = ("programme.code", "starts_on", "ends_on", "continuous_entry")
    form_columns = ("programme", "label", "starts_on", "ends_on", "place", "min_size",
                    "max_size", "continuous_entry")
    column_labels = {"label": "Intitulé"}
    date_order = (("starts_on", "ends_on",
                   "Fin : elle ne peut pas être antérieure au début de la session "
                   "({:%d/%m/%Y})."),
                  ("min_size", "max_size",
                   "Effectif maximum : il ne peut pas être inférieur à l'effectif minimum "
                   "({})."))

    def on_model_change(self, form, model, is_created):
        with checked_by_the_rules():
            service.check_session(db.session, model)


class WorkshopView(DocumentsOnDetails, LifecycleMixin, ProtectedModelView):
    model_class = Workshop
    slug = "workshops"
    menu_name = "Ateliers"
    menu_category = CATEGORY
    area = "workshops"
    document_subject = "workshop"  # its convocations and attendance sheet (issue 21 §3)

    column_list = ("id", "title", "programme", "session", "held_at", "duration_minutes",
                   "place", "facilitator")
    column_select_related_list = (Workshop.programme, Workshop.session)
    column_default_sort = ("held_at", True)
    column_searchable_list = ("title", "facilitator", "place")
    column_filters = ("programme.code", "held_at", "facilitator", HeldBeforeNowFilter(),
                      WorkshopWithoutSheetFilter())
    column_details_list = ("id", "title", "programme", "session", "held_at",
                           "duration_minutes", "place", "facilitator", "information_meeting",
                           "attendances")
    form_columns = ("programme", "session", "title", "held_at", "duration_minutes", "place",
                    "facilitator", "information_meeting")

    def on_model_change(self, form, model, is_created):
        with checked_by_the_rules():
            service.check_workshop(db.session, model)

    # --- the attendance sheet, filled in at once (instead of one line per person) ------
    details_template = "admin/lifecycle/details.html"
    lifecycle_endpoint = ".sheet_view"
    lifecycle_actions = {
        "attendance_sheet": ("Feuille d'émargement",
                             "Impossible d'enregistrer la feuille d'émargement"),
    }
    single_record_actions = frozenset({"attendance_sheet"})
    lifecycle_columns = (
        ("Atelier", lambda w: w.title),
        ("Dispositif", lambda w: w.programme.code),
        ("Date", lambda w: f"{w.held_at:%d/%m/%Y à %H:%M}"),
        ("Session", lambda w: w.session or "—"),
    )
    column_extra_row_actions = [
        LifecycleRowAction("attendance_sheet", "fa fa-check-square-o", "Feuille d'émargement",
                           ".sheet_view"),
    ]

    def versions_of(self, rows: list) -> str:
        """The workshop and every line of its sheet (added, changed or removed since the
        sheet was opened: its save would undo them)."""
        lines = sorted((line.id, line.version) for row in rows for line in row.attendances)
        return super().versions_of(rows) + ";" + ",".join(f"{i}:{v}" for i, v in lines)

    def status_allows(self, name: str, row) -> bool:
        """A sheet is signed on the day: not for a workshop still to come."""
        return row.held_at.date() <= current_day()

    @expose("/emargement/", methods=("GET", "POST"))
    def sheet_view(self):
        """/admin/workshops/emargement/?action=attendance_sheet&ids=1"""
        return self.lifecycle_page()

    def form_attendance_sheet(self, rows, formdata):
        workshop = rows[0]
        if not self.status_allows("attendance_sheet", workshop):
            raise TransitionRefused(
                f"Date : l'atelier a lieu le {workshop.held_at:%d/%m/%Y}, la feuille se remplit "
                f"à partir de ce jour")
        lines, cut = service.sheet_lines(db.session, workshop)
        return forms.attendance_sheet_form(lines, formdata, intro=_sheet_intro(workshop, cut))

    def apply_attendance_sheet(self, rows, form) -> str:
        counts = service.save_sheet(db.session, rows[0], form.marks())
        return f"Feuille d'émargement enregistrée : {_sheet_counts(counts)}."


class AttendanceView(ProtectedModelView):
    model_class = WorkshopAttendance
    slug = "attendances"
    menu_name = "Émargements"
    menu_category = CATEGORY
    area = "workshop_attendances"

    column_list = ("id", "workshop", "enrolment", "enrolment.beneficiary", "attendance")
    column_select_related_list = (WorkshopAttendance.workshop, WorkshopAttendance.enrolment)
    list_eager_loads = (
        joinedload(WorkshopAttendance.enrolment).joinedload(Enrolment.programme),
        joinedload(WorkshopAttendance.enrolment).joinedload(Enrolment.beneficiary),
    )
    person_search = True  # the workshop: its own filter
    column_searchable_list = ("enrolment.beneficiary.last_name",
                              "enrolment.beneficiary.first_name",
                              "enrolment.beneficiary.external_id")
    column_filters = ("workshop.title", *enum_filters(WorkshopAttendance.attendance,
                                                      "Présence", Attendance),
                      *path_and_person_filters(WorkshopAttendance))
    form_columns = ("workshop", "enrolment", "attendance")
    form_ajax_refs = {"enrolment": ENROLMENT_SEARCH,
                      "workshop": {"fields": ("title",)}}
    column_labels = {"workshop.title": "Atelier"}

    def on_model_change(self, form, model, is_created):
        with checked_by_the_rules():
            service.check_attendance(db.session, model)


def _sheet_intro(workshop: Workshop, cut: bool) -> str:
    """What the sheet offers, and the programme's group size (an alert, not a refusal:
    issue 4, « atelier hors des limites de groupe »)."""
    group = (f"de la session « {workshop.session} »" if workshop.session
             else f"du dispositif {workshop.programme.code}")
    text = (f"Les personnes déjà émargées, puis les parcours {group} en cours le "
            f"{workshop.held_at:%d/%m/%Y}, par ordre alphabétique.")
    low, high = workshop.programme.group_min, workshop.programme.group_max
    if low and high:
        text += f" Taille d'un groupe : {low} à {high} personnes."
    elif low or high:
        text += f" Taille d'un groupe : {'au moins' if low else 'au plus'} {low or high} personnes."
    if cut:
        text += (f" Seules les {service.SHEET_LIMIT} premières personnes sont proposées ; "
                 f"ajoutez les autres dans Activité › Émargements.")
    return text


def _sheet_counts(counts: Counter) -> str:
    """« 5 présents, 1 absence justifiée, 0 absence injustifiée » (0 and 1: singular)."""
    words = ((Attendance.PRESENT, "présent", "présents"),
             (Attendance.EXCUSED, "absence justifiée", "absences justifiées"),
             (Attendance.UNEXCUSED, "absence injustifiée", "absences injustifiées"))
    return ", ".join(f"{counts[mark]} {one if counts[mark] <= 1 else many}"
                     for mark, one, many in words)
