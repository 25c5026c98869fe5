"""why an obligation was done late

« Marquer comme fait » after an obligation's due date offers an optional reason for the
lateness (« Motif du retard »); the compliance ledger's drill-down lists the late
obligations with it (issue 22 §4). Two indexes keep the ledger fast at 100 000 people: a
rule's obligations by due date, covering what the ledger reads, and the late ones alone
(partial index).

Revision ID: 0023
Revises: 0021
Create Date: 2026-12-06 03:30:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0023'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('obligations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('late_reason', sa.String(length=200), nullable=True))
        batch_op.create_index('ix_obligations_rule_due',
                              ['rule_id', 'due_at', 'done_at', 'cancelled_at', 'event_at'],
                              unique=False)
        batch_op.create_index('ix_obligations_late', ['rule_id', 'due_at'], unique=False,
                              postgresql_where=sa.text('done_at > due_at'),
                              sqlite_where=sa.text('done_at > due_at'))


def downgrade():
    with op.batch_alter_table('obligations', schema=None) as batch_op:
        batch_op.drop_index('ix_obligations_late')
        batch_op.drop_index('ix_obligations_rule_due')
        batch_op.drop_column('late_reason')
