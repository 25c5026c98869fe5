"""a version on every edited table

Issue 18 §3: optimistic locking on every table a user edits, not only beneficiaries and
paths. Each table gets `version` (existing rows start at 1); the models' `version_id_col`
(models/_types.py, `Versioned`) makes each UPDATE name the version it read, and the edit
forms refuse a save made on an older copy (admin/concurrency.py).

Revision ID: 0012
Revises: 0010
Create Date: 2026-12-06 00:40:00

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

# beneficiaries (0002) and enrolments (0001) have one already.
TABLES = (
    'barrier_types', 'barriers', 'commissions', 'contact_types', 'contacts',
    'deadline_rules', 'exit_types', 'funders', 'internships', 'obligations',
    'phase_records', 'phases', 'programme_sessions', 'programmes', 'purchase_order_lines',
    'purchase_orders', 'referrals', 'suspension_reasons', 'suspensions', 'users',
    'workshop_attendances', 'workshops',
)


def upgrade():
    for table in TABLES:
        op.add_column(table, sa.Column('version', sa.Integer(), server_default='1',
                                       nullable=False))


def downgrade():
    for table in reversed(TABLES):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('version')
