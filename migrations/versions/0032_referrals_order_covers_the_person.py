"""the referrals' default order holds their person

As migration 0031 for the paths and contacts: the name search of the referrals list walks
its order (date, id) and keeps the referrals of the people found (issue 25 §2). With an
index of (referred_on, id), PostgreSQL read each referral's row to know whose it was:
« Garnier » at a million people, page 2, 5 989 pages (5.9 ms); with the person in the
index, 51 pages from the index alone (1.0 ms). It replaces the index of (referred_on, id),
which it covers: same order, same deep pages.

Revision ID: 0032
Revises: 0031
Create Date: 2026-12-06 13:20:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '0032'
down_revision = '0031'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_referrals_referred_on_id_beneficiary_id', 'referrals',
                    ['referred_on', 'id', 'beneficiary_id'], unique=False)
    op.drop_index('ix_referrals_referred_on_id', table_name='referrals')


def downgrade():
    op.create_index('ix_referrals_referred_on_id', 'referrals', ['referred_on', 'id'],
                    unique=False)
    op.drop_index('ix_referrals_referred_on_id_beneficiary_id', table_name='referrals')
