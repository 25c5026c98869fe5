"""Audit entries for what the session hook of audit/__init__.py cannot see (issue 6 §1, issue 18
§8): someone read a list, a record or a search that names people, downloaded an export,
or was refused (403, a record out of reach: 404, a form or a save refused).

One `after_request` hook, driven by the tables below and by the role table's nominative
areas (`auth.permissions.NOMINATIVE`), so a new screen of personal data is logged without
a line here (tests/integration/test_audit.py checks the entries). The entries are
appended to the audit spool before the response leaves and written to the table after it
(audit/spool.py, issue 25 §3: a read no longer waits for SQLite's write lock); an entry
that cannot be appended fails the request (503): nothing personal is shown unrecorded.
"""
from flask import current_app, g, request
from flask_login import current_user
from werkzeug.wsgi import ClosingIterator

from .. import audit
from ..auth.permissions import NOMINATIVE
from ..errors import error_page
from . import spool

# Downloads of data: Flask-Admin's CSV export of any table, the funders' workbooks, and the
# documents made from the record (issue 21: one, a ZIP of many, or one kept).
EXPORT_SUFFIX = ".export"
EXPORT_ENDPOINTS = {"indicators.download", "documents.produce", "documents.bulk_zip",
                    "documents.download", "esf_checks.download"}
# Pages of views without a permission area of their own that show people by name.
NOMINATIVE_PAGES = {
    "alerts.index_view": "obligations",
    "workshops.sheet_view": "workshop_attendances",
    "esf_checks.index_view": "esf_entries",  # issue 24: names the people to complete
    "indicators.late_view": "obligations",  # the ledger's late ones, by name (issue 22 §4)
    # issue 23: the columns and rows of an imported list, before it is saved
    "referral_imports.mapping_view": "referral_imports",
    "referral_imports.preview_view": "referral_imports",
}
UNRECORDED = ("Le journal d'audit n'a pas pu être écrit : la page n'est pas affichée. "
              "Réessayez dans un instant ; si cela se reproduit, prévenez l'administrateur.")


def _row_id() -> int | None:
    value = request.args.get("id", "")
    return int(value) if value.isdigit() and len(value) < 19 else None


def _views() -> dict[str, object]:
    """Admin view endpoint → view (built once per application)."""
    views = current_app.extensions.get("parcours_views")
    if views is None:
        admins = current_app.extensions.get("admin", [])
        views = {view.endpoint: view for admin in admins for view in admin._views}
        current_app.extensions["parcours_views"] = views
    return views


def _nominative_read(endpoint: str) -> tuple[str, int | None, str] | None:
    """(table, row id, detail) when this GET showed people by name, else None."""
    if endpoint in NOMINATIVE_PAGES:
        return NOMINATIVE_PAGES[endpoint], _row_id(), f"Consultation : {request.full_path}"
    view_name, _, function = endpoint.partition(".")
    view = _views().get(view_name)
    area = getattr(view, "area", None)
    if area is None:
        return None
    table = view.model.__tablename__
    if function == "ajax_lookup":
        loader = getattr(view, "_form_ajax_refs", {}).get(request.args.get("name", ""))
        if loader is None or getattr(loader, "area", None) not in NOMINATIVE:
            return None
        return loader.model.__tablename__, None, f"Recherche : {request.full_path}"
    if area not in NOMINATIVE:
        return None
    if function in ("details_view", "edit_view"):
        return table, _row_id(), "Consultation de la fiche"
    if function == "index_view":
        return table, None, f"Consultation de la liste : {request.full_path}"
    return table, _row_id(), f"Consultation : {request.full_path}"


def _entries(response) -> list[tuple[str, str | None, int | None, str]]:
    """(action, table, row id, detail) of the entries this request calls for."""
    endpoint = request.endpoint or ""
    status = response.status_code
    entries = [("refused", None, None, detail) for detail in g.get("audit_refusals", ())]
    if status == 403:
        entries.append(("refused", None, None,
                        f"Accès refusé : {request.method} {request.full_path}"))
    elif status == 400 and g.get("csrf_refused", False):
        entries.append(("refused", None, None,
                        f"Jeton CSRF absent ou invalide : {request.method} {request.path}"))
    elif status == 404 and current_user.is_authenticated and request.endpoint:
        entries.append(("refused", None, _row_id(),
                        f"Fiche introuvable ou hors de vos droits : {request.method} "
                        f"{request.full_path}"))
    elif status == 200 and (endpoint.endswith(EXPORT_SUFFIX) or endpoint in EXPORT_ENDPOINTS):
        entries.append(("export", None, None, f"Export : {request.full_path}"))
    elif status == 200 and request.method == "GET" and current_user.is_authenticated:
        read = _nominative_read(endpoint)
        if read is not None:
            entries.append(("view", *read))
    if not current_user.is_authenticated:  # anonymous: refusals only (rate-limited)
        entries = [entry for entry in entries if entry[0] == "refused"]
    return entries


def _log_access(response):
    """Spool this request's « view » / « export » / « refused » entries before the response
    leaves, and have them written to the table once it is sent; if they cannot be spooled,
    the request fails (503) instead of going on unrecorded."""
    entries = _entries(response)
    if not entries:
        return response
    app = current_app._get_current_object()
    try:
        spool.append(app, [
            {**audit.entry(action, table, row_id, detail=detail[:1000]),
             "entry_key": spool.new_key()}
            for action, table, row_id, detail in entries
        ])
    except Exception:
        current_app.logger.exception("Entrée d'audit non écrite (%s) : requête refusée",
                                     request.endpoint)
        response.close()
        page, status = error_page(UNRECORDED, 503)
        return current_app.response_class(page, status, mimetype="text/html")
    # After the last byte is sent (and a streamed export finished): the write waits for
    # no one's page. A connection of its own: the request's session is gone by then.
    drain = spool.drainer(app)
    if response.direct_passthrough:
        # a file (send_file): Werkzeug hands the server the file itself, whose close is
        # the file's, not the response's (its call_on_close would never run)
        response.response = ClosingIterator(response.response, drain)
    else:
        response.call_on_close(drain)
    return response


def init_app(app) -> None:
    app.after_request(_log_access)
