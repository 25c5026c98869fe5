"""Issue 25 §2: people are found by name through an index, the same way on every list and
form that names them (backoffice/people_search.py, models/search_index.py)."""
import re
from datetime import date, datetime, timedelta

from flask_migrate import upgrade
from sqlalchemy import Unicode, and_, cast, event, or_, select, text

from backoffice import people_search
from backoffice.enums import Role
from backoffice.extensions import db
from backoffice.models import Beneficiary, Contact, Enrolment, Referral, fold, search_index
from backoffice.privacy import anonymise
from tests.conftest import post_edit
from tests.integration.test_admin_access import make_beneficiary, make_path, make_reference
from tests.integration.test_alerts_view import plan
from tests.integration.test_query_counts import filter_arg

# Last name, first name, external id: accents, hyphens, apostrophes, spaces, case, a
# letter outside Latin-1, homonyms in both orders (« Anne Martin » / « Martin Anne »).
PEOPLE = [
    ("Dupont", "Anne", "1234567A"), ("DUPONT", "Jean", None), ("Dupontel", "Marc", None),
    ("Lefèvre-Dupont", "Anne-Marie", "DEL0001234"), ("Prévost", "Éric", None),
    ("PRÉVOST", "Léa", "7654321B"), ("D'Angelo", "Chloé", None), ("Le Goff", "Yann", None),
    ("Nguyen", "Thi Lan", None), ("Çelik", "Zoé", None), ("Martin", "Anne", None),
    ("Anne", "Martin", None), ("Wamytan", "Léa", "DEL0009999"), ("Ø'Brien", "Søren", None),
]
# What users type: prefixes, whole names, either order, accents and case as they come.
QUERIES = [
    "dup", "Dupont", "DUPONT", "dupont anne", "anne dupont", "Anne   Dupont", "pon", "ontel",
    "prevost", "Prévost", "PRÉVOST", "prévost léa", "lefevre-dupont", "Lefèvre Dupont",
    "lefevredupont", "anne-marie", "annemarie", "d'angelo", "dangelo", "angelo", "le goff",
    "legoff", "goff yann", "ngu", "thi lan", "celik", "Çelik", "zoe", "martin anne",
    "anne martin", "", "   ", "a", "é", "e", "zz", "x", "1234567a", "del000", "0009999",
    "o'brien", "øbrien", "søren", "-", "'", "léa wamytan", "nobody",
]
# Queries the old search (Flask-Admin: each word inside a column, case ignored) answered
# exactly as the new one: no accent, hyphen or apostrophe in what they differ on.
SAME_AS_BEFORE = {
    "dup", "Dupont", "DUPONT", "dupont anne", "anne dupont", "Anne   Dupont", "pon", "ontel",
    "angelo", "ngu", "thi lan", "goff yann", "martin anne", "anne martin", "", "   ",
    "zz", "1234567a", "del000", "0009999", "nobody",
}
OLD_COLUMNS = (Beneficiary.last_name, Beneficiary.first_name, Beneficiary.external_id)


def add_people():
    for number, (last, first, external_id) in enumerate(PEOPLE):
        make_beneficiary(last, first, date(1980, 1, 1 + number), external_id=external_id)
    db.session.commit()


def names(clause) -> set[str]:
    return {f"{p.last_name} {p.first_name}"
            for p in db.session.scalars(select(Beneficiary).where(clause))}


def old_search(query: str):
    """The search of the lists before issue 25 (Flask-Admin's `_apply_search`)."""
    words = [word for word in query.split(" ") if word]
    return and_(True, *(or_(*(cast(c, Unicode).ilike(f"%{w}%") for c in OLD_COLUMNS))
                        for w in words))


def expected(query: str) -> set[str]:
    """The rule in plain Python: each folded word inside the folded last name, first name
    or external id."""
    words = [fold(word) for word in query.split() if fold(word)]
    return {f"{last} {first}" for last, first, external_id in PEOPLE
            if all(any(word in fold(part) for part in (last, first, external_id))
                   for word in words)}


def test_the_search_gives_the_old_results_and_ignores_accents_and_punctuation(app):
    """Every query finds what the old search found (nothing is lost), exactly the rule's
    people (accents, case, hyphens, apostrophes and spaces ignored, either order,
    prefixes and inner parts), and for queries without accents or punctuation exactly what
    the old search found."""
    with app.app_context():
        add_people()
        for query in QUERIES:
            new = names(people_search.person_clause(db.session, query))
            old = names(old_search(query))
            assert new == expected(query), query
            assert old <= new, query
            if query in SAME_AS_BEFORE:
                assert new == old, query
        # the examples of the issue, spelled out
        assert names(people_search.person_clause(db.session, "dup")) == {
            "Dupont Anne", "DUPONT Jean", "Dupontel Marc", "Lefèvre-Dupont Anne-Marie"}
        assert names(people_search.person_clause(db.session, "prevost lea")) == {
            "PRÉVOST Léa"}
        assert names(people_search.person_clause(db.session, "martin anne")) == {
            "Martin Anne", "Anne Martin"}


def test_the_key_follows_the_names_and_the_index_follows_the_key(app):
    """A renamed person is found by the new name only, a new external id replaces the old
    one, a deleted or anonymised person is no longer found by their name (the trigger /
    index on SQLite, the GIN index on PostgreSQL)."""
    with app.app_context():
        add_people()
        found = lambda query: names(people_search.person_clause(db.session, query))  # noqa: E731
        person = db.session.scalars(select(Beneficiary).where(
            Beneficiary.last_name == "Wamytan")).one()
        person.last_name, person.external_id = "Kaouma", "DEL0001111"
        db.session.commit()
        assert found("wamytan") == set() and found("0009999") == set()
        assert found("kaouma lea") == {"Kaouma Léa"} == found("del0001111")
        db.session.delete(db.session.scalars(select(Beneficiary).where(
            Beneficiary.last_name == "Çelik")).one())
        db.session.commit()
        assert found("celik") == set()
        prevost = db.session.scalars(select(Beneficiary).where(
            Beneficiary.external_id == "7654321B")).one()
        anonymise(db.session, prevost, datetime(2026, 1, 1))
        db.session.commit()
        assert found("7654321b") == set()
        assert found("prevost") == {"Prévost Éric"}


def test_every_list_and_form_that_names_people_finds_them_the_same_way(app, client, auth,
                                                                      monkeypatch):
    """Beneficiaries, referrals, paths, contacts and the person and path selects of the
    forms: « prevost lea » (accents and order ignored) finds Léa Prévost, not Éric."""
    with app.app_context():
        reference = make_reference()
        add_people()
        lea = db.session.scalars(select(Beneficiary).where(
            Beneficiary.external_id == "7654321B")).one()
        eric = db.session.scalars(select(Beneficiary).where(
            Beneficiary.first_name == "Éric")).one()
        paths = [make_path(reference["programme"], None, person) for person in (lea, eric)]
        for path in paths:
            db.session.add(Referral(beneficiary=path.beneficiary,
                                    programme=reference["programme"],
                                    referred_on=date(2025, 1, 2)))
            db.session.add(Contact(enrolment=path, contact_type_id=reference["contact_type"].id,
                                   occurs_at=datetime(2025, 1, 7, 10)))
        db.session.commit()
        lea_path = paths[0].id
    auth.login("admin")
    for up_to in (5000, 0):  # from the people found, or walking the list in its order
        monkeypatch.setattr(people_search, "FROM_PEOPLE_UP_TO", up_to)
        monkeypatch.setattr(people_search, "FROM_PEOPLE_UP_TO_BY_NAME", up_to)
        for slug in ("beneficiaries", "referrals", "enrolments", "contacts"):
            page = client.get(f"/admin/{slug}/?search=prevost+lea").get_data(as_text=True)
            assert "Léa" in page, slug
            assert "Éric" not in page, slug
            # one letter each: no trigram, the list walks its order
            short = client.get(f"/admin/{slug}/?search=l+a+e").get_data(as_text=True)
            assert "Léa" in short and "Éric" not in short, slug
    people = client.get("/admin/referrals/ajax/lookup/?name=beneficiary&query=prevost lea")
    assert [label for _id, label in people.get_json()] == ["PRÉVOST Léa (06/01/1980)"]
    found = client.get("/admin/contacts/ajax/lookup/?name=enrolment&query=léa prévost")
    assert [row[0] for row in found.get_json()] == [lea_path]
    by_number = client.get(f"/admin/contacts/ajax/lookup/?name=enrolment&query={lea_path}")
    assert [row[0] for row in by_number.get_json()] == [lea_path]


def test_a_counsellor_finds_only_the_people_of_their_own_paths(app, client, auth, users):
    """The search keeps the role's rows: a counsellor searching « prevost » sees the
    person of their path, not another counsellor's (lists and form select)."""
    with app.app_context():
        reference = make_reference()
        add_people()
        mine, other = db.session.scalars(select(Beneficiary).where(
            Beneficiary.search_key.like("prevost%")).order_by(Beneficiary.id)).all()
        make_path(reference["programme"], users[Role.COUNSELLOR.value], mine)
        make_path(reference["programme"], None, other)
        db.session.commit()
    auth.login(Role.COUNSELLOR.value)
    listed = client.get("/admin/enrolments/?search=prevost").get_data(as_text=True)
    assert "Éric" in listed and "Léa" not in listed
    lookup = client.get("/admin/contacts/ajax/lookup/?name=enrolment&query=prevost")
    assert len(lookup.get_json()) == 1


def explain(statement, sort: bool = True) -> str:
    """`plan` of test_alerts_view, for a statement with a list of ids (IN (…)); on
    PostgreSQL `sort=False` prices sorts out (a walk of an index in order wins if any)."""
    connection = db.session.connection()
    compiled = statement.compile(dialect=connection.dialect,
                                 compile_kwargs={"render_postcompile": True})
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
        connection.exec_driver_sql(f"SET LOCAL enable_sort = {'on' if sort else 'off'}")
        rows = connection.exec_driver_sql(f"EXPLAIN {compiled}", compiled.params)
        return "\n".join(row[0] for row in rows)
    rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}",
                                      tuple(compiled.params[k] for k in compiled.positiontup))
    return "\n".join(row[-1] for row in rows)


def test_a_word_of_three_letters_or_more_walks_the_trigram_index(app, monkeypatch):
    """EXPLAIN: the people of a search are read through the trigram index (SQLite: the FTS5
    table; PostgreSQL: pg_trgm's GIN index), then a list's rows through its index of
    people; walking a list in its order (many people found) asks the index too (SQLite) or
    each row's person by its key (PostgreSQL)."""
    with app.app_context():
        add_people()
        statements = [
            people_search.people_matching(db.session, "dupont anne").limit(20001),
            select(Referral.id).where(people_search.rows_of_people(
                db.session, Referral, "dup")).order_by(Referral.referred_on.desc()).limit(20),
        ]
        # the beneficiaries' page in name order: the people found, sorted, never the
        # name index walked until the first matches (PostgreSQL chose it, sort or not)
        clause, from_people = people_search.search_rows(db.session, Beneficiary, "dupont")
        statements.append(select(Beneficiary.id).where(clause).order_by(
            *people_search.by_name(from_people)).limit(21))
        monkeypatch.setattr(people_search, "FROM_PEOPLE_UP_TO", 0)
        statements.append(select(Referral.id).where(people_search.rows_of_people(
            db.session, Referral, "dup")).order_by(Referral.referred_on.desc()).limit(20))
        found = [explain(statement, sort=number != 2)
                 for number, statement in enumerate(statements)]
        # the paths of the people found, for the records of a path: from the index alone
        paths = explain(select(Enrolment.id).where(
            people_search.among(db.session, Enrolment.beneficiary_id, [1, 2, 3])))
        db.session.rollback()
        postgres = db.engine.dialect.name == "postgresql"
        index = (search_index.TRIGRAM_INDEX if postgres
                 else f"{search_index.FTS_TABLE} VIRTUAL TABLE INDEX")
    assert index in found[0] and "SCAN beneficiaries" not in found[0], found[0]
    # the referrals of the people found (SQLite); PostgreSQL weighs it against walking
    # the dates of an empty test table: no full scan either way
    assert "ix_referrals_beneficiary_id" in found[1] or (
        db.engine.dialect.name == "postgresql" and "Seq Scan" not in found[1]), found[1]
    assert "ix_beneficiaries_name_key_id" not in found[2], found[2]
    if postgres:
        # the walk in the list's order asks each row's person by its key, whatever the
        # engine estimates of the people found (not a join planned from that estimate),
        # from the index of the keys by id alone (migration 0034)
        assert "ix_referrals_referred_on_id_beneficiary_id" in found[3] and "SubPlan" in found[3] \
            and search_index.KEY_BY_ID_INDEX in found[3] and "Seq Scan" not in found[3], found[3]
    else:
        assert index in found[3], found[3]
    # migration 0029 (PostgreSQL reads it alone once autovacuum marked the table visible)
    assert "ix_enrolments_beneficiary_id_id" in paths, paths


def test_without_the_trigram_index_the_search_reads_the_table_with_the_same_results(
        app, monkeypatch):
    """No pg_trgm (or no FTS5): the index is left out, with a warning and the caller's
    transaction intact, and the same search finds the same people by reading the table."""
    with app.app_context():
        add_people()
        before = names(people_search.person_clause(db.session, "dupont anne"))
        connection = db.session.connection()
        search_index.drop(connection)
        if connection.dialect.name == "postgresql":
            monkeypatch.setattr(search_index, "POSTGRESQL",
                                ["CREATE EXTENSION no_such_trigram_extension"])
        else:
            monkeypatch.setattr(search_index, "sqlite_library_has_trigrams", lambda: False)
        assert search_index.create(connection) is False
        assert connection.scalar(text("SELECT count(*) FROM beneficiaries")) == len(PEOPLE)
        assert names(people_search.person_clause(db.session, "dupont anne")) == before
        assert search_index.TRIGRAM_INDEX not in plan(select(Beneficiary.id).where(
            people_search.person_clause(db.session, "dupont")))
        db.session.rollback()


def test_the_migration_fills_the_key_of_the_people_already_recorded(tmp_path):
    """Migration 0022 on a database holding people: their keys are computed and indexed."""
    from tests.integration.test_migrations import _fresh_app

    app = _fresh_app(tmp_path)
    with app.app_context():
        upgrade(revision="0018")
        with db.engine.begin() as connection:
            for number, (last, first, external_id) in enumerate(PEOPLE):
                connection.execute(text(
                    "INSERT INTO beneficiaries (id, last_name, first_name, name_key, "
                    "birth_date, sex, external_id, long_term_job_seeker, rsa_recipient, "
                    "social_minima, disability_recognition, experimental_csp_public, "
                    "household_without_employment, single_parent_household, fse_disability,"
                    " foreign_origin_or_minority, homeless_or_housing_exclusion, rural_area, "
                    "created_at, updated_at, version) VALUES (:id, :last, :first, :key, "
                    ":born, 'F', :ext, false, false, false, false, false, false, false, "
                    "false, false, false, false, :now, :now, 1)"),
                    {"id": number + 1, "last": last, "first": first,
                     "key": f"{fold(last)} {fold(first)}", "born": date(1980, 1, 1 + number),
                     "ext": external_id, "now": datetime(2026, 1, 1)})
        upgrade()
        for query in ("dup", "prevost lea", "anne martin", "del000", "a"):
            assert names(people_search.person_clause(db.session, query)) == expected(query)
        db.session.remove()


def _ids_shown(page: str) -> list[int]:
    """The ids of the rows of a list page, in their order (the « details » link of each)."""
    ids = [int(found) for found in re.findall(r"/details/\?id=(\d+)", page)]
    return list(dict.fromkeys(ids))


#: A bound value as each driver writes it: « ? » (SQLite), « %(id_1_1)s::INTEGER » (psycopg).
_VALUE = r"(?:\?|%\(\w+\)s(?:::\w+)?)"


def _largest_list_of_ids(statements, written: bool = True) -> int:
    """The most values of one « IN (…) » list among `statements` (the ids it carries),
    bound one by one or, with `written`, written out (« IN (1, 2) », « = ANY ('{1,2}') »)."""
    value = rf"(?:{_VALUE}|[0-9]+)" if written else _VALUE
    lists = [inner for statement, _parameters in statements
             for inner in re.findall(rf"\bIN \(({value}(?:, ?{value})*)\)", statement)]
    if written:
        lists += [inner for statement, _parameters in statements
                  for inner in re.findall(r"= ANY \('\{([0-9]+(?:,[0-9]+)*)\}'", statement)]
    return max((inner.count(",") + 1 for inner in lists), default=0)


def test_a_list_of_people_in_name_order_reads_the_people_found_once(app, client, auth,
                                                                   users, monkeypatch):
    """The beneficiaries list and the person select, in name order: the people found are
    read through the index with their name key in one statement, and the list then reads
    only those up to the page asked (20 for the first page, 40 for the second, 10 for the
    select), not every person found again; the pages are those of walking the name order,
    homonyms by id, and a counsellor's scope and a filter keep to their rows."""
    with app.app_context():
        reference = make_reference()
        firsts = ["Anne", "Zoé", "Léa", "Marc", "Éric"]
        dupont = [make_beneficiary("Dupont", firsts[number % 5], date(1970, 1, 1 + number))
                  for number in range(28)]
        dupont += [make_beneficiary("Dupontel", "Anne", date(1980, 1, 1 + number))
                   for number in range(17)]
        make_beneficiary("Martin", "Anne", date(1990, 1, 1))
        for person in dupont[:3]:
            make_path(reference["programme"], users[Role.COUNSELLOR.value], person)
        for person in dupont[-5:]:  # after the first page in name order
            person.commune = "Dumbéa"
        db.session.commit()
        in_order = [person.id for person in sorted(dupont, key=lambda p: (p.name_key, p.id))]
        in_dumbea = [person for person in in_order if person in {p.id for p in dupont[-5:]}]
        mine = [person for person in in_order if person in {p.id for p in dupont[:3]}]

    def read(url: str):
        statements = []

        def on(_conn, _cursor, statement, parameters, _context, _many):
            statements.append((statement, parameters))

        event.listen(db.engine, "before_cursor_execute", on)
        try:
            response = client.get(url)
        finally:
            event.remove(db.engine, "before_cursor_execute", on)
        assert response.status_code == 200, url
        return response, _largest_list_of_ids(statements)

    auth.login("admin")
    with app.app_context():
        pages = {}
        for up_to in (people_search.FROM_PEOPLE_UP_TO_BY_NAME, 0):  # found, or walked
            monkeypatch.setattr(people_search, "FROM_PEOPLE_UP_TO_BY_NAME", up_to)
            first, first_ids = read("/admin/beneficiaries/?search=dupont")
            second, second_ids = read("/admin/beneficiaries/?search=dupont&page=1")
            select_, select_ids = read(
                "/admin/referrals/ajax/lookup/?name=beneficiary&query=dupont")
            pages[up_to] = (_ids_shown(first.get_data(as_text=True)),
                            _ids_shown(second.get_data(as_text=True)),
                            [row[0] for row in select_.get_json()])
            if up_to:
                assert (first_ids, second_ids, select_ids) == (20, 40, 10)
        assert pages[0] == pages[people_search.FROM_PEOPLE_UP_TO_BY_NAME] == (
            in_order[:20], in_order[20:40], in_order[:10])
        # a filter after the search: every person found, then filtered, as before
        commune = filter_arg(app, "beneficiaries", "Commune", "FilterEqual")
        filtered, _ = read(f"/admin/beneficiaries/?search=dupont&{commune}=Dumb%C3%A9a")
        assert _ids_shown(filtered.get_data(as_text=True)) == in_dumbea
        # sorted by birth date: every person found, as before
        monkeypatch.setattr(people_search, "FROM_PEOPLE_UP_TO_BY_NAME", 20000)
        by_birth, ids = read("/admin/beneficiaries/?search=dupont&sort=3")
        assert ids == len(dupont)
        assert len(_ids_shown(by_birth.get_data(as_text=True))) == 20
    auth.logout()
    auth.login(Role.COUNSELLOR.value)
    with app.app_context():
        listed, _ = read("/admin/beneficiaries/?search=dupont")
        assert _ids_shown(listed.get_data(as_text=True)) == mine
        lookup, _ = read("/admin/enrolments/ajax/lookup/?name=beneficiary&query=dupont")
        assert [row[0] for row in lookup.get_json()] == mine


def test_the_lists_of_referrals_paths_and_contacts_give_the_same_pages_every_way(
        app, client, auth, monkeypatch):
    """Issue 25 §2: a frequent name on the referrals, paths and contacts lists, page after
    page, gives the rows of walking each list in its order (date, then number, both
    descending; ties on the date included), whichever way the rows are found: from the
    people's ids written in the statement (each engine choosing), from those ids while
    walking the list (what SQLite is told when it reads fewer rows), or by the walk asking
    each row for its person (no id read first). The ids are written out, not bound one by
    one, and the contacts are found by their own person, their paths not read (migration
    0033)."""
    with app.app_context():
        reference = make_reference()
        programme = reference["programme"]
        wanted = {Referral: [], Enrolment: [], Contact: []}
        for number in range(36):
            frequent = number % 4 != 3  # 27 « Dupont », 9 « Martin » between them
            person = make_beneficiary("Dupont" if frequent else "Martin", "Anne",
                                      date(1970, 1, 1) + timedelta(days=number))
            day = date(2025, 1, 1 + number % 7)  # several rows on the same day
            path = make_path(programme, None, person, entry_date=day)
            referral = Referral(beneficiary=person, programme=programme, referred_on=day)
            contacts = [Contact(enrolment=path, contact_type_id=reference["contact_type"].id,
                                occurs_at=datetime(2025, 2, 1 + (number + shift) % 5, 10))
                        for shift in (0, 2)]
            db.session.add_all([referral, *contacts])
            db.session.flush()
            if frequent:
                wanted[Referral].append((referral.referred_on, referral.id))
                wanted[Enrolment].append((path.entry_date, path.id))
                wanted[Contact] += [(contact.occurs_at, contact.id) for contact in contacts]
        db.session.commit()
        in_order = {model: [row_id for _key, row_id in sorted(rows, reverse=True)]
                    for model, rows in wanted.items()}
    lists = {Referral: "referrals", Enrolment: "enrolments", Contact: "contacts"}

    def pages(slug: str, count: int) -> tuple[list[int], list[str]]:
        shown, statements = [], []

        def on(_conn, _cursor, statement, _parameters, _context, _many):
            statements.append(statement)

        event.listen(db.engine, "before_cursor_execute", on)
        try:
            for page in range(count):
                response = client.get(f"/admin/{slug}/?search=dupont&page={page}")
                assert response.status_code == 200, (slug, page)
                page_ids = re.findall(rf"/admin/{slug}/details/\?id=(\d+)",
                                      response.get_data(as_text=True))
                shown += list(dict.fromkeys(int(found) for found in page_ids))
        finally:
            event.remove(db.engine, "before_cursor_execute", on)
        return shown, statements

    auth.login("admin")
    with app.app_context():
        ways = {"ids": {}, "ids, walked": {"_walks": lambda *_args: True},
                "walk asking each row": {"FROM_PEOPLE_UP_TO": 0},
                # PostgreSQL's first page beyond `FIRST_PAGE_FROM_PEOPLE_UP_TO`
                "first page walked": {"FIRST_PAGE_FROM_PEOPLE_UP_TO": 0}}
        for way, patches in ways.items():
            with monkeypatch.context() as patched:
                for name, value in patches.items():
                    patched.setattr(people_search, name, value)
                for model, slug in lists.items():
                    count = -(-len(in_order[model]) // 20)  # pages of 20
                    shown, statements = pages(slug, count)
                    assert shown == in_order[model], (way, slug)
                    if way == "ids":
                        # no « IN (?, ?, …) » of the ids, one per bound value
                        assert _largest_list_of_ids(
                            [(statement, None) for statement in statements],
                            written=False) < 27, slug
                        # (`+ 0` when SQLite is told to walk the list's order)
                        assert any(re.search(r"beneficiary_id( \+ \S+)? (= ANY \('\{|IN \()\d",
                                             statement) for statement in statements), slug
                        assert not any(" ".join(statement.split()).startswith(
                            "SELECT enrolments.id FROM enrolments WHERE") for statement
                            in statements), slug
                    if way == "walk asking each row" and db.engine.dialect.name == "postgresql":
                        # the question stays on each row walked, whatever PostgreSQL
                        # estimates of the people found (not turned into a join)
                        assert any(re.search(r"EXISTS \(SELECT .* LIMIT ALL OFFSET", " ".join(
                            statement.split())) for statement in statements), slug


def test_a_path_given_to_another_person_moves_its_contacts_in_the_search(
        app, client, auth, users):
    """The contacts hold their path's person (migration 0033): a coordinator correcting a
    path's person in its form finds the path's contacts under the new name, not the old."""
    with app.app_context():
        reference = make_reference()
        path = make_path(reference["programme"], users["counsellor"],
                         person=make_beneficiary("Erroné", "Paul"))
        right = make_beneficiary("Kasarhérou", "Marie")
        db.session.add(Contact(enrolment=path, contact_type_id=reference["contact_type"].id,
                               occurs_at=datetime(2025, 2, 3, 9), notes="premier entretien"))
        db.session.commit()
        path_id, right_id, programme_id = path.id, right.id, reference["programme"].id
    auth.login("coordinator")
    response = post_edit(client, f"/admin/enrolments/edit/?id={path_id}", {
        "beneficiary": str(right_id), "programme": str(programme_id),
        "entry_date": "06/01/2025", "status": "active",
        "referent": str(users["counsellor"])})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    for name, found in (("kasarherou", 1), ("errone", 0)):
        page = client.get(f"/admin/contacts/?search={name}").get_data(as_text=True)
        assert page.count('name="rowid"') == found, name
