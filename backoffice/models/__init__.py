"""Every table of the domain (see ../shared/spec/domain.md), one module per area."""
from . import guards, search_index, sheet_flag  # noqa: F401  (database-level rules, name search index, sheet flag)
from .activity import Barrier, Contact, Internship, Workshop, WorkshopAttendance
from .documents import DocumentTemplate, ProducedDocument
from .esf import EsfEntry, EsfExit
from .imports import ImportPreset, ReferralImport, ReferralImportRow
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
    "ContactType", "DeadlineRule", "DocumentTemplate", "Enrolment", "EsfEntry", "EsfExit",
    "ExitType", "Funder", "ImportPreset", "Internship", "LoginAttempt", "Obligation", "Phase",
    "PhaseRecord", "ProducedDocument", "Programme", "ProgrammeSession", "PurchaseOrder",
    "PurchaseOrderLine", "Referral", "ReferralImport", "ReferralImportRow", "Suspension",
    "SuspensionReason", "User", "Workshop", "WorkshopAttendance", "display_name", "fold",
    "name_key", "referral_non_entry_barriers", "search_key",
]
