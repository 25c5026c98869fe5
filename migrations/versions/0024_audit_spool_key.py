"""audit entries keyed for the spool

Issue 25 §3: the « view » / « export » / « refused » entries of a request go to a local
spool before the response leaves and reach `audit_entries` after it (audit/spool.py).
Each carries a unique key, so that draining the spool twice (a crash between the commit
and the spool's removal) writes it once. Entries written before, and those the session
hook writes, have none (NULL, allowed many times by a unique index on both engines).

Revision ID: 0024
Revises: 0022
Create Date: 2026-12-06 06:40:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0024'
down_revision = '0026'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('audit_entries', sa.Column('entry_key', sa.String(length=36), nullable=True))
    op.create_index('ix_audit_entries_entry_key', 'audit_entries', ['entry_key'], unique=True)


def downgrade():
    op.drop_index('ix_audit_entries_entry_key', table_name='audit_entries')
    with op.batch_alter_table('audit_entries') as batch_op:
        batch_op.drop_column('entry_key')
