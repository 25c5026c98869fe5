"""`flask db upgrade` on an empty database yields exactly the models' schema."""
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from backoffice import create_app
from backoffice.extensions import db
from backoffice.models.search_index import is_search_object
from tests.conftest import _database_url


def _fresh_app(tmp_path):
    """An app on an EMPTY database of the engine under test (SQLite file or PostgreSQL)."""
    url = _database_url(tmp_path)
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url})
    if url.startswith("postgres"):
        with app.app_context(), db.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    return app


def test_upgrade_matches_models(tmp_path):
    app = _fresh_app(tmp_path)
    with app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={
                "compare_type": True,
                # the name search's index: engine-specific DDL outside the metadata
                "include_name": lambda name, _kind, _parents: not is_search_object(name),
            })
            differences = compare_metadata(context, db.metadata)
        assert differences == []


def test_upgrade_creates_every_table_and_downgrade_removes_them(tmp_path):
    app = _fresh_app(tmp_path)
    with app.app_context():
        upgrade()
        tables = set(inspect(db.engine).get_table_names())
        assert set(db.metadata.tables) <= tables
        downgrade(revision="base")
        db.engine.dispose()
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}


# --- issue 24: the person's FSE values move to the entry record of a PLIE path ----------

def _insert(conn, table_name: str, /, **values) -> int:
    """Insert a row in a table as the schema stands (reflected), filling the required
    columns the test does not care about; returns its id."""
    from datetime import date, datetime

    from sqlalchemy import Boolean, Date, DateTime, Integer, MetaData, Table

    table = Table(table_name, MetaData(), autoload_with=conn)
    for column in table.columns:
        if column.name in values or column.nullable or column.primary_key \
                or column.server_default is not None:
            continue
        kind = column.type
        values[column.name] = (False if isinstance(kind, Boolean) else 1
                               if isinstance(kind, Integer) else date(2020, 1, 1)
                               if isinstance(kind, Date) and not isinstance(kind, DateTime)
                               else datetime(2020, 1, 1) if isinstance(kind, DateTime)
                               else f"{table_name}-{column.name}-{len(values)}")
    return conn.execute(table.insert().values(**values)).inserted_primary_key[0]


def _plie_programme(conn) -> int:
    """The PLIE's funder and its Lot 1, as the schema stands; the programme's id."""
    funder = _insert(conn, "funders", code="PLIE", name="PLIE", territory="FR")
    return _insert(conn, "programmes", code="PLIE-L1", name="Lot 1", funder_id=funder,
                   exit_scheme="PLIE")


def test_upgrade_0021_moves_the_fse_values_to_the_first_plie_participation(tmp_path):
    """Migration 0021: the person's FSE values land in the entry record of their first
    PLIE path of more than a day (not the one-day action before it, not the re-entry
    after it); the person's columns are gone; the downgrade puts them back."""
    from datetime import date

    app = _fresh_app(tmp_path)
    with app.app_context():
        upgrade(revision="0018")
        with db.engine.begin() as conn:
            plie = _plie_programme(conn)
            person = _insert(
                conn, "beneficiaries", last_name="Martin", first_name="Anne",
                name_key="martin anne", birth_date=date(1980, 5, 1), sex="F",
                labour_market_situation="Demandeur d'emploi de longue durée", isced_level=3,
                household_without_employment=True, fse_disability=False,
                foreign_origin_or_minority=True, rural_area=True)
            paths = [_insert(conn, "enrolments", beneficiary_id=person, programme_id=plie,
                             entry_date=entry, exit_date=exit_, status="closed")
                     for entry, exit_ in ((date(2024, 1, 8), date(2024, 1, 8)),
                                          (date(2024, 2, 1), date(2024, 6, 30)),
                                          (date(2025, 1, 6), None))]
        upgrade(revision="0021")
        with db.engine.connect() as conn:
            rows = conn.execute(text(
                "SELECT enrolment_id, entered_on, labour_market_status, isced_level, "
                "household_jobless, disability, foreign_background, minority, rural_area, "
                "third_country_national, recorded_on FROM esf_entries")).all()
            operations = set(conn.execute(text("SELECT esf_operation FROM programmes")).scalars())
        assert [tuple(row) for row in rows] == [
            (paths[1], rows[0][1], "long_term_unemployed", 3, "yes", "no", "yes", None, "yes",
             None, None)]
        assert str(rows[0][1])[:10] == "2024-02-01"
        assert operations == {"PLIE"}
        columns = {c["name"] for c in inspect(db.engine).get_columns("beneficiaries")}
        assert "labour_market_situation" not in columns and "fse_disability" not in columns
        if db.engine.dialect.name == "sqlite":  # the rebuilt table keeps its other rules
            with db.engine.connect() as conn:
                ddl = conn.execute(text("SELECT sql FROM sqlite_master WHERE "
                                        "name = 'beneficiaries'")).scalar()
            assert "birth_date_plausible" in ddl and "isced_range" not in ddl
        downgrade(revision="0018")
        with db.engine.connect() as conn:
            back = conn.execute(text(
                "SELECT labour_market_situation, isced_level, household_without_employment, "
                "foreign_origin_or_minority, rural_area FROM beneficiaries")).one()
        assert tuple(back) == ("Demandeur d'emploi de longue durée", 3, True, True, True)


def test_upgrade_0033_gives_each_contact_its_paths_person(tmp_path):
    """Migration 0033: the contacts already recorded get their path's person; a contact
    naming another person than its path's is refused afterwards; on PostgreSQL the
    planner is told about five contacts per person; the downgrade removes the column."""
    from datetime import date, datetime

    app = _fresh_app(tmp_path)
    with app.app_context():
        upgrade(revision="0032")
        with db.engine.begin() as conn:
            plie = _plie_programme(conn)
            kind = _insert(conn, "contact_types", code="individual", label="Entretien")
            people = [_insert(conn, "beneficiaries", last_name=name, first_name="Anne",
                              name_key=f"{name.lower()} anne",
                              search_key=f"{name.lower()}anne", birth_date=date(1980, 5, 1),
                              sex="F") for name in ("Martin", "Wamytan")]
            paths = [_insert(conn, "enrolments", beneficiary_id=person, programme_id=plie,
                             entry_date=date(2025, 1, 6), status="active")
                     for person in (people[0], people[1], people[1])]
            for path in paths:
                _insert(conn, "contacts", enrolment_id=path, contact_type_id=kind,
                        occurs_at=datetime(2025, 2, 3, 9), attendance="present")
        upgrade(revision="0033")
        with db.engine.connect() as conn:
            held = conn.execute(text("SELECT enrolment_id, beneficiary_id FROM contacts "
                                     "ORDER BY enrolment_id")).all()
        assert [tuple(row) for row in held] == [(paths[0], people[0]), (paths[1], people[1]),
                                                (paths[2], people[1])]
        with pytest.raises(IntegrityError), db.engine.begin() as conn:
            conn.execute(text("UPDATE contacts SET beneficiary_id = :other "
                              "WHERE enrolment_id = :path"),
                         {"other": people[1], "path": paths[0]})
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect() as conn:
                options = conn.execute(text(
                    "SELECT attoptions FROM pg_attribute WHERE attrelid = 'contacts'::regclass"
                    " AND attname = 'beneficiary_id'")).scalar()
            assert options == ["n_distinct=-0.2"]
        downgrade(revision="0032")
        columns = {c["name"] for c in inspect(db.engine).get_columns("contacts")}
        assert "beneficiary_id" not in columns
        upgrade()  # the next test on this database finds the models' schema
