"""Audit entries for what the session hook of audit.py cannot see (issue 6 §1): someone
opened a person's record, downloaded an export, or was refused an action.

One `after_request` hook, driven by two tables below, so a new export or record page is
logged by adding a line here (tests/integration/test_security.py checks the entries).
"""
from flask import current_app, g, request
from flask_login import current_user

from . import audit
from .extensions import db

# Pages that show one person's record: endpoint → audited table (the row id is `?id=`).
RECORD_PAGES = {
    "beneficiaries.details_view": "beneficiaries",
    "beneficiaries.edit_view": "beneficiaries",
    "enrolments.details_view": "enrolments",
    "enrolments.edit_view": "enrolments",
}
# Downloads of data: Flask-Admin's CSV export of any table, and the funders' workbooks.
EXPORT_SUFFIX = ".export"
EXPORT_ENDPOINTS = {"indicators.download"}


def _row_id() -> int | None:
    value = request.args.get("id", "")
    return int(value) if value.isdigit() else None


def _log_access(response):
    """Write « view » / « export » / « refused » entries for this request, if any."""
    endpoint = request.endpoint or ""
    status = response.status_code
    entry = None
    if status == 403:
        entry = ("refused", None, None, f"Accès refusé : {request.method} {request.full_path}")
    elif status == 400 and g.get("csrf_refused", False):
        entry = ("refused", None, None,
                 f"Jeton CSRF absent ou invalide : {request.method} {request.path}")
    elif status == 200 and request.method == "GET" and endpoint in RECORD_PAGES:
        entry = ("view", RECORD_PAGES[endpoint], _row_id(), "Consultation de la fiche")
    elif status == 200 and (endpoint.endswith(EXPORT_SUFFIX) or endpoint in EXPORT_ENDPOINTS):
        entry = ("export", None, None, f"Export : {request.full_path}")
    if entry is None:
        return response
    if not current_user.is_authenticated and entry[0] != "refused":
        return response
    action, table, row_id, detail = entry
    try:
        # A connection of its own: the request's session may still stream an export.
        with db.engine.begin() as connection:
            audit.record(connection, action, table, row_id, detail=detail[:1000])
    except Exception:  # the trail must never turn a page into a 500; the log says why
        current_app.logger.exception("Entrée d'audit non écrite (%s %s)", action, endpoint)
    return response


def init_app(app) -> None:
    app.after_request(_log_access)
