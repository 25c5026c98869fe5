"""Classification of an exit: DEL category, CSP positive exit, anticipated, follow-up.

The exit types are data (``seeds/exit_types.yaml``, table ``exit_type``); this module is
the one place that reads them together with the facts of an exit (contract kind and
length, hours a month) and says what the exit counts as for each funder:

- DEL (001, indicator table): ED emploi durable ⊂ SD sortie dynamique ⊂ SP sortie positive.
- CSP (002 §6): positive exit or not.
- PLIE (004): the reason, and whether the exit is anticipated.

To change a category, edit the YAML; to change how a column is read, edit this module
and its test ``tests/unit/test_exits.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date
from pathlib import Path

import yaml

from backoffice.enums import AbandonReason, ContractKind, CspRule, DelCategory, ExitScheme

#: 002 §6: "à temps partiel ... si celle-ci est égale ou supérieure à 110 heures par mois".
CSP_MIN_HOURS_PER_MONTH = 110

#: 002 §6: a POE counts when it leads to "un CDI ou un CDD ou un contrat d'alternance
#: (contrat de professionnalisation ou d'apprentissage)" of at least ``csp_min_months``.
POE_FOLLOWUP_KINDS = frozenset(
    {
        ContractKind.CDI,
        ContractKind.CDD,
        ContractKind.APPRENTICESHIP,
        ContractKind.PROFESSIONALISATION,
    }
)

#: 002 §6: an AFPR counts when it leads to "un CDD de durée inférieure à 12 mois". A CDI
#: and a CDD of 12 months or more are accepted too: a longer contract is a better outcome,
#: and both are durable jobs under the first bullet of §6 anyway.
AFPR_FOLLOWUP_KINDS = frozenset({ContractKind.CDD, ContractKind.CDI})

#: The exit type of an abandon (« Abandon ou rupture du parcours », DEL and CSP).
ABANDON_EXIT_CODE = "abandon"

#: 004 « Sortie de l'action »: a PLIE path ends on one of the PLIE exit motives, so an
#: abandon is classified with them — « à la demande du participant dès lors qu'il ne
#: souhaite plus poursuivre l'action », « perte de contact ou relances sans réponse (2
#: absences injustifiées ... considérées comme un motif d'arrêt de l'action) ». The
#: abandon's own reason stays recorded with it (Enrolment.abandon_reason) and is reported.
PLIE_ABANDON_EXIT_CODES = {
    AbandonReason.PARTICIPANT_REQUEST: "participant_request",
    AbandonReason.LOSS_OF_CONTACT: "loss_of_contact",
    AbandonReason.UNEXCUSED_ABSENCES: "loss_of_contact",
    AbandonReason.MOVED: "participant_request",
    AbandonReason.HEALTH: "participant_request",
    AbandonReason.OTHER: "participant_request",
}


def abandon_exit_code(scheme: str, reason: str) -> str:
    """The exit type an abandon for ``reason`` is recorded with on a path of ``scheme``."""
    if scheme == ExitScheme.PLIE:
        return PLIE_ABANDON_EXIT_CODES[AbandonReason(reason)]
    return ABANDON_EXIT_CODE


#: Sanity bounds for the exit form (not funder rules): above them the figure is a typo.
MAX_HOURS_PER_MONTH = 300
MAX_CONTRACT_MONTHS = 60

#: Field names as the exit form shows them, used in every error message.
FIELD_LABELS = {
    "exit_type": "Type de sortie",
    "contract_kind": "Type de contrat",
    "contract_months": "Durée du contrat (mois)",
    "training_months": "Durée de la formation (mois)",
    "hours_per_month": "Heures par mois",
    "employer": "Employeur",
    "training_title": "Intitulé de la formation",
    "followup_contract_kind": "Contrat signé à l'issue",
    "followup_contract_months": "Durée du contrat signé à l'issue (mois)",
}

#: The DEL categories from the narrowest to the widest (001: SD includes ED, SP includes SD).
DEL_CATEGORY_ORDER = (DelCategory.ED.value, DelCategory.SD.value, DelCategory.SP.value)


@dataclass(frozen=True)
class ExitTypeRule:
    """One exit type, as in ``seeds/exit_types.yaml`` and the ``exit_type`` table."""

    code: str
    label: str
    schemes: str
    del_category: str | None
    del_ed_min_months: int | None
    csp_rule: str
    csp_min_months: int | None
    needs_contract_kind: bool
    needs_contract_months: bool
    needs_hours_per_month: bool
    needs_employer: bool
    needs_training_title: bool
    is_durable_job: bool
    is_rupture: bool
    is_anticipated: bool
    sort_order: int

    @property
    def scheme_list(self) -> list[str]:
        """The schemes as a list: ``"DEL,CSP"`` → ``["DEL", "CSP"]``."""
        return [s.strip() for s in self.schemes.split(",") if s.strip()]

    @classmethod
    def from_object(cls, row) -> ExitTypeRule:
        """Build the rule from any object with the same attribute names (an ExitType row)."""
        return cls(**{f.name: getattr(row, f.name) for f in fields(cls)})


@dataclass(frozen=True)
class ExitFacts:
    """What the exit form records besides the exit type.

    ``contract_months`` is the length of the contract, or of the training for a training
    exit. ``hours_per_month`` is filled for part-time work only (empty = full time).
    The follow-up contract is the one signed after a POE or an AFPR.
    """

    contract_kind: str | None = None
    contract_months: int | None = None
    hours_per_month: float | None = None
    followup_contract_kind: str | None = None
    followup_contract_months: int | None = None
    employer: str | None = None
    training_title: str | None = None


@dataclass(frozen=True)
class ExitClassification:
    """What an exit counts as, for the scheme of the programme it closes."""

    code: str
    scheme: str
    del_category: str | None  # "ED", "SD", "SP" or None (001)
    csp_positive: bool  # 002 §6
    is_anticipated: bool  # 001 "Taux de sortie anticipée", 004 ruptures and other exits
    is_rupture: bool  # 001 "Évaluation": difficulties + recommendations
    is_durable_job: bool  # an exit into a durable job (DEL: ED; CSP: positive)
    opens_follow_up: bool = False  # the path goes on in follow-up (DEL étape 3, CSP §6)


def _meets_months(kind: str | None, months: int | None, minimum: int | None) -> bool:
    """True when a contract of ``kind`` and ``months`` reaches ``minimum`` months.

    A CDI has no end, so it reaches any minimum; no minimum means any length counts.
    """
    if kind == ContractKind.CDI:
        return True
    if minimum is None:
        return True
    return months is not None and months >= minimum


def del_category_of(rule: ExitTypeRule, facts: ExitFacts) -> str | None:
    """DEL category of an exit (001 indicator table), before the ED ⊂ SD ⊂ SP inclusion.

    A type with ``del_ed_min_months`` becomes ED from that contract length (CDD of 6 months
    or more) and stays at its own category below it (CDD of less than 6 months: SD).
    """
    if rule.del_category is None:
        return None
    # 001: "ED : ... CDD/+ 6 mois" — "SD : ED + CDD ..."
    if rule.del_ed_min_months is not None and facts.contract_months is not None:
        if facts.contract_months >= rule.del_ed_min_months:
            return DelCategory.ED.value
    return rule.del_category


def is_csp_positive(
    rule: ExitTypeRule,
    facts: ExitFacts,
    *,
    csp_min_hours_per_month: float = CSP_MIN_HOURS_PER_MONTH,
    poe_followup_kinds: frozenset[str] = POE_FOLLOWUP_KINDS,
    afpr_followup_kinds: frozenset[str] = AFPR_FOLLOWUP_KINDS,
) -> bool:
    """True when the exit is a CSP positive exit (002 §6)."""
    # 002 §6: part-time work counts only "si celle-ci est égale ou supérieure à 110 heures"
    if facts.hours_per_month is not None and facts.hours_per_month < csp_min_hours_per_month:
        return False
    csp_rule = CspRule(rule.csp_rule)
    if csp_rule is CspRule.POSITIVE:
        return True
    if csp_rule is CspRule.NOT_POSITIVE:
        return False
    if csp_rule is CspRule.MIN_MONTHS:
        # 002 §6: CDD / intérim "conclu pour au moins six mois", formation "d'au moins six mois"
        return _meets_months(facts.contract_kind, facts.contract_months, rule.csp_min_months)
    if csp_rule is CspRule.POE:
        # 002 §6: POE "conditionnée à la signature d'un CDI ou d'un CDD ou d'un contrat
        # d'alternance ... d'au moins 12 mois"
        return facts.followup_contract_kind in poe_followup_kinds and _meets_months(
            facts.followup_contract_kind, facts.followup_contract_months, rule.csp_min_months
        )
    # CspRule.AFPR — 002 §6: "AFPR suivi d'un CDD de durée inférieure à 12 mois"
    return facts.followup_contract_kind in afpr_followup_kinds


def classify_exit(
    rule: ExitTypeRule,
    facts: ExitFacts,
    scheme: str,
    *,
    exit_date: date | None = None,
    planned_end_date: date | None = None,
    csp_min_hours_per_month: float = CSP_MIN_HOURS_PER_MONTH,
) -> ExitClassification:
    """Classify one exit for the exit ``scheme`` of its programme (DEL, CSP, PLIE, ARJLJ).

    ``del_category`` and ``csp_positive`` are always computed from the type and facts;
    ``is_durable_job`` depends on the scheme: the type is a durable job and the exit is ED
    (DEL) or CSP-positive (002 §6, positive-by-extension exits included). An exit is
    anticipated when its type always is (abandon, every PLIE reason but "fin de l'action")
    or when ``exit_date`` is before ``planned_end_date`` (001 "sortis avant la fin du
    parcours").

    ``opens_follow_up``: the path goes on after the exit. DEL (001 Lots 1 and 2, étape 3,
    « suivre le stagiaire à l'issue de son parcours »: « la mise en emploi ou en activité ;
    le maintien en entreprise », up to 3 months): everyone who completes the path, in a
    job or not yet, and whoever leaves it early for a job or an activity (an ED, SD or SP
    exit); not an abandon or another anticipated exit without a job. CSP (002 §6, 6 months
    in employment): a durable job. The PLIE and ARJLJ specifications foresee no follow-up.
    """
    if scheme not in {s.value for s in ExitScheme}:
        known = ", ".join(s.value for s in ExitScheme)
        raise ValueError(f"Dispositif de sortie : « {scheme} » inconnu (attendu : {known})")
    category = del_category_of(rule, facts)
    positive = is_csp_positive(rule, facts, csp_min_hours_per_month=csp_min_hours_per_month)
    early = exit_date is not None and planned_end_date is not None and exit_date < planned_end_date
    anticipated = rule.is_anticipated or early
    if scheme == ExitScheme.DEL:
        durable = rule.is_durable_job and category == DelCategory.ED
        # 001 étape 3: « à l'issue de son parcours » — completed, or left for a job/activity
        follow_up = not anticipated or category is not None
    elif scheme == ExitScheme.CSP:
        durable = follow_up = rule.is_durable_job and positive
    else:
        durable = follow_up = False
    return ExitClassification(
        code=rule.code,
        scheme=scheme,
        del_category=category,
        csp_positive=positive,
        is_anticipated=anticipated,
        is_rupture=rule.is_rupture,
        is_durable_job=durable,
        opens_follow_up=follow_up,
    )


def _months_errors(field: str, value, max_months: int) -> list[str]:
    """Errors for a length in months: required elsewhere, here only its range."""
    label = FIELD_LABELS[field]
    if value is None:
        return []
    if isinstance(value, bool) or not isinstance(value, int):
        return [f"{label} : « {value} » n'est pas un nombre entier de mois"]
    if value <= 0:
        return [f"{label} : {value} mois n'est pas possible, la durée doit être d'au moins 1 mois"]
    if value > max_months:
        return [
            f"{label} : {value} mois dépasse le maximum vraisemblable de {max_months} mois, "
            f"vérifier la saisie"
        ]
    return []


def _kind_errors(field: str, value) -> list[str]:
    """Error when a contract kind is not one of enums.ContractKind."""
    if value is None or value in {k.value for k in ContractKind}:
        return []
    known = ", ".join(k.label for k in ContractKind)
    return [f"{FIELD_LABELS[field]} : « {value} » n'est pas un type de contrat connu ({known})"]


def validate_exit_facts(
    rule: ExitTypeRule,
    facts: ExitFacts,
    scheme: str | None = None,
    *,
    max_hours_per_month: float = MAX_HOURS_PER_MONTH,
    max_contract_months: int = MAX_CONTRACT_MONTHS,
) -> list[str]:
    """Return French error messages, one per missing or absurd fact (empty list: valid).

    Each message starts with the field label, then says which rule it breaks. When
    ``scheme`` is given, an exit type not offered for that scheme is refused.
    """
    errors: list[str] = []
    name = f"« {rule.label} »"
    if scheme is not None and scheme not in rule.scheme_list:
        errors.append(
            f"{FIELD_LABELS['exit_type']} : {name} n'est pas proposé pour le dispositif {scheme} "
            f"(proposé pour : {rule.schemes})"
        )
    if rule.needs_contract_kind and not facts.contract_kind:
        errors.append(f"{FIELD_LABELS['contract_kind']} : à renseigner pour une sortie {name}")
    errors += _kind_errors("contract_kind", facts.contract_kind)

    months_field = "training_months" if rule.needs_training_title else "contract_months"
    if (
        rule.needs_contract_months
        and facts.contract_months is None
        and facts.contract_kind != ContractKind.CDI
    ):
        errors.append(
            f"{FIELD_LABELS[months_field]} : à renseigner pour une sortie {name} "
            f"(elle décide de la catégorie de sortie, 001 et 002 §6)"
        )
    errors += _months_errors(months_field, facts.contract_months, max_contract_months)

    hours = facts.hours_per_month
    if rule.needs_hours_per_month and hours is None:
        errors.append(
            f"{FIELD_LABELS['hours_per_month']} : à renseigner pour une sortie {name} "
            f"(002 §6 : un temps partiel compte à partir de {CSP_MIN_HOURS_PER_MONTH} h par mois)"
        )
    if hours is not None and (isinstance(hours, bool) or not isinstance(hours, (int, float))):
        errors.append(
            f"{FIELD_LABELS['hours_per_month']} : « {hours} » n'est pas un nombre d'heures"
        )
    elif hours is not None and hours <= 0:
        errors.append(
            f"{FIELD_LABELS['hours_per_month']} : {hours} h n'est pas possible, attendu plus de 0 h"
        )
    elif hours is not None and hours > max_hours_per_month:
        errors.append(
            f"{FIELD_LABELS['hours_per_month']} : {hours} h dépasse le maximum vraisemblable "
            f"de {max_hours_per_month} h par mois, vérifier la saisie"
        )

    if rule.needs_employer and not (facts.employer or "").strip():
        errors.append(f"{FIELD_LABELS['employer']} : à renseigner pour une sortie {name}")
    if rule.needs_training_title and not (facts.training_title or "").strip():
        errors.append(f"{FIELD_LABELS['training_title']} : à renseigner pour une sortie {name}")

    if rule.csp_rule in (CspRule.POE, CspRule.AFPR):
        if not facts.followup_contract_kind:
            errors.append(
                f"{FIELD_LABELS['followup_contract_kind']} : à renseigner pour une sortie {name} "
                f"(002 §6 : elle compte selon le contrat signé à l'issue)"
            )
        errors += _kind_errors("followup_contract_kind", facts.followup_contract_kind)
        if (
            rule.csp_rule == CspRule.POE
            and facts.followup_contract_kind not in (None, "", ContractKind.CDI)
            and facts.followup_contract_months is None
        ):
            errors.append(
                f"{FIELD_LABELS['followup_contract_months']} : à renseigner pour une sortie {name} "
                f"(002 §6 : contrat d'au moins {rule.csp_min_months} mois)"
            )
        errors += _months_errors(
            "followup_contract_months", facts.followup_contract_months, max_contract_months
        )
    return errors


#: The facts the exit form asks, in form order, and when (see :func:`asked_facts`).
FACT_FIELDS = (
    "contract_kind", "contract_months", "hours_per_month", "employer", "training_title",
    "followup_contract_kind", "followup_contract_months",
)


def asked_facts(rule: ExitTypeRule) -> tuple[str, ...]:
    """The fact fields the exit form shows for ``rule``: those the type needs, the contract
    signed after a POE or an AFPR (002 §6), nothing else (the others stay empty)."""
    wanted = {
        "contract_kind": rule.needs_contract_kind,
        "contract_months": rule.needs_contract_months,
        "hours_per_month": rule.needs_hours_per_month,
        "employer": rule.needs_employer,
        "training_title": rule.needs_training_title,
        "followup_contract_kind": rule.csp_rule in (CspRule.POE, CspRule.AFPR),
        "followup_contract_months": rule.csp_rule in (CspRule.POE, CspRule.AFPR),
    }
    return tuple(name for name in FACT_FIELDS if wanted[name])


#: How each DEL category is said to the user (001 indicator table).
DEL_CATEGORY_WORDS = {
    DelCategory.ED.value: "emploi durable (ED)",
    DelCategory.SD.value: "sortie dynamique (SD)",
    DelCategory.SP.value: "sortie positive (SP)",
}


def classification_summary(
    classification: ExitClassification, exit_label: str, follow_up_end: date | None = None
) -> str:
    """The French sentence shown after closing a path, e.g. « Sortie classée : emploi
    durable (ED) — suivi à l'issue du parcours (étape 3) jusqu'au 01/01/2027 »."""
    scheme = classification.scheme
    if scheme == ExitScheme.DEL:
        what = DEL_CATEGORY_WORDS.get(classification.del_category or "",
                                      "ni ED, ni SD, ni SP (001)")
    elif scheme == ExitScheme.CSP:
        what = "issue positive CSP" if classification.csp_positive \
            else "issue non positive CSP (002 §6)"
    elif scheme == ExitScheme.PLIE:
        what = f"motif de sortie PLIE « {exit_label} »"
    else:
        what = f"issue de l'appui « {exit_label} »"
    parts = [f"Sortie classée : {what}"]
    if classification.is_anticipated:
        parts.append("sortie anticipée")
    if follow_up_end is not None and scheme == ExitScheme.DEL:
        parts.append(f"suivi à l'issue du parcours (étape 3) jusqu'au {follow_up_end:%d/%m/%Y}")
    elif follow_up_end is not None:
        parts.append(f"suivi dans l'emploi jusqu'au {follow_up_end:%d/%m/%Y}")
    else:
        parts.append("parcours clôturé")
    return " — ".join(parts)


@dataclass(frozen=True)
class DelRates:
    """DEL exit counts and rates over the initial headcount (001 indicator table).

    Rates are fractions (0.25 = 25 %), None when the initial headcount is 0.
    """

    initial_headcount: int
    ed_count: int
    sd_count: int
    sp_count: int
    ed_rate: float | None
    sd_rate: float | None
    sp_rate: float | None


def del_rates(categories: list[str | None], initial_headcount: int) -> DelRates:
    """Count ED, SD and SP exits and their rates over ``initial_headcount``.

    ``categories`` holds one DEL category (or None) per exit. SD includes ED and SP
    includes SD (001: "SD : ED + ...", "SP : SD + ...").
    """
    unknown = {c for c in categories if c is not None and c not in DEL_CATEGORY_ORDER}
    if unknown:
        raise ValueError(
            f"Catégorie de sortie DEL inconnue : {sorted(unknown)}, attendu ED, SD ou SP"
        )
    if initial_headcount < 0:
        raise ValueError(f"Effectif initial : {initial_headcount} est négatif")
    ed = sum(1 for c in categories if c == DelCategory.ED)
    sd = ed + sum(1 for c in categories if c == DelCategory.SD)
    sp = sd + sum(1 for c in categories if c == DelCategory.SP)

    def rate(count: int) -> float | None:
        """Share of the initial headcount, None when there is nobody to divide by."""
        return count / initial_headcount if initial_headcount else None

    return DelRates(initial_headcount, ed, sd, sp, rate(ed), rate(sd), rate(sp))


def _rule_from_mapping(entry: dict, where: str) -> ExitTypeRule:
    """Build and check one rule from a YAML mapping; errors say which entry is wrong."""
    names = [f.name for f in fields(ExitTypeRule)]
    if not isinstance(entry, dict):
        raise ValueError(f"{where} : une entrée doit être une liste de « clé: valeur »")
    missing = [n for n in names if n not in entry]
    extra = [k for k in entry if k not in names]
    if missing or extra:
        raise ValueError(f"{where} : colonnes manquantes {missing}, colonnes inconnues {extra}")
    rule = ExitTypeRule(**entry)
    schemes = set(rule.scheme_list)
    unknown_schemes = schemes - {s.value for s in ExitScheme}
    if not schemes or unknown_schemes:
        raise ValueError(
            f"{where} : schemes « {rule.schemes} » doit lister DEL, CSP, PLIE ou ARJLJ"
        )
    if rule.del_category is not None and rule.del_category not in DEL_CATEGORY_ORDER:
        raise ValueError(
            f"{where} : del_category « {rule.del_category} » doit valoir ED, SD, SP ou null"
        )
    if rule.csp_rule not in {r.value for r in CspRule}:
        known = ", ".join(r.value for r in CspRule)
        raise ValueError(f"{where} : csp_rule « {rule.csp_rule} » inconnue ({known})")
    if rule.csp_rule in (CspRule.MIN_MONTHS, CspRule.POE) and rule.csp_min_months is None:
        raise ValueError(f"{where} : csp_rule « {rule.csp_rule} » demande csp_min_months")
    return rule


def load_exit_type_rules(path: str | Path) -> list[ExitTypeRule]:
    """Read ``seeds/exit_types.yaml`` (a list of entries) into rules sorted by sort_order.

    Every column must be present; an unknown column, scheme, category or CSP rule, or a
    duplicated code, raises ValueError naming the entry.
    """
    entries = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    if not isinstance(entries, list):
        raise ValueError(f"{path} : le fichier doit contenir une liste de types de sortie")
    rules = []
    seen: set[str] = set()
    for index, entry in enumerate(entries, start=1):
        code = entry.get("code") if isinstance(entry, dict) else None
        rule = _rule_from_mapping(entry, f"{path}, entrée {index} ({code})")
        if rule.code in seen:
            raise ValueError(f"{path}, entrée {index} : le code « {rule.code} » est en double")
        seen.add(rule.code)
        rules.append(rule)
    return sorted(rules, key=lambda r: r.sort_order)
