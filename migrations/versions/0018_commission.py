"""the commission a deferred referral is deferred to

« Ajourner » asks for the reason (kept in the decision's reason) and the commission the
referral is deferred to (issue 20 §7); the latter gets its own column.

Revision ID: 0018
Revises: 0016
Create Date: 2026-12-06 01:40:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.add_column(sa.Column('deferred_to_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_referrals_deferred_to_id'), ['deferred_to_id'],
                              unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_referrals_deferred_to_id_commissions'),
                                    'commissions', ['deferred_to_id'], ['id'])


def downgrade():
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_referrals_deferred_to_id_commissions'),
                                 type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_referrals_deferred_to_id'))
        batch_op.drop_column('deferred_to_id')
