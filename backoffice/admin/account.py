"""Menu « Mon compte » › « Changer mon mot de passe » (issue 18 §7): every logged-in user
changes their own password — the current one, then the new one twice, under the password
policy (auth/passwords.py). The other sessions of the account are closed; this one stays.

A wrong current password is a failed password check like a failed login: it is counted
against the account (security.begin_login_attempt), so a stolen session cannot be used to
guess the password, and it is audited; nothing is changed.
"""
from flask import current_app, flash, redirect, request, session, url_for
from flask_admin import BaseView, expose
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import PasswordField
from wtforms.validators import DataRequired, EqualTo, Length, ValidationError

from .. import audit, security
from ..auth import THROTTLED
from ..auth.passwords import MAX_LENGTH, password_problem
from ..errors import error_page
from ..extensions import db
from ..models import User

WRONG_CURRENT = "Mot de passe actuel : incorrect ; le mot de passe n'a pas été changé."


class PasswordChangeForm(FlaskForm):
    """The current password, the new one and its confirmation."""

    current_password = PasswordField(
        "Mot de passe actuel",
        validators=[DataRequired("Mot de passe actuel : champ obligatoire."),
                    Length(max=MAX_LENGTH)],
    )
    new_password = PasswordField(
        "Nouveau mot de passe",
        validators=[DataRequired("Nouveau mot de passe : champ obligatoire.")],
    )
    confirmation = PasswordField(
        "Nouveau mot de passe (confirmation)",
        validators=[
            DataRequired("Nouveau mot de passe (confirmation) : champ obligatoire."),
            EqualTo("new_password", "Nouveau mot de passe (confirmation) : les deux saisies "
                                    "du nouveau mot de passe diffèrent."),
        ],
    )

    def validate_new_password(self, field) -> None:
        """The policy of every password (length, common list, not the e-mail)."""
        problem = password_problem(field.data, current_user.email)
        if problem:
            raise ValidationError(problem.replace("Mot de passe", field.label.text, 1))
        if field.data == self.current_password.data:
            raise ValidationError(f"{field.label.text} : identique au mot de passe actuel.")


class AccountView(BaseView):
    """The password change page of the logged-in user (any role)."""

    def is_accessible(self) -> bool:
        return current_user.is_authenticated

    def inaccessible_callback(self, name, **kwargs):
        return redirect(url_for("auth.login", next=request.path))

    @expose("/", methods=("GET", "POST"))
    def index_view(self):
        form = PasswordChangeForm()
        if form.validate_on_submit():
            user = db.session.get(User, current_user.id)
            address = security.client_address()
            attempt = security.begin_login_attempt(user.email, address, current_app.config)
            if attempt is None:
                audit.record(db.session, "login_throttled", "users", user.id,
                             detail=f"Changement de mot de passe bloqué (trop d'échecs) "
                                    f"depuis {address}")
                db.session.commit()
                return error_page(THROTTLED, 429)
            if not user.check_password(form.current_password.data):
                audit.record(db.session, "password_change_refused", "users", user.id,
                             detail=f"Mot de passe actuel incorrect, depuis {address}")
                db.session.commit()  # the failure stays counted (begin_login_attempt)
                form.current_password.errors = [WRONG_CURRENT]
                return self.render("admin/account/password.html", form=form)
            security.end_login_attempt(attempt)
            user.set_password(form.new_password.data)  # closes every session of the account
            db.session.commit()
            session["session_version"] = user.session_version  # … but this one
            flash("Votre mot de passe a été changé ; vos autres sessions ont été fermées.",
                  "success")
            return redirect(url_for(".index_view"))
        return self.render("admin/account/password.html", form=form)
