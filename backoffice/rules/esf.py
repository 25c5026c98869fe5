"""ESF+ participants: who counts, what their entry and exit say, and what the managing
authority checks before the data are uploaded (issue 24). Plain Python, no Flask, no
database: the facts come in as dataclasses (services/esf.py loads them).

Sources (docs/esf.md gives the wording and the addresses):

- Regulation (EU) 2021/1057 (ESF+), Annex I: the common output indicators on
  participants (labour-market status, age, ISCED level, disability, third-country
  nationals, foreign background, minorities, homeless or housing exclusion, rural areas)
  and the common result indicators (immediate, and six months after leaving).
- French managing authority (DREETS Grand Est, « Comprendre la gestion des participants
  dans les projets financés par le FSE+ », 13 January 2025): a person who benefits from
  an operation of one day or less is not a participant; « un participant = une
  opération ».
- A re-entry into the same operation keeps the first participation's start date and
  entry data, the exit date becomes the final exit, immediate results are those of the 4
  weeks after the exit (Scottish Government, « European Social Fund: participant
  guidance », after the Commission's ESF monitoring guidance, 2014-2020).

Rules:

- A **participation** is a path of a programme that belongs to an ESF+ operation
  (``Programme.esf_operation``) and lasted more than one day (`counts_as_participation`).
- A **participant** is one person in one operation: their paths there are one
  participant, whose entry data are those of the first participation (a re-entry keeps
  them: `participants`), and whose exit is the last participation's once it has ended.
- Sensitive items may be answered « Refuse de répondre »; a refusal is an answer, not a
  gap, and it is never counted as « oui » (`SENSITIVE`).
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from ..enums import Answer, LabourMarketStatus, Sex
from .calendar import add_months

#: A path of this many days or fewer (entry and exit days included) creates no
#: participant (DREETS Grand Est, 2025: « une journée ou moins »).
MAX_DAYS_WITHOUT_PARTICIPANT = 1
#: The exit questionnaire is due this many days after the exit (« dans les quatre
#: semaines »; the deadline rule esf_exit_record in seeds/deadline_rules.yaml says it to
#: the alerts).
EXIT_RECORD_DAYS = 28
#: The longer-term results are the situation this many months after leaving (Annex I).
LONGER_TERM_MONTHS = 6

# --- what is asked ------------------------------------------------------------------

#: Entry items: field → French label (the form, the checks, the fiche de liaison).
ENTRY_ITEMS: dict[str, str] = {
    "labour_market_status": "Situation sur le marché du travail à l'entrée",
    "isced_level": "Niveau d'études (CITE)",
    "household_jobless": "Ménage sans emploi",
    "single_parent_household": "Famille monoparentale",
    "disability": "Personne handicapée",
    "third_country_national": "Ressortissant de pays tiers",
    "foreign_background": "Personne d'origine étrangère",
    "minority": "Minorité (y compris communautés marginalisées)",
    "homeless_or_housing_exclusion": "Sans domicile ou exclu du logement",
    "rural_area": "Habite en zone rurale",
}
#: Items asked but not among the common indicators of Regulation (EU) 2021/1057 Annex I
#: (they were on the person before issue 24): never reported missing.
OPTIONAL = frozenset({"household_jobless", "single_parent_household"})
#: Items of special categories of personal data: « Refuse de répondre » is accepted.
SENSITIVE = frozenset({"disability", "third_country_national", "foreign_background",
                       "minority", "homeless_or_housing_exclusion"})
#: Immediate results, asked within four weeks of the exit (Annex I).
EXIT_ITEMS: dict[str, str] = {
    "in_education_or_training": "En études ou en formation à la sortie",
    "gained_qualification": "A obtenu une qualification à la sortie",
    "in_employment": "En emploi, y compris indépendant, à la sortie",
    "job_searching": "En recherche d'emploi à la sortie",
}
#: Longer-term results, six months after leaving, where the programme collects them.
SIX_MONTH_ITEMS: dict[str, str] = {
    "six_month_in_employment": "En emploi, y compris indépendant, 6 mois après la sortie",
    "six_month_better_situation": "Situation sur le marché du travail améliorée 6 mois "
                                  "après la sortie",
}

# --- groupings (Annex I breakdowns) -------------------------------------------------

AGE_BANDS = ("moins de 18 ans", "18 à 29 ans", "30 à 54 ans", "55 ans et plus")
ISCED_GROUPS = ("CITE 0 à 2", "CITE 3 à 4", "CITE 5 à 8")


def age_on(born: date, day: date) -> int:
    """Age in whole years on ``day`` (the age at entry on the entry day)."""
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def age_band(age: int) -> str:
    """Annex I: below 18, 18 to 29, 55 and above; the rest is 30 to 54."""
    if age < 18:
        return AGE_BANDS[0]
    if age <= 29:
        return AGE_BANDS[1]
    if age <= 54:
        return AGE_BANDS[2]
    return AGE_BANDS[3]


def isced_group(level: int | None) -> str | None:
    """Annex I: ISCED 0-2 (up to lower secondary), 3-4 (upper and post-secondary), 5-8
    (tertiary); None when the level is not known."""
    if level is None:
        return None
    if not 0 <= level <= 8:
        raise ValueError(f"Niveau CITE : {level} n'existe pas (0 à 8).")
    return ISCED_GROUPS[0] if level <= 2 else ISCED_GROUPS[1] if level <= 4 else ISCED_GROUPS[2]


def refused_where_not_allowed(answers: dict[str, Answer | None]) -> list[tuple[str, str]]:
    """(item, French message) for each non-sensitive entry item answered « Refuse de
    répondre »: a refusal is an answer only for the special categories of data
    (`SENSITIVE`, docs/esf.md)."""
    return [(name, f"{label} : « Refuse de répondre » n'est admis que pour les questions "
                   f"sensibles ; répondez oui ou non.")
            for name, label in ENTRY_ITEMS.items()
            if name not in SENSITIVE and answers.get(name) == Answer.REFUSED]


def entered_before_path_problem(entered_on: date, path_entry: date) -> str | None:
    """The operation is entered with the path, never before it."""
    if entered_on < path_entry:
        return (f"Date d'entrée dans l'opération : elle ne peut pas précéder l'entrée du "
                f"parcours ({path_entry:%d/%m/%Y}).")
    return None


def is_unemployed(status: LabourMarketStatus | None) -> bool:
    """« Chômeurs, y compris les chômeurs de longue durée » (Annex I)."""
    return status in (LabourMarketStatus.UNEMPLOYED, LabourMarketStatus.LONG_TERM_UNEMPLOYED)


# --- facts --------------------------------------------------------------------------

@dataclass(frozen=True)
class EntryFacts:
    """An entry questionnaire as recorded (values of models.EsfEntry)."""

    id: int
    entered_on: date
    recorded_on: date | None
    labour_market_status: LabourMarketStatus | None = None
    isced_level: int | None = None
    household_jobless: Answer | None = None
    single_parent_household: Answer | None = None
    disability: Answer | None = None
    third_country_national: Answer | None = None
    foreign_background: Answer | None = None
    minority: Answer | None = None
    homeless_or_housing_exclusion: Answer | None = None
    rural_area: Answer | None = None


@dataclass(frozen=True)
class ExitFacts:
    """An exit questionnaire as recorded (values of models.EsfExit)."""

    id: int
    left_on: date
    recorded_on: date | None
    in_education_or_training: Answer | None = None
    gained_qualification: Answer | None = None
    in_employment: Answer | None = None
    job_searching: Answer | None = None
    six_month_recorded_on: date | None = None
    six_month_in_employment: Answer | None = None
    six_month_better_situation: Answer | None = None


@dataclass(frozen=True)
class PathFacts:
    """One path of a person in an ESF+ operation."""

    enrolment_id: int
    programme_code: str
    entry_date: date
    exit_date: date | None
    entry: EntryFacts | None = None
    exit: ExitFacts | None = None
    six_month_result: bool = False  # the programme collects the 6-month situation


@dataclass(frozen=True)
class PersonFacts:
    """A person and their paths in one operation."""

    person_id: int
    name: str
    sex: Sex
    birth_date: date
    operation: str
    paths: tuple[PathFacts, ...]
    # identity as the export writes it
    last_name: str = ""
    first_name: str = ""
    postcode: str | None = None
    commune: str | None = None


def days_of(path: PathFacts) -> int | None:
    """How many days a path lasted, entry and exit days included (None: still open)."""
    if path.exit_date is None:
        return None
    return (path.exit_date - path.entry_date).days + 1


def counts_as_participation(path: PathFacts) -> bool:
    """A path of more than one day (or still open): an action of one day or less creates
    no participant (DREETS Grand Est, 2025)."""
    days = days_of(path)
    return days is None or days > MAX_DAYS_WITHOUT_PARTICIPANT


def _in_order(paths: Iterable[PathFacts]) -> list[PathFacts]:
    return sorted(paths, key=lambda p: (p.entry_date, p.enrolment_id))


def first_participation(paths: Iterable[PathFacts]) -> PathFacts | None:
    """The path whose entry data are the participant's: the first that counts."""
    return next((p for p in _in_order(paths) if counts_as_participation(p)), None)


@dataclass(frozen=True)
class Participant:
    """One person in one operation, as the managing authority counts them."""

    person: PersonFacts
    first: PathFacts  # its entry data are the participant's
    last: PathFacts  # its exit, once it has ended, is the participant's
    participations: tuple[PathFacts, ...]

    @property
    def entry(self) -> EntryFacts | None:
        return self.first.entry

    @property
    def entered_on(self) -> date:
        return self.entry.entered_on if self.entry else self.first.entry_date

    @property
    def age_at_entry(self) -> int:
        return age_on(self.person.birth_date, self.entered_on)

    @property
    def left_on(self) -> date | None:
        """The exit of the operation: the last participation's, once it has ended."""
        return self.last.exit_date

    @property
    def exit(self) -> ExitFacts | None:
        return self.last.exit if self.last.exit_date is not None else None

    @property
    def reentries(self) -> int:
        return len(self.participations) - 1


def participants(people: Iterable[PersonFacts]) -> list[Participant]:
    """One participant per person and operation; a person whose paths all lasted a day
    or less is none."""
    found = []
    for person in people:
        counted = [p for p in _in_order(person.paths) if counts_as_participation(p)]
        if counted:
            found.append(Participant(person, counted[0], counted[-1], tuple(counted)))
    return found


# --- the managing authority's checks -------------------------------------------------

ENTRY, EXIT = "entry", "exit"


@dataclass(frozen=True)
class Problem:
    """Something to fix before the export, on one path's entry or exit record."""

    enrolment_id: int
    record: str  # ENTRY or EXIT: which form fixes it
    message: str  # French, names the item and the rule
    record_id: int | None = None  # the record to edit (None: to create)


@dataclass
class PersonCheck:
    """What is missing or wrong for one person in one operation."""

    person: PersonFacts
    participant: Participant | None
    problems: list[Problem] = field(default_factory=list)

    @property
    def ready(self) -> bool:
        return self.participant is not None and not self.problems


def _answer_problems(record, items: dict[str, str], enrolment_id: int, kind: str,
                     sensitive: frozenset[str] = frozenset()) -> list[Problem]:
    found = []
    for name, label in items.items():
        value = getattr(record, name)
        if value is None and name in OPTIONAL:
            continue
        if value is None:
            found.append(Problem(enrolment_id, kind, f"« {label} » : non renseigné.",
                                 record.id))
        elif value == Answer.REFUSED and name not in sensitive:
            found.append(Problem(enrolment_id, kind,
                                 f"« {label} » : « Refuse de répondre » n'est admis que pour "
                                 f"les questions sensibles ; répondez oui ou non.", record.id))
    return found


def _entry_problems(participant: Participant, today: date) -> list[Problem]:
    path, entry = participant.first, participant.entry
    pid = path.enrolment_id
    if entry is None:
        return [Problem(pid, ENTRY, f"Données d'entrée FSE+ : non saisies (entrée le "
                                    f"{path.entry_date:%d/%m/%Y}, parcours n° {pid}).")]
    found = _answer_problems(entry, {k: v for k, v in ENTRY_ITEMS.items()
                                     if k not in ("labour_market_status", "isced_level")},
                             pid, ENTRY, SENSITIVE)
    for name in ("labour_market_status", "isced_level"):
        if getattr(entry, name) is None:
            found.insert(0, Problem(pid, ENTRY, f"« {ENTRY_ITEMS[name]} » : non renseigné.",
                                    entry.id))
    if entry.entered_on != path.entry_date:
        found.append(Problem(pid, ENTRY,
                             f"Date d'entrée FSE+ : le {entry.entered_on:%d/%m/%Y} n'est pas "
                             f"l'entrée du parcours ({path.entry_date:%d/%m/%Y}).", entry.id))
    if entry.entered_on <= participant.person.birth_date:
        found.append(Problem(pid, ENTRY, "Date d'entrée FSE+ : antérieure à la naissance.",
                             entry.id))
    if entry.recorded_on is None:
        found.append(Problem(pid, ENTRY, "Date de recueil des données d'entrée : non "
                                         "renseignée.", entry.id))
    elif entry.recorded_on > today:
        found.append(Problem(pid, ENTRY, f"Date de recueil des données d'entrée : le "
                                         f"{entry.recorded_on:%d/%m/%Y} est dans le futur.",
                             entry.id))
    return found


def _exit_problems(path: PathFacts, today: date) -> list[Problem]:
    pid = path.enrolment_id
    if path.exit_date is None:
        if path.exit is not None:
            return [Problem(pid, EXIT, "Données de sortie FSE+ : saisies alors que le parcours "
                                       "n'a pas de date de sortie.", path.exit.id)]
        return []
    record = path.exit
    if record is None:
        due = date.fromordinal(path.exit_date.toordinal() + EXIT_RECORD_DAYS)
        return [Problem(pid, EXIT, f"Données de sortie FSE+ : non saisies (sortie le "
                                   f"{path.exit_date:%d/%m/%Y}, à saisir au plus tard le "
                                   f"{due:%d/%m/%Y}).")]
    found = _answer_problems(record, EXIT_ITEMS, pid, EXIT)
    if record.left_on != path.exit_date:
        found.append(Problem(pid, EXIT, f"Date de sortie FSE+ : le {record.left_on:%d/%m/%Y} "
                                        f"n'est pas la sortie du parcours "
                                        f"({path.exit_date:%d/%m/%Y}).", record.id))
    if record.recorded_on is None:
        found.append(Problem(pid, EXIT, "Date de recueil des données de sortie : non "
                                        "renseignée.", record.id))
    elif record.recorded_on > today:
        found.append(Problem(pid, EXIT, f"Date de recueil des données de sortie : le "
                                        f"{record.recorded_on:%d/%m/%Y} est dans le futur.",
                             record.id))
    if path.six_month_result and add_months(path.exit_date, LONGER_TERM_MONTHS) <= today:
        if record.six_month_recorded_on is None:
            found.append(Problem(pid, EXIT, "Situation 6 mois après la sortie : non "
                                            "renseignée.", record.id))
        else:
            if record.six_month_recorded_on < add_months(path.exit_date, LONGER_TERM_MONTHS):
                found.append(Problem(pid, EXIT, "Situation 6 mois après la sortie : recueillie "
                                                "avant les 6 mois.", record.id))
            found += _answer_problems(record, SIX_MONTH_ITEMS, pid, EXIT)
    return found


def check_person(person: PersonFacts, today: date) -> PersonCheck:
    """The managing authority's checks for one person in one operation: one participant
    per operation (a second entry record is a duplicate), actions of one day or less
    create none, mandatory items filled, dates consistent."""
    found = participants([person])
    participant = found[0] if found else None
    check = PersonCheck(person, participant)
    if participant is None:
        return check
    check.problems += _entry_problems(participant, today)
    for path in _in_order(person.paths):
        if path.entry is not None and path is not participant.first:
            why = ("action d'une journée ou moins, qui ne crée pas de participant"
                   if not counts_as_participation(path) else
                   f"réentrée : les données d'entrée sont celles de la première participation "
                   f"(parcours n° {participant.first.enrolment_id})")
            check.problems.append(Problem(
                path.enrolment_id, ENTRY,
                f"Un participant par opération : données d'entrée en double sur le parcours "
                f"n° {path.enrolment_id} ({why}) ; supprimez-les.", path.entry.id))
    for path in participant.participations:
        check.problems += _exit_problems(path, today)
    return check


def check_all(people: Iterable[PersonFacts], today: date) -> list[PersonCheck]:
    """Every person's checks: those with something to fix first, then the participants
    ready for the export, then the people who are no participant; by name within each."""
    checks = [check_person(person, today) for person in people]
    return sorted(checks, key=lambda c: (not c.problems, c.participant is None,
                                         c.person.name, c.person.person_id))


# --- indicators ---------------------------------------------------------------------

#: Columns of the indicator tables: all, by sex, by age band at entry.
BREAKDOWN = ("Total", Sex.FEMALE.label, Sex.MALE.label, *AGE_BANDS)


def _is(answer: Answer | None) -> bool:
    return answer == Answer.YES


OUTPUT_INDICATORS: tuple[tuple[str, object], ...] = (
    ("Participants", lambda p: True),
    ("Chômeurs, y compris de longue durée",
     lambda p: p.entry is not None and is_unemployed(p.entry.labour_market_status)),
    ("Chômeurs de longue durée", lambda p: p.entry is not None and
     p.entry.labour_market_status == LabourMarketStatus.LONG_TERM_UNEMPLOYED),
    ("Inactifs", lambda p: p.entry is not None and
     p.entry.labour_market_status == LabourMarketStatus.INACTIVE),
    ("Salariés, y compris indépendants", lambda p: p.entry is not None and
     p.entry.labour_market_status == LabourMarketStatus.EMPLOYED),
    *((f"Niveau {group}", (lambda g: lambda p: p.entry is not None and
                           isced_group(p.entry.isced_level) == g)(group))
      for group in ISCED_GROUPS),
    *((ENTRY_ITEMS[name], (lambda n: lambda p: p.entry is not None and
                           _is(getattr(p.entry, n)))(name))
      for name in ("disability", "third_country_national", "foreign_background", "minority",
                   "homeless_or_housing_exclusion", "rural_area", "household_jobless",
                   "single_parent_household")),
    ("Refus de répondre à au moins une question sensible", lambda p: p.entry is not None and
     any(getattr(p.entry, n) == Answer.REFUSED for n in SENSITIVE)),
)

RESULT_INDICATORS: tuple[tuple[str, object], ...] = (
    ("Participants sortis", lambda p: p.left_on is not None),
    *((label, (lambda n: lambda p: p.exit is not None and _is(getattr(p.exit, n)))(name))
      for name, label in EXIT_ITEMS.items()),
    *((label, (lambda n: lambda p: p.exit is not None and _is(getattr(p.exit, n)))(name))
      for name, label in SIX_MONTH_ITEMS.items()),
)


def breakdown_of(participant: Participant) -> tuple[str, str, str]:
    """The columns a participant is counted in: total, sex, age band at entry."""
    return ("Total", participant.person.sex.label, age_band(participant.age_at_entry))


def indicator_table(found: Iterable[Participant], indicators) -> list[tuple]:
    """(indicator, count per BREAKDOWN column) for every indicator."""
    found = list(found)
    counts = {label: defaultdict(int) for label, _test in indicators}
    for participant in found:
        columns = breakdown_of(participant)
        for label, test in indicators:
            if test(participant):
                for column in columns:
                    counts[label][column] += 1
    return [(label, *(counts[label][column] for column in BREAKDOWN))
            for label, _test in indicators]


__all__ = [
    "AGE_BANDS", "Answer", "BREAKDOWN", "ENTRY_ITEMS", "EXIT_ITEMS", "EntryFacts",
    "ExitFacts", "ISCED_GROUPS", "OUTPUT_INDICATORS", "Participant", "PathFacts",
    "PersonCheck", "PersonFacts", "Problem", "RESULT_INDICATORS", "SENSITIVE",
    "SIX_MONTH_ITEMS", "age_band", "age_on", "check_all", "check_person",
    "counts_as_participation", "first_participation", "indicator_table", "isced_group",
    "participants",
]
