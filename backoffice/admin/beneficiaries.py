"""Menu « Bénéficiaires »: the people supported, with the duplicate guard."""
from datetime import date

from flask import flash, request, url_for
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..enums import Sex
from ..extensions import db
from ..models import Beneficiary, name_key
from ..rules.people import birth_date_problem
from .base import ProtectedModelView, add_error, parse_id
from .fields import enum_filters
from .record_pages import person_page_context


def find_duplicate(last_name: str | None, first_name: str | None, birth_date: date | None,
                   external_id: str | None, exclude_id: int | None = None) -> Beneficiary | None:
    """The existing person with the same external id, or the same names and birth date
    (accents, case, spaces and hyphens ignored: `name_key`), other than `exclude_id`."""
    conditions = []
    if external_id and external_id.strip():
        conditions.append(Beneficiary.external_id == external_id.strip())
    if last_name and first_name and birth_date:
        conditions.append(
            (Beneficiary.name_key == name_key(last_name, first_name))
            & (Beneficiary.birth_date == birth_date)
        )
    for condition in conditions:
        query = select(Beneficiary).where(condition)
        if exclude_id is not None:
            query = query.where(Beneficiary.id != exclude_id)
        found = db.session.scalars(query.limit(1)).first()
        if found is not None:
            return found
    return None


def duplicate_message(existing: Beneficiary) -> Markup:
    """« Doublon : un bénéficiaire « NOM Prénom » né le JJ/MM/AAAA existe déjà (fiche n° X) »
    with a link to that record."""
    url = url_for("beneficiaries.details_view", id=existing.id)
    return Markup(
        "Doublon : un bénéficiaire « {name} » né le {born:%d/%m/%Y} existe déjà "
        '(<a href="{url}">fiche n° {id}</a>).'
    ).format(name=existing.full_name, born=existing.birth_date, url=url, id=existing.id)


class BeneficiaryView(ProtectedModelView):
    model_class = Beneficiary
    slug = "beneficiaries"
    menu_name = "Bénéficiaires"
    menu_category = None
    area = "beneficiaries"

    column_list = ("id", "last_name", "first_name", "birth_date", "sex", "external_id",
                   "commune", "epci")
    # Alphabetical: accents, case, spaces and hyphens ignored, the same order on every
    # database and in the reports (`name_key`). The id breaks ties between homonyms: every
    # page of the list is the same from one request to the next (ix_beneficiaries_name_key_id
    # gives this order). Sorting by the « Nom » header sorts the same way.
    column_default_sort = [("name_key", False), ("id", False)]
    column_sortable_list = (
        "id", ("last_name", ("name_key", "id")), ("first_name", ("first_name", "id")),
        "birth_date", "sex", "external_id", "commune", "epci",
    )
    person_search = True  # the commune: its own filter
    column_searchable_list = ("last_name", "first_name", "external_id")
    column_filters = (
        "commune", "epci", "birth_date", *enum_filters(Beneficiary.sex, "Sexe", Sex),
        "long_term_job_seeker", "rsa_recipient", "disability_recognition",
        "experimental_csp_public", "created_at",
    )
    column_details_exclude_list = ("name_key", "search_key")
    column_export_exclude_list = ("name_key", "search_key")
    # The person's whole story (issue 20 §1), identity at the top.
    details_template = "admin/person.html"
    form_columns = (
        "last_name", "first_name", "birth_date", "sex", "external_id",
        "email", "phone", "address", "postcode", "commune", "epci", "education_level",
        "long_term_job_seeker", "rsa_recipient", "social_minima", "disability_recognition",
        "experimental_csp_public", "notes",
    )  # the ESF+ data are the path's (« Données d'entrée FSE+ », issue 24)

    def render(self, template, **kwargs):
        if template == self.details_template and kwargs.get("model") is not None:
            kwargs.update(person_page_context(kwargs["model"]))
        return super().render(template, **kwargs)

    def check_form(self, form) -> bool:
        """Refuse a duplicate before the insert, naming the record that already exists."""
        valid = super().check_form(form)
        if "birth_date" in form:
            problem = birth_date_problem(form.birth_date.data, date.today())
            if problem:
                add_error(form.birth_date, problem)
                valid = False
        if "last_name" not in form:
            return valid
        editing = parse_id(request.args.get("id")) if request.endpoint.endswith("edit_view") \
            else None
        existing = find_duplicate(
            form.last_name.data, form.first_name.data, form.birth_date.data,
            form.external_id.data, exclude_id=editing,
        )
        if existing is not None:
            flash(duplicate_message(existing), "error")
            posted_id = (form.external_id.data or "").strip()
            same_id = bool(posted_id) and existing.external_id == posted_id
            add_error(form.external_id if same_id else form.last_name,
                      "Doublon : cette personne existe déjà (voir le message en haut de page).")
            return False
        return valid

    def on_model_change(self, form, model, is_created):
        # An empty external id is « none », not a second "" that would collide.
        if model.external_id is not None and not model.external_id.strip():
            model.external_id = None

    def handle_view_exception(self, exc: Exception) -> bool:
        """The unique keys are the backstop (two people saving at once): same message."""
        if isinstance(exc, IntegrityError):
            db.session.rollback()
            form = request.form
            try:
                born = date.fromisoformat(form.get("birth_date", ""))
            except ValueError:
                born = None
            existing = find_duplicate(form.get("last_name"), form.get("first_name"), born,
                                      form.get("external_id"),
                                      exclude_id=parse_id(request.args.get("id")))
            if existing is not None:
                flash(duplicate_message(existing), "error")
                return True
        return super().handle_view_exception(exc)
