"""Menu « Administration »: staff accounts and the audit trail."""
from flask import abort
from sqlalchemy import func, select
from wtforms.validators import Optional, ValidationError

from ..auth.emails import email_problem, normalised_email
from ..auth.passwords import MIN_LENGTH as MIN_PASSWORD_LENGTH
from ..auth.passwords import password_problem
from ..enums import EnrolmentStatus, Role
from ..extensions import db
from ..models import AuditEntry, Enrolment, User
from .base import ProtectedModelView, add_error
from .fields import NewPasswordField, enum_filters

CATEGORY = "Administration"


def _password_policy(form, field) -> None:
    """Length, common/breached list, not the e-mail (auth/passwords.py)."""
    if field.data:
        problem = password_problem(field.data, form.email.data if "email" in form else None)
        if problem:
            raise ValidationError(problem)


def _email_format(_form, field) -> None:
    """A login address of the right form (auth/emails.py)."""
    problem = email_problem(field.data)
    if problem:
        raise ValidationError(problem)


class UserView(ProtectedModelView):
    """Accounts: the password is typed here and hashed; the hash is never shown."""

    model_class = User
    slug = "users"
    menu_name = "Utilisateurs"
    menu_category = CATEGORY
    area = "users"

    column_list = ("id", "name", "email", "role", "funder", "active", "last_login_at",
                   "created_at")
    column_details_list = column_list
    column_export_list = column_list
    column_default_sort = "name"
    column_searchable_list = ("name", "email")
    column_filters = (*enum_filters(User.role, "Rôle", Role), "active", "last_login_at")
    form_columns = ("name", "email", "role", "funder", "active", "password")
    form_excluded_columns = ("password_hash",)
    form_extra_fields = {
        "password": NewPasswordField(
            "Mot de passe",
            validators=[
                Optional(),
                _password_policy,
            ],
            description="Laisser vide pour conserver le mot de passe actuel.",
        )
    }
    column_labels = {"name": "Nom affiché", "funder": "Financeur représenté"}
    form_args = {"email": {"validators": [_email_format], "filters": [normalised_email]}}
    column_descriptions = {
        "funder": "Compte financeur (lecture seule) : il ne voit que les dispositifs de ce "
                  "financeur. Vide pour les autres rôles.",
    }

    def check_form(self, form) -> bool:
        """A funder's account names its funder (without one it would see nothing); the
        other roles name none (issue 18 §1)."""
        valid = super().check_form(form)
        if "role" not in form or "funder" not in form:
            return valid
        is_viewer = form.role.data in (Role.VIEWER, Role.VIEWER.value)
        if is_viewer and form.funder.data is None:
            add_error(form.funder, "Financeur représenté : obligatoire pour un compte "
                                   "financeur (lecture seule).")
            valid = False
        elif not is_viewer and form.funder.data is not None:
            add_error(form.funder, "Financeur représenté : seulement pour un compte "
                                   "financeur (lecture seule) ; laissez vide.")
            valid = False
        return valid

    def on_model_delete(self, model):
        """Never orphan paths (issue 18 §8): the referent of paths not yet closed is kept
        until they are handed to someone else."""
        open_paths = db.session.scalar(
            select(func.count()).select_from(Enrolment).where(
                Enrolment.referent_id == model.id,
                Enrolment.status != EnrolmentStatus.CLOSED))
        if open_paths:
            raise ValidationError(
                f"Suppression refusée : {model.name} est référent de {open_paths} parcours "
                f"non clôturé{'s' if open_paths > 1 else ''}. Confiez-les d'abord à un autre "
                f"référent (Parcours › Parcours, filtre « Référent »), ou désactivez le "
                f"compte au lieu de le supprimer.")

    def on_model_change(self, form, model, is_created):
        if is_created and not form.password.data:
            raise ValidationError(
                f"Mot de passe : obligatoire pour un nouveau compte "
                f"({MIN_PASSWORD_LENGTH} caractères au minimum)."
            )


AUDIT_ACTIONS = {
    "create": "Création", "update": "Modification", "delete": "Suppression",
    "view": "Consultation", "export": "Export", "refused": "Action refusée",
    "login": "Connexion", "logout": "Déconnexion", "login_failed": "Échec de connexion",
    "login_throttled": "Connexion bloquée", "anonymise": "Anonymisation",
    "purge": "Purge", "audit_purge": "Purge du journal",
}


def audit_action_label(action: str) -> str:
    """The French name of an audit action (never the stored code)."""
    return AUDIT_ACTIONS.get(action, action)


def _audit_action(_view, _context, entry, _name):
    return audit_action_label(entry.action)


def _audit_table(view, _context, entry, _name):
    """The table's French menu name (« Parcours », « Bénéficiaires »…) when it has a screen."""
    names = {getattr(v, "model", None) and v.model.__tablename__: v.name
             for v in view.admin._views}
    return names.get(entry.table_name, entry.table_name)


class AuditView(ProtectedModelView):
    """The audit trail: read-only for everyone, administrators included."""

    model_class = AuditEntry
    slug = "audit"
    menu_name = "Journal d'audit"
    menu_category = CATEGORY
    area = "audit"
    read_only = True

    column_list = ("at", "user_email", "action", "table_name", "row_id", "detail")
    column_details_list = ("id", "at", "user_email", "user", "action", "table_name", "row_id",
                           "changes", "detail")
    column_default_sort = ("at", True)
    column_searchable_list = ("user_email", "table_name", "detail")
    column_filters = ("table_name", "user_email", "action", "at", "row_id")
    column_formatters = {"action": _audit_action, "table_name": _audit_table}
    column_formatters_detail = column_formatters

    @property
    def can_create(self) -> bool:
        return False

    @property
    def can_edit(self) -> bool:
        return False

    @property
    def can_delete(self) -> bool:
        return False

    def _handle_view(self, name, **kwargs):
        response = super()._handle_view(name, **kwargs)
        if response is None and name in ("create_view", "edit_view", "delete_view",
                                         "ajax_update", "action_view"):
            abort(403)
        return response
