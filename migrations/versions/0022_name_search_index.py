"""name search through an index

Issue 25 §2: a person is found by name (either order, accents, case, hyphens and
apostrophes ignored, « dup » finding « Dupont ») through an index instead of a scan.
`beneficiaries.search_key` holds the folded last name, first name and external id
(models/people.py, `search_key`), filled here for the people already recorded, and is
indexed by trigrams for « contains »: pg_trgm's GIN index on PostgreSQL, an FTS5 trigram
table on SQLite (models/search_index.py). Without pg_trgm (or FTS5) the index is left out
with a warning: the search gives the same results, reading the table.

Revision ID: 0022
Revises: 0020
Create Date: 2026-12-06 03:30:00

"""
import sqlalchemy as sa
from alembic import op

from backoffice.models import search_index
from backoffice.models.people import SEARCH_KEY_TYPE, search_key

# revision identifiers, used by Alembic.
revision = '0022'
down_revision = '0020'
branch_labels = None
depends_on = None

BATCH = 5000


def _fill(bind) -> None:
    """Compute the key of every person already recorded, by batches of ids."""
    last_id = 0
    while True:
        rows = bind.execute(sa.text(
            "SELECT id, last_name, first_name, external_id FROM beneficiaries "
            "WHERE id > :last ORDER BY id LIMIT :size"), {"last": last_id, "size": BATCH}
        ).all()
        if not rows:
            return
        bind.execute(sa.text("UPDATE beneficiaries SET search_key = :key WHERE id = :id"),
                     [{"id": row.id, "key": search_key(row.last_name, row.first_name,
                                                       row.external_id)} for row in rows])
        last_id = rows[-1].id


def upgrade():
    bind = op.get_bind()
    # NOT NULL at once, '' until filled (SQLite cannot add the constraint later without
    # copying the table); PostgreSQL then drops the default: every writer gives the key.
    op.add_column('beneficiaries', sa.Column('search_key', SEARCH_KEY_TYPE, nullable=False,
                                             server_default=''))
    _fill(bind)
    if bind.dialect.name == 'postgresql':
        op.alter_column('beneficiaries', 'search_key', server_default=None)
    search_index.create(bind)


def downgrade():
    bind = op.get_bind()
    search_index.drop(bind)
    with op.batch_alter_table('beneficiaries', schema=None) as batch_op:
        batch_op.drop_column('search_key')
