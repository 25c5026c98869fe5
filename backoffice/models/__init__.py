"""Every table of the domain (see ../shared/spec/domain.md), one module per area."""
from . import guards, search_index  # noqa: F401  (database-level rules, name search index)
from .activity import Barrier, Contact, Internship, Workshop, WorkshopAttendance
from .paths import (
    Commission,
    Enrolment,
    PhaseRecord,
    ProgrammeSession,
    PurchaseOrder,
    PurchaseOrderLine,
    Referral,
    Suspension,
    referral_non_entry_barriers,
)
from .people import Beneficiary, User, display_name, fold, name_key, search_key
from .reference import (
    BarrierType,
    ContactType,
    DeadlineRule,
    ExitType,
    Funder,
    Phase,
    Programme,
    SuspensionReason,
)
from .tracking import AuditEntry, LoginAttempt, Obligation

__all__ = [
    "AuditEntry", "Barrier", "BarrierType", "Beneficiary", "Commission", "Contact",
    "ContactType", "DeadlineRule", "Enrolment", "ExitType", "Funder", "Internship",
    "LoginAttempt", "Obligation", "Phase", "PhaseRecord", "Programme", "ProgrammeSession",
    "PurchaseOrder", "PurchaseOrderLine", "Referral", "Suspension", "SuspensionReason", "User",
    "Workshop", "WorkshopAttendance", "display_name", "fold", "name_key",
    "referral_non_entry_barriers", "search_key",
]
