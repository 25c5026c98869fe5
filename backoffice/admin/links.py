"""Every reference is a link (issue 20 §2): a path, a person, a referral, an order, a
workshop shown in a list or on a record's page opens that record — for a reader whose role
may open it; otherwise it stays plain text. Exports keep plain text."""
from urllib.parse import quote

from flask import g, url_for
from markupsafe import Markup, escape

from .row_actions import ROW_ID


def relation_path(model, name: str) -> bool:
    """True when `name` (« enrolment », « enrolment.beneficiary ») follows many-to-one
    relationships from `model` down to a record."""
    target = model
    for part in name.split("."):
        relationship = target.__mapper__.relationships.get(part)
        if relationship is None or relationship.direction.name != "MANYTOONE":
            return False
        target = relationship.mapper.class_
    return True


def _view_of(admin, record):
    """The admin view that shows records of `record`'s model, if any."""
    views = getattr(admin, "_views_by_model", None)
    if views is None:
        views = {getattr(view, "model", None): view for view in admin._views}
        admin._views_by_model = views
    return views.get(type(record))


def _referenced(model, name):
    record = model
    for part in name.split("."):
        record = getattr(record, part, None)
        if record is None:
            return None
    return record


def details_url_start(endpoint: str) -> str:
    """« /admin/enrolments/details/?id= »: the start of the record pages' address of a
    view, built once per request and endpoint (issue 25 §3: a `url_for` costs ≈ 20 µs, and
    a person's page links some 70 records)."""
    starts = g.setdefault("_details_url_starts", {})
    start = starts.get(endpoint)
    if start is None:
        start = starts[endpoint] = url_for(f"{endpoint}.details_view", id=ROW_ID).replace(
            f"id={ROW_ID}", "id=")
    return start


def details_url(endpoint: str, record_id: int) -> str:
    """``url_for(f"{endpoint}.details_view", id=record_id)``, from `details_url_start`."""
    return details_url_start(endpoint) + quote(str(record_id), safe="")


def _record_url_start(target) -> str | None:
    """« /admin/enrolments/details/?id= » for a view the reader may open, else None:
    found once per target view and page, each cell only puts its record's id in (issue 25
    §3: a `url_for` and a role check per cell were a fifth of a path list)."""
    found = g.setdefault("_reference_links", {})
    start = found.get(target.endpoint, False)
    if start is False:
        start = found[target.endpoint] = (
            str(escape(details_url_start(target.endpoint))) if target.is_accessible()
            else None)
    return start


def reference_link(view, _context, model, name, short: bool = False):
    """The referenced record as a link to its page (plain text where the reader may not
    open it, nothing where there is none). `short`: a record that has a `short_label`
    (a programme's code) shows it, with its full name on hover (issue 20 §6)."""
    record = _referenced(model, name)
    if record is None:
        return ""
    full = str(record)
    shown = getattr(record, "short_label", full) if short else full
    text = escape(shown)
    hover = f' title="{escape(full)}"' if shown != full else ""
    target = _view_of(view.admin, record)
    start = _record_url_start(target) if target is not None else None
    if start is None:
        return Markup(f"<abbr{hover}>{text}</abbr>") if hover else text
    return Markup(f'<a href="{start}{quote(str(record.id), safe="")}"{hover}>{text}</a>')


def short_reference_link(view, context, model, name):
    """`reference_link` with short labels: for lists, where width is scarce."""
    return reference_link(view, context, model, name, short=True)


def link_formatters(model, names, short: bool = False) -> dict:
    """{column: link formatter} for the columns of `names` that reference a record; short
    labels (the programme's code) for lists."""
    formatter = short_reference_link if short else reference_link
    return {name: formatter for name in names
            if isinstance(name, str) and relation_path(model, name)}
