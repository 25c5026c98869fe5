"""a path's open obligations, for the navbar badge

The coordinator's badge of overdue obligations, on every page, goes through the open paths
and counts their open overdue obligations up to 100: a partial index of the open
obligations by path and due date lets it read those alone (issue 25 §3).

Revision ID: 0026
Revises: 0022
Create Date: 2026-12-06 06:40:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0026'
down_revision = '0022'
branch_labels = None
depends_on = None

OPEN_OBLIGATION = sa.text('done_at IS NULL AND cancelled_at IS NULL')


def upgrade():
    with op.batch_alter_table('obligations', schema=None) as batch_op:
        batch_op.create_index('ix_obligations_open_path', ['enrolment_id', 'due_at'],
                              unique=False, postgresql_where=OPEN_OBLIGATION,
                              sqlite_where=OPEN_OBLIGATION)


def downgrade():
    with op.batch_alter_table('obligations', schema=None) as batch_op:
        batch_op.drop_index('ix_obligations_open_path')
