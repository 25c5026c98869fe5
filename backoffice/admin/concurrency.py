"""No lost updates (issue 6 §2): an edit form carries the record's version as loaded; on
save, a different stored version means someone else saved in between. The save is refused
with « Ce dossier a été modifié par X à HH:MM ; rechargez la page » and the form is shown
again with what the user typed (Flask-Admin re-renders the posted form when
`update_model` returns False). The models' `version_id_col` guards the last instant
between the check and the commit (StaleDataError, handled in base.py).
"""
from flask import flash
from flask_babel import to_user_timezone
from sqlalchemy import select
from wtforms import HiddenField

from ..extensions import db
from ..models import AuditEntry, User


def last_change(model) -> tuple[str, str] | None:
    """(who, HH:MM) of the latest audited change of `model`, from the audit trail."""
    entry = db.session.scalars(
        select(AuditEntry)
        .where(AuditEntry.table_name == model.__tablename__, AuditEntry.row_id == model.id,
               AuditEntry.action.in_(("create", "update")))
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        .limit(1)
    ).first()
    if entry is None:
        return None
    user = db.session.get(User, entry.user_id) if entry.user_id else None
    who = user.name if user is not None else (entry.user_email or "un autre utilisateur")
    return who, f"{to_user_timezone(entry.at):%H:%M}"


def stale_message(model) -> str:
    """« Ce dossier a été modifié par X à HH:MM ; rechargez la page » (X and the time from
    the audit trail; a plainer sentence when the trail has nothing)."""
    change = last_change(model)
    if change is None:
        return "Ce dossier a été modifié entre-temps ; rechargez la page."
    who, at = change
    return (f"Ce dossier a été modifié par {who} à {at} ; rechargez la page "
            f"(vos saisies sont affichées ci-dessous, elles n'ont pas été enregistrées).")


class VersionCheckMixin:
    """For a ProtectedModelView whose model has `version` (version_id_col): add
    "version_seen" to `form_columns` and the view refuses saves made on an old copy."""

    form_extra_fields = {"version_seen": HiddenField()}

    def edit_form(self, obj=None):
        form = super().edit_form(obj)
        if obj is not None and not form.version_seen.data:
            form.version_seen.data = str(obj.version)
        return form

    def update_model(self, form, model):
        seen = form.version_seen.data
        if seen and seen.isdigit() and int(seen) != model.version:
            flash(stale_message(model), "error")
            return False
        return super().update_model(form, model)
