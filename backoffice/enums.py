"""Closed vocabularies shared by models, rules and views, with their French labels.

Values are stored in English in the database; `label` gives what a user reads.
"""
from enum import StrEnum


class LabelledEnum(StrEnum):
    """A string enum whose members carry a French label."""

    def __new__(cls, value: str, label: str):
        member = str.__new__(cls, value)
        member._value_ = value
        member.label = label
        return member

    @classmethod
    def choices(cls) -> list[tuple[str, str]]:
        """(value, French label) pairs for select fields."""
        return [(m.value, m.label) for m in cls]


class Role(LabelledEnum):
    ADMIN = "admin", "Administrateur"
    COORDINATOR = "coordinator", "Coordinateur"
    COMMISSION = "commission", "Membre de commission"
    COUNSELLOR = "counsellor", "Référent"
    VIEWER = "viewer", "Financeur (lecture seule)"


class Territory(LabelledEnum):
    NC = "NC", "Nouvelle-Calédonie"
    FR = "FR", "France métropolitaine"


class ReferralStatus(LabelledEnum):
    PENDING = "pending", "En attente"
    VALIDATED = "validated", "Validée"
    REJECTED = "rejected", "Refusée"
    DEFERRED = "deferred", "Ajournée"
    WITHDRAWN = "withdrawn", "Désistement"
    NOT_ENTERED = "not_entered", "Non-entrée"


class EnrolmentStatus(LabelledEnum):
    ACTIVE = "active", "En cours"
    SUSPENDED = "suspended", "Suspendu"
    # 001 étape 3: after the exit, in a job or not yet (DEL); 002 §6: in employment (CSP)
    FOLLOW_UP = "follow_up", "Suivi après la sortie"
    CLOSED = "closed", "Clôturé"


class Attendance(LabelledEnum):
    PRESENT = "present", "Présent"
    EXCUSED = "excused", "Absence justifiée"
    UNEXCUSED = "unexcused", "Absence injustifiée"
    # 004 Lots 2 and 4: « 2 relances sans réponse » — a contact only, never a workshop
    NO_ANSWER = "no_answer", "Relance sans réponse"


#: The marks of a workshop's attendance sheet: a reminder is made to one person, it is
#: a contact, not a line of a sheet.
WORKSHOP_MARKS = (Attendance.PRESENT, Attendance.EXCUSED, Attendance.UNEXCUSED)


class Sex(LabelledEnum):
    FEMALE = "F", "Femme"
    MALE = "M", "Homme"


class DelayUnit(LabelledEnum):
    HOURS = "hours", "heures"
    CALENDAR_DAYS = "calendar_days", "jours calendaires"
    WORKING_DAYS = "working_days", "jours ouvrés"
    MONTHS = "months", "mois"


class RollPolicy(LabelledEnum):
    """What a due date on a weekend or public holiday does (deadline_rules.roll)."""

    FORWARD = "forward", "Reportée au premier jour ouvré suivant"
    BACK = "back", "Avancée au dernier jour ouvré précédent"
    STAY = "stay", "Reste à sa date"


class DelCategory(LabelledEnum):
    """DEL exit categories (001, indicator table): each includes the one before."""

    ED = "ED", "Emploi durable"
    SD = "SD", "Sortie dynamique"
    SP = "SP", "Sortie positive"


class CspRule(LabelledEnum):
    """How an exit type counts for the CSP positive-exit definition (002 §6)."""

    POSITIVE = "positive", "Toujours positive"
    NOT_POSITIVE = "not_positive", "Jamais positive"
    MIN_MONTHS = "min_months", "Positive à partir d'une durée de contrat"
    POE = "poe", "POE suivie d'un contrat"
    AFPR = "afpr", "AFPR suivie d'un CDD"


class ContractKind(LabelledEnum):
    CDI = "cdi", "CDI"
    CDD = "cdd", "CDD"
    TEMPORARY = "temporary", "Intérim"
    APPRENTICESHIP = "apprenticeship", "Contrat d'apprentissage"
    PROFESSIONALISATION = "professionalisation", "Contrat de professionnalisation"
    SUBSIDISED = "subsidised", "Contrat aidé"
    OTHER = "other", "Autre"


class EducationLevel(LabelledEnum):
    """French education levels (nomenclature 2019) with their ISCED equivalents."""

    NONE = "none", "Aucun diplôme"
    LEVEL_3 = "3", "Niveau 3 (CAP, BEP)"
    LEVEL_4 = "4", "Niveau 4 (Bac)"
    LEVEL_5 = "5", "Niveau 5 (Bac+2)"
    LEVEL_6 = "6", "Niveau 6 (Licence)"
    LEVEL_7 = "7", "Niveau 7 (Master)"
    LEVEL_8 = "8", "Niveau 8 (Doctorat)"


class ExitScheme(LabelledEnum):
    """Which exit typology a programme uses (domain.md "Exits")."""

    DEL = "DEL", "DEL province Sud (ED / SD / SP, 001)"
    CSP = "CSP", "CSP France Travail (issue positive, 002 §6)"
    PLIE = "PLIE", "PLIE (motifs de sortie, 004)"
    ARJLJ = "ARJLJ", "Appui ARJLJ (issue de la prestation, 002 I §5.2)"


class ReferralAction(LabelledEnum):
    """Actions on a referral (bulk-action names in the admin), see rules/lifecycle.py."""

    VALIDATE = "validate", "Valider l'entrée"
    REJECT = "reject", "Refuser"
    DEFER = "defer", "Ajourner"
    WITHDRAW = "withdraw", "Enregistrer un désistement"
    NOT_ENTERED = "not_entered", "Enregistrer une non-entrée"


class EnrolmentAction(LabelledEnum):
    """Actions on an enrolment (bulk-action names in the admin), see rules/lifecycle.py."""

    NEXT_PHASE = "next_phase", "Passer à la phase suivante"
    SUSPEND = "suspend", "Suspendre"
    RESUME = "resume", "Reprendre"
    DECLARE_ABANDON = "declare_abandon", "Déclarer un abandon"
    CLOSE_WITH_EXIT = "close_with_exit", "Clôturer avec une sortie"
    END_FOLLOW_UP = "end_follow_up", "Terminer le suivi après la sortie"


class AbandonReason(LabelledEnum):
    """Why a person abandons a path (001 « Évaluation » ruptures, 004 exit motives)."""

    PARTICIPANT_REQUEST = "participant_request", "À la demande du participant"
    LOSS_OF_CONTACT = "loss_of_contact", "Perte de contact ou relances sans réponse"
    UNEXCUSED_ABSENCES = "unexcused_absences", "Absences injustifiées répétées"
    MOVED = "moved", "Déménagement"
    HEALTH = "health", "Raisons de santé"
    OTHER = "other", "Autre motif"


class BilanKind(LabelledEnum):
    """The two bilans of PLIE Lot 4 (004 Lot 4 : « deux types de bilans, le bilan
    d'orientation qui se destine principalement à des jeunes sans expérience
    professionnelle et le bilan de compétences pour les autres publics »)."""

    ORIENTATION = "orientation", "Bilan d'orientation"
    SKILLS = "skills", "Bilan de compétences"


class Answer(LabelledEnum):
    """An item of the ESF+ questionnaire: yes, no, or — for the sensitive items only
    (disability, nationality, foreign background, minority, housing; docs/esf.md) — a
    refusal to answer, which is an answer, not a gap."""

    YES = "yes", "Oui"
    NO = "no", "Non"
    REFUSED = "refused", "Refuse de répondre"


class LabourMarketStatus(LabelledEnum):
    """Situation on the labour market at entry (Regulation (EU) 2021/1057, Annex I,
    common output indicators on participants; docs/esf.md)."""

    EMPLOYED = "employed", "En emploi, y compris indépendant"
    UNEMPLOYED = "unemployed", "Chômeur (moins de 12 mois)"
    LONG_TERM_UNEMPLOYED = "long_term_unemployed", "Chômeur de longue durée (12 mois ou plus)"
    INACTIVE = "inactive", "Inactif"


class ImportState(LabelledEnum):
    """Where an import of a funder's list stands (issue 23)."""

    PENDING = "pending", "En préparation"
    DONE = "done", "Importé"
    UNDONE = "undone", "Annulé"


class ImportRowStatus(LabelledEnum):
    """What the preview says of a row of an imported list (issue 23 §3)."""

    NEW = "new", "Nouvelle personne"
    KNOWN = "known", "Personne connue"
    TO_CONFIRM = "to_confirm", "Personne connue à confirmer"
    UPDATE = "update", "Déjà importée : mise à jour"
    UNCHANGED = "unchanged", "Déjà importée : inchangée"
    DUPLICATE = "duplicate", "Doublon dans le fichier"
    ERROR = "error", "Erreur"
