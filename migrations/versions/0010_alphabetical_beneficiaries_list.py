"""beneficiaries listed in alphabetical order

The beneficiaries list sorted by the last and first names in each database's collation:
on SQLite « Étienne » came after « Zola ». It now sorts by the dedup key (`name_key`:
names without accents, case, spaces or hyphens), the order the reports already used. The
key's separator becomes a space, below every letter, so that « Dupont » comes before
« Dupontel »; on PostgreSQL the key compares byte by byte (COLLATE "C"), as on SQLite,
whatever the database's locale. The index of the list's order follows.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30 22:30:00

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def _separator(old: str, new: str) -> None:
    op.execute(sa.text("UPDATE beneficiaries SET name_key = replace(name_key, :old, :new)")
               .bindparams(old=old, new=new))


def upgrade():
    _separator('|', ' ')
    if op.get_bind().dialect.name == 'postgresql':
        op.alter_column('beneficiaries', 'name_key', type_=sa.String(200, collation='C'),
                        existing_type=sa.String(200), existing_nullable=False)
    with op.batch_alter_table('beneficiaries', schema=None) as batch_op:
        batch_op.create_index('ix_beneficiaries_name_key_id', ['name_key', 'id'], unique=False)
        batch_op.drop_index('ix_beneficiaries_names_id')


def downgrade():
    with op.batch_alter_table('beneficiaries', schema=None) as batch_op:
        batch_op.create_index('ix_beneficiaries_names_id', ['last_name', 'first_name', 'id'],
                              unique=False)
        batch_op.drop_index('ix_beneficiaries_name_key_id')
    if op.get_bind().dialect.name == 'postgresql':
        op.alter_column('beneficiaries', 'name_key', type_=sa.String(200),
                        existing_type=sa.String(200, collation='C'), existing_nullable=False)
    _separator(' ', '|')
