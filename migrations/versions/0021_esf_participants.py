"""ESF+ participant data per path: entry and exit records (issue 24)

The FSE fields sat on the person: a second path overwrote the first one's entry data.
They move to `esf_entries` (one per path, frozen at entry) and `esf_exits`; programmes
say which ESF+ operation their paths belong to (`esf_operation`, « PLIE » for the PLIE
lots) and whether it collects the situation six months after the exit.

Data: each person's values are copied into the entry record of their first PLIE path
that counts as a participation (more than one day, or still open; docs/esf.md), the
entry date of that path as the entry into the operation; the date the questionnaire was
filled in is unknown (NULL: the checks list it). Mapping: the free-text labour-market
situation → its status (« longue » → long-term unemployed, « demandeur »/« chômeur » →
unemployed, « inactif » → inactive, « emploi »/« salarié » → employed, anything else
NULL); each yes/no flag → « yes »/« no »; « origine étrangère ou minorité » was one flag:
yes → foreign background « yes », minority unknown (NULL); no → both « no »;
« ressortissant de pays tiers » was never asked (NULL).

The old person columns are DROPPED, not kept: two places for one fact is the bug this
migration fixes (a form writing the person's copy would silently disagree with the
path's); the downgrade puts them back from each person's first entry record.

Revision ID: 0021
Revises: 0019
Create Date: 2026-12-06 03:30:00

"""
from contextlib import contextmanager
from datetime import date

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0021'
down_revision = '0019'
branch_labels = None
depends_on = None

ANSWER = ('yes', 'no', 'refused')
STATUS = ('employed', 'unemployed', 'long_term_unemployed', 'inactive')
PLIE_PROGRAMMES = ('PLIE-L1', 'PLIE-L2', 'PLIE-L3', 'PLIE-L4')
OLD_FLAGS = {  # person column → entry column
    'household_without_employment': 'household_jobless',
    'single_parent_household': 'single_parent_household',
    'fse_disability': 'disability',
    'homeless_or_housing_exclusion': 'homeless_or_housing_exclusion',
    'rural_area': 'rural_area',
}


def _answer(name):
    return sa.Enum(*ANSWER, name=f'answer_{name}', native_enum=False, create_constraint=True,
                   length=10)


def _status(text):
    words = (text or '').lower()
    if 'longue' in words:
        return 'long_term_unemployed'
    if 'demandeur' in words or 'chômeur' in words or 'chomeur' in words:
        return 'unemployed'
    if 'inactif' in words:
        return 'inactive'
    if 'emploi' in words or 'salarié' in words:
        return 'employed'
    return None


def _day(value):
    """A date read through text(): SQLite gives its ISO text."""
    return date.fromisoformat(value[:10]) if isinstance(value, str) else value


def _yes_no(value):
    return None if value is None else ('yes' if value else 'no')


@contextmanager
def _foreign_keys_checked_after():
    """SQLite rebuilds a table to drop a column (batch mode) and its rows are referenced
    by other tables: its foreign keys are switched off for the rebuild, which SQLite
    allows only outside a transaction (« PRAGMA foreign_keys » does nothing inside one,
    and a deferred check counts the dropped table's rows as violations for good). So on
    SQLite this migration commits before and after, then checks every key itself."""
    bind = op.get_bind()
    if bind.dialect.name != 'sqlite':
        yield
        return
    raw = bind.connection.dbapi_connection
    raw.commit()
    raw.execute('PRAGMA foreign_keys = OFF')
    try:
        yield
        raw.commit()
        broken = raw.execute('PRAGMA foreign_key_check').fetchall()
        if broken:
            raise RuntimeError(f'0021: foreign keys broken by the rebuild: {broken[:5]}')
    finally:
        raw.execute('PRAGMA foreign_keys = ON')


def upgrade():
    with _foreign_keys_checked_after():
        _upgrade()


def _upgrade():
    with op.batch_alter_table('programmes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('esf_operation', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('esf_six_month_result', sa.Boolean(),
                                      server_default=sa.false(), nullable=False))
    op.create_table(
        'esf_entries',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('enrolment_id', sa.Integer(), nullable=False),
        sa.Column('entered_on', sa.Date(), nullable=False),
        sa.Column('recorded_on', sa.Date(), nullable=True),
        sa.Column('labour_market_status', sa.Enum(*STATUS, name='labourmarketstatus',
                                                  native_enum=False, create_constraint=True,
                                                  length=30), nullable=True),
        sa.Column('isced_level', sa.Integer(), nullable=True),
        sa.Column('household_jobless', _answer('household_jobless'), nullable=True),
        sa.Column('single_parent_household', _answer('single_parent'), nullable=True),
        sa.Column('disability', _answer('disability'), nullable=True),
        sa.Column('third_country_national', _answer('third_country'), nullable=True),
        sa.Column('foreign_background', _answer('foreign_background'), nullable=True),
        sa.Column('minority', _answer('minority'), nullable=True),
        sa.Column('homeless_or_housing_exclusion', _answer('homeless'), nullable=True),
        sa.Column('rural_area', _answer('rural_area'), nullable=True),
        sa.Column('version', sa.Integer(), server_default='1', nullable=False),
        sa.CheckConstraint('isced_level IS NULL OR isced_level BETWEEN 0 AND 8',
                           name=op.f('ck_esf_entries_isced_range')),
        sa.CheckConstraint('recorded_on IS NULL OR recorded_on >= entered_on',
                           name=op.f('ck_esf_entries_recorded_after_entry')),
        sa.ForeignKeyConstraint(['enrolment_id'], ['enrolments.id'],
                                name=op.f('fk_esf_entries_enrolment_id_enrolments'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_esf_entries')),
        sa.UniqueConstraint('enrolment_id', name=op.f('uq_esf_entries_enrolment_id')),
    )
    op.create_table(
        'esf_exits',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('enrolment_id', sa.Integer(), nullable=False),
        sa.Column('left_on', sa.Date(), nullable=False),
        sa.Column('recorded_on', sa.Date(), nullable=True),
        sa.Column('in_education_or_training', _answer('in_education'), nullable=True),
        sa.Column('gained_qualification', _answer('qualification'), nullable=True),
        sa.Column('in_employment', _answer('in_employment'), nullable=True),
        sa.Column('job_searching', _answer('job_searching'), nullable=True),
        sa.Column('six_month_recorded_on', sa.Date(), nullable=True),
        sa.Column('six_month_in_employment', _answer('six_month_employment'), nullable=True),
        sa.Column('six_month_better_situation', _answer('six_month_better'), nullable=True),
        sa.Column('version', sa.Integer(), server_default='1', nullable=False),
        sa.CheckConstraint('recorded_on IS NULL OR recorded_on >= left_on',
                           name=op.f('ck_esf_exits_recorded_after_exit')),
        sa.CheckConstraint('six_month_recorded_on IS NULL OR six_month_recorded_on >= left_on',
                           name=op.f('ck_esf_exits_six_month_after_exit')),
        sa.ForeignKeyConstraint(['enrolment_id'], ['enrolments.id'],
                                name=op.f('fk_esf_exits_enrolment_id_enrolments'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_esf_exits')),
        sa.UniqueConstraint('enrolment_id', name=op.f('uq_esf_exits_enrolment_id')),
    )
    _copy_person_values()
    with op.batch_alter_table('beneficiaries', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_beneficiaries_isced_range'), type_='check')
        for column in ('labour_market_situation', 'isced_level', *OLD_FLAGS,
                       'foreign_origin_or_minority'):
            batch_op.drop_column(column)


def _copy_person_values():
    """Each person's FSE values → the entry record of their first PLIE participation."""
    bind = op.get_bind()
    programmes = sa.table('programmes', sa.column('id'), sa.column('code'),
                          sa.column('esf_operation'))
    bind.execute(programmes.update().where(programmes.c.code.in_(PLIE_PROGRAMMES))
                 .values(esf_operation='PLIE'))
    rows = bind.execute(sa.text(
        "SELECT e.id, e.beneficiary_id, e.entry_date, e.exit_date, "
        "b.labour_market_situation, b.isced_level, b.household_without_employment, "
        "b.single_parent_household, b.fse_disability, b.foreign_origin_or_minority, "
        "b.homeless_or_housing_exclusion, b.rural_area "
        "FROM enrolments e JOIN programmes p ON p.id = e.programme_id "
        "JOIN beneficiaries b ON b.id = e.beneficiary_id "
        "WHERE p.esf_operation = 'PLIE' ORDER BY e.beneficiary_id, e.entry_date, e.id"
    )).mappings().all()
    done, entries = set(), []
    for row in rows:
        entry_date, exit_date = _day(row['entry_date']), _day(row['exit_date'])
        one_day = exit_date is not None and (exit_date - entry_date).days + 1 <= 1
        if row['beneficiary_id'] in done or one_day:
            continue
        done.add(row['beneficiary_id'])
        foreign = row['foreign_origin_or_minority']
        entries.append({
            'enrolment_id': row['id'], 'entered_on': entry_date, 'recorded_on': None,
            'labour_market_status': _status(row['labour_market_situation']),
            'isced_level': row['isced_level'],
            **{new: _yes_no(row[old]) for old, new in OLD_FLAGS.items()},
            'third_country_national': None,
            'foreign_background': _yes_no(foreign),
            'minority': 'no' if foreign is not None and not foreign else None,
            'version': 1,
        })
    if entries:
        table = sa.table('esf_entries', *(sa.column(name) for name in entries[0]))
        bind.execute(table.insert(), entries)


def downgrade():
    with _foreign_keys_checked_after():
        _downgrade()


def _downgrade():
    with op.batch_alter_table('beneficiaries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('labour_market_situation', sa.String(length=40),
                                      nullable=True))
        batch_op.add_column(sa.Column('isced_level', sa.Integer(), nullable=True))
        for column in (*OLD_FLAGS, 'foreign_origin_or_minority'):
            batch_op.add_column(sa.Column(column, sa.Boolean(), server_default=sa.false(),
                                          nullable=False))
        batch_op.create_check_constraint(
            batch_op.f('ck_beneficiaries_isced_range'),
            'isced_level IS NULL OR isced_level BETWEEN 0 AND 8')
    labels = {'employed': 'En emploi', 'unemployed': "Demandeur d'emploi",
              'long_term_unemployed': "Demandeur d'emploi de longue durée",
              'inactive': 'Inactif'}
    bind = op.get_bind()
    rows = bind.execute(sa.text(
        "SELECT e.beneficiary_id, x.* FROM esf_entries x "
        "JOIN enrolments e ON e.id = x.enrolment_id ORDER BY e.beneficiary_id, x.entered_on, "
        "x.id")).mappings().all()
    seen = set()
    people = sa.table('beneficiaries', sa.column('id'), sa.column('labour_market_situation'),
                      sa.column('isced_level'), *(sa.column(c) for c in OLD_FLAGS),
                      sa.column('foreign_origin_or_minority'))
    for row in rows:
        if row['beneficiary_id'] in seen:
            continue
        seen.add(row['beneficiary_id'])
        values = {old: row[new] == 'yes' for old, new in OLD_FLAGS.items()}
        values['foreign_origin_or_minority'] = 'yes' in (row['foreign_background'],
                                                         row['minority'])
        values['labour_market_situation'] = labels.get(row['labour_market_status'])
        values['isced_level'] = row['isced_level']
        bind.execute(people.update().where(people.c.id == row['beneficiary_id'])
                     .values(**values))
    op.drop_table('esf_exits')
    op.drop_table('esf_entries')
    with op.batch_alter_table('programmes', schema=None) as batch_op:
        batch_op.drop_column('esf_six_month_result')
        batch_op.drop_column('esf_operation')
