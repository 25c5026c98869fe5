"""Finding people by name: the one search of every list and form that names people
(beneficiaries, referrals, paths, contacts, attendances, order lines, and the person and
path selects of the forms), issue 25 §2.

What is found: each word typed (split on spaces) must be *inside* the person's last name,
first name or external id, accents, case, hyphens, apostrophes and spaces ignored (each
side folded by `models.people.fold`): « dup » finds « Dupont », « pon » too, « anne dupont »
and « dupont anne » the same people, « lefevre-dupont », « Lefèvre Dupont » and
« LEFEVREDUPONT » « Lefèvre-Dupont », « dangelo » « D'Angelo ». It is what the lists'
search did before (Flask-Admin: every word inside one of the columns, case ignored), plus
the accents and the punctuation ignored; a word made of punctuation only is ignored.

How it is fast: the folded words are stored in `beneficiaries.search_key` (kept by the
model, `Beneficiary._refresh_keys`) and indexed by trigrams (models/search_index.py): a
word of three letters or more is looked up in that index. A word of one or two letters has
no trigram: it is checked on each person's key, which a list walking its own order stops
doing at its page (most people match such a word). The lists of people in name order read
the people found once, keeping only those up to the page asked (`people_in_name_order`);
the other lists are given the ids of the people found (or of their paths) written in their
statement, and each engine reads their rows or walks its order (`search_rows`).
"""
from sqlalchemy import (
    and_,
    any_,
    column,
    exists,
    func,
    literal_column,
    select,
    table,
    true,
)
from sqlalchemy.orm import aliased

from .models import Beneficiary, Enrolment, fold, search_index
from .models.search_index import FTS_TABLE

#: Words shorter than this have no trigram in the index.
TRIGRAM = 3
#: Up to how many people found (or their paths, for the records of a path) a list is
#: given their ids (see `search_rows`): beyond, the walk of a list in its order meets one
#: of theirs every 50 rows at most, at a million people (1 000 000 / 20 000). The most
#: frequent last name of the demo at a million, « Garnier », has 7 096 people.
FROM_PEOPLE_UP_TO = 20000
#: The same for a list's first page on PostgreSQL: there each person found is read from
#: the table (the trigram index only gives candidates), ≈ 2.5 µs each, and a first page
#: walked in its order meets one of them every 1 000 000 / 5 000 = 200 rows at most; the
#: walk then reads fewer (« gar », 13 910 people: 18 ms walked, 30 ms from their ids).
#: Not for the records of a path, whose walk asks a path and a person for each row
#: (contacts of « Garnier », page 1: 197 ms walked, 53 ms from the ids). SQLite reads the
#: ids from its trigram table alone: `FROM_PEOPLE_UP_TO` on every page.
FIRST_PAGE_FROM_PEOPLE_UP_TO = 5000
#: The rows of a list's first page (its default page size).
FIRST_PAGE_ROWS = 20
#: The same for the lists sorted by name: the people of a frequent last name sit together
#: in that order, far in it; starting from them stays cheaper up to more of them.
FROM_PEOPLE_UP_TO_BY_NAME = 20000

_fts = table(FTS_TABLE, column("rowid"), column("search_key"))


def search_words(text: str | None) -> list[str]:
    """The words of a search as they are compared: folded, empty ones left out."""
    words = (fold(word) for word in (text or "").split())
    return [word for word in words if word]


def _uses_fts(session) -> bool:
    """SQLite: the FTS5 table is there exactly when the library can have it (the
    migration and `create_all` create it then, models/search_index.py)."""
    return (session.get_bind().dialect.name == "sqlite"
            and search_index.sqlite_library_has_trigrams())


def person_clause(session, text: str | None, person=Beneficiary):
    """SQL condition on `person` (`Beneficiary` or an alias of it): the person matches
    every word of `text` (true when `text` holds no word)."""
    words = search_words(text)
    indexed = [word for word in words if len(word) >= TRIGRAM] if _uses_fts(session) else []
    clauses = []
    if indexed:
        clauses.append(person.id.in_(_fts_rowids(indexed)))
    # PostgreSQL: the GIN trigram index answers these LIKE by itself (three letters or
    # more); a shorter word is checked on each person's key.
    clauses += [person.search_key.like(f"%{word}%")
                for word in words if word not in indexed]
    return and_(*clauses) if clauses else true()


def _fts_rowids(words: list[str]):
    """SQLite: the ids of the people whose key holds every one of `words` (three letters
    or more), from the FTS5 table alone. One query for all the words (it intersects their
    lists): a phrase of the trigram tokenizer matches the word as a substring from the
    positions stored in the index alone (LIKE would read each candidate's key again). A
    folded word holds letters and digits only: nothing to quote or escape."""
    query = " AND ".join(f'"{word}"' for word in words)
    return select(_fts.c.rowid).where(literal_column(FTS_TABLE).op("MATCH")(query))


def people_matching(session, text: str | None):
    """The ids of the people matching `text` (a subquery). On SQLite, when every word has
    trigrams, the FTS5 table's rowids are those ids (its triggers keep it to the table,
    models/search_index.py): reading each person's row as well cost 30-45 ms for a
    frequent name at a million people (« Garnier »: 38 ms, the index alone 9 ms)."""
    words = search_words(text)
    if words and _uses_fts(session) and all(len(word) >= TRIGRAM for word in words):
        return _fts_rowids(words)
    return select(Beneficiary.id).where(person_clause(session, text))


def rows_of_people(session, model: type, text: str | None):
    """SQL condition on `model`: see `search_rows` (without how the rows are found)."""
    return search_rows(session, model, text)[0]


def search_rows(session, model: type, text: str | None, up_to: int | None = None):
    """(SQL condition on `model`, whether it starts from the people found): the row
    belongs to a person matching `text` — the person
    themself, their referral, path or contact (`beneficiary_id`), or another record of
    their path (`enrolment_id`: attendances, …).

    A list shows its first rows in its own order. Two ways to find them, and each engine's
    planner, guessing how many people match, often took the wrong one (a list walked in
    its order while the matches sat far in it: 100-280 ms at 100 000 people; or a
    frequent name's rows all read and sorted, or each row of the walk asking for its
    person: 90-260 ms for the pages of « Garnier » at a million):

    - people found through the index (up to `FROM_PEOPLE_UP_TO`, or `…_BY_NAME` for the
      lists sorted by name): one statement reads their ids — for the records of a path
      without their person (attendances…), the ids of their paths — and the list's
      statement is given them written out (`_rows_of`). Knowing how many they are, each
      engine then either reads their rows through the index of people and sorts them
      (few people), or walks its list in order and keeps the rows whose person is among
      them, checked in a hash of the ids (a frequent name: one referral in 140 for
      « Garnier », the page 2 of the referrals in 23 ms of SQL instead of 180, its ids
      included, PostgreSQL).
      SQLite always chose the first way; it is told to walk when that costs less
      (`_walks`: `up_to`, the rows of the page asked and those before it, a list without
      filter). On PostgreSQL a first page beyond `FIRST_PAGE_FROM_PEOPLE_UP_TO` people
      is walked without reading them. The lists of people in name order keep only the
      people up to their page: `people_in_name_order`;
    - more, or only words of one or two letters (no trigram; most people match them):
      the list walks its own order and keeps the rows of matching people, which are then
      frequent enough for the page to fill early.
    """
    words = search_words(text)
    if not words:
        return true(), False
    if model is not Beneficiary and not hasattr(model, "beneficiary_id") \
            and not hasattr(model, "enrolment_id"):
        raise ValueError(f"{model.__name__} : aucun lien vers une personne pour la recherche.")
    if any(len(word) >= TRIGRAM for word in words):
        limit = FROM_PEOPLE_UP_TO_BY_NAME if model is Beneficiary else FROM_PEOPLE_UP_TO
        if hasattr(model, "beneficiary_id") and up_to is not None \
                and up_to <= FIRST_PAGE_ROWS and session.get_bind().dialect.name == "postgresql":
            limit = min(limit, FIRST_PAGE_FROM_PEOPLE_UP_TO)
        ids = session.scalars(people_matching(session, text).limit(limit + 1)).all()
        if len(ids) <= limit:
            return _rows_of(session, model, ids, up_to), True
    if model is Beneficiary:
        return person_clause(session, text), False
    person = aliased(Beneficiary)
    if hasattr(model, "beneficiary_id"):
        link = person.id == model.beneficiary_id
    else:
        path = aliased(Enrolment)
        link = and_(path.id == model.enrolment_id, person.id == path.beneficiary_id)
    # Each row of the list, in the list's order, asks whether its person matches.
    probe = select(1).where(link, person_clause(session, text, person))
    if session.get_bind().dialect.name == "postgresql":
        # `OFFSET 0` keeps the question on each row walked: without it PostgreSQL may turn
        # it into a join planned from its estimate of the people found, which for a word
        # inside the names comes from a sample; after one ANALYZE it read 7 096 people
        # and their paths to sort them (« garnier », paths' page 1: 37 ms instead of 14)
        probe = probe.offset(0)
    return exists(probe), False


def people_in_name_order(session, people, text: str | None, up_to: int):
    """`search_rows` for a list of people shown in name order (`name_key`, then `id`) up
    to its `up_to`-th person (the page asked and those before it): (SQL condition on
    `Beneficiary`, whether it starts from the people found). `people` is the list's query
    of `Beneficiary` with all its own conditions (the role's scope), no filter added after.

    From the people found (up to `FROM_PEOPLE_UP_TO_BY_NAME`), one statement reads them
    through the index, each with its `name_key`, and keeps the ids of the first `up_to` in
    that order; the list then reads those rows only. Reading the ids alone, then the rows
    of all of them for the sort, read each person found twice: on PostgreSQL the trigram
    index gives candidates that are checked against the table's row, and a frequent name
    (« Nguyen », 8 766 people of 1 000 000) took 84-121 ms of SQL, one pass 17-30 ms
    (docs/benchmarks.md, « Name search through an index »). More people found, or no
    word of three letters: the list walks the name order (`person_clause`), as
    `search_rows` decides."""
    words = search_words(text)
    if any(len(word) >= TRIGRAM for word in words):
        limit = FROM_PEOPLE_UP_TO_BY_NAME
        found = (people.filter(person_clause(session, text)).order_by(None)
                 .with_entities(Beneficiary.id.label("id"),
                                Beneficiary.name_key.label("name_key"))
                 .limit(limit + 1).subquery())
        # the number found (at most limit + 1) on each row kept: one statement, one pass
        rows = session.execute(select(found.c.id, func.count().over())
                               .order_by(found.c.name_key, found.c.id).limit(up_to)).all()
        if not rows or rows[0][1] <= limit:
            return Beneficiary.id.in_([row[0] for row in rows]), True
    return (person_clause(session, text) if words else true()), False


def by_name(from_people: bool):
    """The alphabetical order of people (`name_key`, then `id`) for a search's page. From
    the people found, an expression the index of that order cannot give (the same bytes:
    `name_key || ''`): PostgreSQL, counting on matches spread along the order, walked that
    index to the first 20 (70 % of it for « Rolland », the matches sitting together at
    « r »: 80-110 ms at 100 000 people) instead of sorting the few people found."""
    key = Beneficiary.name_key.concat("") if from_people else Beneficiary.name_key
    return key, Beneficiary.id


def _rows_of(session, model: type, ids: list[int], up_to: int | None = None):
    """The rows of `model` that belong to the people `ids`; for the records of a path
    without their person, the ids of those people's paths are read first (one statement
    through the index of people: the list's statement then checks one number per row, not
    a path and its person). Contacts hold their person (migration 0033): reading the 5 589
    paths of « Garnier » took 14-19 ms on PostgreSQL at a million people."""
    if model is Beneficiary:
        return among(session, Beneficiary.id, ids)
    if hasattr(model, "beneficiary_id"):
        link, owner = model.beneficiary_id, Beneficiary
    else:
        ids = session.scalars(select(Enrolment.id).where(
            among(session, Enrolment.beneficiary_id, ids))).all()
        link, owner = model.enrolment_id, Enrolment
    if _walks(session, model, owner, ids, up_to):
        # `+ 0`: not the index of people (or paths), so the list's own order is walked
        return among(session, link + 0, ids)
    return among(session, link, ids)


#: SQLite: what a row of a list walked in its order costs, in rows read through the index
#: of its person (`_walks`). Each list's order index holds the person (migrations 0031 to
#: 0033): a row walked is checked from that index alone, where a row of the people found
#: is read from the table to be sorted. Measured at a million people (« Garnier »,
#: « EL569 », page 5): contacts 0.12-0.33 µs a row walked, 0.87 µs a row read; referrals
#: 0.27 and 2.3 µs; paths 0.27 and 0.7-2.0 µs (« Garnier », page 5 of the paths on a
#: freshly seeded database: 7.4-15.8 ms walked, 21-23 ms read).
WALKED_ROW_COST = {"contacts": 0.3, "referrals": 0.15, "enrolments": 0.15}


def _walks(session, model: type, owner: type, ids: list[int], up_to: int | None) -> bool:
    """SQLite: whether walking the list of `model` in its order until its `up_to`-th row of
    the people (or paths, `owner`) `ids` costs less than reading all their rows and
    sorting them, which SQLite chose whatever their number (« Garnier », 7 096 people:
    32 ms for each page of the referrals, where the walk reads page 1 in 9 ms; PostgreSQL
    weighs both itself). Estimated from the tables' sizes (their largest id: one step of
    their B-tree), the rows of `ids` spread evenly along the list."""
    if up_to is None or not ids or session.get_bind().dialect.name != "sqlite":
        return False
    owners = session.scalar(select(func.max(owner.id))) or 0
    rows = session.scalar(select(func.max(model.id))) or 0
    walked = up_to * owners / len(ids)
    matched = len(ids) * rows / max(owners, 1)
    return walked * WALKED_ROW_COST.get(model.__tablename__, 1.0) < matched


def among(session, column, ids: list[int]):
    """SQL condition: `column` is one of `ids` (numbers read from the database), written out
    in the statement. Each engine then knows how many they are and chooses between reading
    their rows through an index and walking the list's order with a hash of the ids.
    PostgreSQL gets one array constant: bound one by one, the values could be planned
    without (a generic plan once psycopg prepares the statement: each row compared with
    every id in turn), and a list of thousands of constants took 14 ms to plan. The text
    is written here: SQLAlchemy's rendering of bound values as text (`literal_execute`)
    took 120 ms of Python for 14 000 ids."""
    numbers = ",".join(str(int(number)) for number in ids)
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(literal_column(f"'{{{numbers}}}'::integer[]"))
    return column.op("IN")(literal_column(f"({numbers})"))
