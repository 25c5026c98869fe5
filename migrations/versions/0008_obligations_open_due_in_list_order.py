"""obligations open due in list order

The alerts list reads open obligations ordered by (due_at, id). The index on (done_at,
cancelled_at, due_at) gave PostgreSQL no order (« IS NULL » is not an equality for its
sort keys): it sorted every open obligation (104 000 rows at 100 000 people, an external
merge sort, 65 ms) to keep 200. A partial index on (due_at, id) of the open obligations is
walked in order by both engines, and is smaller.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 18:01:16.219204

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


OPEN = sa.text("done_at IS NULL AND cancelled_at IS NULL")


def upgrade():
    with op.batch_alter_table('obligations', schema=None) as batch_op:
        batch_op.drop_index('ix_obligations_open_due')
        batch_op.create_index('ix_obligations_open_due', ['due_at', 'id'], unique=False,
                              postgresql_where=OPEN, sqlite_where=OPEN)


def downgrade():
    with op.batch_alter_table('obligations', schema=None) as batch_op:
        batch_op.drop_index('ix_obligations_open_due')
        batch_op.create_index('ix_obligations_open_due', ['done_at', 'cancelled_at', 'due_at'],
                              unique=False)
