"""a funder's account reads its own funder's programmes; audit entries keep the address

Issue 18 §1: a viewer (funder's representative) is linked to one funder and reads only
its programmes, sessions, orders, commissions and reports (`users.funder_id`; an account
linked to none reads nothing). Issue 18 §8: every audit entry written during a request
keeps the caller's address, so that anonymous entries are limited per address
(`audit_entries.address`, indexed with the time).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 00:30:00

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('funder_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_users_funder_id'), ['funder_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_users_funder_id_funders'), 'funders',
                                    ['funder_id'], ['id'])
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('address', sa.String(length=64), nullable=True))
        batch_op.create_index('ix_audit_entries_address_at', ['address', 'at'], unique=False)


def downgrade():
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_entries_address_at')
        batch_op.drop_column('address')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_users_funder_id_funders'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_users_funder_id'))
        batch_op.drop_column('funder_id')
