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
doing at its page (most people match such a word).
"""
import math

from sqlalchemy import and_, column, exists, func, literal_column, select, table, true

from .models import Beneficiary, Enrolment, fold
from .models.search_index import FTS_TABLE, has_fts

#: Words shorter than this have no trigram in the index.
TRIGRAM = 3

_fts = table(FTS_TABLE, column("rowid"), column("search_key"))
# Whether each SQLite engine has the FTS5 table, asked once per engine.
_fts_of_engine: dict[str, bool] = {}


def search_words(text: str | None) -> list[str]:
    """The words of a search as they are compared: folded, empty ones left out."""
    words = (fold(word) for word in (text or "").split())
    return [word for word in words if word]


def _uses_fts(session) -> bool:
    bind = session.get_bind()
    if bind.dialect.name != "sqlite":
        return False
    key = str(bind.engine.url)
    if key not in _fts_of_engine:
        with bind.engine.connect() as connection:
            _fts_of_engine[key] = has_fts(connection)
    return _fts_of_engine[key]


def person_clause(session, text: str | None):
    """SQL condition on `Beneficiary`: the person matches every word of `text` (true when
    `text` holds no word)."""
    words = search_words(text)
    indexed = [word for word in words if len(word) >= TRIGRAM] if _uses_fts(session) else []
    clauses = []
    if indexed:
        # One query of the FTS5 table for all the words (it intersects their lists): a
        # phrase of the trigram tokenizer matches the word as a substring from the
        # positions stored in the index alone (LIKE would read each candidate's key again).
        # A folded word holds letters and digits only: nothing to quote or escape.
        query = " AND ".join(f'"{word}"' for word in indexed)
        clauses.append(Beneficiary.id.in_(select(_fts.c.rowid).where(
            literal_column(FTS_TABLE).op("MATCH")(query))))
    # PostgreSQL: the GIN trigram index answers these LIKE by itself (three letters or
    # more); a shorter word is checked on each person's key.
    clauses += [Beneficiary.search_key.like(f"%{word}%")
                for word in words if word not in indexed]
    return and_(*clauses) if clauses else true()


def people_matching(session, text: str | None):
    """The ids of the people matching `text` (a subquery)."""
    return select(Beneficiary.id).where(person_clause(session, text))


def rows_of_people(session, model: type, text: str | None):
    """SQL condition on `model`: the row belongs to a person matching `text` — the person
    themself, their referral or path (`beneficiary_id`), or a record of their path
    (`enrolment_id`: contacts, attendances, …)."""
    words = search_words(text)
    if not words:
        return true()
    if model is Beneficiary:
        return person_clause(session, text)
    if hasattr(model, "beneficiary_id"):
        person_id = model.beneficiary_id
    elif hasattr(model, "enrolment_id"):
        person_id = (select(Enrolment.beneficiary_id).where(Enrolment.id == model.enrolment_id)
                     .scalar_subquery())
    else:
        raise ValueError(f"{model.__name__} : aucun lien vers une personne pour la recherche.")
    if all(len(word) < TRIGRAM for word in words):
        # Most people match: each row of the list, in its order, asks for its person,
        # and the page stops at its first rows (no list of half the people built first).
        return exists().where(Beneficiary.id == person_id, person_clause(session, text))
    people = people_matching(session, text)
    if _many_people(session, people):
        # SQLite would start from the people found and sort all their rows; with many of
        # them, walking the list in its own order and keeping the rows of those people
        # stops sooner (« + 0 »: the column's index is not used to start from).
        key = (model.beneficiary_id if hasattr(model, "beneficiary_id")
               else model.enrolment_id) + 0
    else:
        key = model.beneficiary_id if hasattr(model, "beneficiary_id") else model.enrolment_id
    if hasattr(model, "beneficiary_id"):
        return key.in_(people)
    return key.in_(select(Enrolment.id).where(Enrolment.beneficiary_id.in_(people)))


def _many_people(session, people) -> bool:
    """SQLite only (PostgreSQL's planner weighs both ways from its statistics): whether
    more people match than `sqrt(20 × everyone)`. Where a list starts from the people
    found, it reads and sorts the rows of each (≈ that many rows); where it walks its own
    order, it reads about 20 × everyone / matches rows before its page is full (a person
    has about one row per list). Both cost the same at that number: above it, the walk is
    cheaper, under it the people found (one count of the index, stopped at the number)."""
    if not _uses_fts(session):
        return False
    everyone = session.scalar(select(func.max(Beneficiary.id))) or 0
    threshold = int(math.sqrt(20 * everyone))
    found = session.scalar(select(func.count()).select_from(
        people.limit(threshold + 1).subquery()))
    return found > threshold
