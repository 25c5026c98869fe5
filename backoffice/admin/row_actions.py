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
from jinja2 import pass_context
from markupsafe import Markup, escape

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


def link(url: str, title: str, icon: str) -> Markup:
    """An icon link of the list (Flask-Admin's ``row_actions.link``)."""
    return _LINK.format(url=url, title=title or "", icon=icon)


def row_link(view, endpoint: str, row_id, title: str, icon: str, **args) -> Markup:
    """The icon :func:`link` of ``endpoint`` for one row: ``args`` with :data:`ROW_ID`
    where the id goes, e.g. ``row_link(view, ".edit_view", 3, title, icon, id=ROW_ID,
    url=return_url)``. Plain strings: the icon's HTML is built and escaped once per page,
    each row only puts its id in (issue 25 §3: escaping every part of every icon of every
    row was a tenth of a path list). In the built address the other values are
    percent-encoded (an ``=`` becomes ``%3D``), so ``name=ROWID`` occurs once."""
    cache = g.setdefault("_row_links", {})
    key = (view.endpoint, endpoint, str(title), icon, tuple(args.items()))
    built = cache.get(key)
    if built is None:
        (name,) = [key for key, value in args.items() if value == ROW_ID]
        html = str(link(page_url(view, endpoint, **args), title, icon))
        built = cache[key] = (html, f"{name}={ROW_ID}", f"{name}=")
    html, slot, prefix = built
    return Markup(html.replace(slot, prefix + quote(str(row_id), safe=""), 1))


class RecordLink(BaseListRowAction):
    """An icon opening one page of the row's record (``endpoint`` takes its ``id``)."""

    def __init__(self, endpoint: str, title: str, icon: str):
        super().__init__(title)
        self.endpoint, self.icon = endpoint, icon

    def render(self, context, row_id, row):
        view, back = context.resolve("admin_view"), context.resolve("return_url")
        return row_link(view, self.endpoint, row_id, self.title, self.icon,
                        id=ROW_ID, url=back)


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
        view, back = context.resolve("admin_view"), context.resolve("return_url")
        cache = g.setdefault("_row_links", {})
        key = (view.endpoint, ".delete_view", back)
        if key not in cache:  # the form's HTML once per page, the row's id put in after
            cache[key] = str(_DELETE.format(
                action=page_url(view, ".delete_view"), id=ROW_ID, url=back,
                token=generate_csrf(),
                confirm=gettext("Are you sure you want to delete this record?"),
                title=self.title,
            )).split(f'value="{ROW_ID}"', 1)
        before, after = cache[key]
        return Markup(f'{before}value="{escape(view.get_pk_value(row))}"{after}')


@pass_context
def row_icons(context, actions, row_id, row) -> Markup:
    """Every icon of one row in one call from the list's template (``admin/list.html``),
    the same HTML as Flask-Admin's loop, which called each action's ``render_ctx`` from
    Jinja and asked the row's key again for each: 8 icons a row on a path list, 160
    calls a page (issue 25 §3: ≈ 1 ms of a path list)."""
    return Markup("\n".join(str(action.render(context, row_id, row)) for action in actions))


@pass_context
def row_cells(context, row) -> Markup:
    """One list row's cells in one call from the list's template (``admin/list.html``): the
    selection box when the list has actions, the icons (:func:`row_icons`), then each
    column's value through the view's ``get_value`` — the HTML of Flask-Admin's
    ``list_row`` block, without a Jinja loop and its lookups per cell (issue 25 §3: ≈ 160
    cells a page). Lists with cells edited in place (refused by the base view) keep
    Flask-Admin's block."""
    resolve = context.resolve
    view = resolve("admin_view")
    row_id = resolve("get_pk_value")(row)
    cells = []
    if resolve("actions"):
        title = g.get("_select_row_title")
        if title is None:  # once per page
            title = g._select_row_title = escape(gettext("Select record"))
        cells.append(
            f'<td>\n<input type="checkbox" name="rowid" class="action-checkbox" '
            f'value="{escape(row_id)}" title="{title}" />\n</td>')
    if view.column_display_actions:
        icons = context.call(resolve("row_icons"), resolve("list_row_actions"), row_id, row)
        cells.append(f'<td class="list-buttons-column">\n{icons}\n</td>')
    get_value = resolve("get_value")
    if get_value == view.get_list_value:  # Flask-Admin's, without Jinja's call per cell
        formatters, type_formatters = view.column_formatters, view.column_type_formatters
        values = (view._get_list_value(context, row, column, formatters, type_formatters)
                  for column, _name in resolve("list_columns"))
    else:
        values = (context.call(get_value, row, column)
                  for column, _name in resolve("list_columns"))
    for (column, _name), value in zip(resolve("list_columns"), values, strict=True):
        cells.append(f'<td class="col-{escape(column)}">\n{escape(value)}\n</td>')
    return Markup("\n".join(cells))
