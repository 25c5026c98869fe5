"""What a user reads when a request cannot be served (issue 18 §4): never a raw database
error, an SQL statement or its parameters, never an English server page.

- **NUL characters** (code 0) in any field or URL parameter are refused before anything
  runs, with a 400 naming the field: PostgreSQL cannot store them and its driver fails on
  them even in a search.
- **Database errors** not handled where they happen (a read-only or unreachable database,
  a value the driver refuses): the session is rolled back, the error is logged with its
  details for the administrator, the user gets the French error page.
- **Any other failure** (500): the same French page, with the menus the user may still open.
"""
from flask import current_app, g, render_template, request
from flask_login import current_user
from sqlalchemy.exc import DBAPIError, OperationalError, SQLAlchemyError
from werkzeug.exceptions import BadRequest

from .extensions import db
from .value_ranges import OutOfRange

NUL = "\x00"
SERVER_ERROR = ("Une erreur inattendue a empêché de traiter la demande ; rien n'a été "
                "enregistré. Réessayez ; si cela se reproduit, prévenez l'administrateur "
                "en indiquant l'heure et la page.")


class BadInput(BadRequest):
    """A 400 whose French description is shown on the error page."""

    def __init__(self, message: str):
        super().__init__(description=message)
        self.french = message


def database_error_message(exc: Exception) -> str:
    """A French sentence for a database failure (never the driver's text, which holds the
    SQL statement and the values typed)."""
    if isinstance(exc, OperationalError):
        return ("Opération impossible : la base de données est momentanément indisponible "
                "ou en lecture seule ; rien n'a été enregistré. Réessayez dans un moment ; "
                "si cela se reproduit, prévenez l'administrateur.")
    return ("Opération impossible : la base de données a refusé une valeur ou une "
            "opération ; rien n'a été enregistré. Vérifiez la saisie ; si cela se "
            "reproduit, prévenez l'administrateur.")


def field_label(name: str) -> str:
    """The French name of a form field or URL parameter, as the forms show it."""
    from .admin.labels import LABELS

    return LABELS.get(name, {"search": "Recherche", "page": "Page", "ids": "Sélection",
                             "url": "Adresse de retour", "next": "Adresse de retour"}
                      .get(name, name))


def refuse_nul_characters() -> None:
    """before_request: a NUL character in a parameter or a posted field gives a 400 naming
    the field (nothing runs, nothing is saved)."""
    for values in (request.args, request.form):
        for key, value in values.items(multi=True):
            if NUL in key or NUL in value:
                raise BadInput(
                    f"{field_label(key.replace(NUL, ''))} : le caractère nul (code 0) n'est "
                    f"pas permis ; rien n'a été enregistré. Retirez-le et recommencez.")


def rollback_quietly() -> None:
    """Give the connection back clean; a failure here must not hide the first error."""
    try:
        db.session.rollback()
    except Exception:  # noqa: BLE001 — the database may be the thing that failed
        current_app.logger.exception("Rollback impossible après une erreur")


def error_page(message: str | None, status: int):
    """The French error page of ``status`` (templates/errors/<status>.html: 400, 403,
    404, 429, 500, 503), inside the admin's layout with the menus the user may open when
    logged in and that can be drawn, else the plain layout (anonymous, or the database is
    unreachable). Issue 20 §9: every error page keeps the menu."""
    template = f"errors/{status}.html"
    admin = (current_app.extensions.get("admin") or [None])[0]
    try:
        if admin is not None and current_user.is_authenticated:
            home = admin.index_view
            return home.render(template, base_template="admin/master.html",
                               message=message, menus=home.menus_for_current_user()), status
    except Exception:  # noqa: BLE001 — drawing the menus needs the database too
        current_app.logger.exception("Page d'erreur sans menu")
        rollback_quietly()
    return render_template(template, base_template="layout.html", message=message,
                           menus=[]), status


def _database_error(error: SQLAlchemyError):
    rollback_quietly()
    current_app.logger.error("Erreur de base de données sur %s %s", request.method,
                             request.path, exc_info=error)
    return error_page(database_error_message(error), 500)


def _server_error(error):
    rollback_quietly()
    original = getattr(error, "original_exception", None)
    if isinstance(original, DBAPIError):
        return error_page(database_error_message(original), 500)
    return error_page(SERVER_ERROR, 500)


def _out_of_range(error: OutOfRange):
    """A value refused by value_ranges.py where no form shows the message: the 400 page
    with it (it names the field)."""
    rollback_quietly()
    return error_page(f"{error} Rien n'a été enregistré.", 400)


CSRF_REFUSED = ("Jeton de sécurité (CSRF) absent ou expiré : rien n'a été enregistré. "
                "Rechargez la page puis recommencez.")


def _bad_request(error):
    # BadInput carries a French message naming the field; others are generic.
    return error_page(getattr(error, "french", None), 400)


def _csrf_refused(_error):
    g.csrf_refused = True  # audit/access_log.py records the refusal
    return error_page(CSRF_REFUSED, 400)


def init_app(app) -> None:
    """Register the NUL check and the error pages."""
    from flask_wtf.csrf import CSRFError

    app.before_request(refuse_nul_characters)
    app.register_error_handler(403, lambda _error: error_page(None, 403))
    app.register_error_handler(404, lambda _error: error_page(None, 404))
    app.register_error_handler(429, lambda _error: error_page(None, 429))
    app.register_error_handler(CSRFError, _csrf_refused)
    app.register_error_handler(400, _bad_request)
    app.register_error_handler(OutOfRange, _out_of_range)
    app.register_error_handler(SQLAlchemyError, _database_error)
    app.register_error_handler(500, _server_error)
