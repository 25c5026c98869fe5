"""Login, logout and the user loader."""
from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Email, Length

from ..extensions import db, login_manager
from ..models import User
from ..models._types import utcnow

bp = Blueprint("auth", __name__)


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


def safe_next(target: str | None) -> str:
    """Only a path on this site; anything else (another host, a scheme) goes to the admin."""
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and target.startswith("/") \
                and not target.startswith("//") and "\\" not in target:
            return target
    return url_for("admin.index")


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """Reload the logged-in account from the session; inactive accounts are refused."""
    user = db.session.get(User, int(user_id)) if user_id.isdigit() else None
    return user if user is not None and user.active else None


@bp.route("/login", methods=("GET", "POST"))
def login():
    """Show the login form; on success go to `next` (same site only) or the admin home."""
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next")))
    form = LoginForm()
    if form.validate_on_submit():
        email = form.email.data.strip().lower()
        user = db.session.scalar(select(User).where(User.email == email))
        if user is not None and user.active and user.check_password(form.password.data):
            user.last_login_at = utcnow()
            db.session.commit()
            login_user(user)
            flash(f"Bienvenue, {user.name}.", "success")
            return redirect(safe_next(request.args.get("next")))
        flash("Adresse e-mail ou mot de passe incorrect.", "error")
    elif request.method == "POST":
        for errors in form.errors.values():
            for message in errors:
                flash(message, "error")
    return render_template("auth/login.html", form=form), (200 if request.method == "GET" else 200)


@bp.route("/logout", methods=("POST",))
@login_required
def logout():
    """End the session (POST only, with the CSRF token, so a link cannot log anyone out)."""
    logout_user()
    flash("Vous êtes déconnecté.", "info")
    return redirect(url_for("auth.login"))
