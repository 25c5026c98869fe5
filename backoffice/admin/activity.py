"""Menu « Activité »: sessions, workshops and their attendance sheets.

Typed or corrected by hand, they follow ``services.activity``: one programme for a
workshop, its session and the paths on its sheet; a workshop within its session's dates,
not before its attendees' entries.
"""
from sqlalchemy.orm import joinedload

from ..enums import Attendance
from ..extensions import db
from ..models import Enrolment, ProgrammeSession, Workshop, WorkshopAttendance
from ..services import activity as service
from .base import ProtectedModelView
from .fields import enum_filters
from .lifecycle import checked_by_the_rules
from .paths import ENROLMENT_SEARCH

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


class WorkshopView(ProtectedModelView):
    model_class = Workshop
    slug = "workshops"
    menu_name = "Ateliers"
    menu_category = CATEGORY
    area = "workshops"

    column_list = ("id", "title", "programme", "session", "held_at", "duration_minutes",
                   "place", "facilitator")
    column_select_related_list = (Workshop.programme, Workshop.session)
    column_default_sort = ("held_at", True)
    column_searchable_list = ("title", "facilitator", "place")
    column_filters = ("programme.code", "held_at", "facilitator")
    column_details_list = ("id", "title", "programme", "session", "held_at",
                           "duration_minutes", "place", "facilitator", "attendances")
    form_columns = ("programme", "session", "title", "held_at", "duration_minutes", "place",
                    "facilitator")

    def on_model_change(self, form, model, is_created):
        with checked_by_the_rules():
            service.check_workshop(db.session, model)


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
    column_searchable_list = ("workshop.title", "enrolment.beneficiary.last_name")
    column_filters = ("workshop.title", *enum_filters(WorkshopAttendance.attendance,
                                                      "Présence", Attendance))
    form_columns = ("workshop", "enrolment", "attendance")
    form_ajax_refs = {"enrolment": ENROLMENT_SEARCH,
                      "workshop": {"fields": ("title",)}}
    column_labels = {"workshop.title": "Atelier"}

    def on_model_change(self, form, model, is_created):
        with checked_by_the_rules():
            service.check_attendance(db.session, model)
