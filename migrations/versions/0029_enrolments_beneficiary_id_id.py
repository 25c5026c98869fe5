"""a person's paths with their ids in the index

The name search of the contacts list (and of every record of a path) reads the paths of
the people found, then the list's rows of those paths (issue 25 §2). With an index of
`beneficiary_id` alone, PostgreSQL read each path's row for its id (« Garnier », 7 096
people, 5 589 paths: 22 ms of the index and the table); an index of (beneficiary_id, id)
answers from the index alone (8 ms, measured on a copy of the two columns at a million
people). SQLite's index already held the id (its rowid): the same content there. It
replaces the index of `beneficiary_id` alone, which it covers.

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-06 09:30:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '0029'
down_revision = '0028'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_enrolments_beneficiary_id_id', 'enrolments',
                    ['beneficiary_id', 'id'], unique=False)
    op.drop_index('ix_enrolments_beneficiary_id', table_name='enrolments')


def downgrade():
    op.create_index('ix_enrolments_beneficiary_id', 'enrolments', ['beneficiary_id'],
                    unique=False)
    op.drop_index('ix_enrolments_beneficiary_id_id', table_name='enrolments')
