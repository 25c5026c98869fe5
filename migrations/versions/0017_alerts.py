"""why an obligation was closed by hand

The deadlines of closed paths that were never marked done are collected apart in the
alerts and a coordinator may close them in bulk with a reason (issue 20 §4): the reason
is kept on the obligation, next to its cancel date.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06 01:40:00

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('obligations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cancel_reason', sa.String(length=200), nullable=True))


def downgrade():
    with op.batch_alter_table('obligations', schema=None) as batch_op:
        batch_op.drop_column('cancel_reason')
