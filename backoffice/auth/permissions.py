"""Who may do what: the one table every view, action, export and command consults.

Plain Python (no Flask) so the admin, the CLI and the tests read the same rules.
Areas are the admin menu's tables; verbs are read, create, edit, delete, export, plus
the lifecycle verbs (`decide`, `progress`, `close`, see `ACTIONS`). A counsellor's rights
apply to the paths they are referent of only (row filtering in admin/base.py:
`OWN_PATHS_ONLY`); a funder's representative (viewer) to the programmes of the funder
their account is linked to (`is_restricted_to_own_funder`), and never to a table that
names a person (`NOMINATIVE`).
"""
from ..enums import Role

READ = frozenset({"read"})
READ_EXPORT = frozenset({"read", "export"})
WRITE = frozenset({"read", "create", "edit", "export"})
ALL = frozenset({"read", "create", "edit", "delete", "export"})

OPERATIONAL = (
    "beneficiaries", "referrals", "commissions", "purchase_orders", "purchase_order_lines",
    "sessions", "enrolments",
    "phase_records", "suspensions", "contacts", "workshops", "workshop_attendances",
    "internships", "barriers", "obligations",
    # issue 24: the ESF+ entry and exit records of a path
    "esf_records",
)
REFERENCE = (
    "funders", "programmes", "phases", "deadline_rules", "exit_types", "barrier_types",
    "contact_types", "suspension_reasons",
    # issue 23 §2: which column of a funder's list holds which field (an administrator
    # edits them; the import screen adds the mapping a user saves)
    "import_presets",
)
# Commission › Importer des prescriptions (issue 23): "read" = the imports' history,
# "create" = import a list (upload, preview, corrections, confirmation), "delete" = undo.
IMPORT = frozenset({"read", "create", "delete"})
ADMINISTRATION = ("users", "audit", "document_templates")
# The alerts view (/admin/alerts/): "read" the list, "edit" = « Marquer comme fait » (one
# or in bulk), "close" = close in bulk, with a reason, the deadlines closed paths left
# undone (issue 20 §4: a coordinator's decision, not a counsellor's).
DASHBOARDS = ("alerts", "indicators", "documents", "esf", "referral_imports")
# Documents made from the record (issue 21): "read" = download a produced one, "create" =
# produce one (services/documents.py also asks for the right to read the record it is made
# from, `SUBJECT_AREAS`); "document_templates" = the administrators' templates screen.
PRODUCE = frozenset({"read", "create"})
# « esf » = the managing authority's checks before the ESF+ export (/admin/esf/): "read" the
# list of what is missing, "export" the participants file (nominative) and the summary.
MARK_DONE = frozenset({"read", "edit"})
CLOSE_STALE = MARK_DONE | {"close"}
# Lifecycle verbs (issue 3): « decide » = the commission's decisions on referrals;
# « progress » = next phase, suspend, resume; « close » = abandon, exit, end of follow-up.
DECIDE = frozenset({"decide"})
PROGRESS = frozenset({"progress"})
CLOSE = frozenset({"progress", "close"})

# domain.md « Users and roles »
# "indicators" = the funders' reports and dashboard (/admin/indicators/). Who gets the
# nominative version is decided by "beneficiaries"/"export": a viewer exports figures
# only, pseudonymised (admin/indicators.py).
_RULES: dict[Role, dict[str, frozenset[str]]] = {
    Role.ADMIN: (
        {area: ALL for area in OPERATIONAL + REFERENCE + ("users",)} | {"audit": READ}
        | {"documents": PRODUCE, "document_templates": frozenset({"read", "edit"})}
        | {"indicators": READ_EXPORT} | {"alerts": CLOSE_STALE} | {"esf": READ_EXPORT}
        | {"referrals": ALL | DECIDE, "enrolments": ALL | CLOSE}
        | {"referral_imports": IMPORT}
    ),
    Role.COORDINATOR: (
        {area: ALL for area in OPERATIONAL} | {area: READ for area in REFERENCE}
        | {"indicators": READ_EXPORT} | {"alerts": CLOSE_STALE} | {"documents": PRODUCE}
        | {"esf": READ_EXPORT}
        # domain.md: the coordinator declares abandons and closes paths; the commission
        # alone (with the administrator) decides on entries.
        | {"enrolments": ALL | CLOSE}
        # issue 23: the lists the funders send are typed in by whoever created the
        # referrals by hand before
        | {"referral_imports": IMPORT}
    ),
    Role.COMMISSION: {
        "indicators": READ_EXPORT,
        "beneficiaries": READ_EXPORT,
        "referrals": READ_EXPORT | DECIDE,
        "commissions": WRITE,
        "programmes": READ,
        "sessions": READ,
        "documents": PRODUCE,  # the minutes and the decision letters (issue 21 §1)
        # issue 23 §6: the lists of the DEL and the PLIE go on the commission's agenda;
        # its members import them (the referrals the import creates are pending, for them
        # to decide)
        "referral_imports": IMPORT,
    },
    Role.COUNSELLOR: {
        "beneficiaries": READ,
        "enrolments": frozenset({"read", "edit"}) | PROGRESS,  # own paths only
        "phase_records": READ,
        "suspensions": READ,
        "contacts": frozenset({"read", "create", "edit"}),
        "barriers": frozenset({"read", "create", "edit"}),
        "internships": frozenset({"read", "create", "edit"}),
        "workshops": READ,
        "obligations": READ,
        "programmes": READ,
        "alerts": MARK_DONE,  # own paths only (OWN_PATHS_ONLY)
        "documents": PRODUCE,  # own paths only (OWN_PATHS_ONLY)
        # issue 24: their own paths' ESF+ records, and what is missing on them
        "esf_records": frozenset({"read", "create", "edit"}),
        "esf": READ,
    },
    # A funder's representative reads figures, never nominative records (issue 18 §1: an
    # order's lines name its people, so they are an area of their own, not the viewer's).
    Role.VIEWER: {
        "indicators": READ_EXPORT,
        "programmes": READ,
        "sessions": READ,
        "workshops": READ,
        "purchase_orders": READ,
        "commissions": READ,
    },
}

# Areas whose rows name a person supported (a name, a birth date, a path of one person):
# no funder's representative reads them (test_permissions checks the table), and every
# read of their lists, records and lookups is in the audit trail (audit/access_log.py).
NOMINATIVE = frozenset(
    {"beneficiaries", "referrals", "purchase_order_lines", "enrolments", "phase_records",
     "suspensions", "contacts", "internships", "barriers", "obligations",
     "workshop_attendances", "alerts", "documents", "esf_records", "esf", "referral_imports"}
)

# Areas where a counsellor sees only the rows of the paths they are referent of.
OWN_PATHS_ONLY = frozenset(
    {"beneficiaries", "enrolments", "phase_records", "suspensions", "contacts", "barriers",
     "internships", "obligations", "alerts", "documents", "esf_records", "esf"}
)


# Lifecycle actions (bulk-action names of Flask-Admin and record buttons) → the
# (area, verb) a role needs to run them. The admin menus (`is_action_allowed`) and the
# POST handlers both read this table.
ACTIONS: dict[str, tuple[str, str]] = {
    # /admin/referrals/ — 001 « Organisation »: only the commission decides on entries
    "validate": ("referrals", "decide"),
    "reject": ("referrals", "decide"),
    "defer": ("referrals", "decide"),
    "withdraw": ("referrals", "decide"),
    "not_entered": ("referrals", "decide"),
    "create_purchase_order": ("purchase_orders", "create"),
    "start_path": ("enrolments", "create"),
    # /admin/purchase-orders/ — the reception date starts the ARJLJ clock (002 I §4)
    "receive_purchase_order": ("purchase_orders", "edit"),
    # /admin/enrolments/
    "next_phase": ("enrolments", "progress"),
    "suspend": ("enrolments", "progress"),
    "resume": ("enrolments", "progress"),
    "declare_abandon": ("enrolments", "close"),
    "close_with_exit": ("enrolments", "close"),
    "end_follow_up": ("enrolments", "close"),
    # /admin/workshops/ — the attendance sheet adds, changes and removes its lines
    "attendance_sheet": ("workshop_attendances", "delete"),
    # /admin/enrolments/ — one document for every selected path, in one ZIP (issue 21 §3)
    "produce_documents": ("documents", "create"),
}

# The record a document is made from (documents/catalogue.py SUBJECTS) → the areas a role
# must read to produce it: the record's own, then, for a document that names people, the
# area that names them (a workshop's convocations name its attendees: a role that may not
# read the attendance lines may not print them either).
SUBJECT_AREAS: dict[str, tuple[str, ...]] = {
    "enrolment": ("enrolments",),
    "referral": ("referrals",),
    "workshop": ("workshops", "workshop_attendances"),
    "commission": ("commissions", "referrals"),
    "purchase_order": ("purchase_orders", "purchase_order_lines"),
    "programme_session": ("sessions", "enrolments"),
    "internship": ("internships",),
    "contact": ("contacts",),
}


def may_produce(role: str | Role | None, subject: str, nominative: bool = True) -> bool:
    """True when `role` may produce (and download) a document made from a record of
    `subject`; a funder's representative never gets one that names a person (issue 21
    §4), whatever else they may read."""
    if not can(role, "documents", "create") or subject not in SUBJECT_AREAS:
        return False
    areas = SUBJECT_AREAS[subject] if nominative else SUBJECT_AREAS[subject][:1]
    if nominative and is_restricted_to_own_funder(role):
        return False
    return all(can(role, area) for area in areas)


_NOTHING = frozenset()


def may_run(role: str | Role | None, action: str) -> bool:
    """True when `role` may run the lifecycle `action`; unknown actions may never run."""
    if action not in ACTIONS:
        return False
    area, verb = ACTIONS[action]
    return can(role, area, verb)


def can(role: str | Role | None, area: str, verb: str = "read") -> bool:
    """True when `role` may `verb` the `area`; unknown roles, areas and verbs may nothing."""
    if type(role) is not Role:  # noqa: E721 (a Role is the usual case: no conversion)
        try:
            role = Role(role)
        except ValueError:
            return False
    return verb in _RULES.get(role, {}).get(area, _NOTHING)


def areas_for(role: str | Role) -> list[str]:
    """The areas a role may at least read (for menus and tests)."""
    return [area for area in OPERATIONAL + REFERENCE + ADMINISTRATION + DASHBOARDS
            if can(role, area)]


def is_restricted_to_own_paths(role: str | Role, area: str) -> bool:
    """True when the role sees only its own paths' rows in `area` (counsellors)."""
    return Role(role) == Role.COUNSELLOR and area in OWN_PATHS_ONLY


def is_restricted_to_own_funder(role: str | Role | None) -> bool:
    """True when the role sees only the programmes of the funder its account is linked
    to (a funder's representative: a DEL account reads nothing of France Travail's or the
    PLIE's); an account linked to no funder sees no programme at all."""
    return role is not None and Role(role) == Role.VIEWER
