"""Login, logout and the user loader, with the session rules of security.py: failed logins
throttled per account and per address (HTTP 429), every login and failure in the audit
trail, sessions checked on the server at each request (inactivity, lifetime, logout).
A refused login takes the same time whether the account exists or not (one password hash
either way). Each user changes their own password at « Mon compte » (admin/account.py)."""
from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from sqlalchemy import select, update
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Email, Length

from .. import audit, security
from ..errors import error_page
from ..extensions import db, login_manager
from ..models import User
from ..models._types import utcnow
from ..models.people import password_matches
from ..redirects import back_to

bp = Blueprint("auth", __name__)

THROTTLED = ("Trop de tentatives de connexion échouées. Patientez quelques minutes avant "
             "de réessayer, ou adressez-vous à l'administrateur.")


class LoginForm(FlaskForm):
    """E-mail and password, both required."""

    email = EmailField(
        "Adresse e-mail",
        validators=[DataRequired("Adresse e-mail : champ obligatoire."),
                    Email("Adresse e-mail : format invalide."), Length(max=254)],
    )
    password = PasswordField(
        "Mot de passe",
        validators=[DataRequired("Mot de passe : champ obligatoire."), Length(max=200)],
    )


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """Reload the logged-in account for this request; refuse inactive accounts and
    sessions that are closed, too old or idle too long (security.py)."""
    user = db.session.get(User, int(user_id)) if user_id.isdigit() else None
    if user is None or not user.active:
        _forget_login()
        return None
    refusal = security.session_refusal(user, current_app.config)
    if refusal is not None:
        _forget_login()
        flash(refusal, "info")
        return None
    security.touch_session()
    return user


def _forget_login() -> None:
    """Drop the login from the cookie (Flask-Login's keys and ours)."""
    for key in ("_user_id", "_fresh", "_id"):
        session.pop(key, None)
    security.end_session()


def _stamp(user: User, **values) -> None:
    """Write an account's bookkeeping (last login, sessions' version) without touching its
    edit version: the same account logging in twice at once, or while an administrator
    edits it, is no concurrent edit to refuse (admin/concurrency.py)."""
    db.session.execute(update(User).where(User.id == user.id).values(**values)
                       .execution_options(synchronize_session=False))


@bp.route("/login", methods=("GET", "POST"))
def login():
    """Show the login form; on success go to `next` (same site only) or the admin home."""
    if current_user.is_authenticated:
        return redirect(back_to(request.args.get("next")))
    form = LoginForm()
    if form.validate_on_submit():
        email = form.email.data.strip().lower()
        address = security.client_address()
        attempt = security.begin_login_attempt(email, address, current_app.config)
        if attempt is None:
            audit.record(db.session, "login_throttled", "users",
                         detail=f"Connexion bloquée (trop d'échecs) : {email} depuis {address}",
                         actor=(None, email))
            db.session.commit()
            return error_page(THROTTLED, 429)
        user = db.session.scalar(select(User).where(User.email == email))
        # The password is hashed whether the account exists or not (password_matches), so
        # that the answer's time does not tell which e-mails have an account.
        if password_matches(user, form.password.data) and user.active:
            _stamp(user, last_login_at=utcnow())
            security.end_login_attempt(attempt)
            audit.record(db.session, "login", "users", user.id,
                         detail=f"Connexion depuis {address}", actor=(user.id, user.email))
            db.session.commit()
            session.clear()  # a fresh session at each login (no fixation)
            login_user(user)
            security.start_session(user)
            flash(f"Bienvenue, {user.name}.", "success")
            return redirect(back_to(request.args.get("next")))
        # The try stays counted as a failure (recorded by begin_login_attempt).
        audit.record(db.session, "login_failed", "users", user.id if user else None,
                     detail=f"Échec de connexion : {email} depuis {address}",
                     actor=(None, email))
        db.session.commit()
        flash("Adresse e-mail ou mot de passe incorrect.", "error")
    elif request.method == "POST":
        for errors in form.errors.values():
            for message in errors:
                flash(message, "error")
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=("POST",))
@login_required
def logout():
    """End the session (POST only, with the CSRF token, so a link cannot log anyone out),
    and every other session of the account: the server refuses them from now on."""
    _stamp(current_user, session_version=User.session_version + 1)
    audit.record(db.session, "logout", "users", current_user.id, detail="Déconnexion")
    db.session.commit()
    logout_user()
    session.clear()
    flash("Vous êtes déconnecté.", "info")
    return redirect(url_for("auth.login"))
