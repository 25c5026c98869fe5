"""No lost updates (issue 6 §2, issue 18 §3): every edit form carries the record's version
as loaded; on save, a different stored version means someone else saved in between. The
save is refused with « Ce dossier a été modifié par X à HH:MM ; rechargez la page » and the
form is shown again with what the user typed (Flask-Admin re-renders the posted form when
`update_model` returns False). A form posted without a version, or with one that is not
a number, is refused too: skipping the check would let any hand-made request overwrite.

Every `ProtectedModelView` applies this (admin/base.py) to every model, all of them
`Versioned` (models/_types.py): the models' `version_id_col` guards the last instant
between the check and the commit (StaleDataError, handled in base.py).
"""
import re

from flask_babel import to_user_timezone
from sqlalchemy import select

from ..extensions import db
from ..models import AuditEntry, User

#: The hidden field of every edit form (its label: « Version », labels.py).
VERSION_FIELD = "version_seen"
#: What a browser posts back: the number it was given, nothing else (no sign, no spaces,
#: no other digits than 0-9; at most 18 of them, far beyond any real count of saves).
VERSION_FORMAT = re.compile(r"[0-9]{1,18}")
NO_VERSION = ("Enregistrement refusé : le formulaire ne dit pas quelle version de la fiche "
              "vous avez ouverte (champ « Version » absent ou invalide) ; rechargez la page "
              "et saisissez à nouveau vos modifications.")


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


def save_refusal(seen, model) -> str | None:
    """Why a save of `model` made from a form that loaded version `seen` is refused
    (French), or None when `seen` is the stored version."""
    if not isinstance(seen, str) or not VERSION_FORMAT.fullmatch(seen):
        return NO_VERSION
    if int(seen) != model.version:
        return stale_message(model)
    return None
