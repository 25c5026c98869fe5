"""ESF+ exports (issue 24 §4): the participants file for the managing authority's mass
upload (CSV) and a summary workbook of the output and result indicators by sex and age
(XlsxWriter, the shared `ReportWorkbook`). No Flask: the admin view and any command call
these with the participants of `rules.esf.participants`.

The CSV layout is declared here as data (`CSV_COLUMNS`); docs/esf.md says where it comes
from and why: the official column list of the upload could not be found, the layout
follows the questionnaire's items and the platform's documented principles.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date

from ..enums import Answer
from ..indicators.base import Indicator, Kind
from ..indicators.lists import Column
from ..rules import esf as rules
from .workbook import ReportWorkbook

#: Codes of the answers in the file (one value per cell, no accents to mangle).
ANSWER_CODES = {Answer.YES: "OUI", Answer.NO: "NON", Answer.REFUSED: "REFUS"}


def _answer(value: Answer | None) -> str:
    return ANSWER_CODES.get(value, "") if value is not None else ""


def _day(value: date | None) -> str:
    return f"{value:%d/%m/%Y}" if value else ""


def _entry(name: str) -> Callable[[rules.Participant], str]:
    return lambda p: _answer(getattr(p.entry, name)) if p.entry else ""


def _exit(name: str) -> Callable[[rules.Participant], str]:
    return lambda p: _answer(getattr(p.exit, name)) if p.exit else ""


@dataclass(frozen=True)
class CsvColumn:
    header: str
    value: Callable[[rules.Participant], str]


CSV_COLUMNS: tuple[CsvColumn, ...] = (
    CsvColumn("IDENTIFIANT_PARTICIPANT", lambda p: str(p.person.person_id)),
    CsvColumn("OPERATION", lambda p: p.person.operation),
    CsvColumn("NOM", lambda p: p.person.last_name),
    CsvColumn("PRENOM", lambda p: p.person.first_name),
    CsvColumn("SEXE", lambda p: p.person.sex.value),
    CsvColumn("DATE_NAISSANCE", lambda p: _day(p.person.birth_date)),
    CsvColumn("CODE_POSTAL", lambda p: p.person.postcode or ""),
    CsvColumn("COMMUNE", lambda p: p.person.commune or ""),
    CsvColumn("DATE_ENTREE", lambda p: _day(p.entered_on)),
    CsvColumn("DATE_RECUEIL_ENTREE", lambda p: _day(p.entry.recorded_on) if p.entry else ""),
    CsvColumn("AGE_ENTREE", lambda p: str(p.age_at_entry)),
    CsvColumn("SITUATION_MARCHE_TRAVAIL",
              lambda p: p.entry.labour_market_status.value.upper()
              if p.entry and p.entry.labour_market_status else ""),
    CsvColumn("NIVEAU_CITE", lambda p: str(p.entry.isced_level)
              if p.entry and p.entry.isced_level is not None else ""),
    CsvColumn("MENAGE_SANS_EMPLOI", _entry("household_jobless")),
    CsvColumn("FAMILLE_MONOPARENTALE", _entry("single_parent_household")),
    CsvColumn("HANDICAP", _entry("disability")),
    CsvColumn("RESSORTISSANT_PAYS_TIERS", _entry("third_country_national")),
    CsvColumn("ORIGINE_ETRANGERE", _entry("foreign_background")),
    CsvColumn("MINORITE", _entry("minority")),
    CsvColumn("SANS_DOMICILE_EXCLUSION_LOGEMENT", _entry("homeless_or_housing_exclusion")),
    CsvColumn("ZONE_RURALE", _entry("rural_area")),
    CsvColumn("DATE_SORTIE", lambda p: _day(p.left_on)),
    CsvColumn("DATE_RECUEIL_SORTIE", lambda p: _day(p.exit.recorded_on) if p.exit else ""),
    CsvColumn("SORTIE_ETUDES_FORMATION", _exit("in_education_or_training")),
    CsvColumn("SORTIE_QUALIFICATION", _exit("gained_qualification")),
    CsvColumn("SORTIE_EMPLOI", _exit("in_employment")),
    CsvColumn("SORTIE_RECHERCHE_EMPLOI", _exit("job_searching")),
    CsvColumn("DATE_RECUEIL_6_MOIS",
              lambda p: _day(p.exit.six_month_recorded_on) if p.exit else ""),
    CsvColumn("EMPLOI_6_MOIS", _exit("six_month_in_employment")),
    CsvColumn("SITUATION_AMELIOREE_6_MOIS", _exit("six_month_better_situation")),
    CsvColumn("NOMBRE_REENTREES", lambda p: str(p.reentries)),
)


def participants_csv(found: Iterable[rules.Participant]) -> str:
    """The participants file: « ; » between fields, a header line, one line per
    participant and operation (texts never start a formula: a cell beginning with = + -
    or @ gets a leading apostrophe, as spreadsheet programs expect)."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow([column.header for column in CSV_COLUMNS])
    for participant in found:
        writer.writerow([_safe(column.value(participant)) for column in CSV_COLUMNS])
    return "\ufeff" + out.getvalue()


def _safe(text: str) -> str:
    return f"'{text}" if text[:1] in ("=", "+", "-", "@") else text


OUTPUTS = Indicator(
    "esf.outputs", "Indicateurs communs de réalisation (participants)",
    "Participants de l'opération comptés une fois chacun (première participation : ses "
    "données d'entrée ; une action d'une journée ou moins ne crée pas de participant), "
    "par sexe et par tranche d'âge à l'entrée. Un « Refuse de répondre » n'est jamais "
    "compté comme « oui ».",
    "Règlement (UE) 2021/1057, annexe I",
    Kind.COUNT,
)
RESULTS = Indicator(
    "esf.results", "Indicateurs communs de résultat (participants sortis)",
    "Participants sortis de l'opération (sortie de leur dernière participation) selon "
    "leur situation à la sortie (dans les 4 semaines) et, là où le dispositif la recueille, "
    "6 mois après la sortie ; par sexe et par tranche d'âge à l'entrée.",
    "Règlement (UE) 2021/1057, annexe I",
    Kind.COUNT,
)


def _columns() -> list[Column]:
    return [Column("Indicateur", "wrap", 50), *(Column(h, "int", 11) for h in rules.BREAKDOWN)]


def summary_workbook(target, found: Iterable[rules.Participant], *, operation: str,
                     period: str, producer: str, produced_on: date) -> None:
    """The summary workbook: cover, output indicators, result indicators, definitions."""
    found = list(found)
    title = f"FSE+ — indicateurs de l'opération {operation}"
    cover = [("Rapport", title), ("Opération FSE+", operation), ("Période", period),
             ("Participants", len(found)), ("Date de production", produced_on),
             ("Produit par", producer), ("Version", "agrégée (sans données nominatives)")]
    with ReportWorkbook(target, title=title, cover=cover, period=period) as book:
        book.table("Réalisation", _columns(),
                   rules.indicator_table(found, rules.OUTPUT_INDICATORS),
                   title=f"{OUTPUTS.name} — {operation}, {period}", cards=[OUTPUTS])
        book.table("Résultats", _columns(),
                   rules.indicator_table(found, rules.RESULT_INDICATORS),
                   title=f"{RESULTS.name} — {operation}, {period}", cards=[RESULTS])


__all__ = ["CSV_COLUMNS", "OUTPUTS", "RESULTS", "participants_csv", "summary_workbook"]
