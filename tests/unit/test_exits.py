"""Exit classification, on the real seed file: every example of 001, 002 §6 and 004."""

from datetime import date
from pathlib import Path

import pytest

from backoffice.rules.exits import (
    ExitFacts,
    classify_exit,
    del_rates,
    load_exit_type_rules,
    validate_exit_facts,
)

SEED = Path(__file__).resolve().parents[2] / "seeds" / "exit_types.yaml"
RULES = {rule.code: rule for rule in load_exit_type_rules(SEED)}


def facts(
    kind=None, months=None, hours=None, then=None, then_months=None, employer=None, title=None
):
    """Short way to write the facts of one exit in a table row."""
    return ExitFacts(kind, months, hours, then, then_months, employer, title)


# --- The seed file -------------------------------------------------------------------

EXPECTED_CODES = {
    "cdi",
    "cdd",
    "interim",
    "half_time",
    "part_time",
    "seasonal",
    "undeclared",
    "subsidised",
    "apprenticeship",
    "creation",
    "auto_entrepreneur",
    "patente",
    "ppic",
    "army",
    "qualifying_training",
    "pre_qualifying_training",
    "poe",
    "afpr",
    "tribal_life",
    "back_to_school",
    "no_solution",
    "abandon",
    "csp_cancelled",
    "moved",
    "health",
    "retirement",
    "other",
    "participant_request",
    "loss_of_contact",
    "better_suited_action",
    "job_or_training",
    "end_of_action",
    "csp_adhesion",
    "no_csp_adhesion",
    "not_job_seeker",
}


def test_seed_holds_every_exit_type():
    assert set(RULES) == EXPECTED_CODES


def test_seed_is_sorted_by_sort_order():
    orders = [rule.sort_order for rule in load_exit_type_rules(SEED)]
    assert orders == sorted(orders) and len(set(orders)) == len(orders)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("- {code: x}\n", "colonnes manquantes"),
        ("{}\n", "une liste de types de sortie"),
    ],
)
def test_loader_refuses_a_malformed_file(tmp_path, text, message):
    path = tmp_path / "exit_types.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match=message):
        load_exit_type_rules(path)


@pytest.mark.parametrize(
    ("column", "bad_value", "message"),
    [
        ("csp_rule", "sometimes", "csp_rule « sometimes » inconnue"),
        ("del_category", "XX", "del_category « XX »"),
        ("schemes", "DEL,RSA", "schemes « DEL,RSA »"),
    ],
)
def test_loader_refuses_a_bad_value(tmp_path, column, bad_value, message):
    source = SEED.read_text(encoding="utf-8")
    line = {
        "csp_rule": '  csp_rule: "positive"',
        "del_category": '  del_category: "ED"',
        "schemes": '  schemes: "DEL,CSP"',
    }[column]
    assert line in source
    path = tmp_path / "exit_types.yaml"
    path.write_text(
        source.replace(line, line.split(":")[0] + f': "{bad_value}"', 1), encoding="utf-8"
    )
    with pytest.raises(ValueError, match=message):
        load_exit_type_rules(path)


def test_loader_refuses_a_duplicate_code(tmp_path):
    source = SEED.read_text(encoding="utf-8")
    path = tmp_path / "exit_types.yaml"
    path.write_text(source.replace('code: "cdd"', 'code: "cdi"'), encoding="utf-8")
    with pytest.raises(ValueError, match="« cdi » est en double"):
        load_exit_type_rules(path)


# --- DEL: 001 indicator table -----------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "exit_facts", "expected"),
    [
        # ED : création d'entreprise, engagement dans l'armée, CDD/+ 6 mois, CDI, Patenté, PPIC
        ("creation", facts(), "ED"),
        ("army", facts(), "ED"),
        ("cdd", facts(months=6), "ED"),
        ("cdd", facts(months=18), "ED"),
        ("cdi", facts(), "ED"),
        ("patente", facts(), "ED"),
        ("ppic", facts(), "ED"),
        # SD : ED + CDD, intérim, mi-temps, temps partiel, saisonnier, non déclaré,
        # contrats aidés, apprentissage, formation qualifiante
        ("cdd", facts(months=5), "SD"),
        ("interim", facts(months=6), "SD"),
        ("interim", facts(months=2), "SD"),
        ("half_time", facts(kind="cdi", hours=76), "SD"),
        ("part_time", facts(kind="cdi", hours=100), "SD"),
        ("seasonal", facts(), "SD"),
        ("undeclared", facts(), "SD"),
        ("subsidised", facts(kind="cdd", months=12), "SD"),
        ("apprenticeship", facts(kind="apprenticeship", months=24), "SD"),
        ("qualifying_training", facts(months=9), "SD"),
        # SP : SD + formation pré-qualifiante, retour en vie tribale, rescolarisation
        ("pre_qualifying_training", facts(months=3), "SP"),
        ("tribal_life", facts(), "SP"),
        ("back_to_school", facts(), "SP"),
        # not positive
        ("no_solution", facts(), None),
        ("abandon", facts(), None),
        ("moved", facts(), None),
        ("health", facts(), None),
        ("other", facts(), None),
    ],
)
def test_del_category(code, exit_facts, expected):
    assert classify_exit(RULES[code], exit_facts, "DEL").del_category == expected


# --- CSP: 002 §6 ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "exit_facts", "expected"),
    [
        ("cdi", facts(), True),
        ("cdd", facts(months=6), True),
        ("cdd", facts(months=5), False),
        ("interim", facts(months=6), True),
        ("interim", facts(months=5), False),
        ("creation", facts(), True),  # création ou reprise d'entreprise
        ("auto_entrepreneur", facts(), False),  # "ne constitue pas une sortie positive"
        ("qualifying_training", facts(months=6), True),
        ("qualifying_training", facts(months=5), False),
        ("pre_qualifying_training", facts(months=8), False),
        # POE conditioned on a CDI, or a CDD / alternance of at least 12 months
        ("poe", facts(then="cdi"), True),
        ("poe", facts(then="cdd", then_months=12), True),
        ("poe", facts(then="cdd", then_months=11), False),
        ("poe", facts(then="apprenticeship", then_months=12), True),
        ("poe", facts(then="professionalisation", then_months=24), True),
        ("poe", facts(then="professionalisation", then_months=11), False),
        ("poe", facts(then="temporary", then_months=12), False),
        ("poe", facts(), False),
        # AFPR followed by a CDD of less than 12 months; decision: 12 months or more and a
        # CDI count too (a better outcome, and a durable job under §6 anyway)
        ("afpr", facts(then="cdd", then_months=3), True),
        ("afpr", facts(then="cdd", then_months=11), True),
        ("afpr", facts(then="cdd", then_months=12), True),
        ("afpr", facts(then="cdi"), True),
        ("afpr", facts(then="temporary", then_months=6), False),
        ("afpr", facts(), False),
        # part time counts from 110 hours a month
        ("part_time", facts(kind="cdi", hours=110), True),
        ("part_time", facts(kind="cdi", hours=109), False),
        ("part_time", facts(kind="cdd", months=6, hours=120), True),
        ("part_time", facts(kind="cdd", months=5, hours=120), False),
        ("cdi", facts(hours=109.5), False),
        ("cdd", facts(months=8, hours=110), True),
        # alternance and subsidised contracts are jobs: durable from 6 months
        ("apprenticeship", facts(kind="apprenticeship", months=12), True),
        ("apprenticeship", facts(kind="professionalisation", months=5), False),
        ("subsidised", facts(kind="cdd", months=6), True),
        ("subsidised", facts(kind="cdi"), True),
        ("no_solution", facts(), False),
        ("abandon", facts(), False),
        ("csp_cancelled", facts(), False),
    ],
)
def test_csp_positive(code, exit_facts, expected):
    assert classify_exit(RULES[code], exit_facts, "CSP").csp_positive is expected


@pytest.mark.parametrize(("threshold", "hours", "expected"), [(100, 105, True), (120, 115, False)])
def test_csp_hours_threshold_is_a_parameter(threshold, hours, expected):
    result = classify_exit(
        RULES["cdi"], facts(hours=hours), "CSP", csp_min_hours_per_month=threshold
    )
    assert result.csp_positive is expected


# --- PLIE: 004 --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "anticipated", "rupture"),
    [
        ("participant_request", True, True),
        ("loss_of_contact", True, True),  # incl. 2 consecutive unjustified absences
        ("better_suited_action", True, False),
        ("job_or_training", True, False),
        ("end_of_action", False, False),
    ],
)
def test_plie_reasons(code, anticipated, rupture):
    result = classify_exit(RULES[code], facts(), "PLIE")
    assert (result.is_anticipated, result.is_rupture) == (anticipated, rupture)
    assert (result.del_category, result.csp_positive, result.is_durable_job) == (None, False, False)


# --- Follow-up and anticipated exits --------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "exit_facts", "scheme", "expected"),
    [
        ("cdi", facts(), "DEL", True),
        ("cdd", facts(months=6), "DEL", True),
        ("cdd", facts(months=5), "DEL", False),
        ("interim", facts(months=8), "DEL", False),  # SD in 001, never ED
        ("qualifying_training", facts(months=9), "DEL", False),
        ("creation", facts(), "DEL", True),
        ("cdd", facts(months=5), "CSP", False),
        ("interim", facts(months=6), "CSP", True),
        ("qualifying_training", facts(months=6), "CSP", True),  # 002 §6: follow-up by extension
        ("poe", facts(then="cdi"), "CSP", True),
        ("auto_entrepreneur", facts(), "CSP", False),
        ("job_or_training", facts(), "PLIE", False),  # 004: no follow-up in employment
    ],
)
def test_durable_job(code, exit_facts, scheme, expected):
    assert classify_exit(RULES[code], exit_facts, scheme).is_durable_job is expected


END = date(2026, 10, 1)  # the planned end of the path
EARLY = date(2026, 6, 1)  # before it: « sortis avant la fin du parcours » (001)


# 001 Lots 1 and 2, étape 3: « L'étape 3 consiste à suivre le stagiaire à l'issue de son
# parcours » — « la mise en emploi ou en activité ; le maintien en entreprise » — « dans la
# limite d'une période de trois mois ». 002 §6: 6 months in employment after a durable job.
@pytest.mark.parametrize(
    ("code", "exit_facts", "scheme", "exit_date", "expected"),
    [
        # every DEL completer, in a job or not yet (« mise en emploi »)
        ("cdi", facts(), "DEL", END, True),
        ("cdd", facts(months=4), "DEL", END, True),  # SD
        ("interim", facts(months=8), "DEL", END, True),
        ("pre_qualifying_training", facts(), "DEL", END, True),  # SP
        ("tribal_life", facts(), "DEL", END, True),
        ("no_solution", facts(), "DEL", END, True),  # not yet in a job
        ("other", facts(), "DEL", END, True),
        # leaving early for a job or an activity: « le maintien en entreprise »
        ("cdi", facts(), "DEL", EARLY, True),
        ("seasonal", facts(), "DEL", EARLY, True),
        # leaving early without one, or an anticipated exit: no step 3
        ("no_solution", facts(), "DEL", EARLY, False),
        ("abandon", facts(), "DEL", END, False),
        ("moved", facts(), "DEL", END, False),
        ("health", facts(), "DEL", END, False),
        # CSP: a durable job only (002 §6)
        ("cdi", facts(), "CSP", END, True),
        ("cdd", facts(months=5), "CSP", END, False),
        ("no_solution", facts(), "CSP", END, False),
        # PLIE and ARJLJ: no follow-up (004, 002 I)
        ("end_of_action", facts(), "PLIE", END, False),
        ("csp_adhesion", facts(), "ARJLJ", END, False),
    ],
)
def test_which_exit_opens_the_follow_up(code, exit_facts, scheme, exit_date, expected):
    found = classify_exit(RULES[code], exit_facts, scheme, exit_date=exit_date,
                          planned_end_date=END)
    assert found.opens_follow_up is expected


@pytest.mark.parametrize(
    ("code", "exit_date", "planned_end", "expected"),
    [
        ("cdi", date(2026, 5, 4), date(2026, 8, 14), True),  # left before the planned end
        ("cdi", date(2026, 8, 14), date(2026, 8, 14), False),
        ("no_solution", date(2026, 8, 14), date(2026, 8, 14), False),
        ("abandon", None, None, True),
        ("abandon", date(2026, 8, 14), date(2026, 8, 14), True),
        ("cdi", None, None, False),
    ],
)
def test_anticipated_exit(code, exit_date, planned_end, expected):
    result = classify_exit(
        RULES[code], facts(), "DEL", exit_date=exit_date, planned_end_date=planned_end
    )
    assert result.is_anticipated is expected


def test_unknown_scheme_is_refused():
    with pytest.raises(ValueError, match="Dispositif de sortie : « RSA » inconnu"):
        classify_exit(RULES["cdi"], facts(), "RSA")


# --- Validation of the facts ------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "exit_facts", "scheme", "expected"),
    [
        ("cdi", facts(employer="Boulangerie Martin"), "CSP", []),
        ("cdi", facts(), "DEL", ["Employeur : à renseigner pour une sortie « CDI »"]),
        (
            "cdd",
            facts(employer="SLN"),
            "DEL",
            [
                "Durée du contrat (mois) : à renseigner pour une sortie « CDD » "
                "(elle décide de la catégorie de sortie, 001 et 002 §6)"
            ],
        ),
        (
            "cdd",
            facts(months=-1, employer="SLN"),
            "DEL",
            [
                "Durée du contrat (mois) : -1 mois n'est pas possible, la durée doit être d'au "
                "moins 1 mois"
            ],
        ),
        (
            "cdd",
            facts(months=120, employer="SLN"),
            "DEL",
            [
                "Durée du contrat (mois) : 120 mois dépasse le maximum vraisemblable de 60 mois, "
                "vérifier la saisie"
            ],
        ),
        (
            "part_time",
            facts(kind="cdi", hours=301, employer="SLN"),
            "CSP",
            [
                "Heures par mois : 301 h dépasse le maximum vraisemblable de 300 h par mois, "
                "vérifier la saisie"
            ],
        ),
        ("part_time", facts(kind="cdi", hours=300, employer="SLN"), "CSP", []),
        (
            "part_time",
            facts(kind="cdi", hours=0, employer="SLN"),
            "CSP",
            ["Heures par mois : 0 h n'est pas possible, attendu plus de 0 h"],
        ),
        (
            "part_time",
            facts(employer="SLN"),
            "CSP",
            [
                "Type de contrat : à renseigner pour une sortie « Emploi à temps partiel »",
                "Durée du contrat (mois) : à renseigner pour une sortie « Emploi à temps partiel » "
                "(elle décide de la catégorie de sortie, 001 et 002 §6)",
                "Heures par mois : à renseigner pour une sortie « Emploi à temps partiel » "
                "(002 §6 : un temps partiel compte à partir de 110 h par mois)",
            ],
        ),
        (
            "qualifying_training",
            facts(months=9),
            "CSP",
            [
                "Intitulé de la formation : à renseigner pour une sortie "
                "« Formation qualifiante ou diplômante »"
            ],
        ),
        (
            "qualifying_training",
            facts(title="CAP cuisine"),
            "CSP",
            [
                "Durée de la formation (mois) : à renseigner pour une sortie « Formation "
                "qualifiante "
                "ou diplômante » (elle décide de la catégorie de sortie, 001 et 002 §6)"
            ],
        ),
        (
            "poe",
            facts(employer="Airbus", title="Soudeur"),
            "CSP",
            [
                "Contrat signé à l'issue : à renseigner pour une sortie « Préparation "
                "opérationnelle "
                "à l'emploi (POE) avant embauche » (002 §6 : elle compte selon le contrat signé à "
                "l'issue)"
            ],
        ),
        (
            "poe",
            facts(then="cdd", employer="Airbus", title="Soudeur"),
            "CSP",
            [
                "Durée du contrat signé à l'issue (mois) : à renseigner pour une sortie « "
                "Préparation "
                "opérationnelle à l'emploi (POE) avant embauche » (002 §6 : contrat d'au moins "
                "12 mois)"
            ],
        ),
        (
            "cdd",
            facts(kind="permanent", months=6, employer="SLN"),
            "DEL",
            [
                "Type de contrat : « permanent » n'est pas un type de contrat connu (CDI, CDD, "
                "Intérim, "
                "Contrat d'apprentissage, Contrat de professionnalisation, Contrat aidé, Autre)"
            ],
        ),
        (
            "tribal_life",
            facts(),
            "CSP",
            [
                "Type de sortie : « Retour en vie tribale » n'est pas proposé pour le "
                "dispositif CSP "
                "(proposé pour : DEL)"
            ],
        ),
    ],
)
def test_validate_exit_facts(code, exit_facts, scheme, expected):
    assert validate_exit_facts(RULES[code], exit_facts, scheme) == expected


# --- DEL rates over the initial headcount (001) ---------------------------------------------


@pytest.mark.parametrize(
    ("categories", "headcount", "counts", "rates"),
    [
        (["ED", "SD", "SP", None, "ED"], 10, (2, 3, 4), (0.2, 0.3, 0.4)),
        (["SP", "SP"], 8, (0, 0, 2), (0.0, 0.0, 0.25)),
        ([None, None], 4, (0, 0, 0), (0.0, 0.0, 0.0)),
        ([], 0, (0, 0, 0), (None, None, None)),
    ],
)
def test_del_rates(categories, headcount, counts, rates):
    result = del_rates(categories, headcount)
    assert (result.ed_count, result.sd_count, result.sp_count) == counts
    # 2 / 10 == 0.2 holds in floating point too, so the rates compare exactly
    assert (result.ed_rate, result.sd_rate, result.sp_rate) == rates


def test_del_rates_refuses_an_unknown_category():
    with pytest.raises(ValueError, match="Catégorie de sortie DEL"):
        del_rates(["ED", "XX"], 5)


# --- What the exit form asks, what the user reads after closing ----------------------

from backoffice.rules.exits import (  # noqa: E402
    FACT_FIELDS,
    asked_facts,
    classification_summary,
)


@pytest.mark.parametrize(("code", "asked"), [
    ("cdi", ("employer",)),
    ("cdd", ("contract_months", "employer")),
    ("part_time", ("contract_kind", "contract_months", "hours_per_month", "employer")),
    ("qualifying_training", ("contract_months", "training_title")),
    ("poe", ("employer", "training_title", "followup_contract_kind",
             "followup_contract_months")),
    ("afpr", ("employer", "training_title", "followup_contract_kind",
              "followup_contract_months")),
    ("tribal_life", ()),
    ("end_of_action", ()),
])
def test_exit_form_asks_only_the_facts_of_the_type(code, asked):
    assert asked_facts(RULES[code]) == asked


def test_every_asked_fact_is_enough_to_pass_validation():
    """Filling exactly the asked facts never leaves a « à renseigner » error."""
    sample = {"contract_kind": "cdd", "contract_months": 8, "hours_per_month": 120,
              "employer": "SARL Sud", "training_title": "CAP cuisine",
              "followup_contract_kind": "cdd", "followup_contract_months": 12}
    for rule in RULES.values():
        filled = ExitFacts(**{name: sample[name] for name in asked_facts(rule)})
        assert validate_exit_facts(rule, filled) == [], rule.code
    assert set(FACT_FIELDS) == set(sample)


@pytest.mark.parametrize(("code", "scheme", "facts_", "follow_up", "expected"), [
    ("cdd", "DEL", facts(months=8, employer="X"), date(2027, 1, 1),
     "Sortie classée : emploi durable (ED) — suivi à l'issue du parcours (étape 3) jusqu'au "
     "01/01/2027"),
    ("no_solution", "DEL", facts(), date(2027, 1, 1),
     "Sortie classée : ni ED, ni SD, ni SP (001) — suivi à l'issue du parcours (étape 3) "
     "jusqu'au 01/01/2027"),
    ("cdd", "DEL", facts(months=4, employer="X"), None,
     "Sortie classée : sortie dynamique (SD) — parcours clôturé"),
    ("no_solution", "DEL", facts(), None,
     "Sortie classée : ni ED, ni SD, ni SP (001) — parcours clôturé"),
    ("cdi", "CSP", facts(employer="X"), date(2027, 3, 1),
     "Sortie classée : issue positive CSP — suivi dans l'emploi jusqu'au 01/03/2027"),
    ("auto_entrepreneur", "CSP", facts(), None,
     "Sortie classée : issue non positive CSP (002 §6) — parcours clôturé"),
    ("loss_of_contact", "PLIE", facts(), None,
     "Sortie classée : motif de sortie PLIE « Perte de contact » — sortie anticipée — "
     "parcours clôturé"),
])
def test_classification_is_said_in_french(code, scheme, facts_, follow_up, expected):
    rule = RULES[code]
    label = "Perte de contact" if scheme == "PLIE" else rule.label
    result = classify_exit(rule, facts_, scheme)
    assert classification_summary(result, label, follow_up) == expected
