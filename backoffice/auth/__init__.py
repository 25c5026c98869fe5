"""Login, logout and the user loader, with the session rules of security.py: failed logins
throttled per account and per address (HTTP 429), every login and failure in the audit
trail, sessions checked on the server at each request (inactivity, lifetime, logout)."""
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
from sqlalchemy import select
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Email, Length

from .. import audit, security
from ..extensions import db, login_manager
from ..models import User
from ..models._types import utcnow
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


@bp.route("/login", methods=("GET", "POST"))
def login():
    """Show the login form; on success go to `next` (same site only) or the admin home."""
    if current_user.is_authenticated:
        return redirect(back_to(request.args.get("next")))
    form = LoginForm()
    if form.validate_on_submit():
        email = form.email.data.strip().lower()
        address = security.client_address()
        if security.login_throttled(email, address, current_app.config):
            audit.record(db.session, "login_throttled", "users",
                         detail=f"Connexion bloquée (trop d'échecs) : {email} depuis {address}",
                         actor=(None, email))
            db.session.commit()
            return render_template("errors/429.html", message=THROTTLED), 429
        user = db.session.scalar(select(User).where(User.email == email))
        if user is not None and user.active and user.check_password(form.password.data):
            user.last_login_at = utcnow()
            security.record_login_attempt(email, address, succeeded=True)
            audit.record(db.session, "login", "users", user.id,
                         detail=f"Connexion depuis {address}", actor=(user.id, user.email))
            db.session.commit()
            session.clear()  # a fresh session at each login (no fixation)
            login_user(user)
            security.start_session(user)
            flash(f"Bienvenue, {user.name}.", "success")
            return redirect(back_to(request.args.get("next")))
        security.record_login_attempt(email, address, succeeded=False)
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
    user = db.session.get(User, current_user.id)
    user.end_all_sessions()
    audit.record(db.session, "logout", "users", user.id, detail="Déconnexion")
    db.session.commit()
    logout_user()
    session.clear()
    flash("Vous êtes déconnecté.", "info")
    return redirect(url_for("auth.login"))
