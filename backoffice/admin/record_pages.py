"""The person's page and the path's page (issue 20 §1): the story loaded by
services/person_record.py, each row a link to its own record, each section with its
« Ajouter » — only what the reader's role may read or create."""
from flask import g, request, url_for
from markupsafe import Markup, escape

from ..auth.permissions import can, may_run
from ..enums import EnrolmentAction
from ..extensions import db
from ..models import Enrolment
from ..rules.lifecycle import enrolment_actions_allowed
from ..services import person_record
from .administration import audit_action_label
from .base import current_role, scope_clause
from .documents import document_panel, local_time
from .lifecycle import current_day
from .links import details_url

#: The admin endpoint of each permission area a story links to.
ENDPOINT_OF_AREA = {
    "beneficiaries": "beneficiaries", "referrals": "referrals", "enrolments": "enrolments",
    "phase_records": "phase_records", "suspensions": "suspensions", "contacts": "contacts",
    "internships": "internships", "barriers": "barriers", "workshops": "workshops",
    "obligations": "obligations", "commissions": "commissions", "users": "users",
}


def record_url(area: str, record_id: int | None) -> str | None:
    """The page of a record, or None when the reader may not read its area (the right
    read once per page and area: a person's page links some 70 records)."""
    if record_id is None:
        return None
    readable = g.setdefault("_readable_areas", {})
    if area not in readable:
        readable[area] = area in ENDPOINT_OF_AREA and can(current_role(), area)
    return details_url(ENDPOINT_OF_AREA[area], record_id) if readable[area] else None


def story_link(url: str | None, text) -> Markup:
    """A row of a story: its text as a link to its record, or the text alone when there is
    no address (the reader may not open the record)."""
    return Markup(f'<a href="{escape(url)}">{escape(text)}</a>') if url else escape(text)


def story_day(value) -> Markup:
    """A day of a story, JJ/MM/AAAA ("" for none)."""
    return escape(value.strftime("%d/%m/%Y")) if value else Markup("")


def add_url(area: str, path_id: int) -> str | None:
    """« Ajouter » a record of `area` to a path, pre-filled, back to this page after."""
    if not can(current_role(), area, "create"):
        return None
    return url_for(f"{ENDPOINT_OF_AREA[area]}.create_view", enrolment=path_id, url=request.url)


def action_url(action: str, path) -> str | None:
    """A lifecycle action's form for one path (suspend…), when the path's status allows
    it (rules.lifecycle) and the role may run it."""
    if not may_run(current_role(), action) \
            or EnrolmentAction(action) not in enrolment_actions_allowed(path.status):
        return None
    return url_for("enrolments.transition_view", action=action, ids=path.id, url=request.url)


def esf_url(kind: str, path_id: int, record_id: int | None = None) -> str | None:
    """Issue 24: the form of a path's ESF+ entry or exit record (to create, or to edit
    when ``record_id``), back to this page after; None when the role may not."""
    endpoint = {"entry": "esf_entries", "exit": "esf_exits"}[kind]
    if record_id is not None:
        if not can(current_role(), "esf_records", "edit"):
            return None
        return url_for(f"{endpoint}.edit_view", id=record_id, url=request.url)
    if not can(current_role(), "esf_records", "create"):
        return None
    return url_for(f"{endpoint}.create_view", enrolment=path_id, url=request.url)


def visibility() -> person_record.Visibility:
    """What the current user may see of a record: the role table's read rights, and a
    counsellor's own paths only."""
    role = current_role()
    return person_record.Visibility(
        referrals=can(role, "referrals"),
        paths=can(role, "enrolments"),
        paths_where=scope_clause(Enrolment, "enrolments"),
        history=can(role, "audit"),
        esf=can(role, "esf_records"),
    )


def person_page_context(person) -> dict:
    """What the person's page template needs beyond Flask-Admin's own context."""
    seen = visibility()
    return {"record": person_record.load_person_record(db.session, person, seen),
            "show_referrals": seen.referrals, "show_paths": seen.paths,
            "show_history": seen.history, "restricted_paths": seen.paths_where is not None,
            "show_documents": can(current_role(), "documents"),
            "current_day": current_day(), "local_time": local_time,
            "audit_action_label": audit_action_label, "esf_url": esf_url,
            "record_url": record_url, "add_url": add_url, "action_url": action_url}


def path_page_context(path) -> dict:
    """The story of one path for its page (the same sections as on the person's page)."""
    story, = person_record.load_paths(db.session, [path.id], [path],
                                      esf=can(current_role(), "esf_records"))
    show_history = can(current_role(), "audit")
    produced = story.documents if can(current_role(), "documents") else []
    return {"story": story, "events": person_record.timeline([], [story]),
            "documents": document_panel("enrolment", path, path.programme.code, produced,
                                        request.full_path),
            "history": person_record.record_history(db.session, path) if show_history else [],
            "show_history": show_history, "local_time": local_time,
            "audit_action_label": audit_action_label, "esf_url": esf_url,
            "record_url": record_url, "add_url": add_url, "action_url": action_url}
