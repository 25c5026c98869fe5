"""the people of a commune in the list's order

The beneficiaries list filtered on a commune (« Commune = Montpellier ») is shown in name
order: with an index of the commune alone, the database read every person of the commune
and sorted them for each page (125 578 people of 1 000 000: 138 ms); an index of
(commune, name_key, id) gives them in order, the page reads its 20 (issue 25 §4). It
replaces the index of the commune alone, which it covers.

Revision ID: 0027
Revises: 0024
Create Date: 2026-12-06 07:30:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '0027'
down_revision = '0024'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_beneficiaries_commune_name_key_id', 'beneficiaries',
                    ['commune', 'name_key', 'id'], unique=False)
    op.drop_index('ix_beneficiaries_commune', table_name='beneficiaries')


def downgrade():
    op.create_index('ix_beneficiaries_commune', 'beneficiaries', ['commune'], unique=False)
    op.drop_index('ix_beneficiaries_commune_name_key_id', table_name='beneficiaries')
