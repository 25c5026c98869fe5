"""The icons at the start of each list row: view, edit, delete and the lifecycle actions.

Flask-Admin renders each icon through a Jinja macro, builds each link with ``url_for`` and
renders a WTForms delete form on every row: for a page of 20 rows, 60 to 120 ``url_for``
calls and 20 forms, a third to a half of the time of a list page (docs/benchmarks.md,
« Fixed cost of a page »). Here a link's address is built once per page and endpoint and
only the row's id changes; each icon is a short HTML string, the same HTML as
Flask-Admin's (the delete button keeps its confirmation, allowed by the CSP of
``backoffice/security.py``).
"""

from __future__ import annotations

from urllib.parse import quote

from flask import g
from flask_admin.babel import gettext
from flask_admin.model.template import BaseListRowAction
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup

#: Stands for the row's id in a link built once per page (letters only: not encoded).
ROW_ID = "ROWID"

_LINK = Markup('<a class="icon" href="{url}" title="{title}">\n'
               '  <span class="{icon}"></span>\n</a>\n')
_DELETE = Markup(
    '<form class="icon" method="POST" action="{action}">\n'
    '  <input id="id" name="id" type="hidden" value="{id}">\n'
    '  <input id="url" name="url" type="hidden" value="{url}">\n'
    '  <input type="hidden" name="csrf_token" value="{token}"/>\n'
    "  <button onclick=\"return faHelpers.safeConfirm('{confirm}');\" title=\"{title}\">\n"
    '    <span class="fa fa-trash glyphicon glyphicon-trash"></span>\n'
    "  </button>\n</form>\n"
)


def page_url(view, endpoint: str, **args) -> str:
    """``view.get_url(endpoint, **args)``, built once per request."""
    cache = g.setdefault("_row_action_urls", {})
    key = (view.endpoint, endpoint, tuple(args.items()))
    if key not in cache:
        cache[key] = view.get_url(endpoint, **args)
    return cache[key]


def row_url(view, endpoint: str, row_id, **args) -> str:
    """The address of ``endpoint`` for one row: ``args`` with :data:`ROW_ID` where the id
    goes, e.g. ``row_url(view, ".edit_view", 3, id=ROW_ID, url=return_url)``.

    In the built address the other values are percent-encoded (an ``=`` becomes ``%3D``),
    so ``name=ROWID`` occurs once, where the id goes.
    """
    (name,) = [key for key, value in args.items() if value == ROW_ID]
    return page_url(view, endpoint, **args).replace(
        f"{name}={ROW_ID}", f"{name}={quote(str(row_id), safe='')}", 1
    )


def link(url: str, title: str, icon: str) -> Markup:
    """An icon link of the list (Flask-Admin's ``row_actions.link``)."""
    return _LINK.format(url=url, title=title or "", icon=icon)


class RecordLink(BaseListRowAction):
    """An icon opening one page of the row's record (``endpoint`` takes its ``id``)."""

    def __init__(self, endpoint: str, title: str, icon: str):
        super().__init__(title)
        self.endpoint, self.icon = endpoint, icon

    def render(self, context, row_id, row):
        view, back = context.resolve("admin_view"), context.resolve("return_url")
        url = row_url(view, self.endpoint, row_id, id=ROW_ID, url=back)
        return link(url, self.title, self.icon)


def view_row() -> RecordLink:
    """The eye: the record's details page."""
    return RecordLink(".details_view", gettext("View Record"),
                      "fa fa-eye glyphicon glyphicon-eye-open")


def edit_row() -> RecordLink:
    """The pencil: the record's form."""
    return RecordLink(".edit_view", gettext("Edit Record"),
                      "fa fa-pencil glyphicon glyphicon-pencil")


class DeleteRow(BaseListRowAction):
    """The bin: a POST form with the CSRF token, after a confirmation."""

    def __init__(self):
        super().__init__(gettext("Delete Record"))

    def render(self, context, row_id, row):
        view = context.resolve("admin_view")
        return _DELETE.format(
            action=page_url(view, ".delete_view"),
            id=view.get_pk_value(row),
            url=context.resolve("return_url"),
            token=generate_csrf(),
            confirm=gettext("Are you sure you want to delete this record?"),
            title=self.title,
        )
