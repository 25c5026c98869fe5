"""Reading, mapping, checking and matching the funders' lists (issue 23), without the
app or a database: files made like theirs (tests/import_files.py)."""
from datetime import date

import pytest

from backoffice.enums import Sex
from backoffice.imports import matching
from backoffice.imports.checks import check_row, new_person_problems
from backoffice.imports.mapping import (
    MappingProblem,
    Preset,
    check_columns,
    fold_header,
    load_preset_files,
    mapping_from_choice,
)
from backoffice.imports.reader import (
    UnreadableFile,
    csv_delimiter,
    csv_encoding,
    excel_serial_date,
    file_kind,
    parse_date,
    read_rows,
)
from backoffice.seeding.reference import DEFAULT_SEEDS_DIR
from tests.import_files import CSP_HEADERS, csp_rows, csv_bytes, excel_serial, xlsx_file

TODAY = date(2026, 3, 10)


# --- reader ---------------------------------------------------------------------------

@pytest.mark.parametrize("encoding, delimiter", [
    ("utf-8-sig", ";"), ("utf-8", ";"), ("cp1252", ";"), ("utf-8", ","), ("cp1252", ","),
])
def test_csv_of_every_encoding_and_separator_reads_the_accents(tmp_path, encoding, delimiter):
    path = tmp_path / "liste.csv"
    path.write_bytes(csv_bytes(CSP_HEADERS, csp_rows(3), delimiter=delimiter,
                               encoding=encoding))
    headers, header_line, data = read_rows(path)
    rows = list(data)
    assert headers == CSP_HEADERS and header_line == 1
    assert headers[1] == "Civilité" and headers[5] == "Date d'orientation"
    assert [row.cells[2] for row in rows] == ["Lefèvre-Dupont", "Çelik", "Prévost"]
    assert [row.number for row in rows] == [2, 3, 4]


def test_encoding_is_chosen_from_the_whole_file(tmp_path):
    """A Windows-1252 « é » far down the file still makes it Windows-1252."""
    path = tmp_path / "l.csv"
    path.write_bytes(b"Nom;Prenom\r\n" + b"A;B\r\n" * 20000 + "Zoé;É\r\n".encode("cp1252"))
    assert csv_encoding(path) == "cp1252"
    path.write_bytes("\ufeffNom;Prénom\r\n".encode())
    assert csv_encoding(path) == "utf-8-sig"


def test_title_and_blank_lines_are_passed_over_and_lines_keep_the_file_numbers(tmp_path):
    path = tmp_path / "liste.csv"
    path.write_bytes(csv_bytes(CSP_HEADERS, csp_rows(4), title="Adhésions CSP mars 2026",
                               blank_every=2))
    headers, header_line, data = read_rows(path)
    assert headers == CSP_HEADERS and header_line == 3  # title, blank line, header
    assert [row.number for row in data] == [4, 5, 7, 8]  # line 6 is blank


def test_xlsx_with_a_merged_title_blank_rows_and_serial_dates(tmp_path):
    path = xlsx_file(tmp_path / "liste.xlsx", CSP_HEADERS, csp_rows(5), blank_every=2)
    headers, header_line, data = read_rows(path)
    rows = list(data)
    assert headers == CSP_HEADERS and header_line == 3
    assert [row.number for row in rows] == [4, 5, 7, 8, 10]
    assert parse_date(rows[0].cells[4]) == date(1955, 1, 1)
    assert parse_date(rows[0].cells[5]) == date(2026, 3, 2)


def test_semicolon_wins_when_the_header_has_commas_in_no_cell():
    assert csv_delimiter("Liste\nNom;Prénom;Date\n") == ";"
    assert csv_delimiter("Nom,Prénom,Date\n") == ","


@pytest.mark.parametrize("name, message", [
    ("liste.xls", "Excel 97-2003"), ("liste.pdf", "ni un .csv ni un .xlsx"),
])
def test_other_formats_are_refused_in_french(name, message):
    with pytest.raises(UnreadableFile, match=message):
        file_kind(name)


def test_an_empty_file_or_one_without_a_header_is_refused(tmp_path):
    path = tmp_path / "vide.csv"
    path.write_bytes(b"\r\n;;\r\n")
    with pytest.raises(UnreadableFile, match="vide"):
        read_rows(path)
    path.write_bytes(b"Liste des orientations\r\n")
    with pytest.raises(UnreadableFile, match="en-tête"):
        read_rows(path)


def test_a_broken_workbook_is_one_french_message(tmp_path):
    path = tmp_path / "faux.xlsx"
    path.write_bytes(b"pas un classeur")
    with pytest.raises(UnreadableFile, match="illisible"):
        read_rows(path)


@pytest.mark.parametrize("value, expected", [
    (45000, date(2023, 3, 15)), (45000.0, date(2023, 3, 15)), ("45000", date(2023, 3, 15)),
    ("12/03/2026", date(2026, 3, 12)), ("12/03/26", date(2026, 3, 12)),
    ("2026-03-12", date(2026, 3, 12)), ("12.03.2026", date(2026, 3, 12)),
    ("2026-03-12 00:00:00", date(2026, 3, 12)), ("31/02/2026", None), ("demain", None),
    ("", None), (None, None), (True, None),
])
def test_dates_as_funders_write_them(value, expected):
    assert parse_date(value) == expected


def test_excel_serial_dates_out_of_range_are_not_dates():
    assert excel_serial_date(0) is None and excel_serial_date(200000) is None
    assert excel_serial_date(excel_serial(date(1990, 7, 14))) == date(1990, 7, 14)


# --- mapping --------------------------------------------------------------------------

def test_headers_are_compared_without_accents_case_or_punctuation():
    assert fold_header(" DATE_DE_NAISSANCE ") == fold_header("Date de naissance")
    assert fold_header("Né(e) le") == "ne e le"


def test_every_programme_has_a_preset_and_the_csp_one_maps_france_travail_headers():
    presets = {p.programme_code: p for p in load_preset_files(DEFAULT_SEEDS_DIR /
                                                                "import_presets")}
    assert set(presets) == {"DEL-L1", "DEL-L2", "ARJLJ", "CSP", "PLIE-L1", "PLIE-L2",
                            "PLIE-L3", "PLIE-L4"}
    mapping = presets["CSP"].mapping_for(CSP_HEADERS)
    assert mapping["external_id"] == 0 and mapping["birth_date"] == 4
    assert mapping["referred_on"] == 5 and mapping["sex"] == 1


def test_a_file_missing_a_required_header_matches_no_preset():
    preset = Preset("CSP", "x", {"last_name": ["Nom"], "first_name": ["Prénom"],
                                 "birth_date": ["Naissance"], "referred_on": ["Date"]})
    assert preset.mapping_for(["Nom", "Prénom", "Naissance"]) is None


def test_a_preset_naming_an_unknown_field_or_lacking_a_required_one_is_refused():
    with pytest.raises(MappingProblem, match="champ « age » inconnu"):
        check_columns({"age": ["Âge"]})
    with pytest.raises(MappingProblem, match="il manque Prénom, Date de naissance"):
        check_columns({"last_name": "Nom", "referred_on": "Date"})


def test_a_chosen_mapping_needs_the_required_fields_once_each():
    headers = ["A", "B", "C", "D"]
    assert mapping_from_choice(headers, {"last_name": 0, "first_name": 1, "birth_date": 2,
                                         "referred_on": 3, "sex": None}) == {
        "last_name": 0, "first_name": 1, "birth_date": 2, "referred_on": 3}
    with pytest.raises(MappingProblem, match="choisir la colonne de Date de prescription"):
        mapping_from_choice(headers, {"last_name": 0, "first_name": 1, "birth_date": 2})
    with pytest.raises(MappingProblem, match="« B » est choisie pour Prénom et pour"):
        mapping_from_choice(headers, {"last_name": 0, "first_name": 1, "birth_date": 2,
                                      "referred_on": 1})


# --- checks: the forms' rules, line, column and rule in French -------------------------

COLUMNS = {"birth_date": "Né(e) le", "referred_on": "Date d'orientation", "sex": "Civilité",
           "last_name": "Nom"}
GOOD = {"last_name": "Prévost", "first_name": "Zoé", "birth_date": "14/07/1990",
        "referred_on": "02/03/2026", "sex": "Mme"}


@pytest.mark.parametrize("cells, message", [
    ({"last_name": ""}, "Ligne 7, colonne « Nom » : champ obligatoire, la cellule est vide."),
    ({"birth_date": "31/02/1990"},
     "Ligne 7, colonne « Né(e) le » (Date de naissance) : « 31/02/1990 » n'est pas une date"),
    ({"birth_date": "14/07/2020"},
     "Ligne 7, colonne « Né(e) le » (Date de naissance) : un âge de 5 ans n'est pas "
     "plausible (entre 14 et 100 ans attendus)."),
    ({"birth_date": "14/07/2027"}, "le 14/07/2027 est dans le futur."),
    ({"referred_on": "11/03/2026"}, "(Date de prescription) : le 11/03/2026 est dans le "
                                     "futur"),
    ({"referred_on": "01/01/1980"}, "précède la date de naissance"),
    ({"sex": "X"}, "(Sexe) : « X » n'est pas un sexe reconnu"),
    ({"last_name": "A" * 101}, "101 caractères ; 100 au plus."),
    ({"email": "zoe.exemple.fr"}, "n'est pas une adresse e-mail"),
    ({"disability_recognition": "peut-être"}, "oui ou non attendu"),
])
def test_each_rule_names_the_line_the_column_and_the_rule(cells, message):
    row = check_row(7, {**GOOD, **cells}, COLUMNS, TODAY)
    assert any(message in problem.message for problem in row.problems), row.problems


def test_a_good_row_is_typed():
    row = check_row(3, {**GOOD, "disability_recognition": "Oui"}, COLUMNS, TODAY)
    assert row.problems == []
    assert row.values["birth_date"] == date(1990, 7, 14)
    assert row.values["sex"] is Sex.FEMALE and row.values["disability_recognition"] is True


@pytest.mark.parametrize("word, sex", [("M.", Sex.MALE), ("Monsieur", Sex.MALE),
                                       ("H", Sex.MALE), ("Madame", Sex.FEMALE),
                                       ("féminin", Sex.FEMALE)])
def test_civilities_give_the_sex(word, sex):
    assert check_row(2, {**GOOD, "sex": word}, COLUMNS, TODAY).values["sex"] is sex


def test_a_new_person_needs_the_sex():
    row = check_row(4, {k: v for k, v in GOOD.items() if k != "sex"}, COLUMNS, TODAY)
    assert row.problems == []
    new_person_problems(row, COLUMNS)
    assert "obligatoire pour une nouvelle personne" in row.problems[0].message


# --- matching -------------------------------------------------------------------------

ANNE = matching.KnownPerson(1, "Lefèvre-Dupont", "Anne-Marie", date(1980, 5, 1), "FT1")
NOEL = matching.KnownPerson(2, "Noël", "Gaïa", date(1991, 2, 3), None)
BY_ID = {"FT1": ANNE}
BY_IDENTITY = {(matching.name_key(p.last_name, p.first_name), p.birth_date): p
               for p in (ANNE, NOEL)}


@pytest.mark.parametrize("values, person, how", [
    # the external id names the person, whatever the names
    ({"external_id": "FT1", "last_name": "X", "first_name": "Y"}, ANNE,
     matching.BY_EXTERNAL_ID),
    # accents, case, hyphens and spaces ignored
    ({"last_name": "LEFEVRE DUPONT", "first_name": "anne marie",
      "birth_date": date(1980, 5, 1)}, ANNE, matching.BY_IDENTITY),
    ({"last_name": "noel", "first_name": "GAIA", "birth_date": date(1991, 2, 3)}, NOEL,
     matching.BY_IDENTITY),
    # first and last names swapped: a candidate to confirm
    ({"last_name": "Gaïa", "first_name": "Noël", "birth_date": date(1991, 2, 3)}, NOEL,
     matching.BY_SWAPPED_NAMES),
    # same identity under another external id: to confirm
    ({"external_id": "FT9", "last_name": "Lefevre-Dupont", "first_name": "Anne-Marie",
      "birth_date": date(1980, 5, 1)}, ANNE, matching.BY_IDENTITY_OTHER_ID),
    # another birth date: someone else
    ({"last_name": "Noël", "first_name": "Gaïa", "birth_date": date(1991, 2, 4)}, None, None),
    # an unknown external id and unknown names: new
    ({"external_id": "FT2", "last_name": "Oudinot", "first_name": "Loïc",
      "birth_date": date(1991, 2, 3)}, None, None),
])
def test_matching_table(values, person, how):
    found = matching.match_person(values, BY_ID, BY_IDENTITY)
    assert (found.person if found else None) == person
    assert (found.how if found else None) == how
    if found is not None:
        assert found.needs_confirmation == (how in matching.TO_CONFIRM)


def test_a_person_named_twice_in_the_file_is_a_duplicate_of_the_first_line():
    seen = matching.FileDuplicates()
    first = {"external_id": "FT1", "last_name": "Prévost", "first_name": "Zoé",
             "birth_date": date(1990, 7, 14)}
    assert seen.first_line_of(2, first) is None
    assert seen.first_line_of(5, {**first, "external_id": None,
                                  "last_name": "Zoé", "first_name": "PREVOST"}) == 2
    assert seen.first_line_of(6, {"external_id": "FT1"}) == 2
    assert seen.first_line_of(7, {**first, "external_id": "FT2",
                                  "birth_date": date(1990, 7, 15)}) is None
